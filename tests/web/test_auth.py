"""Sign-in, sign-out, throttling and idle sign-out."""
import re
import pytest

from app.models import AuditEvent, Role
from app.models.types import utcnow
from tests.conftest import csrf_token_from, strip_csrf
from tests.support.factories import PASSWORD


def sign_in_form(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def audit_actions(app):
    from app.extensions import db

    with app.app_context():
        return [event.action for event in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_sign_in_redirects_away_from_login_and_records_it(app, client, make):
    member = make.member(role=Role.BILLER)
    response = sign_in_form(client, member.email, PASSWORD)
    assert response.status_code in {302, 303}
    assert not response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 200
    assert "auth.sign_in" in audit_actions(app)


def test_sign_in_ignores_email_case_and_spaces(client, make):
    member = make.member()
    assert sign_in_form(client, f"  {member.email.upper()} ", PASSWORD).status_code == 303


def test_sign_in_never_redirects_off_site(client, make):
    member = make.member()
    response = client.post("/login?next=//evil.example/x", data={"email": member.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_wrong_password_is_422_with_a_message_and_an_audit_event(app, client, make):
    member = make.member()
    response = sign_in_form(client, member.email, "not the password")
    assert response.status_code == 422
    assert b"That email and password do not match an active account." in response.data
    assert "auth.sign_in_failed" in audit_actions(app)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_failure_page_is_the_same_for_unknown_email_and_wrong_password(client, make):
    member = make.member()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    wrong_password = client.post("/login", data={"email": member.email, "password": "nope-nope-nope",
                                                 "csrf_token": token})
    unknown_email = client.post("/login", data={"email": "nobody@example.org", "password": "nope-nope-nope",
                                                "csrf_token": token})
    assert wrong_password.status_code == unknown_email.status_code == 422
    assert strip_csrf(wrong_password.get_data(as_text=True)) == strip_csrf(unknown_email.get_data(as_text=True))


def test_deactivated_member_cannot_sign_in(client, make):
    member = make.member(role=Role.BILLER, active=False)
    assert sign_in_form(client, member.email, PASSWORD).status_code == 422


def sign_in_from(client, address, email, password, headers=None):
    """A sign-in as if from another machine: the test client's connection address is `address`."""
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def test_sixth_failure_from_one_address_is_429_there_even_with_the_right_password(client, make):
    member = make.member()
    for _ in range(5):
        assert sign_in_from(client, "203.0.113.5", member.email, "wrong password!").status_code == 422
    response = sign_in_from(client, "203.0.113.5", member.email, PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.data


def test_failures_from_one_address_do_not_lock_the_member_out_at_another(app, client, make):
    member = make.member()
    for _ in range(20):
        sign_in_from(client, "203.0.113.5", member.email, "wrong password!")
    assert sign_in_from(client, "203.0.113.5", member.email, PASSWORD).status_code == 429
    assert sign_in_from(client, "198.51.100.7", member.email, PASSWORD).status_code == 303


def test_throttle_is_per_account(client, make):
    locked, other = make.member(), make.member()
    for _ in range(6):
        sign_in_form(client, locked.email, "wrong password!")
    assert sign_in_form(client, other.email, PASSWORD).status_code == 303


def test_one_address_may_fail_thirty_times_across_accounts(client, make):
    for number in range(30):
        assert sign_in_form(client, f"someone{number}@example.org", "wrong password!").status_code == 422
    member = make.member()
    assert sign_in_form(client, member.email, PASSWORD).status_code == 303


def test_one_address_failing_across_fifty_accounts_is_paused_for_every_account(client, make):
    member = make.member()
    for number in range(50):
        sign_in_from(client, "203.0.113.9", f"someone{number}@example.org", "wrong password!")
    assert sign_in_from(client, "203.0.113.9", member.email, PASSWORD).status_code == 429
    assert sign_in_from(client, "198.51.100.7", member.email, PASSWORD).status_code == 303


@pytest.mark.parametrize("app_config", [{"LOGIN_FAILURES_PER_ACCOUNT_BEFORE_RESET": 8}])
def test_failures_from_many_addresses_require_a_password_reset_until_one_is_set(app, client, make):
    from app import accounts
    from app.extensions import db
    from app.models import Member

    member = make.member()
    for number in range(7):
        assert sign_in_from(client, f"203.0.113.{number}", member.email, "wrong password!").status_code == 422
    with app.app_context():
        assert not db.session.get(Member, member.id).password_reset_required
    assert sign_in_from(client, "203.0.113.100", member.email, "wrong password!").status_code == 422
    with app.app_context():
        assert db.session.get(Member, member.id).password_reset_required  # saved though the request was a 422
    assert "member.password_reset_required" in audit_actions(app)

    refused = sign_in_from(client, "198.51.100.7", member.email, PASSWORD)
    assert refused.status_code == 422
    assert b"ask your administrator, or use Forgot your password?" in refused.data
    assert client.get("/").status_code == 302
    unknown = sign_in_from(client, "198.51.100.7", member.email, "wrong password!")
    assert b"needs a new password" not in unknown.data  # only the right password learns of the reset

    with app.app_context():
        accounts.set_password(db.session.get(Member, member.id), "a brand new password")
        db.session.commit()
    # A new password starts a fresh account-wide count: one more failure does not require another reset.
    assert sign_in_from(client, "203.0.113.101", member.email, "wrong password!").status_code == 422
    assert sign_in_from(client, "198.51.100.7", member.email, "a brand new password").status_code == 303


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_one_trusted_proxy_the_forwarded_address_is_counted(client, make):
    member = make.member()
    for _ in range(5):
        sign_in_from(client, "10.0.0.2", member.email, "wrong password!", {"X-Forwarded-For": "203.0.113.5"})
    assert sign_in_from(client, "10.0.0.2", member.email, PASSWORD,
                        {"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    # The same proxy forwarding someone else: not paused.
    assert sign_in_from(client, "10.0.0.2", member.email, PASSWORD,
                        {"X-Forwarded-For": "198.51.100.7"}).status_code == 303


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, make):
    member = make.member()
    for number in range(5):  # a different forged address each time: still one connection address
        sign_in_from(client, "203.0.113.5", member.email, "wrong password!", {"X-Forwarded-For": f"192.0.2.{number}"})
    assert sign_in_from(client, "203.0.113.5", member.email, PASSWORD,
                        {"X-Forwarded-For": "198.51.100.7"}).status_code == 429


def test_throttle_lives_in_redis_so_every_web_process_shares_it(app, database_url, redis_url, tmp_path, make):
    from tests.conftest import make_app

    member = make.member()
    for _ in range(5):
        sign_in_form(app.test_client(), member.email, "wrong password!")
    second_process = make_app(database_url, redis_url, str(tmp_path / "second"))
    assert sign_in_form(second_process.test_client(), member.email, PASSWORD).status_code == 429
    with second_process.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_a_successful_sign_in_forgives_earlier_failures(client, make):
    member = make.member()
    for _ in range(4):
        sign_in_form(client, member.email, "wrong password!")
    assert sign_in_form(client, member.email, PASSWORD).status_code == 303
    client.post("/logout")
    for _ in range(4):
        assert sign_in_form(client, member.email, "wrong password!").status_code == 422


def test_sign_out_is_a_post_and_ends_the_session(app, client, make, sign_in):
    sign_in(make.member())
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302
    assert "auth.sign_out" in audit_actions(app)


def test_thirty_minutes_idle_signs_you_out(client, make, sign_in):
    sign_in(make.member())
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = utcnow().timestamp() - 31 * 60
    response = client.get("/settings/members")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_twenty_nine_minutes_idle_keeps_you_signed_in(client, make, sign_in):
    sign_in(make.member())
    with client.session_transaction() as session:
        session["seen"] = utcnow().timestamp() - 29 * 60
    assert client.get("/").status_code == 200


def test_activity_renews_the_cookie_once_a_minute_not_on_every_request(client, make, sign_in):
    sign_in(make.member())
    client.get("/")  # the page's first form keeps its CSRF token in the session
    assert "Set-Cookie" not in client.get("/").headers  # seen moments ago
    with client.session_transaction() as session:
        session["seen"] = utcnow().timestamp() - 61
    renewed = client.get("/")
    assert "Expires=" in renewed.headers["Set-Cookie"]  # the 30 minutes count again from now
    with client.session_transaction() as session:
        assert utcnow().timestamp() - session["seen"] < 5
    assert "Set-Cookie" not in client.get("/").headers


def test_session_cookie_is_httponly_samesite_lax_and_expires_with_idleness(client, make):
    member = make.member()
    response = sign_in_form(client, member.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_secure_cookie_can_be_switched_on_for_https(client, make):
    member = make.member()
    assert "Secure" in sign_in_form(client, member.email, PASSWORD).headers["Set-Cookie"]


def test_changing_a_password_ends_open_sessions(app, client, make, sign_in):
    from app import accounts
    from app.extensions import db
    from app.models import Member

    member = make.member()
    sign_in(member)
    assert client.get("/").status_code == 200
    with app.app_context():
        accounts.set_password(db.session.get(Member, member.id), "a brand new password")
        db.session.commit()
    assert client.get("/").status_code == 302


def test_the_password_field_is_a_password_input_and_no_attribute_says_none(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="password"[^>]*type="password"|<input[^>]*type="password"[^>]*id="password"', html)
    assert '="None"' not in html
