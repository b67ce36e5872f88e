"""A clinician finds the intake billed as 90834 on an Open bill whose claim the payer already paid: changing the code
to 90791 goes through Correct the claim, and a replacement claim is queued, linked from the bill and from the
original."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory
from tests.support.insurance import claim_payment, insured, post_835

pytestmark = pytest.mark.browser


def test_changing_the_code_of_a_paid_claims_bill_goes_through_correct_the_claim(page, live_server):
    from app.extensions import db
    from app.models import Claim

    make = Factory(live_server)
    world = insured(make, live_server)
    make.service(world.practice, "90791", price_cents=20000, name="Diagnostic evaluation 90791",
                 description="Diagnostic evaluation (intake)")
    claim_id = world.claim()
    with live_server.app_context():
        payment = claim_payment(db.session.get(Claim, claim_id))
    post_835(live_server, world.practice.id, [payment])
    with live_server.app_context():
        claim = db.session.get(Claim, claim_id)
        assert claim.status == "paid"
        bill_id, line_id, original = claim.bill_id, claim.bill.lines[0].id, claim.patient_control_number

    sign_in(page, world.clinician.email)
    page.goto(f"/bills/{bill_id}")
    expect(page.locator("#correct-claim-notice")).to_contain_text(f"Claim {original}")
    expect(page.locator(f"#line-{line_id}-code")).to_have_count(0)  # no silent edits while the claim is out
    page.get_by_role("link", name="Correct the claim").click()
    expect(page).to_have_url(f"{live_server.base_url}/bills/{bill_id}/correct")
    expect(page.locator("#correct-claim-notice")).to_contain_text("replacement, frequency 7")

    code = page.locator(f"#line-{line_id}-code")
    code.fill("90791")
    option = page.get_by_role("listbox").get_by_role("option").first
    expect(option).to_contain_text("90791")
    option.click()
    expect(page.locator(f"#line-{line_id}-description")).to_have_value("Diagnostic evaluation (intake)")
    page.get_by_role("button", name="Save and correct the claim").click()

    expect(page).to_have_url(f"{live_server.base_url}/bills/{bill_id}")
    expect(page.get_by_text("Claim corrected")).to_be_visible()
    with live_server.app_context():
        replacement = db.session.scalar(db.select(Claim).where(Claim.original_claim_id == claim_id))
        assert (replacement.frequency_code, replacement.status) == ("7", "queued")
        assert [line.code for line in replacement.lines] == ["90791"]
        replacement_id, replacement_number = replacement.id, replacement.patient_control_number
    row = page.locator(f"#bill-claim-{replacement_id}")
    expect(row).to_contain_text("(replacement)")
    expect(row).to_contain_text("Queued")
    expect(page.locator("#bill-owed-by")).to_contain_text("Insurance")
    expect(page.locator(f"#bill-claim-{claim_id}")).to_contain_text("Paid")

    page.goto(f"/claims/{claim_id}")
    expect(page.locator("#related-claims")).to_contain_text(f"Replaced by claim {replacement_number}")
    page.locator("#related-claims").get_by_role("link", name=replacement_number).click()
    expect(page).to_have_url(f"{live_server.base_url}/claims/{replacement_id}")
    expect(page.locator("#related-claims")).to_contain_text(f"Replaces claim {original}")
    page.locator(f".lede a[href='/bills/{bill_id}']").click()
    expect(page).to_have_url(f"{live_server.base_url}/bills/{bill_id}")
