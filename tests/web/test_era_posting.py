"""Posting 835 remittances onto claims and bills (app/billing/era.py): payments, write-offs, what the client
owes, denials, reversals, duplicates, refusals that change nothing, and the unmatched queue."""
import dataclasses
from datetime import date

import pytest
from sqlalchemy import func, select

from app.billing import bills, era
from app.extensions import db
from app.models import (Adjustment, Allocation, AuditEvent, Bill, BillStatus, Claim, ClaimEvent, ClaimStatus, Payment,
                        PostingOutcome, Practice, Remittance, RemittanceClaim, X12File)
from app.x12 import inbound
from tests.support.days import local_today
from tests.support.insurance import claim_payment, insured, remittance_text, reversal_of

MONEY_TABLES = (Remittance, RemittanceClaim, Payment, Allocation, Adjustment, ClaimEvent, X12File, AuditEvent)


@pytest.fixture
def world(make, app):
    return insured(make, app)


def _post(app, practice_id, text, source="upload"):
    with app.app_context():
        result = era.import_835(db.session.get(Practice, practice_id), text, source=source)
        db.session.commit()
        return [r.id for r in result.remittances]


def _claim(claim_id) -> Claim:
    return db.session.get(Claim, claim_id)


def _renumbered(payment: inbound.ClaimPayment, number: str, *, line_ids: bool = True) -> inbound.ClaimPayment:
    """The payment with CLP01 rewritten (a payer's typo, or its own numbering) and, with `line_ids`, the echoed
    line ids (REF*6R) rewritten too, so nothing in it names one of our claims."""
    services = tuple(dataclasses.replace(service, line_reference=f"{number}-{position}")
                     for position, service in enumerate(payment.services, start=1)) if line_ids else payment.services
    return dataclasses.replace(payment, patient_control_number=number, services=services)


def _counts():
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in MONEY_TABLES}


def test_a_paid_claim_pays_the_bill_writes_off_co_and_leaves_the_copay_to_the_client(app, world):
    claim_id = world.claim(copay_cents=2000)
    with app.app_context():
        text = remittance_text([claim_payment(_claim(claim_id), copay_cents=2000)])
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = _claim(claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        totals = bills.totals(bill)
        assert claim.status == ClaimStatus.PAID
        assert (claim.paid_cents, claim.patient_responsibility_cents) == (10000, 2000)
        assert claim.lines[0].paid_cents == 10000
        assert claim.payer_claim_number == f"PCN{claim.id:08d}"
        # A Pended bill is opened: what insurance left is the client's to pay.
        assert bill.status == BillStatus.OPEN
        assert (totals.charges, totals.paid, totals.adjusted, totals.balance) == (15000, 10000, 3000, 2000)
        adjustment = db.session.scalar(select(Adjustment).where(Adjustment.bill_id == bill.id))
        assert adjustment.kind == "contractual" and "CO-45" in adjustment.reason
        payment = db.session.scalar(select(Payment).where(Payment.client_id == claim.client_id))
        assert payment.source == "insurance" and payment.method == "ach"
        line = db.session.scalar(select(RemittanceClaim))
        assert line.outcome == PostingOutcome.PAID and line.payment_id == payment.id
        assert db.session.scalar(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id,
                                                          ClaimEvent.source == "remittance"))
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"remittance.posted", "claim.remittance_posted"} <= actions


