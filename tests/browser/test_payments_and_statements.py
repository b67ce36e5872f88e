"""The payments page in chromium: filtering by method and client, the CSV of what is shown, a payment's own page
and its reversal after a confirmation; and the client's statement on screen, line by line."""
import csv
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.days import local_today
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_a_biller_filters_payments_downloads_them_and_reverses_one_from_its_page(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    biller = make.member(practice, Role.BILLER)
    ada = make.client(practice, first_name="Ada", last_name="Lovelace")
    bo = make.client(practice, first_name="Bo", last_name="Diddley")
    check = make.payment(ada, 2000, method="check", reference="1042")
    make.payment(ada, 1000, method="card", received_on=local_today() - timedelta(days=40))
    cash = make.payment(bo, 3000, method="cash")
    sign_in(page, biller.email)
    page.goto("/payments")
    rows = page.locator("#payment-list tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Method").select_option("check")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1042")
    page.get_by_label("Method").select_option("")
    page.get_by_label("Client", exact=True).select_option(label="Lovelace, Ada")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    content = open(download.value.path(), encoding="utf-8").read()
    assert sorted(row["amount"] for row in csv.DictReader(io.StringIO(content))) == ["10.00", "20.00"]

    page.goto("/payments")
    expect(page.get_by_role("button", name="Reverse")).to_have_count(0)  # not on the list any more
    page.locator(f"#payment-{cash.id}").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Payment of $30.00")).to_be_visible()
    page.get_by_label("Why is the payment reversed?").fill("Counterfeit note")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Reverse payment").click()
    page.wait_for_timeout(500)
    expect(page.get_by_role("button", name="Reverse payment")).to_be_visible()  # dismissed: nothing happened
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Reverse payment").click()
    expect(page.locator("main")).to_contain_text("Counterfeit note")
    expect(page.get_by_role("button", name="Reverse payment")).to_have_count(0)
    assert questions == ["Reverse this payment of $30.00? The bills it paid owe again."]


def test_the_clients_statement_on_screen_shows_each_service_what_insurance_paid_and_their_share(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    biller = make.member(practice, Role.BILLER)
    clinician = make.member(practice, Role.CLINICIAN)
    robin = make.client(practice, first_name="Robin", primary_clinician_id=clinician.id)
    service = make.service(practice, "90834", price_cents=15000, description="Psychotherapy, 45 minutes")
    make.billed_session(robin, clinician, service)
    sign_in(page, biller.email)
    page.goto(f"/payments/new?client={robin.id}")
    page.get_by_label("From").select_option("insurance")
    page.get_by_label("Amount").fill("120.00")
    page.get_by_role("button", name="Record payment").click()
    expect(page).to_have_url(f"{live_server.base_url}/clients/{robin.id}/ledger")
    services = page.locator("#statement-services")
    row = services.locator("tbody tr").filter(has_text="90834")
    expect(row).to_contain_text("Psychotherapy, 45 minutes")
    expect(row.locator("td")).to_have_text([re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}$"), "90834",
                                            "Psychotherapy, 45 minutes", "$150.00", "$120.00", "$0.00", "$30.00"])
    expect(services.locator("tfoot")).to_contain_text("$30.00")
    expect(page.locator("#statement-aging")).to_contain_text("$30.00")
    with page.expect_download() as download:
        page.get_by_role("link", name="Statement (PDF)").click()
    assert open(download.value.path(), "rb").read(4) == b"%PDF"
