"""Coordination of benefits in 835 posting (app/billing/era.py) and the next payer's claim
(claims.build_next_claim): a primary that leaves the client a share bills the secondary and keeps the bill
from the client; a crossover (CLP02 19) is recorded and its 835 awaited; a denial for coverage bills the next
payer for all of it; secondary and tertiary 835s post; provider-level adjustments (PLB) are rows that make the
deposit add up; and the example 835 files (tests/x12/files) post onto real claims."""
import dataclasses
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.billing import bills, claims as claim_rules, era, ledger, responsibility
from app.extensions import db
from app.models import (Adjustment, Bill, BillStatus, Claim, ClaimEvent, ClaimStatus, Payment, PostingOutcome, Practice,
                        ProviderAdjustment, Remittance, RemittanceClaim)
from app.x12 import inbound
from app.x12.validate import validate_x12
from tests.support.insurance import claim_payment, insured, remittance_text

FILES = Path(__file__).resolve().parent.parent / "x12" / "files"


@pytest.fixture
def world(make, app):
    return insured(make, app)


@pytest.fixture
def supplement(make, world):
    return make.payer(world.practice, name="Medigap Supplement", clearinghouse_payer_id="SUPP1")


def _two_policies(make, world, supplement, *, third=None) -> int:
    """A claim for a client with a primary (Harborview) and a secondary (the supplement) policy, and a third."""
    client = make.client(world.practice, primary_clinician_id=world.clinician.id)
    make.policy(client, supplement, member_id="S555", priority=2)
    if third is not None:
        make.policy(client, third, member_id="T777", priority=3)
    return world.claim(client=client)


def _post(app, practice_id, text):
    with app.app_context():
        result = era.import_835(db.session.get(Practice, practice_id), text, source="upload")
        db.session.commit()
        return [r.id for r in result.remittances]


def _follower(claim_id) -> Claim | None:
    return db.session.scalar(select(Claim).where(Claim.prior_payer_claim_id == claim_id))


def _secondary_payment(claim: Claim, *, status="2", paid=1500, patient=500, number=None) -> inbound.ClaimPayment:
    """What a later payer says: its share of what the earlier one left, the rest as OA-23 (the earlier payers'
    part) and PR-2 (coinsurance)."""
    line = claim.lines[0]
    adjustments = tuple(a for a in (
        inbound.Adjustment(group="OA", reason="23", amount_cents=line.charge_cents - paid - patient),
        inbound.Adjustment(group="PR", reason="2", amount_cents=patient)) if a.amount_cents)
    service = inbound.ServicePayment(procedure_code=line.code, charge_cents=line.charge_cents, paid_cents=paid,
                                     units=line.units, line_reference=line.line_reference,
                                     service_date=line.service_date, adjustments=adjustments)
    return inbound.ClaimPayment(patient_control_number=number or claim.patient_control_number, status_code=status,
                                charge_cents=claim.total_charge_cents, paid_cents=paid,
                                patient_responsibility_cents=patient, filing_indicator="12",
                                payer_claim_number=f"SUP{claim.id:06d}", services=(service,))


def _secondary_835(payments) -> str:
    return remittance_text(payments, payer_name="Medigap Supplement", payer_id="SUPP1")


