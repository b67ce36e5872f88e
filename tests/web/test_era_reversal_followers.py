"""A reversal of an earlier payer's decision (835 CLP02 22) and the next payer's claim built from it
(app/billing/coordination.py): a secondary claim not sent yet is withdrawn, one already sent is flagged to Needs
Review, and the corrected decision rebuilds it; a denial for coverage answered by billing the next payer leaves the
denials queue. Every 835 is real text, uploaded through the remittances page or posted as an upload; after each
file the bill, its claims, the claim counts, the ledger and the summaries still agree."""
import io
import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.billing import bills, claims as claim_rules, ledger, responsibility
from app.extensions import db
from app.models import (Bill, BillStatus, Claim, ClaimCount, ClaimEvent, ClaimStatus, Client, Practice, Role)
from app.x12 import inbound
from app.x12.validate import validate_x12
from tests.support.insurance import claim_payment, remittance_text, reversal_of
from tests.support.summaries import assert_summaries_match_a_rebuild
from tests.web.test_era_coordination import (  # noqa: F401  (world and supplement: fixtures)
    _secondary_835, _secondary_payment, _two_policies, supplement, world)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def biller(world, make, sign_in):
    return sign_in(make.member(world.practice, Role.BILLER))


def _upload(client, text: str) -> None:
    response = client.post("/remittances", data={"file": (io.BytesIO(text.encode()), "era.835")},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)


def _primary_paid(app, make, world, supplement, client) -> tuple[int, inbound.ClaimPayment]:
    """A client with a primary and a secondary policy whose primary paid $100 and left the $20 copay: the id of the
    primary's claim and the payment, for the reversal of it."""
    claim_id = _two_policies(make, world, supplement)
    with app.app_context():
        first = claim_payment(db.session.get(Claim, claim_id))
    _upload(client, remittance_text([first]))
    return claim_id, first


def _followers(claim_id: int) -> list[Claim]:
    return db.session.scalars(select(Claim).where(Claim.prior_payer_claim_id == claim_id).order_by(Claim.id)).all()


def _consistent(practice_id: int, bill_id: int) -> None:
    """The claim counts are the claims' statuses, the ledger ends at the bills' balances on the client's side, and
    the summaries are what a rebuild makes."""
    counted = {status: count for status, count in db.session.execute(
        select(ClaimCount.status, ClaimCount.count).where(ClaimCount.practice_id == practice_id)) if count}
    actual = Counter(db.session.scalars(select(Claim.status).where(Claim.practice_id == practice_id)))
    assert counted == dict(actual)
    bill = db.session.get(Bill, bill_id)
    client = db.session.get(Client, bill.client_id)
    side = responsibility.side_of(bill)
    owed_by_client = bills.totals(bill).balance if side == responsibility.Side.CLIENT else 0
    assert ledger.balance(client.id) == owed_by_client
    assert_summaries_match_a_rebuild(practice_id)


def test_a_reversal_withdraws_the_unsent_secondary_and_the_correction_in_the_same_file_rebuilds_it(
        app, make, world, supplement, client, biller):
    claim_id, first = _primary_paid(app, make, world, supplement, client)
    with app.app_context():
        [secondary] = _followers(claim_id)
        assert secondary.status == ClaimStatus.QUEUED
        secondary_id = secondary.id
        corrected = claim_payment(db.session.get(Claim, claim_id), allowed_share=90)
    # The payer takes its $100 back and pays $115 instead, in one file: the client still owes the $20 copay.
    _upload(client, remittance_text([reversal_of(first), corrected], trace_number="EFT-CORRECTED"))
    with app.app_context():
        withdrawn, rebuilt = _followers(claim_id)
        assert withdrawn.id == secondary_id and withdrawn.status == ClaimStatus.WITHDRAWN
        assert "Reversed by the payer (835 EFT-CORRECTED)" in withdrawn.events[-1].message
        assert rebuilt.status == ClaimStatus.QUEUED and rebuilt.frequency_code == "1" and rebuilt.payer_order == 2
        assert rebuilt.snapshot["prior_payers"][-1]["paid_cents"] == 11500
        assert claim_rules.current_claim(rebuilt.bill_id).id == rebuilt.id
        bill = db.session.get(Bill, rebuilt.bill_id)
        assert bill.status == BillStatus.OPEN and bills.totals(bill).balance == 2000
        assert responsibility.side_of(bill) == responsibility.Side.INSURANCE
        # Only the rebuilt claim goes to the supplement: its 837P reports the corrected $115.
        [file] = claim_rules.write_batches(db.session.get(Practice, world.practice.id), [rebuilt], usage="T").files
        assert validate_x12(file.content).errors == [] and "AMT*D*115~" in file.content
        _consistent(world.practice.id, bill.id)
    assert "Withdrawn" in client.get(f"/claims/{secondary_id}").get_data(as_text=True)


