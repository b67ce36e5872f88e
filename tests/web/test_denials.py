"""The denials queue and the claim page's remittances: claims denied for real (an 835 with CLP02 4, CO-197 and
remark N54 posted onto claims the practice's automation made), then worked through the pages: correct and
resubmit (frequency 7), void (8), appeal, bill the client, write off; once each."""
import json

import pytest
from sqlalchemy import func, select

from app.billing import bills
from app.extensions import db
from app.models import (Adjustment, AdjustmentKind, AuditEvent, Bill, BillStatus, Claim, ClaimEvent, ClaimStatus,
                        Remittance, Role)
from tests.support.insurance import claim_payment, insured, post_835

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(make, app):
    return insured(make, app)


@pytest.fixture
def biller(world, make, sign_in):
    return sign_in(make.member(world.practice, Role.BILLER))


def denied(app, world, **claim_values) -> int:
    """A claim the automation built from a signed session, then denied by the payer's 835 (CO-197, N54)."""
    claim_id = world.claim(**claim_values)
    with app.app_context():
        payment = claim_payment(db.session.get(Claim, claim_id), status="4")
    post_835(app, world.practice.id, [payment])
    with app.app_context():
        assert db.session.get(Claim, claim_id).status == ClaimStatus.DENIED
    return claim_id


def paid(app, world) -> int:
    claim_id = world.claim()
    with app.app_context():
        payment = claim_payment(db.session.get(Claim, claim_id))
    post_835(app, world.practice.id, [payment])
    return claim_id


def work(client, claim_id: int, action: str, htmx: bool = True, **form):
    headers = HTMX | {"HX-Target": f"denial-{claim_id}"} if htmx else {}
    data = {f"denial-{claim_id}-{name}": value for name, value in form.items()}
    return client.post(f"/claims/{claim_id}/denial/{action}", data=data, headers=headers)


def follow_ups(claim_id: int) -> int:
    """How many replacement or void claims name this claim as their original."""
    return db.session.scalar(select(func.count()).select_from(Claim).where(Claim.original_claim_id == claim_id))


def person_events(claim_id: int) -> list[ClaimEvent]:
    return db.session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id, ClaimEvent.source == "person")
                              .order_by(ClaimEvent.id)).all()


# ---------------------------------------------------------------- the queue


def test_the_queue_lists_unworked_denials_oldest_first_with_the_payers_words(app, client, world, biller):
    first, second = denied(app, world), denied(app, world)
    world.claim()  # queued, not denied: not in the queue
    response = client.get("/claims/denials")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.index(f'id="denial-{first}"') < html.index(f'id="denial-{second}"')
    assert html.count('<tr id="denial-') == 2
    assert "Contractual adjustment: prior authorization or notification was missing (CO-197)" in html
    assert "The claim does not match the authorized services (N54)" in html
    assert "$150.00" in html and "Harborview Health Plan" in html
    assert f'/claims/{first}/denial/resubmit' in html and f'/claims/{first}/denial/write_off' in html


def test_the_claims_page_links_the_queue_with_its_count(app, client, world, biller):
    denied(app, world)
    html = client.get("/claims").get_data(as_text=True)
    assert 'href="/claims/denials"' in html
    assert '<span class="badge" id="denials-count">1</span>' in html


def test_denial_reasons_are_the_latest_denials_words(app, world):
    from app.billing import denials

    claim_id = denied(app, world)
    with app.app_context():
        reasons = denials.denial_reasons(db.session.get(Claim, claim_id))
    assert [(r["kind"], r["code"], r["amount_cents"]) for r in reasons] == [("adjustment", "CO-197", 15000),
                                                                             ("remark", "N54", None)]
    assert "prior authorization" in reasons[0]["text"]


def test_clinicians_cannot_see_or_work_the_denials_queue(app, client, make, world, sign_in):
    claim_id = denied(app, world)
    sign_in(world.clinician)
    assert client.get("/claims/denials").status_code == 403
    assert work(client, claim_id, "appeal", note="Sent").status_code == 403
    assert client.get("/claims").get_data(as_text=True).count("/claims/denials") == 0


# ---------------------------------------------------------------- the actions


