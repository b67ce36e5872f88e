"""After an htmx swap or a change made in the page, focus stays somewhere sensible and the outcome is both shown and
announced (the toasts and the combobox notes are live regions)."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_save_line_keeps_focus_on_the_button_and_confirms(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=clinician.id)
    make.service(practice, "90834", price_cents=15000)
    bill = make.bill(client, clinician)
    sign_in(page, clinician.email)
    page.goto(f"/bills/{bill.id}")
    row = page.locator("tr[id^=bill-line-]").first
    row.get_by_label("Units").fill("2")
    row.get_by_role("button", name="Save line").click()
    expect(page.locator("#bill-balance")).to_have_text("$300.00")
    expect(page.locator("tr[id^=bill-line-]").first.get_by_role("button", name="Save line")).to_be_focused()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"Line 1 saved: 90834, \$300\.00"))).to_be_visible()

    page.locator("tr[id^=bill-line-]").first.get_by_label("Price").fill("a lot")
    page.locator("tr[id^=bill-line-]").first.get_by_role("button", name="Save line").click()
    price = page.locator("tr[id^=bill-line-]").first.get_by_label("Price")
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(price).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="Line 1 not saved")).to_be_visible()
    expect(page.locator("#bill-balance")).to_have_text("$300.00")
    page.console_errors.clear()  # the 422 that says which field to fix


def open_note(page, live_server, diagnoses: list[str] | None = None):
    """A clinician's own completed session's note page, with these diagnoses chosen (no note when None)."""
    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=clinician.id)
    session = make.session(client, clinician, status="completed")
    if diagnoses is not None:
        make.note(session, diagnosis_codes=diagnoses)
    sign_in(page, clinician.email)
    page.goto(f"/sessions/{session.id}/note", timeout=60_000)  # the chosen codes' descriptions: ICD-10-CM read once


def test_removing_a_diagnosis_moves_focus_to_the_next_one_and_says_so(page, live_server):
    open_note(page, live_server, ["F41.1", "F32.1", "Z63.0"])
    page.get_by_role("button", name="Remove F32.1").click()
    expect(page.get_by_role("button", name="Remove F32.1")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove Z63.0")).to_be_focused()
    note = page.locator("#diagnosis-search-listbox-status")
    expect(note).to_have_text("F32.1 removed.")
    expect(note).to_be_visible()
    page.keyboard.press("Enter")  # the last one: focus goes back to the one before
    expect(page.get_by_role("button", name="Remove F41.1")).to_be_focused()
    expect(note).to_have_text("Z63.0 removed.")
    page.keyboard.press("Enter")  # none left: focus goes to the search
    expect(page.get_by_role("combobox", name="Add a diagnosis")).to_be_focused()
    expect(note).to_have_text("F41.1 removed.")


def test_picking_a_diagnosis_category_shows_why_it_cannot_be_billed(page, live_server):
    open_note(page, live_server)
    search = page.get_by_role("combobox", name="Add a diagnosis")
    search.fill("F41")
    category = page.get_by_role("option").filter(has=page.locator(".option-code", has_text=re.compile(r"^F41$")))
    expect(category).to_have_attribute("aria-disabled", "true", timeout=60_000)  # ICD-10-CM is read on first use
    category.click(force=True)  # aria-disabled: Playwright would wait for it to be enabled; a mouse just clicks
    note = page.locator("#diagnosis-search-listbox-status")
    expect(note).to_be_visible()
    expect(note).to_have_text("F41 is a category and cannot be billed: pick a more specific code.")
    expect(page.locator("#diagnosis-list li")).to_have_count(0)