def test_a_primary_that_leaves_coinsurance_bills_the_secondary_not_the_client(app, make, world, supplement):
    claim_id = _two_policies(make, world, supplement)
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id), copay_cents=2000)])
    _post(app, world.practice.id, text)
    with app.app_context():
        primary = db.session.get(Claim, claim_id)
        bill = db.session.get(Bill, primary.bill_id)
        secondary = _follower(claim_id)
        assert primary.status == ClaimStatus.PAID and primary.paid_cents == 10000
        # The $20 the primary left is the supplement's to pay first: the bill opens, but its balance is insurance's,
        # so the client owes nothing yet (aging, ledger and statement: awaiting insurance).
        assert bill.status == BillStatus.OPEN and bills.totals(bill).balance == 2000
        assert responsibility.side_of(bill) == responsibility.Side.INSURANCE and ledger.balance(bill.client_id) == 0
        assert secondary.payer_order == 2 and secondary.payer_id == supplement.id and not secondary.crossover
        assert secondary.status == ClaimStatus.QUEUED, secondary.problems
        assert secondary.total_charge_cents == primary.total_charge_cents
        assert [(l.code, l.charge_cents) for l in secondary.lines] == [(l.code, l.charge_cents) for l in primary.lines]
        [earlier] = secondary.snapshot["prior_payers"]
        assert (earlier["paid_cents"], earlier["payer"]["payer_id"]) == (10000, "HHP01")
        # Its 837P: SBR*S, the primary in 2320/2330 with what it paid, its line adjudication in 2430; pyx12 passes.
        export = claim_rules.write_batches(db.session.get(Practice, world.practice.id), [secondary], usage="T")
        [file] = export.files
        assert validate_x12(file.content).errors == []
        segments = [s.strip() for s in file.content.split("~") if s.strip()]
        assert any(s.startswith("SBR*S*18*") for s in segments) and any(s.startswith("SBR*P*18*") for s in segments)
        assert "AMT*D*100" in segments and "SVD*HHP01*100*HC:90834**1" in segments
        assert "CAS*CO*45*30" in segments and "CAS*PR*3*20" in segments
        assert any(s.startswith("DTP*573*D8*") for s in segments)
        event = db.session.scalar(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id,
                                                           ClaimEvent.message.contains(secondary.patient_control_number)))
        assert event is not None
        secondary_id = secondary.id
        # The supplement pays $15 of the $20; the client owes the $5 left, and only now owes anything.
        text = _secondary_835([_secondary_payment(secondary)])
    _post(app, world.practice.id, text)
    with app.app_context():
        secondary = db.session.get(Claim, secondary_id)
        bill = db.session.get(Bill, secondary.bill_id)
        assert secondary.status == ClaimStatus.PAID and secondary.paid_cents == 1500
        assert bill.status == BillStatus.OPEN and bills.totals(bill).balance == 500
        # Nothing of the primary's part (OA-23) is written off a second time.
        assert db.session.scalar(select(func.sum(Adjustment.amount_cents)).where(Adjustment.bill_id == bill.id)) == 3000
        assert _follower(secondary_id) is None


def test_a_crossover_is_recorded_and_the_secondarys_835_posts_onto_it(app, make, world, supplement):
    claim_id = _two_policies(make, world, supplement)
    with app.app_context():
        payment = dataclasses.replace(claim_payment(db.session.get(Claim, claim_id)), status_code="19",
                                      crossover_payer_name="Medigap Supplement", crossover_payer_id="SUPP1")
        text = remittance_text([payment])
    _post(app, world.practice.id, text)
    with app.app_context():
        primary = db.session.get(Claim, claim_id)
        secondary = _follower(claim_id)
        assert primary.status == ClaimStatus.PAID
        # Forwarded by the payer: Sent by it, never queued for us to send, and the client is not billed yet.
        assert secondary.crossover and secondary.status == ClaimStatus.SENT and secondary.payer_order == 2
        assert "crossover" in secondary.events[0].message
        assert responsibility.side_of(db.session.get(Bill, primary.bill_id)) == responsibility.Side.INSURANCE
        secondary_id = secondary.id
        # The supplement's 835 keeps the primary's claim number (CLP01) and says it processed it as secondary.
        text = _secondary_835([_secondary_payment(secondary, number=primary.patient_control_number)])
    _post(app, world.practice.id, text)
    with app.app_context():
        secondary = db.session.get(Claim, secondary_id)
        primary = db.session.get(Claim, claim_id)
        assert secondary.status == ClaimStatus.PAID and secondary.paid_cents == 1500
        assert primary.paid_cents == 10000  # the primary's own posting is untouched
        line = db.session.scalar(select(RemittanceClaim).where(RemittanceClaim.claim_id == secondary_id))
        assert line.outcome == PostingOutcome.PAID
        bill = db.session.get(Bill, secondary.bill_id)
        assert bill.status == BillStatus.OPEN and bills.totals(bill).balance == 500


