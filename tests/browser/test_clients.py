"""Adding a client and their guardian in chromium: the billing section says who receives the bills."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_clinician_adds_a_minor_with_a_guardian_as_billing_contact(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Clinician")
    sign_in(page, clinician.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Add client").click()

    page.get_by_label("Legal first name").fill("Jordan")
    page.get_by_label("Legal last name").fill("Baptiste")
    page.get_by_label("Date of birth").fill("2014-09-05")
    page.get_by_label("Sex", exact=True).select_option("M")
    page.get_by_label("ZIP code").fill("0213")
    page.get_by_role("button", name="Add client").click()
    expect(page.locator("#zip_code-error")).to_contain_text("5-digit ZIP")  # swapped in place, nothing saved
    # Once the swap settles, focus goes to the field the server marked invalid; typing before that would land there.
    expect(page.get_by_label("ZIP code")).to_be_focused()
    page.get_by_label("Street address").fill("41 Beacon Street")
    page.get_by_label("City").fill("Cambridge")
    page.get_by_label("State").fill("MA")
    page.get_by_label("ZIP code").fill("02139")
    page.get_by_role("button", name="Add client").click()

    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.get_by_role("heading", name="Jordan Baptiste", level=1)).to_be_visible()
    billing = page.locator("#client-billing")
    expect(billing).to_contain_text("Bills will go to the client; a minor usually needs a guardian as billing contact")
    billing.get_by_role("link", name="Add a guardian").click()

    page.get_by_label("Name", exact=True).fill("Claudette Baptiste")
    page.get_by_label("Relationship").select_option("guardian")
    page.get_by_label("Billing contact").check()
    page.get_by_label("Email").fill("claudette.baptiste@example.org")
    page.get_by_role("button", name="Add contact").click()

    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(billing).to_contain_text("Bills go to: Claudette Baptiste (guardian)")
    expect(page.locator("#minor-warning")).to_have_count(0)
    expect(page.locator("#client-overview")).to_contain_text("Casey Clinician")  # the clinician who added them

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.wait_for_load_state("load")  # htmx (a deferred script) must be running before we type
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Search clients").fill("bapt")
    expect(page).to_have_url(re.compile(r"/clients\?q=bapt$"))
    expect(page.locator("#client-results")).to_contain_text("Baptiste, Jordan")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped only the results
