"""Two-factor sign-in in Debian's chromium: turn it on from the page, sign out, sign in with a code."""
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def fresh_code(totp: pyotp.TOTP, used: set[str]) -> str:
    """The app's current code, waiting for the next 30-second step when this one was already used."""
    while (code := totp.now()) in used or time.time() % 30 > 27:
        time.sleep(0.5)
    used.add(code)
    return code


def test_a_member_turns_on_two_factor_and_signs_in_with_a_code(page, live_server):
    member = Factory(live_server).member(role=Role.CLINICIAN)
    sign_in(page, member.email)
    page.locator("a.who").click()  # the member's name in the header: their account page
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in", level=1)).to_be_visible()
    expect(page.locator(".qr-code-frame svg")).to_be_visible()
    totp = pyotp.TOTP(page.locator("#two-factor-secret").inner_text().strip())
    used: set[str] = set()
    page.get_by_label("Code from your authenticator app").fill(fresh_code(totp, used))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(fresh_code(totp, used))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
