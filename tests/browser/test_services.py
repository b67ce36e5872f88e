"""Creating a service with the keyboard only, through the code combobox."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_admin_creates_a_service_with_the_keyboard_in_the_code_combobox(page, live_server):
    admin = Factory(live_server).member(role=Role.ADMIN)
    sign_in(page, admin.email)
    page.goto("/settings/services/new")
    code = page.get_by_role("combobox", name="Code")
    code.focus()
    page.keyboard.type("9083")
    listbox = page.get_by_role("listbox", name="Matching codes")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option").first).to_contain_text("90832")
    expect(code).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(code).to_have_attribute("aria-activedescendant", re.compile(r"90832$"))
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(code).to_have_value("90832")
    expect(code).to_be_focused()
    expect(listbox).to_be_hidden()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Psychotherapy, about 30 min")
    expect(page.get_by_label("Description")).to_have_value(re.compile(r"about 30 minutes"))
    page.get_by_label("Description").fill("Individual therapy, 16 to 37 minutes")  # still editable
    page.get_by_label("Default price").fill("110.00")
    page.get_by_label("Default price").press("Enter")
    expect(page).to_have_url(re.compile(r"/settings/services$"))
    row = page.locator("tr", has_text="90832")
    expect(row).to_contain_text("$110.00")


def test_escape_closes_the_listbox_and_keeps_what_was_typed(page, live_server):
    admin = Factory(live_server).member(role=Role.ADMIN)
    sign_in(page, admin.email)
    page.goto("/settings/services/new")
    code = page.get_by_role("combobox", name="Code")
    code.focus()
    page.keyboard.type("family")
    expect(page.get_by_role("listbox")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="match")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(code).to_have_value("family")


def test_toggling_a_service_swaps_the_row_without_reloading_keeps_focus_and_says_so(page, live_server):
    factory = Factory(live_server)
    admin = factory.member(role=Role.ADMIN)
    factory.service(factory.practice_of(admin), "90834")
    sign_in(page, admin.email)
    page.goto("/settings/services")
    page.evaluate("window.notReloaded = true")
    switch = page.get_by_role("switch", name="90834 enabled")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert page.evaluate("window.notReloaded") is True
    # Focus stays on the switch that came back, and the outcome is shown and announced (a live region).
    expect(switch).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="90834 disabled.")).to_be_visible()
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="90834 enabled.")).to_be_visible()
