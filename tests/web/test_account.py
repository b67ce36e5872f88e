"""Server-side sessions (sign-out ends every copy of a cookie, sign out everywhere), the account page and
a member's own password change."""
import pytest

from app.extensions import db
from app.models import AuditEvent, Member, MemberSession, Role
from app.models.types import utcnow
from tests.support.factories import PASSWORD

COOKIE = "parity_session"
NEW_PASSWORD = "plum orchard lantern 42"


def signed_in_client(app, member, password=PASSWORD):
    """A test client signed in through the real sign-in form."""
    client = app.test_client()
    assert client.post("/login", data={"email": member.email, "password": password}).status_code == 303
    return client


def copy_of_cookie(app, client):
    """Another client holding a copy of this client's session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def live_sessions(app, member):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(MemberSession.id)).where(
            MemberSession.member_id == member.id, MemberSession.ended_at.is_(None)))


def actions(app, action):
    with app.app_context():
        return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, make):
    member = make.member(role=Role.BILLER)
    client = signed_in_client(app, member)
    thief = copy_of_cookie(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the sign-in lives
    assert client.post("/logout").status_code == 303
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert thief.get("/account").status_code == 302
    assert live_sessions(app, member) == 0


def test_idle_sign_out_ends_the_server_side_session_too(app, make):
    member = make.member()
    client = signed_in_client(app, member)
    thief = copy_of_cookie(app, client)
    with client.session_transaction() as session:
        session["seen"] = utcnow().timestamp() - 31 * 60
    assert client.get("/").status_code == 302
    assert thief.get("/").status_code == 302  # its copy says it was seen just now, but the sign-in is over
    assert live_sessions(app, member) == 0


def test_sign_out_everywhere_ends_the_members_other_sessions_but_not_other_members(app, make):
    member = make.member(role=Role.CLINICIAN)
    colleague = make.member(make.practice_of(member), Role.BILLER)
    laptop, phone = signed_in_client(app, member), signed_in_client(app, member)
    colleague_client = signed_in_client(app, colleague)
    assert laptop.post("/account/sign-out-everywhere").status_code == 303
    assert laptop.get("/account").status_code == 200  # this browser stays signed in
    assert phone.get("/").status_code == 302
    assert colleague_client.get("/").status_code == 200
    assert live_sessions(app, member) == 1 and live_sessions(app, colleague) == 1
    [event] = actions(app, "auth.signed_out_everywhere")
    assert event.details == {"sessions": 1}


def test_account_page_lists_who_you_are_and_where_you_are_signed_in(app, make):
    member = make.member(role=Role.BILLER, name="Bea Biller")
    firefox = app.test_client()
    firefox.post("/login", data={"email": member.email, "password": PASSWORD},
                 headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"})
    chrome = app.test_client()
    chrome.post("/login", data={"email": member.email, "password": PASSWORD}, headers={
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"})
    html = chrome.get("/account").get_data(as_text=True)
    assert "Bea Biller" in html and member.email in html and "Biller" in html
    assert "Firefox on Windows" in html and "Chrome on Linux" in html
    assert html.count("this browser") == 1 and "127.0.0.1" in html
    assert 'href="/account/password"' in html


def test_last_seen_is_written_at_most_once_a_minute(app, make):
    member = make.member()
    client = signed_in_client(app, member)

    def last_seen():
        with app.app_context():
            return db.session.scalar(db.select(MemberSession.last_seen_at).where(MemberSession.member_id == member.id))

    first = last_seen()
    client.get("/")
    assert last_seen() == first
    with app.app_context():
        db.session.execute(db.update(MemberSession).values(last_seen_at=first.replace(year=first.year - 1)))
        db.session.commit()
    client.get("/")
    assert last_seen() > first


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "confirm_password": new if confirm is None else confirm})


def password_hash(app, member):
    with app.app_context():
        return db.session.get(Member, member.id).password_hash


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, make):
    member = make.member(role=Role.CLINICIAN)
    client, other = signed_in_client(app, member), signed_in_client(app, member)
    response = change(client)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert other.get("/").status_code == 302
    assert app.test_client().post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 422
    assert signed_in_client(app, member, NEW_PASSWORD).get("/").status_code == 200
    [event] = actions(app, "member.password_changed")
    assert event.details == {"other_sessions_ended": 1} and event.member_id == member.id


@pytest.mark.parametrize(("current", "new", "confirm", "field", "message"), [
    ("not my password", NEW_PASSWORD, None, "current_password", "not your current password"),
    (PASSWORD, "short one", None, "new_password", "at least 12 characters"),
    (PASSWORD, "password1234", None, "new_password", "This is a very common password."),
    (PASSWORD, "qwertyuiopasdf", None, "new_password", "too easy to guess"),
    (PASSWORD, NEW_PASSWORD, "plum orchard lantern 43", "confirm_password", "do not match"),
])
def test_a_bad_password_change_is_422_beside_the_field_and_changes_nothing(app, make, current, new, confirm, field,
                                                                           message):
    member = make.member()
    client, other = signed_in_client(app, member), signed_in_client(app, member)
    before = password_hash(app, member)
    response = change(client, current, new, confirm)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert password_hash(app, member) == before
    assert other.get("/").status_code == 200
    assert not actions(app, "member.password_changed")


def test_zxcvbn_weighs_the_members_own_name_and_email(app, make):
    member = make.member(name="Marguerite Fontainebleau", email="marguerite.fontainebleau@example.org")
    client = signed_in_client(app, member)
    response = change(client, new="MargueriteFontainebleau")
    assert response.status_code == 422
    assert "too easy to guess" in response.get_data(as_text=True)


def test_the_account_pages_need_a_signed_in_member(client):
    for path in ("/account", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post("/account/sign-out-everywhere").status_code == 302
