"""An admin opens Reports and changes the date range: the chart's text equivalent and the table follow, through
htmx, without a page load; the URL keeps the range, so the back button and a shared link show the same."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.days import local_today
from tests.support.factories import Factory
from tests.support.insurance import insured

pytestmark = pytest.mark.browser


def test_admin_changes_the_date_range_and_the_chart_and_table_follow(page, live_server):
    make = Factory(live_server)
    world = insured(make, live_server)
    world.claim()  # a 45-minute session yesterday: 90834, by Casey
    admin = make.member(world.practice, Role.ADMIN)

    sign_in(page, admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/reports/service-trends$"))
    chart = page.locator("#chart-sessions desc")
    rows = page.locator("#table-sessions tbody tr")
    expect(chart).to_contain_text("90834 1")
    expect(rows.first).to_contain_text("Casey Clinician, LMHC")
    page.evaluate("window.notReloaded = true")

    # A year long ago (each step a valid range): the session falls out.
    year = local_today().year - 2
    page.get_by_label("From", exact=True).fill(f"{year}-01-01")
    expect(page).to_have_url(re.compile(rf"date_from={year}-01-01"))
    page.get_by_label("To", exact=True).fill(f"{year}-12-31")
    expect(page).to_have_url(re.compile(rf"date_to={year}-12-31"))
    expect(chart).to_have_text("No completed sessions in this period.")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("No completed sessions in this period.")
    expect(page.locator("#report-heading")).to_contain_text(f"Jan 1, {year} – Dec 31, {year}")

    # Up to tomorrow (whatever the time zones): it is back, in the chart's words and in the table.
    page.get_by_label("To", exact=True).fill((local_today() + timedelta(days=1)).isoformat())
    expect(chart).to_contain_text("90834 1")
    expect(rows.first).to_contain_text("90834")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the report in place

    # The end before the start: the message beside the field, still no page load.
    page.get_by_label("To", exact=True).fill(f"{year - 1}-12-31")
    expect(page.locator("#date_to-error")).to_have_text("The end date is before the start date.")
    expect(page.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#chart-sessions")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    page.console_errors.clear()  # chromium logs the 422 the form answered with


def test_a_biller_pages_through_the_clients_who_owe_in_place(page, live_server):
    make = Factory(live_server)
    world = insured(make, live_server)
    for first, last in (("Cy", "Marsh"), ("Ada", "Apple"), ("Bo", "Birch")):
        world.claim(client=make.client(world.practice, first_name=first, last_name=last,
                                       primary_clinician_id=world.clinician.id))
    live_server.config["REPORT_CLIENTS_PAGE_SIZE"] = 2
    sign_in(page, make.member(world.practice, Role.BILLER).email)
    page.goto("/reports/aging")
    clients = page.locator("#table-by-client tbody th")
    expect(clients).to_have_text(["Ada Apple", "Bo Birch"])
    expect(page.locator("#table-by-client tfoot")).to_contain_text("$450.00")
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Next clients").click()
    expect(clients).to_have_text(["Cy Marsh"])
    expect(page).to_have_url(re.compile(r"clients_after=\d+"))
    expect(page.locator("#table-by-client tfoot")).to_contain_text("$450.00")  # every client's total
    expect(page.get_by_role("link", name="Next clients")).to_have_count(0)

    page.get_by_role("link", name="First clients").click()
    expect(clients).to_have_text(["Ada Apple", "Bo Birch"])
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the report in place