def test_a_reversal_alone_keeps_the_balance_with_insurance_until_the_corrected_payment_arrives(
        app, make, world, supplement, client, biller):
    claim_id, first = _primary_paid(app, make, world, supplement, client)
    _upload(client, remittance_text([reversal_of(first)]))
    with app.app_context():
        [withdrawn] = _followers(claim_id)
        primary = db.session.get(Claim, claim_id)
        bill = db.session.get(Bill, primary.bill_id)
        assert withdrawn.status == ClaimStatus.WITHDRAWN and primary.status == ClaimStatus.IN_PROCESS
        assert bills.totals(bill).balance == 15000 and bill.status == BillStatus.OPEN
        assert responsibility.side_of(bill) == responsibility.Side.INSURANCE
        _consistent(world.practice.id, bill.id)
        again = claim_payment(primary)
    _upload(client, remittance_text([again]))
    with app.app_context():
        withdrawn, rebuilt = _followers(claim_id)
        assert rebuilt.status == ClaimStatus.QUEUED and withdrawn.status == ClaimStatus.WITHDRAWN
        _consistent(world.practice.id, rebuilt.bill_id)


def _sent(claim_id: int, payer_claim_number: str | None = "SUP000001") -> None:
    """The secondary as the clearinghouse and its payer had it: Sent, then Received with a claim number."""
    claim = db.session.get(Claim, claim_id)
    claim_rules.transition(claim, ClaimStatus.SENT, "clearinghouse", "In 837P interchange 7.")
    if payer_claim_number:
        claim_rules.transition(claim, ClaimStatus.RECEIVED, "clearinghouse", "Accepted by the payer.")
        claim.payer_claim_number = payer_claim_number
    db.session.commit()