def test_resubmit_builds_a_frequency_7_replacement_that_names_the_payers_claim(app, client, world, biller):
    claim_id = denied(app, world)
    response = work(client, claim_id, "resubmit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith(f'<tr id="denial-{claim_id}"') and "Corrected and resubmitted (frequency 7)" in html
    assert "Replacement claim" in json.loads(response.headers["HX-Trigger"])["toast"]["message"]
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        replacement = db.session.scalar(select(Claim).where(Claim.original_claim_id == claim_id))
        assert (claim.status, claim.denial_action) == (ClaimStatus.DENIED, "resubmitted")
        assert claim.denial_worked_at is not None
        assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", f"PCN{claim_id:08d}")
        assert replacement.status == ClaimStatus.QUEUED
        event = person_events(claim_id)[-1]
        assert (event.from_status, event.to_status) == ("denied", "denied")
        assert replacement.patient_control_number in event.message
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "claim.replacement_requested",
                                                          AuditEvent.object_id == claim_id)) is not None
    assert f'href="/claims/{replacement.id}"' in html


def test_void_without_javascript_makes_a_frequency_8_claim_and_goes_back_to_the_queue(app, client, world, biller):
    claim_id = denied(app, world)
    response = work(client, claim_id, "void", htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/claims/denials"
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        void = db.session.scalar(select(Claim).where(Claim.original_claim_id == claim_id))
        assert claim.denial_action == "voided"
        assert (void.frequency_code, void.payer_claim_number, void.status) == ("8", claim.payer_claim_number,
                                                                               ClaimStatus.QUEUED)


def test_an_appeal_needs_a_note_and_leaves_the_claim_denied(app, client, world, biller):
    claim_id = denied(app, world)
    response = work(client, claim_id, "appeal", note="  ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="denial-{claim_id}-note-error"' in html and 'aria-invalid="true"' in html
    assert html.startswith(f'<tr id="denial-{claim_id}"')
    with app.app_context():
        assert db.session.get(Claim, claim_id).denial_action is None
    response = work(client, claim_id, "appeal", note="Appeal letter with the authorization faxed May 2")
    assert response.status_code == 200
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert (claim.status, claim.denial_action) == (ClaimStatus.DENIED, "appealed")
        assert "faxed May 2" in person_events(claim_id)[-1].message


def test_an_appeal_without_javascript_shows_the_missing_note_beside_its_field(app, client, world, biller):
    claim_id = denied(app, world)
    response = work(client, claim_id, "appeal", htmx=False)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<h1>Denials</h1>" in html and f'id="denial-{claim_id}-note-error"' in html


def test_billing_the_client_opens_the_pended_bill(app, client, world, biller):
    claim_id = denied(app, world)
    with app.app_context():
        bill_id = db.session.get(Claim, claim_id).bill_id
        assert db.session.get(Bill, bill_id).status == BillStatus.PENDED  # a denial posts no money
    assert work(client, claim_id, "bill_client").status_code == 200
    with app.app_context():
        assert db.session.get(Bill, bill_id).status == BillStatus.OPEN
        assert db.session.get(Claim, claim_id).denial_action == "billed_client"


def test_write_off_needs_a_reason_and_writes_off_the_whole_balance(app, client, world, biller):
    claim_id = denied(app, world)
    response = work(client, claim_id, "write_off", reason="")
    assert response.status_code == 422
    assert f'id="denial-{claim_id}-reason-error"' in response.get_data(as_text=True)
    with app.app_context():
        bill = db.session.get(Bill, db.session.get(Claim, claim_id).bill_id)
        balance = bills.totals(bill).balance
    assert balance == 15000
    assert work(client, claim_id, "write_off", reason="Past the payer's filing limit").status_code == 200
    with app.app_context():
        bill = db.session.get(Bill, bill.id)
        adjustment = db.session.scalar(select(Adjustment).where(Adjustment.bill_id == bill.id))
        assert (adjustment.kind, adjustment.amount_cents) == (AdjustmentKind.WRITE_OFF, balance)
        assert "filing limit" in adjustment.reason
        assert bill.status == BillStatus.COMPLETE and bills.totals(bill).balance == 0
        assert db.session.get(Claim, claim_id).denial_action == "written_off"


def test_a_denial_is_worked_once(app, client, world, biller):
    claim_id = denied(app, world)
    assert work(client, claim_id, "appeal", note="Portal appeal #A-77").status_code == 200
    for action, form in (("write_off", {"reason": "Small balance"}), ("bill_client", {}), ("resubmit", {}),
                         ("void", {}), ("appeal", {"note": "Again"})):
        response = work(client, claim_id, action, **form)
        assert response.status_code == 409, action
        assert "already worked" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Claim, claim_id).denial_action == "appealed"
        assert follow_ups(claim_id) == 0
        assert db.session.scalar(select(func.count()).select_from(Adjustment)) == 0


def test_resubmitting_needs_the_payers_claim_number(app, client, world, biller):
    claim_id = denied(app, world)
    with app.app_context():
        db.session.get(Claim, claim_id).payer_claim_number = None
        db.session.commit()
    response = work(client, claim_id, "resubmit")
    assert response.status_code == 409
    assert "no claim number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Claim, claim_id).denial_action is None


def test_only_denied_claims_are_appealed_billed_or_written_off(app, client, world, biller):
    claim_id = world.claim()  # Queued For Submission
    assert work(client, claim_id, "appeal", note="x").status_code == 409
    assert work(client, claim_id, "bill_client").status_code == 409
    assert work(client, claim_id, "write_off", reason="x").status_code == 409


def test_the_worked_tab_says_what_was_done(app, client, world, biller):
    appealed, written_off, waiting = denied(app, world), denied(app, world), denied(app, world)
    work(client, appealed, "appeal", note="Reconsideration request sent")
    work(client, written_off, "write_off", reason="Small balance")
    queue = client.get("/claims/denials").get_data(as_text=True)
    assert f'id="denial-{waiting}"' in queue and f'id="denial-{appealed}"' not in queue
    assert '<span class="count">1</span>' in queue and '<span class="count">2</span>' in queue
    worked = client.get("/claims/denials?tab=worked").get_data(as_text=True)
    assert f'id="denial-{appealed}"' in worked and f'id="denial-{written_off}"' in worked
    assert f'id="denial-{waiting}"' not in worked
    assert "Appealed" in worked and "Reconsideration request sent" in worked
    assert "Written off" in worked and "$150.00" in worked
    assert "/denial/appeal" not in worked  # no actions on worked denials


# ---------------------------------------------------------------- the claim page


def test_the_claim_page_lists_remittances_in_plain_words(app, client, world, biller):
    claim_id = denied(app, world)
    with app.app_context():
        remittance = db.session.scalar(select(Remittance))
    html = client.get(f"/claims/{claim_id}").get_data(as_text=True)
    assert 'id="remittances"' in html
    assert f'href="/remittances/{remittance.id}">{remittance.trace_number}</a>' in html
    assert "Contractual adjustment: prior authorization or notification was missing (CO-197)" in html
    assert "The claim does not match the authorized services (N54)" in html
    assert "Correct and replace (frequency 7)" in html and "Void with the payer (frequency 8)" in html
    assert 'href="/claims/denials"' in html


def test_replacing_a_paid_claim_from_its_page_links_both_ways(app, client, world, biller):
    claim_id = paid(app, world)
    response = client.post(f"/claims/{claim_id}/replace")
    assert response.status_code == 303
    with app.app_context():
        original = db.session.get(Claim, claim_id)
        replacement = db.session.scalar(select(Claim).where(Claim.original_claim_id == claim_id))
        assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", original.payer_claim_number)
        assert original.status == ClaimStatus.PAID and original.denial_action is None
    page = client.get(f"/claims/{claim_id}").get_data(as_text=True)
    assert f'Replaced by claim <a href="/claims/{replacement.id}">' in page
    assert "Correct and replace (frequency 7)" not in page  # replaced once
    replacement_page = client.get(f"/claims/{replacement.id}").get_data(as_text=True)
    assert f'Replaces claim <a href="/claims/{claim_id}">' in replacement_page
    # A second replacement is refused, and nothing of it is kept.
    client.post(f"/claims/{claim_id}/replace")
    client.post(f"/claims/{claim_id}/void")
    with app.app_context():
        assert follow_ups(claim_id) == 1


def test_voiding_from_the_claim_page_works_the_denial(app, client, world, biller):
    claim_id = denied(app, world)
    assert client.post(f"/claims/{claim_id}/void").status_code == 303
    with app.app_context():
        assert db.session.get(Claim, claim_id).denial_action == "voided"
        void = db.session.scalar(select(Claim).where(Claim.original_claim_id == claim_id))
        assert void.frequency_code == "8"
    assert f'id="denial-{claim_id}"' not in client.get("/claims/denials").get_data(as_text=True)


def test_a_denied_claim_whose_bill_was_voided_can_still_be_voided_with_the_payer(app, client, world, biller):
    """The void copies the claim as it was sent: the bill being void (a common reason to void) and the note
    being amended since do not stop it."""
    claim_id = denied(app, world)
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        if bill.status == BillStatus.PENDED:
            bills.open_bill(bill)
        bills.void_bill(bill, "Session never happened")
        db.session.commit()
    assert work(client, claim_id, "void", htmx=False).status_code == 303
    with app.app_context():
        void = db.session.scalar(select(Claim).where(Claim.original_claim_id == claim_id))
        original = db.session.get(Claim, claim_id)
        assert void.frequency_code == "8" and void.payer_claim_number == original.payer_claim_number
        assert [line.code for line in void.lines] == [line.code for line in original.lines]
        assert void.status == ClaimStatus.QUEUED, void.problems
