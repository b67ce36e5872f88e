"""A biller records a payment from a bill's page: the balance is filled in and the bill is paid first."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_a_payment_from_a_bill_opens_with_its_balance_pays_it_first_and_keeps_the_rest_as_credit(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    biller = make.member(practice, Role.BILLER)
    client = make.client(practice, first_name="Robin", last_name="Hale")
    older = make.bill(client, status="open", price_cents=15000)
    newer = make.bill(client, status="open", price_cents=19000)
    sign_in(page, biller.email)
    page.goto(f"/bills/{newer.id}")
    page.get_by_role("link", name="Record a payment").click()

    expect(page).to_have_url(re.compile(rf"/payments/new\?bill={newer.id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record a payment for bill {newer.number}")
    expect(page.get_by_label("Amount")).to_have_value("190.00")
    expect(page.get_by_label("Client", exact=True)).to_have_value(str(client.id))
    page.get_by_label("Amount").fill("250.00")
    page.get_by_role("button", name="Record payment").click()

    expect(page).to_have_url(re.compile(rf"/bills/{newer.id}$"))
    expect(page.get_by_text("Payment recorded.")).to_be_visible()
    expect(page.locator("#bill-balance")).to_have_text("$0.00")
    page.goto(f"/bills/{older.id}")
    expect(page.locator("#bill-balance")).to_have_text("$90.00")  # the $60 left went to the older bill

    page.get_by_role("link", name="Record a payment").click()
    expect(page.get_by_label("Amount")).to_have_value("90.00")
    page.get_by_label("Amount").fill("100.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment recorded. $10.00 stays as client credit.")).to_be_visible()
    expect(page.locator("#bill-balance")).to_have_text("$0.00")
