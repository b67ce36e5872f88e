"""The key flows in Debian's chromium, driven by Playwright, against Parity served on loopback."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.support.factories import PASSWORD, Factory

pytestmark = pytest.mark.browser


def sign_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_admin_signs_in_and_reaches_the_members_page(page, live_server):
    admin = Factory(live_server).member(role=Role.ADMIN, name="Morgan Admin")
    sign_in(page, admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(r"/settings/members$"))
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    expect(page.locator(f"#member-row-{admin.id}")).to_contain_text("Morgan Admin")


def test_adding_a_member_with_a_bad_npi_shows_the_error_beside_the_field_without_reload(page, live_server):
    admin = Factory(live_server).member(role=Role.ADMIN)
    sign_in(page, admin.email)
    page.goto("/settings/members")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Full name").fill("Riley Therapist")
    page.locator("#email").fill("riley@example.org")
    page.get_by_label("Role", exact=True).select_option("clinician")
    page.get_by_label("Individual NPI").fill("1234567890")
    page.get_by_label("Taxonomy code").fill("101YP2500X")
    page.get_by_label("First password").fill("long enough password")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#npi-error")).to_contain_text("check digit")
    expect(page.get_by_label("Individual NPI")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the 422 form in place
    expect(page.get_by_label("Individual NPI")).to_be_focused()  # settled: typing now lands where aimed
    page.get_by_label("Individual NPI").fill("1234567893")
    page.get_by_label("First password").fill("long enough password")  # never echoed back in a page
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("table")).to_contain_text("Riley Therapist")


def test_wrong_role_sees_403_in_the_browser(page, live_server):
    biller = Factory(live_server).member(role=Role.BILLER)
    sign_in(page, biller.email)
    response = page.goto("/settings/members")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"]
    page.console_errors.clear()
