"""Check eligibility in chromium on a client like the demo's Maya Okafor (member ID HHP4481902, the sandbox
clearinghouse), with a real worker sending the 270: the block says it is checking, then shows the sandbox
payer's answer with its date, without a page load; the home page lists a client whose coverage has ended."""
from datetime import date

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory
from tests.support.processes import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_biller_checks_eligibility_on_the_client_page(page, live_server, database_url, redis_url, tmp_path):
    make = Factory(live_server)
    practice = make.practice(legal_name="Parity Demo Practice")
    biller = make.member(practice, Role.BILLER)
    payer = make.payer(practice, name="Harborview Health Plan", clearinghouse_payer_id="HHP01")
    maya = make.client(practice, first_name="Maya", last_name="Okafor", date_of_birth=date(1989, 3, 14))
    make.policy(maya, payer, member_id="HHP4481902", copay_cents=2500)
    morgan = make.client(practice, first_name="Morgan", last_name="Park")
    morgan_policy = make.policy(morgan, payer, member_id="HHP509337X")

    with running_worker(database_url, redis_url, str(tmp_path / "worker"), CLEARINGHOUSE_TICK_SECONDS="3600"):
        sign_in(page, biller.email)
        page.goto(f"/clients/{maya.id}")
        block = page.locator("#client-eligibility")
        expect(block).to_contain_text("Not checked yet")
        page.get_by_role("button", name="Check eligibility").click()
        expect(block).to_contain_text("Coverage active", timeout=30_000)
        expect(page.locator("#eligibility-headline")).to_have_text(
            "Copay $25, coinsurance 20%, deductible $400 of $1,500 left, in network")
        expect(page.locator("#eligibility-details")).to_contain_text("30 a year, 22 left")
        expect(block).to_contain_text("checked")
        assert page.url.endswith(f"/clients/{maya.id}")  # swapped in place

        page.goto(f"/clients/{morgan.id}")
        page.get_by_role("button", name="Check eligibility").click()
        expect(page.locator("#client-eligibility")).to_contain_text("Coverage inactive", timeout=30_000)

    page.goto("/")
    expect(page.locator(f"#coverage-{morgan_policy.client_id}")).to_contain_text("coverage inactive")
