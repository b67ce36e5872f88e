"""Password reset by email: the request page tells nobody whether an account exists, links work once
within the hour, using one ends every session; throttling; an admin's forced reset."""
import re
import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent, OutboundEmail, PasswordReset, Role
from app.models.types import utcnow
from tests.conftest import strip_csrf
from tests.support.factories import PASSWORD

NEW_PASSWORD = "plum orchard lantern 42"


def reset_links(app, member):
    """The reset links emailed to the member, oldest first."""
    with app.app_context():
        bodies = db.session.scalars(db.select(OutboundEmail.body).where(OutboundEmail.to_address == member.email)
                                    .order_by(OutboundEmail.id)).all()
    return [match for body in bodies for match in re.findall(r"http://parity\.test(/password-reset/[\w-]+)", body)]


def ask(client, email):
    return client.post("/password-reset", data={"email": email})


def set_new(client, link, new=NEW_PASSWORD, confirm=None):
    return client.post(link, data={"new_password": new, "confirm_password": new if confirm is None else confirm})


def can_sign_in(app, member, password):
    return app.test_client().post("/login", data={"email": member.email, "password": password}).status_code == 303


def actions(app):
    with app.app_context():
        return [event.action for event in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_a_member_asks_for_a_link_and_sets_a_new_password_with_it(app, client, make, sign_in):
    member = make.member(role=Role.BILLER)
    elsewhere = sign_in(member, on=app.test_client())
    response = ask(client, member.email.upper())
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    [link] = reset_links(app, member)
    form = client.get(link)
    assert form.status_code == 200
    assert 'name="new_password"' in form.get_data(as_text=True) and 'name="confirm_password"' in form.get_data(as_text=True)
    response = set_new(client, link)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert elsewhere.get("/").status_code == 302  # every session of the member ended
    assert not can_sign_in(app, member, PASSWORD)
    assert can_sign_in(app, member, NEW_PASSWORD)
    assert {"member.password_reset_requested", "member.password_reset"} <= set(actions(app))
    with app.app_context():
        [reset] = db.session.scalars(db.select(PasswordReset)).all()
        assert reset.used_at is not None and reset.expires_at - reset.created_at == timedelta(hours=1)
        assert link.rsplit("/", 1)[1] not in reset.token_hash  # only a hash is stored


def test_the_answer_is_the_same_page_for_an_unknown_email_and_takes_about_as_long(app, client, make):
    member = make.member()
    started = time.monotonic()
    known = ask(client, member.email)
    known_seconds = time.monotonic() - started
    started = time.monotonic()
    unknown = ask(app.test_client(), "nobody@example.org")
    unknown_seconds = time.monotonic() - started
    assert known.status_code == unknown.status_code == 200
    assert strip_csrf(known.get_data(as_text=True)) == strip_csrf(unknown.get_data(as_text=True))
    floor = app.config["PASSWORD_RESET_ANSWER_SECONDS"]
    assert known_seconds >= floor and unknown_seconds >= floor
    assert abs(known_seconds - unknown_seconds) < floor
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboundEmail.id))) == 1


def test_a_deactivated_member_gets_no_link(app, client, make):
    member = make.member(role=Role.BILLER, active=False)
    assert ask(client, member.email).status_code == 200
    assert reset_links(app, member) == []


def test_a_bad_email_is_422_beside_the_field(client):
    response = ask(client, "not-an-email")
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)


def test_a_used_link_is_gone_and_so_are_the_others_sent_before_it(app, client, make):
    member = make.member()
    ask(client, member.email)
    ask(client, member.email)
    first, second = reset_links(app, member)
    assert client.get(first).status_code == 200  # a newer request leaves the earlier link usable
    assert set_new(client, second).status_code == 303
    for link in (first, second):
        response = client.get(link)
        assert response.status_code == 410
        assert "Ask for a new link" in response.get_data(as_text=True)
    assert set_new(client, first, new="another lantern orchard 7").status_code == 410
    assert can_sign_in(app, member, NEW_PASSWORD)