@pytest.mark.parametrize("reason, billed", [("109", True), ("27", True), ("197", False)])
def test_a_denial_for_coverage_bills_the_next_payer_for_all_of_it_and_no_other_denial_does(
        app, make, world, supplement, reason, billed):
    claim_id = _two_policies(make, world, supplement)
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id), status="4", denial_reason=reason)])
    _post(app, world.practice.id, text)
    with app.app_context():
        primary = db.session.get(Claim, claim_id)
        secondary = _follower(claim_id)
        assert primary.status == ClaimStatus.DENIED
        # Nothing paid, nothing written off: a denial alone leaves the bill Pended, with insurance.
        assert db.session.get(Bill, primary.bill_id).status == BillStatus.PENDED
        if not billed:
            assert secondary is None
            return
        assert secondary.status == ClaimStatus.QUEUED and secondary.payer_order == 2
        [file] = claim_rules.write_batches(db.session.get(Practice, world.practice.id), [secondary], usage="T").files
        assert validate_x12(file.content).errors == []
        assert "AMT*D*0" in file.content and f"CAS*CO*{reason}*150" in file.content


def test_a_secondary_that_leaves_a_share_bills_the_tertiary_with_both_earlier_payers(app, make, world, supplement):
    medicaid = make.payer(world.practice, name="State Medicaid", clearinghouse_payer_id="MCD01", filing_indicator="MC")
    claim_id = _two_policies(make, world, supplement, third=medicaid)
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id))])
    _post(app, world.practice.id, text)
    with app.app_context():
        secondary = _follower(claim_id)
        text = _secondary_835([_secondary_payment(secondary, paid=1500, patient=500)])
        secondary_id = secondary.id
    _post(app, world.practice.id, text)
    with app.app_context():
        tertiary = _follower(secondary_id)
        assert tertiary.payer_order == 3 and tertiary.payer_id == medicaid.id and tertiary.status == ClaimStatus.QUEUED
        assert [p["payer"]["payer_id"] for p in tertiary.snapshot["prior_payers"]] == ["HHP01", "SUPP1"]
        assert responsibility.side_of(db.session.get(Bill, tertiary.bill_id)) == responsibility.Side.INSURANCE
        [file] = claim_rules.write_batches(db.session.get(Practice, world.practice.id), [tertiary], usage="T").files
        assert validate_x12(file.content).errors == []
        assert "SBR*T*18*" in file.content and file.content.count("SVD*") == 2
        # Medicaid pays the last $5 as tertiary: the bill completes without the client owing anything.
        text = remittance_text([_secondary_payment(tertiary, status="3", paid=500, patient=0)],
                               payer_name="State Medicaid", payer_id="MCD01")
        tertiary_id = tertiary.id
    _post(app, world.practice.id, text)
    with app.app_context():
        tertiary = db.session.get(Claim, tertiary_id)
        bill = db.session.get(Bill, tertiary.bill_id)
        assert tertiary.status == ClaimStatus.PAID and bills.totals(bill).balance == 0
        assert bill.status == BillStatus.COMPLETE


def test_processed_as_secondary_with_no_secondary_claim_waits_in_the_unmatched_queue(app, world):
    claim_id = world.claim()
    with app.app_context():
        text = _secondary_835([_secondary_payment(db.session.get(Claim, claim_id))])
    _post(app, world.practice.id, text)
    with app.app_context():
        line = db.session.scalar(select(RemittanceClaim))
        assert line.outcome == PostingOutcome.UNMATCHED and "secondary" in line.message
        claim = db.session.get(Claim, claim_id)
        assert claim.paid_cents == 0 and claim.status == ClaimStatus.QUEUED


def test_a_client_with_one_policy_still_owes_what_the_primary_left(app, world):
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id))])
    _post(app, world.practice.id, text)
    with app.app_context():
        assert _follower(claim_id) is None
        assert db.session.get(Bill, db.session.get(Claim, claim_id).bill_id).status == BillStatus.OPEN


# ---------------------------------------------------------------- provider-level adjustments (PLB)