def test_a_sent_secondary_is_flagged_and_the_correction_replaces_it_with_its_payer(
        app, make, world, supplement, client, biller):
    claim_id, first = _primary_paid(app, make, world, supplement, client)
    with app.app_context():
        secondary_id = _followers(claim_id)[0].id
        _sent(secondary_id)
    _upload(client, remittance_text([reversal_of(first)], trace_number="EFT-BACK"))
    with app.app_context():
        [flagged] = _followers(claim_id)
        assert flagged.status == ClaimStatus.NEEDS_REVIEW
        assert "EFT-BACK" in flagged.problems[0]["message"] and "rebuilds" in flagged.problems[0]["message"]
        _consistent(world.practice.id, flagged.bill_id)
        corrected = claim_payment(db.session.get(Claim, claim_id), allowed_share=90)
    page = client.get(f"/claims/{secondary_id}").get_data(as_text=True)
    assert "EFT-BACK" in page and "Needs Review" in page
    # Sending it again before the primary decides anew is refused: it would repeat the reversed figures.
    client.post(f"/claims/{secondary_id}/recheck")
    assert "took the decision back" in client.get(f"/claims/{secondary_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Claim, secondary_id).status == ClaimStatus.NEEDS_REVIEW
    _upload(client, remittance_text([corrected]))
    with app.app_context():
        withdrawn, replacement = _followers(claim_id)
        assert withdrawn.status == ClaimStatus.WITHDRAWN and "replaced by" in withdrawn.events[-1].message
        # The supplement has the first claim by its number: the rebuilt one replaces it (frequency 7, REF*F8).
        assert (replacement.frequency_code, replacement.original_claim_id) == ("7", withdrawn.id)
        assert replacement.payer_claim_number == "SUP000001" and replacement.status == ClaimStatus.QUEUED
        [file] = claim_rules.write_batches(db.session.get(Practice, world.practice.id), [replacement],
                                           usage="T").files
        assert validate_x12(file.content).errors == []
        assert "REF*F8*SUP000001~" in file.content and "AMT*D*115~" in file.content
        _consistent(world.practice.id, replacement.bill_id)


def test_a_paid_secondary_is_flagged_so_the_reversed_money_never_reaches_the_client(
        app, make, world, supplement, client, biller):
    claim_id, first = _primary_paid(app, make, world, supplement, client)
    with app.app_context():
        secondary_id = _followers(claim_id)[0].id
        _sent(secondary_id)
        # The supplement pays $15 of the $20 the primary left; $5 coinsurance is the client's.
        text = _secondary_835([_secondary_payment(db.session.get(Claim, secondary_id))])
    _upload(client, text)
    with app.app_context():
        bill = db.session.get(Bill, db.session.get(Claim, claim_id).bill_id)
        assert db.session.get(Claim, secondary_id).status == ClaimStatus.PAID
        assert responsibility.side_of(bill) == responsibility.Side.CLIENT
    _upload(client, remittance_text([reversal_of(first)]))
    with app.app_context():
        flagged = db.session.get(Claim, secondary_id)
        bill = db.session.get(Bill, flagged.bill_id)
        assert flagged.status == ClaimStatus.NEEDS_REVIEW
        # The $100 taken back is insurance's to sort out, not the client's to pay.
        assert responsibility.side_of(bill) == responsibility.Side.INSURANCE
        _consistent(world.practice.id, bill.id)


# ---------------------------------------------------------------- a denial answered by the next payer


def test_a_coverage_denial_billed_to_the_next_payer_leaves_the_denials_queue(
        app, make, world, supplement, client, biller):
    claim_id = _two_policies(make, world, supplement)
    other = world.claim()  # one-policy client: its denial stays to work
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id), status="4", denial_reason="109"),
                                claim_payment(db.session.get(Claim, other), status="4")])
    _upload(client, text)
    with app.app_context():
        primary = db.session.get(Claim, claim_id)
        [secondary] = _followers(claim_id)
        assert primary.status == ClaimStatus.DENIED and primary.denial_action == "billed_next_payer"
        assert any("Denial worked" in event.message and secondary.patient_control_number in event.message
                   for event in primary.events)
    queue = client.get("/claims/denials").get_data(as_text=True)
    assert f'id="denial-{claim_id}"' not in queue and f'id="denial-{other}"' in queue
    assert 'data-count-key="denials-to-work">1</span>' in queue and 'data-count-key="denials-worked">1</span>' in queue
    worked = client.get("/claims/denials?tab=worked").get_data(as_text=True)
    assert f'id="denial-{claim_id}"' in worked and "Billed to the client&#39;s next payer" in worked
    # Working the other denial: the counts it triggers agree with the queue's.
    response = client.post(f"/claims/{other}/denial/write_off", data={f"denial-{other}-reason": "Small balance"},
                           headers=HTMX | {"HX-Target": f"denial-{other}"})
    counts = json.loads(response.headers["HX-Trigger"])["counts:changed"]
    assert counts == {"denials-to-work": 0, "denials-worked": 2, "denials": 0}
    home = client.get("/").get_data(as_text=True)
    assert "Denied claims not yet worked" not in home or 'data-count-key="denials">0<' in home


def test_a_reversed_coverage_denial_withdraws_the_secondary_it_billed(app, make, world, supplement, client, biller):
    claim_id = _two_policies(make, world, supplement)
    with app.app_context():
        denial = claim_payment(db.session.get(Claim, claim_id), status="4", denial_reason="109")
    _upload(client, remittance_text([denial]))
    _upload(client, remittance_text([reversal_of(denial)]))
    with app.app_context():
        [withdrawn] = _followers(claim_id)
        assert withdrawn.status == ClaimStatus.WITHDRAWN
        assert db.session.get(Claim, claim_id).status == ClaimStatus.IN_PROCESS
        assert db.session.scalar(select(func.count()).select_from(ClaimEvent).where(
            ClaimEvent.claim_id == withdrawn.id, ClaimEvent.to_status == ClaimStatus.WITHDRAWN)) == 1
        _consistent(world.practice.id, withdrawn.bill_id)