def test_an_expired_link_is_gone(app, client, make):
    member = make.member()
    ask(client, member.email)
    [link] = reset_links(app, member)
    with app.app_context():
        db.session.execute(db.update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get(link).status_code == 410
    assert set_new(client, link).status_code == 410
    assert can_sign_in(app, member, PASSWORD)


def test_an_unknown_link_is_gone_not_an_error(client):
    response = client.get("/password-reset/not-a-real-token")
    assert response.status_code == 410 and "This link no longer works" in response.get_data(as_text=True)


@pytest.mark.parametrize(("new", "confirm", "field", "message"), [
    ("short one", None, "new_password", "at least 12 characters"),
    ("password1234", None, "new_password", "This is a very common password."),
    (NEW_PASSWORD, "plum orchard lantern 43", "confirm_password", "do not match"),
])
def test_a_weak_or_mismatched_new_password_is_422_and_the_link_still_works(app, client, make, new, confirm, field,
                                                                             message):
    member = make.member()
    ask(client, member.email)
    [link] = reset_links(app, member)
    response = set_new(client, link, new, confirm)
    assert response.status_code == 422
    error = response.get_data(as_text=True).split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert can_sign_in(app, member, PASSWORD)
    assert client.get(link).status_code == 200


def test_a_reset_clears_the_accounts_sign_in_throttle(app, client, make):
    member = make.member()
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT_AT_ADDRESS"]):
        app.test_client().post("/login", data={"email": member.email, "password": "wrong password!"})
    assert app.test_client().post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 429
    ask(client, member.email)
    [link] = reset_links(app, member)
    assert set_new(client, link).status_code == 303
    assert can_sign_in(app, member, NEW_PASSWORD)


def test_over_the_per_email_limit_the_page_is_the_same_but_no_email_is_sent(app, make):
    member = make.member()
    limit = app.config["PASSWORD_RESETS_PER_EMAIL"]
    pages = [ask(app.test_client(), member.email) for _ in range(limit + 1)]
    assert {page.status_code for page in pages} == {200}
    assert len({strip_csrf(page.get_data(as_text=True)) for page in pages}) == 1
    assert len(reset_links(app, member)) == limit


@pytest.mark.parametrize("app_config", [{"PASSWORD_RESETS_PER_ADDRESS": 3, "PASSWORD_RESET_ANSWER_SECONDS": 0}])
def test_over_the_per_address_limit_the_answer_is_429(app, client, make):
    member = make.member()
    for number in range(3):
        assert ask(client, f"someone{number}@example.org").status_code == 200
    response = ask(client, member.email)
    assert response.status_code == 429 and "Too many password-reset requests" in response.get_data(as_text=True)
    assert reset_links(app, member) == []
    assert "auth.password_reset_throttled" in actions(app)


def test_the_sign_in_page_links_to_the_reset_and_the_lockout_says_so(app, client, make):
    assert 'href="/password-reset"' in client.get("/login").get_data(as_text=True)
    member = make.member()
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT_AT_ADDRESS"]):
        client.post("/login", data={"email": member.email, "password": "wrong password!"})
    locked = client.post("/login", data={"email": member.email, "password": PASSWORD}).get_data(as_text=True)
    assert "Forgot your password?" in locked


# ---------------------------------------------------------------- an admin's forced reset


@pytest.fixture
def admin(make, sign_in):
    member = make.member(role=Role.ADMIN)
    sign_in(member)
    return member


def test_an_admin_forces_a_reset_after_confirming(app, client, admin, make, sign_in):
    clinician = make.member(make.practice_of(admin), Role.CLINICIAN)
    their_browser = sign_in(clinician, on=app.test_client())
    members_page = client.get("/settings/members").get_data(as_text=True)
    assert f'href="/settings/members/{clinician.id}/reset-password"' in members_page
    confirm = client.get(f"/settings/members/{clinician.id}/reset-password")
    assert confirm.status_code == 200 and clinician.email in confirm.get_data(as_text=True)
    assert reset_links(app, clinician) == []  # nothing happens before the admin confirms
    response = client.post(f"/settings/members/{clinician.id}/reset-password")
    assert response.status_code == 303
    assert their_browser.get("/").status_code == 302
    assert not can_sign_in(app, clinician, PASSWORD)
    [link] = reset_links(app, clinician)
    assert set_new(app.test_client(), link).status_code == 303
    assert can_sign_in(app, clinician, NEW_PASSWORD)
    with app.app_context():
        [event] = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "member.password_reset_forced"))
        assert event.member_id == admin.id and event.object_id == clinician.id
        assert NEW_PASSWORD not in str(event.details)


def test_a_deactivated_member_cannot_be_reset(app, client, admin, make):
    former = make.member(make.practice_of(admin), Role.BILLER, active=False)
    response = client.post(f"/settings/members/{former.id}/reset-password")
    assert response.status_code == 422 and "Reactivate" in response.get_data(as_text=True)
    assert reset_links(app, former) == []


def test_only_admins_force_resets_and_only_in_their_practice(app, client, make, sign_in):
    other_practice_member = make.member(role=Role.BILLER)
    biller = make.member(role=Role.BILLER)
    sign_in(biller)
    assert client.post(f"/settings/members/{biller.id}/reset-password").status_code == 403
    sign_in(make.member(role=Role.ADMIN), on=client)
    assert client.post(f"/settings/members/{other_practice_member.id}/reset-password").status_code == 404
    assert reset_links(app, biller) == reset_links(app, other_practice_member) == []
    assert can_sign_in(app, other_practice_member, PASSWORD)
