"""Two-factor sign-in: setting it up, the second sign-in step, recovery codes, the practice-wide requirement."""
import re
import time
from datetime import timedelta

import pyotp

from app import secrets_at_rest, two_factor
from app.config import encryption_key
from app.extensions import db
from app.models import AuditEvent, Member, Practice, RecoveryCode, Role
from app.models.types import utcnow
from tests.support.factories import PASSWORD


def audit_actions(app):
    with app.app_context():
        return [event.action for event in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def stored(app, member) -> Member:
    with app.app_context():
        record = db.session.get(Member, member.id)
        db.session.expunge(record)
        return record


def totp_of(app, member) -> pyotp.TOTP:
    """The member's authenticator, from the secret as the database keeps it (encrypted)."""
    return pyotp.TOTP(secrets_at_rest.decrypt(stored(app, member).two_factor_secret, encryption_key(app.config)))


def away_from_a_step_edge():
    """A code computed now is checked a moment later: keep both inside the same 30-second step."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)


def with_two_factor(app, member) -> tuple[pyotp.TOTP, list[str]]:
    """Turn two-factor on as it was ten minutes ago, so every code of the present is still unused."""
    earlier = utcnow() - timedelta(minutes=10)
    with app.app_context():
        record = db.session.get(Member, member.id)
        totp = pyotp.TOTP(two_factor.pending_secret(record, encryption_key(app.config)))
        codes = two_factor.turn_on(record, totp.at(earlier), encryption_key(app.config), now=earlier)
        db.session.commit()
    return totp, codes


def password_step(client, member):
    return client.post("/login", data={"email": member.email, "password": PASSWORD})


def second_step(client, code):
    return client.post("/login/two-factor", data={"code": code})


# ---------------------------------------------------------------- setting it up

def test_setup_page_shows_the_otpauth_uri_and_an_inline_svg_qr_code(app, client, make, sign_in):
    member = make.member(role=Role.CLINICIAN)
    sign_in(member)
    response = client.get("/account/two-factor")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = secrets_at_rest.decrypt(stored(app, member).two_factor_secret, encryption_key(app.config))
    assert f"otpauth://totp/Parity:{member.email}?secret={secret}&issuer=Parity" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "<path" in svg and "style=" not in svg  # the CSP's style-src 'self' would block inline styles
    assert secret not in stored(app, member).two_factor_secret  # kept encrypted
    # Reloading shows the same secret, so a scanned code keeps working until it is confirmed.
    assert secret in client.get("/account/two-factor").get_data(as_text=True)


def test_a_wrong_confirmation_code_is_422_beside_the_field_and_leaves_two_factor_off(app, client, make, sign_in):
    member = make.member()
    sign_in(member)
    client.get("/account/two-factor")
    right = totp_of(app, member).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post("/account/two-factor", data={"code": wrong})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="code-error"' in html and "That code is not right" in html
    assert not stored(app, member).two_factor_enabled


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(app, client, make, sign_in):
    member = make.member()
    sign_in(member)
    client.get("/account/two-factor")
    away_from_a_step_edge()
    response = client.post("/account/two-factor", data={"code": totp_of(app, member).now()})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", response.get_data(as_text=True))
    assert len(codes) == len(set(codes)) == 10
    assert stored(app, member).two_factor_enabled
    with app.app_context():
        hashes = db.session.scalars(db.select(RecoveryCode.code_hash).where(RecoveryCode.member_id == member.id)).all()
    assert len(hashes) == 10 and not set(codes) & set(hashes)  # only hashes are kept
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Two-factor sign-in is on" in page and not any(code in page for code in codes)
    assert "two_factor.turned_on" in audit_actions(app)


# ---------------------------------------------------------------- signing in

def test_the_password_alone_reaches_only_the_second_step(client, make, app):
    member = make.member()
    with_two_factor(app, member)
    response = password_step(client, member)
    assert response.status_code == 303 and response.headers["Location"] == "/login/two-factor"
    assert client.get("/login/two-factor").status_code == 200
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/account/two-factor").status_code == 302
    assert "auth.sign_in" not in audit_actions(app)


def test_the_right_code_signs_in_and_is_audited(app, client, make):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    client.post("/login?next=/settings/members", data={"email": member.email, "password": PASSWORD})
    away_from_a_step_edge()
    response = second_step(client, totp.now())
    assert response.status_code == 303 and response.headers["Location"] == "/settings/members"
    assert client.get("/").status_code == 200
    assert "auth.sign_in_two_factor" in audit_actions(app)
    assert stored(app, member).last_sign_in_at is not None


def test_a_code_one_step_old_works(app, client, make):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    password_step(client, member)
    away_from_a_step_edge()
    assert second_step(client, totp.at(time.time() - 30)).status_code == 303


def test_a_code_two_steps_old_fails(app, client, make):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    password_step(client, member)
    away_from_a_step_edge()
    response = second_step(client, totp.at(time.time() - 60))
    assert response.status_code == 422
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert "auth.two_factor_failed" in audit_actions(app)


def test_the_same_code_twice_fails(app, client, make):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    password_step(client, member)
    away_from_a_step_edge()
    code = totp.now()
    assert second_step(client, code).status_code == 303
    client.post("/logout")
    password_step(client, member)
    assert second_step(client, code).status_code == 422
    # An older code than the one used is refused too: steps only move forward.
    assert second_step(client, totp.at(time.time() - 30)).status_code == 422


def test_a_recovery_code_works_once(app, client, make):
    member = make.member()
    _, codes = with_two_factor(app, member)
    password_step(client, member)
    assert second_step(client, codes[3].upper().replace("-", " ")).status_code == 303  # typed loosely
    assert "two_factor.recovery_code_used" in audit_actions(app)
    client.post("/logout")
    password_step(client, member)
    assert second_step(client, codes[3]).status_code == 422
    assert second_step(client, codes[4]).status_code == 303


def test_wrong_codes_count_toward_the_sign_in_throttle(app, client, make):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    password_step(client, member)
    for _ in range(5):
        assert second_step(client, "000000" if totp.now() != "000000" else "111111").status_code == 422
    response = second_step(client, totp.now())
    assert response.status_code == 429
    assert client.get("/").status_code == 302
    # The password step is locked for the account too.
    assert password_step(client, member).status_code == 429


def test_the_second_step_waits_five_minutes_at_most(app, client, make):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    password_step(client, member)
    with client.session_transaction() as session:
        pending = session["two_factor_pending"]
        session["two_factor_pending"] = {**pending, "since": pending["since"] - 5 * 60 - 1}
    response = second_step(client, totp.now())
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_the_second_step_without_a_password_first_goes_back_to_sign_in(client):
    response = client.get("/login/two-factor")
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_members_without_two_factor_sign_in_with_the_password_alone(client, make):
    member = make.member()
    response = password_step(client, member)
    assert response.status_code == 303 and response.headers["Location"] == "/"


# ---------------------------------------------------------------- turning off, new recovery codes

def test_turning_off_needs_the_password_or_a_code(app, client, make, sign_in):
    member = make.member()
    with_two_factor(app, member)
    sign_in(member)
    response = client.post("/account/two-factor/off", data={"confirmation": "not my password"})
    assert response.status_code == 422 and 'id="confirmation-error"' in response.get_data(as_text=True)
    assert stored(app, member).two_factor_enabled
    assert client.post("/account/two-factor/off", data={"confirmation": PASSWORD}).status_code == 303
    after = stored(app, member)
    assert not after.two_factor_enabled and after.two_factor_secret is None
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(RecoveryCode.id))) == 0
    assert "two_factor.turned_off" in audit_actions(app)
    assert password_step(client, member).headers["Location"] == "/"


def test_turning_off_with_a_current_code(app, client, make, sign_in):
    member = make.member()
    totp, _ = with_two_factor(app, member)
    sign_in(member)
    away_from_a_step_edge()
    assert client.post("/account/two-factor/off", data={"confirmation": totp.now()}).status_code == 303
    assert not stored(app, member).two_factor_enabled


def test_new_recovery_codes_replace_the_old_ones(app, client, make, sign_in):
    member = make.member()
    _, old_codes = with_two_factor(app, member)
    sign_in(member)
    response = client.post("/account/two-factor/recovery-codes")
    assert response.status_code == 200
    new_codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert "two_factor.recovery_codes_regenerated" in audit_actions(app)
    client.post("/logout")
    password_step(client, member)
    assert second_step(client, old_codes[0]).status_code == 422
    assert second_step(client, new_codes[0]).status_code == 303


# ---------------------------------------------------------------- the practice-wide requirement

def require_two_factor(app, practice_id):
    with app.app_context():
        db.session.get(Practice, practice_id).require_two_factor = True
        db.session.commit()


def test_an_admin_requires_two_factor_on_the_practice_settings_page(app, client, make, sign_in):
    from tests.web.test_settings import GOOD_PRACTICE

    admin = make.member(role=Role.ADMIN)
    sign_in(admin)
    assert 'name="require_two_factor"' in client.get("/settings/practice").get_data(as_text=True)
    response = client.post("/settings/practice", data={**GOOD_PRACTICE, "require_two_factor": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Practice, admin.practice_id).require_two_factor
    assert "practice.two_factor_requirement_changed" in audit_actions(app)
    # The admin has not turned it on either: the next page is the setup page.
    assert client.get("/settings/practice").headers["Location"] == "/account/two-factor"


def test_the_requirement_sends_members_without_two_factor_to_set_it_up(app, client, make, sign_in):
    member = make.member(role=Role.BILLER)
    require_two_factor(app, member.practice_id)
    assert password_step(client, member).status_code == 303  # the password alone still signs in…
    for path in ("/", "/settings/members", "/clients"):
        assert client.get(path).headers["Location"] == "/account/two-factor"  # …but reaches only the setup
    htmx = client.get("/clients", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == "/account/two-factor"
    assert client.get("/static/app.css").status_code == 200
    setup = client.get("/account/two-factor")
    assert setup.status_code == 200 and "Your practice requires two-factor sign-in" in setup.get_data(as_text=True)
    away_from_a_step_edge()
    assert client.post("/account/two-factor", data={"code": totp_of(app, member).now()}).status_code == 200
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 303


def test_signing_out_is_allowed_before_setting_it_up(app, client, make, sign_in):
    member = make.member()
    require_two_factor(app, member.practice_id)
    sign_in(member)
    assert client.post("/logout").status_code == 303
    assert client.get("/").headers["Location"].startswith("/login")


def test_an_operator_resets_two_factor_for_a_member_who_lost_their_phone(app, client, make):
    member = make.member()
    with_two_factor(app, member)
    result = app.test_cli_runner().invoke(args=["users", "reset-two-factor", member.email.upper()])
    assert result.exit_code == 0, result.output
    assert "Two-factor sign-in is off" in result.output
    assert not stored(app, member).two_factor_enabled
    assert "two_factor.reset" in audit_actions(app)
    assert password_step(client, member).headers["Location"] == "/"
    again = app.test_cli_runner().invoke(args=["users", "reset-two-factor", member.email])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert app.test_cli_runner().invoke(args=["users", "reset-two-factor", "nobody@example.org"]).exit_code != 0


def test_a_practice_that_requires_two_factor_keeps_it_on(app, client, make, sign_in):
    member = make.member()
    with_two_factor(app, member)
    require_two_factor(app, member.practice_id)
    sign_in(member)
    assert "Turn off two-factor sign-in" not in client.get("/account/two-factor").get_data(as_text=True)
    response = client.post("/account/two-factor/off", data={"confirmation": PASSWORD})
    assert response.status_code == 422 and "requires two-factor sign-in" in response.get_data(as_text=True)
    assert stored(app, member).two_factor_enabled
