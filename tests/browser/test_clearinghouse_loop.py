"""The whole insurance loop in the browser with the sandbox clearinghouse and a real worker: a biller sends the
queued claims from the home page and watches the progress bar follow them through the sandbox payer's steps until
they are Paid or Denied; the 835 shows on the Remittances page and the denial waits in the denials queue."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.insurance import insured
from tests.support.factories import Factory
from tests.support.processes import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_biller_sends_claims_and_sees_them_paid_denied_and_posted(page, live_server, database_url, redis_url,
                                                                   tmp_path):
    make = Factory(live_server)
    world = insured(make, live_server, submit_claims_automatically=False)
    biller = make.member(world.practice, Role.BILLER)
    world.claim(member_id="HHP100200")
    world.claim(member_id="HHP100201D")

    with running_worker(database_url, redis_url, str(tmp_path / "worker"), CLEARINGHOUSE_TICK_SECONDS="1"):
        sign_in(page, biller.email)
        card = page.locator("#claims-to-send")
        expect(card).to_contain_text("2 claims ready to send through Sandbox (simulated payer")
        card.get_by_role("button", name="Send queued claims now").click()
        progress = page.locator("#submission-progress")
        # The fragment follows the claims: sending, then the payer's steps (Sent, Received, In process) with a
        # bar of the claims it has answered, then done, without reloading the page.
        expect(progress).to_contain_text("Sent 2 claims", timeout=30_000)
        expect(progress.get_by_role("progressbar")).to_be_visible()
        expect(progress).to_contain_text("The sandbox payer has answered all 2 claims sent", timeout=60_000)
        expect(progress.get_by_role("progressbar")).to_have_count(0)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Claims").click()
        page.wait_for_load_state("load")

        # The worker's tick polls the sandbox payer every second: Received, In process, then the 835.
        tabs = page.get_by_role("navigation", name="Claim status")
        for _ in range(60):
            page.goto("/claims")
            if re.search(r"Paid\s*1", tabs.inner_text()) and re.search(r"Denied\s*1", tabs.inner_text()):
                break
            page.wait_for_timeout(500)
        expect(tabs.get_by_role("link", name=re.compile(r"^Paid\s*1"))).to_be_visible()
        expect(tabs.get_by_role("link", name=re.compile(r"^Denied\s*1"))).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Remittances").click()
    expect(page.get_by_role("cell", name="Harborview Health Plan")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^SBX")).first.click()
    expect(page.locator("main")).to_contain_text("CO-45")
    expect(page.locator("main")).to_contain_text("Denied")

    page.goto("/claims/denials")
    expect(page.locator("main")).to_contain_text("prior authorization")
    page.get_by_text("Appeal", exact=True).click()
    page.get_by_label("Note").fill("Sent the authorization letter through the payer's portal.")
    page.get_by_role("button", name="Record the appeal").click()
    expect(page.locator("main")).to_contain_text("appealed", ignore_case=True)