def test_all_to_the_deductible_is_paid_status_with_the_client_owing_not_a_denial(app, world):
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([claim_payment(_claim(claim_id), deductible=True)])
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = _claim(claim_id)
        assert claim.status == ClaimStatus.PAID and claim.paid_cents == 0
        assert bills.totals(db.session.get(Bill, claim.bill_id)).balance == 12000  # allowed, all to deductible
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_claim_paid_nothing_and_all_to_the_deductible_opens_its_bill_for_the_client(app, world):
    """PR-1 for the whole charge and no contractual write-off: nothing paid, nothing written off, and still the
    payer has decided: the Pended bill opens (issued, with a due date) so the client sees what they owe."""
    claim_id = world.claim()
    with app.app_context():
        payment = claim_payment(_claim(claim_id), deductible=True, allowed_share=100)
        assert payment.paid_cents == 0 and {a.group for s in payment.services for a in s.adjustments} == {"PR"}
        text = remittance_text([payment])
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = _claim(claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        assert claim.status == ClaimStatus.PAID and claim.patient_responsibility_cents == 15000
        assert bill.status == BillStatus.OPEN and bill.due_date is not None
        assert bills.totals(bill).balance == 15000


def test_a_claim_level_adjustment_beside_lines_posts_with_the_rest_of_the_file(app, world):
    """Medicare's sequestration (CO-253) comes at claim level beside balanced lines: CLP04 = ΣSVC03 − claim CAS.
    It posts as a contractual write-off, and the other claims of the file post too."""
    first, second = world.claim(), world.claim()
    with app.app_context():
        sequestered = claim_payment(_claim(first), copay_cents=0)
        sequestration = inbound.Adjustment(group="CO", reason="253", amount_cents=240)
        sequestered = dataclasses.replace(sequestered, adjustments=(sequestration,),
                                          paid_cents=sequestered.paid_cents - 240)
        text = remittance_text([sequestered, claim_payment(_claim(second))])
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = _claim(first)
        totals = bills.totals(db.session.get(Bill, claim.bill_id))
        assert claim.status == ClaimStatus.PAID and claim.paid_cents == 12000 - 240
        assert (totals.paid, totals.adjusted, totals.balance) == (12000 - 240, 3000 + 240, 0)
        assert any("CO-253" in a.reason for a in db.session.scalars(select(Adjustment)
                                                                    .where(Adjustment.bill_id == claim.bill_id)))
        assert _claim(second).status == ClaimStatus.PAID


def test_a_payer_that_rewrote_the_claim_number_is_matched_by_the_line_ids_it_echoes(app, world):
    claim_id = world.claim()
    with app.app_context():
        payment = _renumbered(claim_payment(_claim(claim_id)), "PAYER-0042", line_ids=False)
        text = remittance_text([payment])
    _post(app, world.practice.id, text)
    with app.app_context():
        line = db.session.scalar(select(RemittanceClaim))
        assert line.claim_id == claim_id and line.outcome == PostingOutcome.PAID
        assert line.patient_control_number == "PAYER-0042"  # what the payer said is kept
        assert _claim(claim_id).status == ClaimStatus.PAID


def test_a_denial_is_denied_with_reasons_in_plain_words_and_nothing_written_off(app, world):
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([claim_payment(_claim(claim_id), status="4")])
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = _claim(claim_id)
        line = db.session.scalar(select(RemittanceClaim))
        assert claim.status == ClaimStatus.DENIED and claim.denial_action is None
        assert line.outcome == PostingOutcome.DENIED
        assert "197" in line.message and line.remarks[0]["code"] == "N54" and line.remarks[0]["text"]
        assert db.session.scalar(select(func.count()).select_from(Adjustment)) == 0
        assert bills.totals(db.session.get(Bill, claim.bill_id)).balance == 15000


def test_a_reversal_undoes_the_earlier_posting_and_a_corrected_payment_posts_after_it(app, world):
    claim_id = world.claim(copay_cents=2000)
    with app.app_context():
        first = claim_payment(_claim(claim_id), copay_cents=2000)
        corrected = claim_payment(_claim(claim_id), allowed_share=90, copay_cents=2000)
    _post(app, world.practice.id, remittance_text([first]))
    _post(app, world.practice.id, remittance_text([reversal_of(first), corrected]))
    with app.app_context():
        claim = _claim(claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        totals = bills.totals(bill)
        assert claim.status == ClaimStatus.PAID and claim.paid_cents == 11500
        assert (totals.paid, totals.adjusted, totals.balance) == (11500, 1500, 2000)
        reversed_payment = db.session.scalar(select(Payment).where(Payment.amount_cents == 10000))
        assert reversed_payment.reversed_at is not None
        outcomes = [line.outcome for line in db.session.scalars(select(RemittanceClaim).order_by(RemittanceClaim.id))]
        assert outcomes == ["paid", "reversed", "paid"]
        statuses = [(e.from_status, e.to_status) for e in claim.events if e.source == "remittance"]
        assert ("paid", "in_process") in statuses and statuses[-1] == ("in_process", "paid")


def test_the_same_payment_twice_changes_nothing_the_second_time(app, world):
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([claim_payment(_claim(claim_id))], trace_number="EFT-SAME")
    _post(app, world.practice.id, text)
    with app.app_context():
        before = _counts()
        with pytest.raises(era.AlreadyPosted, match="already posted"):
            era.import_835(db.session.get(Practice, world.practice.id), text, source="upload")
        db.session.rollback()
        assert _counts() == before


@pytest.mark.parametrize("damage", ["unbalanced line", "unbalanced total", "truncated", "not x12"])
def test_a_file_that_does_not_parse_or_balance_is_refused_and_changes_nothing(app, world, damage):
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([claim_payment(_claim(claim_id))])
        if damage == "unbalanced line":
            text = text.replace("SVC*HC:90834*150*100", "SVC*HC:90834*150*101")
        elif damage == "unbalanced total":
            text = text.replace("BPR*C*100*", "BPR*C*99*")
        elif damage == "truncated":
            text = text[: len(text) // 2]
        else:
            text = "Dear biller, please find our payment enclosed."
        before = _counts()
        with pytest.raises(era.RemittanceRefused):
            era.import_835(db.session.get(Practice, world.practice.id), text, source="upload")
        db.session.rollback()
        assert _counts() == before
        assert _claim(claim_id).status == ClaimStatus.QUEUED


def test_claims_match_whatever_their_status_here(app, world):
    """A claim sent by another route may still read Queued For Submission."""
    claim_id = world.claim()
    with app.app_context():
        assert _claim(claim_id).status == ClaimStatus.QUEUED
        text = remittance_text([claim_payment(_claim(claim_id))])
    _post(app, world.practice.id, text)
    with app.app_context():
        assert _claim(claim_id).status == ClaimStatus.PAID


def test_an_unknown_claim_waits_in_the_unmatched_queue_until_a_biller_resolves_it(app, world, make):
    claim_id = world.claim()
    biller = make.member(world.practice, "biller")
    with app.app_context():
        text = remittance_text([_renumbered(claim_payment(_claim(claim_id)), "TYPO-123")])
    _post(app, world.practice.id, text)
    with app.app_context():
        line = db.session.scalar(select(RemittanceClaim))
        remittance = db.session.get(Remittance, line.remittance_id)
        assert line.outcome == PostingOutcome.UNMATCHED and remittance.unmatched_count == 1
        assert era.unmatched(world.practice.id) == [line]
        assert _claim(claim_id).status == ClaimStatus.QUEUED
        era.resolve(line, _claim(claim_id), db.session.get(type(biller), biller.id))
        db.session.commit()
        assert line.outcome == PostingOutcome.PAID and line.resolved_at is not None
        assert remittance.unmatched_count == 0
        assert _claim(claim_id).status == ClaimStatus.PAID


def test_dismissing_an_unmatched_payment_needs_a_note(app, world):
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([_renumbered(claim_payment(_claim(claim_id)), "NOT-OURS")])
    _post(app, world.practice.id, text)
    with app.app_context():
        line = db.session.scalar(select(RemittanceClaim))
        with pytest.raises(era.RemittanceRefused, match="Say why"):
            era.dismiss(line, "  ")
        era.dismiss(line, "Another practice's patient; returned to the payer.")
        db.session.commit()
        assert line.outcome == PostingOutcome.DISMISSED and era.unmatched(world.practice.id) == []


def test_provider_level_adjustments_are_kept_on_the_remittance(app, world):
    claim_id = world.claim()
    with app.app_context():
        plb = (inbound.ProviderAdjustment(provider_id="2000000002", fiscal_period_date=date(2026, 12, 31),
                                          reason="L6", reference="INTEREST", amount_cents=-125),)
        text = remittance_text([claim_payment(_claim(claim_id))], provider_adjustments=plb)
    [remittance_id] = _post(app, world.practice.id, text)
    with app.app_context():
        remittance = db.session.get(Remittance, remittance_id)
        assert remittance.total_paid_cents == 10125
        [interest] = remittance.adjustments
        assert (interest.reason, interest.amount_cents, interest.provider_id) == ("L6", -125, "2000000002")
        assert interest.fiscal_period_date == date(2026, 12, 31) and interest.claim_id is None


def test_insurance_money_on_a_bill_the_client_already_paid_becomes_credit(app, world, make):
    claim_id = world.claim(copay_cents=2000)
    with app.app_context():
        claim = _claim(claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        bills.open_bill(bill)
        bills.record_payment(bill.client, 15000, "card", local_today())
        db.session.commit()
        assert db.session.get(Bill, claim.bill_id).status == BillStatus.COMPLETE
        text = remittance_text([claim_payment(claim, copay_cents=2000)])
    _post(app, world.practice.id, text)
    with app.app_context():
        claim = _claim(claim_id)
        bill = db.session.get(Bill, claim.bill_id)
        assert bills.totals(bill).balance == 0 and bill.status == BillStatus.COMPLETE
        # The client owed only the copay: everything else they paid is credit now.
        assert bills.client_credit(claim.client_id) == 13000
