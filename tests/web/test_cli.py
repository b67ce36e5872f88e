"""Operator commands."""
from app.extensions import db
from app.models import AuditEvent, Member
from tests.support.factories import PASSWORD


def test_practices_and_users_can_be_created_from_the_command_line(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["practices", "create", "Lakeside Therapy"])
    assert created.exit_code == 0, created.output
    result = runner.invoke(args=["users", "create", "--practice", "Lakeside Therapy", "--email", "Owner@Lakeside.org",
                                 "--role", "admin", "--name", "Olive Owner", "--password", "a strong password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        member = db.session.scalar(db.select(Member).where(Member.email == "owner@lakeside.org"))
        assert member.role == "admin" and member.practice.legal_name == "Lakeside Therapy"
    response = app.test_client().post("/login", data={"email": "owner@lakeside.org", "password": "a strong password"})
    assert response.status_code == 303


def test_users_create_refuses_an_unknown_practice(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--practice", "999", "--email", "x@example.org",
                                                "--role", "biller", "--password", "a strong password"])
    assert result.exit_code != 0
    assert "no practice" in result.output


def test_set_password_prompts_changes_the_password_and_is_audited(app, make):
    member = make.member()
    result = app.test_cli_runner().invoke(args=["users", "set-password", member.email],
                                          input="another good password\nanother good password\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    assert client.post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 422
    assert client.post("/login", data={"email": member.email,
                                       "password": "another good password"}).status_code == 303
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "member.password_changed"))
        assert event.origin == "cli"


def test_set_password_refuses_a_short_password(app, make):
    member = make.member()
    result = app.test_cli_runner().invoke(args=["users", "set-password", member.email, "--password", "short"])
    assert result.exit_code != 0 and "at least 12" in result.output


def test_set_password_refuses_a_guessable_password(app, make):
    member = make.member()
    result = app.test_cli_runner().invoke(args=["users", "set-password", member.email, "--password", "qwertyuiop12"])
    assert result.exit_code != 0 and "too easy to guess" in result.output
