"""A member who forgot their password sets a new one from the emailed link, in chromium."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import OutboundEmail, Role
from tests.support.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser

NEW_PASSWORD = "plum orchard lantern 42"


def emailed_reset_path(app, email: str) -> str:
    """The path of the reset link in the newest email to this address (the outbox, as without SMTP)."""
    with app.app_context():
        body = db.session.scalar(db.select(OutboundEmail.body).where(OutboundEmail.to_address == email)
                                 .order_by(OutboundEmail.id.desc()))
    return re.search(r"https?://[^/\s]+(/password-reset/[\w-]+)", body).group(1)


def try_sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_member_resets_a_forgotten_password_from_the_emailed_link(page, live_server):
    member = Factory(live_server).member(role=Role.CLINICIAN)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/password-reset$"))
    page.get_by_label("Email").fill(member.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(emailed_reset_path(live_server, member.email))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#toasts")).to_contain_text("Your new password is set")

    try_sign_in(page, member.email, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")

    try_sign_in(page, member.email, NEW_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.get_by_role("link", name=re.compile(member.name)).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("#sign-ins tbody tr")).to_have_count(1)
