"""Mark Session Complete in chromium, with the keyboard only."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching the CSS selector has focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("(selector) => !!document.activeElement && document.activeElement.matches(selector)",
                         selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_clinician_completes_a_session_with_the_keyboard_and_fixes_a_code_that_does_not_fit(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=clinician.id, first_name="Robin")
    for code, price in (("90832", 11000), ("90834", 15000), ("90837", 19000)):
        make.service(practice, code, price_cents=price, name=f"Psychotherapy {code}",
                     description=f"Psychotherapy {code} in our words")
    session = make.session(client, clinician, minutes=45)
    sign_in(page, clinician.email)
    page.goto(f"/sessions/{session.id}")
    tab_to(page, f'a[href="/sessions/{session.id}/complete"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/sessions/{session.id}/complete$"))
    expect(page.get_by_label("Minutes in session")).to_have_value("45")

    tab_to(page, "#lines-0-code")
    page.keyboard.type("90837")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option").first).to_contain_text("does not fit 45 min")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#lines-0-code")).to_have_value("90837")
    expect(page.locator("#lines-0-description")).to_have_value("Psychotherapy 90837 in our words")
    page.keyboard.press("Enter")  # the listbox is closed: Enter submits the form

    expect(page.locator("#lines-0-code-error")).to_have_text(re.compile("45 minutes is 90834, not 90837"))
    expect(page).to_have_url(re.compile(r"/complete$"))
    tab_to(page, "#lines-0-code")
    page.keyboard.press("Control+A")
    page.keyboard.type("9083")
    expect(listbox.get_by_role("option").first).to_contain_text("90834")
    expect(listbox.get_by_role("option").first).to_contain_text("fits 45 min")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#lines-0-code")).to_have_value("90834")
    expect(page.locator("#lines-0-price")).to_have_value("150.00")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/sessions/{session.id}$"))
    expect(page.locator("#session-services")).to_contain_text("90834")
    expect(page.locator("#session-services")).to_contain_text("$150.00")
    expect(page.get_by_text("Completed", exact=True)).to_be_visible()


def test_a_lower_code_is_marked_lower_and_accepted_only_with_a_confirmed_reason(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=clinician.id, first_name="Robin")
    for code, price in (("90832", 11000), ("90834", 15000), ("90837", 19000)):
        make.service(practice, code, price_cents=price, name=f"Psychotherapy {code}")
    session = make.session(client, clinician, minutes=53)
    sign_in(page, clinician.email)
    page.goto(f"/sessions/{session.id}/complete")
    expect(page.get_by_label("Minutes in session")).to_have_value("53")

    page.locator("#lines-0-code").click()
    page.keyboard.type("9083")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_contain_text("90837")
    expect(options.nth(0)).to_contain_text("fits 53 min")
    for position in (1, 2):
        expect(options.nth(position)).to_contain_text("lower than 53 min supports (90837)")
        expect(options.nth(position)).not_to_contain_text("fits 53 min")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#lines-0-code")).to_have_value("90832")
    page.get_by_role("button", name="Mark complete").click()

    expect(page.locator("#lines-0-code-error")).to_have_text(re.compile("53 minutes supports 90837, not 90832"))
    expect(page.locator("#lines-0-units-error")).to_have_count(0)
    reason = page.get_by_label("Why bill a lower code")
    expect(reason).to_be_visible()
    reason.fill("The client's plan authorized 30-minute sessions only")
    page.get_by_role("button", name="Mark complete").click()

    expect(page).to_have_url(re.compile(rf"/sessions/{session.id}$"))
    expect(page.locator("#lower-code-reason")).to_have_text("The client's plan authorized 30-minute sessions only")
    expect(page.locator("#session-services")).to_contain_text("90832")