def _file(name: str, claim: Claim) -> str:
    """An example 835 with its claim P1C1 (and line P1C1-1) renamed to one of ours."""
    return re.sub(r"P1C1\b", claim.patient_control_number, (FILES / name).read_text())


def test_provider_adjustments_are_rows_and_recoveries_are_tied_to_the_claims_they_name(app, world):
    paid_id, recovered_id, returned_id = world.claim(), world.claim(member_id="MEM2"), world.claim(member_id="MEM3")
    with app.app_context():
        recovered = db.session.get(Claim, recovered_id)
        recovered.payer_claim_number = "HHP0000009"
        db.session.commit()
        returned = db.session.get(Claim, returned_id)
        text = _file("plb_l6_wo_72_fb_cs.835", db.session.get(Claim, paid_id)).replace(
            "72:P1C3", f"72:{returned.patient_control_number}").replace("MCRB1", "HHP01")
    [remittance_id] = _post(app, world.practice.id, text)
    with app.app_context():
        remittance = db.session.get(Remittance, remittance_id)
        rows = {row.reason: row for row in remittance.adjustments}
        assert {reason: row.amount_cents for reason, row in rows.items()} == {
            "L6": -125, "WO": 2000, "72": 1000, "FB": 500, "CS": -200}
        assert rows["WO"].claim_id == recovered_id and rows["72"].claim_id == returned_id
        assert rows["FB"].reference == "FB20261101" and rows["FB"].claim_id is None
        assert rows["L6"].claim_id == paid_id  # its reference names the claim the interest is on
        # Posted claim payments less the provider adjustments are the deposit.
        posted = db.session.scalar(select(func.sum(Payment.amount_cents)).where(Payment.source == "insurance"))
        adjusted = db.session.scalar(select(func.sum(ProviderAdjustment.amount_cents))
                                     .where(ProviderAdjustment.remittance_id == remittance_id))
        assert posted - adjusted == remittance.total_paid_cents == 6825
        assert db.session.scalar(select(ClaimEvent).where(ClaimEvent.claim_id == recovered_id,
                                                          ClaimEvent.message.contains("$20.00")))


def test_the_remittance_page_shows_how_the_payment_adds_up(app, world, make, client, sign_in):
    claim_id = world.claim()
    with app.app_context():
        text = _file("plb_l6_wo_72_fb_cs.835", db.session.get(Claim, claim_id)).replace("MCRB1", "HHP01")
    [remittance_id] = _post(app, world.practice.id, text)
    sign_in(make.member(world.practice, role="biller"))
    page = client.get(f"/remittances/{remittance_id}").get_data(as_text=True)
    assert 'id="reconciliation"' in page and "$68.25" in page and 'id="provider-adjustments"' in page


# ---------------------------------------------------------------- the example files, posted


@pytest.mark.parametrize("name, paid, balance, status", [
    ("claim_level_cas_with_lines.835", 9408, 2400, ClaimStatus.PAID),
    ("claim_level_cas_without_lines.835", 10000, 2000, ClaimStatus.PAID),
    ("deductible_only.835", 0, 12000, ClaimStatus.PAID),
    ("payer_changed_clp01.835", 10000, 2000, ClaimStatus.PAID),
    ("reversal_and_correction.835", 0, None, None),
])
def test_the_example_files_post_onto_our_claim(app, world, name, paid, balance, status):
    claim_id = world.claim()
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        if name == "reversal_and_correction.835":
            first = remittance_text([claim_payment(claim)])  # the payment the file reverses
        text = _file(name, claim)
    if name == "reversal_and_correction.835":
        _post(app, world.practice.id, first)
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        if name == "reversal_and_correction.835":
            # The $100 payment is undone and the corrected $110 posted: $20 written off, the $20 copay left.
            assert claim.paid_cents == 11000 and claim.status == ClaimStatus.PAID
            assert bills.totals(bill).balance == 2000
            return
        assert (claim.paid_cents, claim.status) == (paid, status)
        assert bills.totals(bill).balance == balance and bill.status == BillStatus.OPEN
