"""The reports (app/billing/reports.py) agree with the ledger and the bills: over random practices built through
the domain functions (sessions billed by the automation, claims posted with real 835s, payments, refunds,
reversals, adjustments, voids, bill edits plain and through Correct the claim, replacements and voids of claims),
revenue equals what the client ledgers show for the same days (charges: the bills' lines by date of service)
and aging equals the sum of the receivable bills' balances; after every step each client's statement, ledger and
side of aging agree, each bill's claim says what the bill says, and the summaries equal a rebuild. Plus: clinician
scoping, time-band shares, first-pass acceptance, denial reasons in plain words and days to payment."""
from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.billing import acknowledgements, bill_documents, bills, corrections, denials, era, ledger, reports
from app.billing import claims as claim_rules
from app.billing.reports_data import Money, ReportFilter
from app.extensions import db
from app.models import (Bill, BillStatus, Claim, ClaimStatus, Client, InsurancePolicy, Member, Payer, Payment,
                        Practice, Role, ServiceCode, SessionNote, SessionService, TherapySession)
from app.x12 import inbound
from app.x12.remittance import write_835
from tests.support.days import local_today
from tests.support.insurance import claim_payment, reversal_of
from tests.support.summaries import assert_summaries_match_a_rebuild

UNSETTLED = (ClaimStatus.QUEUED, ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS,
             ClaimStatus.NEEDS_REVIEW)

ZONE = "America/Los_Angeles"
PRICES = {"90832": 10000, "90834": 15000, "90837": 20000, "90785": 3000}
CODE_SETS = [("90834",), ("90837",), ("90832",), ("90834", "90785"), ("90837", "90785")]
FIELDS = [f.name for f in fields(Money)]
_numbers = itertools.count(1)
REFUSED = (bills.BillProblem, bills.LineProblems, claim_rules.ClaimError, era.RemittanceRefused,
           acknowledgements.AcknowledgementRefused)


# ---------------------------------------------------------------- building a practice through the domain


@dataclass
class World:
    """One practice with two clinicians, two payers and four services; records are re-read by id in the
    caller's app context."""

    practice_id: int
    clinician_ids: list[int]
    payer_ids: list[int]
    client_ids: list[int] = field(default_factory=list)
    bill_ids: list[int] = field(default_factory=list)
    payment_ids: list[int] = field(default_factory=list)
    #: claim id → the standing paid ClaimPayment posted for it (to reverse later)
    paid: dict[int, inbound.ClaimPayment] = field(default_factory=dict)

    @property
    def practice(self) -> Practice:
        return db.session.get(Practice, self.practice_id)

    def client(self, payer_index: int | None, secondary: bool = False) -> Client:
        """A client insured by that payer (none: self-pay); `secondary`: the other payer covers them second."""
        number = next(_numbers)
        client = Client(practice_id=self.practice_id, first_name=f"Client{number}", last_name=f"Person{number:04d}",
                        date_of_birth=date(1988, 4, 12), sex="F", address_line1=f"{number} Elm St",
                        city="Somerville", state="MA", zip_code="021441234", email=f"client{number}@example.org")
        db.session.add(client)
        db.session.flush()
        if payer_index is not None:
            db.session.add(InsurancePolicy(practice_id=self.practice_id, client_id=client.id,
                                           payer_id=self.payer_ids[payer_index], member_id=f"MEM{number:06d}",
                                           group_number="GRP1", priority=1, copay_cents=2000,
                                           effective_date=date(2020, 1, 1)))
            if secondary:
                db.session.add(InsurancePolicy(practice_id=self.practice_id, client_id=client.id,
                                               payer_id=self.payer_ids[1 - payer_index],
                                               member_id=f"SEC{number:06d}", group_number="GRP2", priority=2,
                                               effective_date=date(2020, 1, 1)))
        self.client_ids.append(client.id)
        return client

    def session(self, client: Client, clinician_index: int, codes: tuple[str, ...], starts_at: datetime,
                signed: bool = True) -> TherapySession:
        session = TherapySession(practice_id=self.practice_id, client_id=client.id,
                                 clinician_id=self.clinician_ids[clinician_index], starts_at=starts_at,
                                 ends_at=starts_at + timedelta(minutes=53), minutes=53, status="completed",
                                 completed_at=starts_at + timedelta(minutes=53))
        db.session.add(session)
        db.session.flush()
        for position, code in enumerate(codes, start=1):
            service = _service(self.practice_id, code)
            db.session.add(SessionService(practice_id=self.practice_id, session_id=session.id, service_id=service.id,
                                          position=position, code=code, description=service.name, units=1,
                                          price_cents=service.price_cents, modifiers=[]))
        if signed:
            db.session.add(SessionNote(practice_id=self.practice_id, session_id=session.id, body="",
                                       diagnosis_codes=["F41.1"], signed_at=starts_at + timedelta(hours=1),
                                       signed_diagnoses=[{"code": "F41.1", "description": ""}]))
        db.session.flush()
        db.session.refresh(session, ["lines"])
        return session

    def bill(self, client: Client, clinician_index: int, codes: tuple[str, ...], days_ago: int) -> Bill:
        """A completed session billed by the practice's own rules (Pended; a claim when insured)."""
        starts_at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days_ago, hours=3)
        session = self.session(client, clinician_index, codes, starts_at)
        bill = bills.create_from_sessions(self.practice, [session])
        self.bill_ids.append(bill.id)
        return bill


def _service(practice_id: int, code: str) -> ServiceCode:
    return db.session.scalar(select(ServiceCode).where(ServiceCode.practice_id == practice_id,
                                                       ServiceCode.code == code))


def new_world(make) -> World:
    practice = make.practice(timezone=ZONE)
    clinicians = [make.member(practice, Role.CLINICIAN, name=name) for name in ("Avery Lee, LMHC", "Blake Moss, LICSW")]
    payers = [make.payer(practice, name="Harborview Health Plan", clearinghouse_payer_id="HHP01"),
              make.payer(practice, name="Bayside Mutual", clearinghouse_payer_id="BSM02")]
    for code, price in PRICES.items():
        make.service(practice, code, price_cents=price)
    return World(practice.id, [c.id for c in clinicians], [p.id for p in payers])


def post_835(world: World, payments: list[inbound.ClaimPayment], paid_on: date, payer_index: int = 0) -> None:
    """A balanced 835 from the claims' payer, paid on `paid_on`, posted by era.import_835."""
    payer = db.session.get(Payer, world.payer_ids[payer_index])
    total = sum(p.paid_cents for p in payments)
    remittance = inbound.Remittance(
        total_paid_cents=total, credit_debit="C", payment_method="ACH" if total else "NON", paid_on=paid_on,
        trace_number=f"EFT{next(_numbers):07d}", payer_identifier="1999999999", payer_name=payer.name,
        payer_id=payer.clearinghouse_payer_id, payee_name="Practice", payee_npi="2000000002", claims=tuple(payments))
    text = write_835(remittance, sender_id=payer.clearinghouse_payer_id, receiver_id="PARITY",
                     interchange_control_number=next(_numbers) % 999999999, created_at=datetime.now(timezone.utc))
    era.import_835(world.practice, text, source="upload")


def _claim_of(bill_id: int) -> Claim | None:
    """The bill's first original claim: the primary payer's."""
    return db.session.scalar(select(Claim).where(Claim.bill_id == bill_id, Claim.frequency_code == "1")
                             .order_by(Claim.id).limit(1))


def _payer_index(world: World, claim: Claim) -> int:
    return world.payer_ids.index(claim.payer_id)


# ---------------------------------------------------------------- random operations

days_ago = st.integers(min_value=0, max_value=120)
operation = st.one_of(
    st.tuples(st.just("insured"), st.integers(0, 1), st.integers(0, 1), st.sampled_from(CODE_SETS), days_ago),
    # A client with a primary and a secondary policy (the other payer).
    st.tuples(st.just("insured_twice"), st.integers(0, 1), st.integers(0, 1), st.sampled_from(CODE_SETS), days_ago),
    st.tuples(st.just("self_pay"), st.integers(0, 1), st.sampled_from(CODE_SETS), days_ago, st.booleans()),
    # An allowed share of 100 with the deductible: nothing paid, nothing written off, the bill opened for the client.
    # On a later payer's claim, "paid" pays its share of what the earlier payers left; a crossover is "forwarded".
    st.tuples(st.just("remit"), st.integers(0, 50),
              st.sampled_from(["paid", "paid", "deductible", "denied", "coverage", "forwarded"]),
              st.integers(50, 100), days_ago),
    # The primary payer takes its decision back (CLP02 22), and pays again in the same file or not.
    st.tuples(st.just("reverse_primary"), st.integers(0, 50), st.booleans(), st.integers(50, 100)),
    st.tuples(st.just("pay"), st.integers(0, 50), st.integers(500, 30000), days_ago),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(100, 20000), days_ago),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("adjust"), st.integers(0, 50), st.sampled_from(["write_off", "adjustment"]),
              st.integers(100, 10000)),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("open"), st.integers(0, 50)),
    st.tuples(st.just("work_denial"), st.integers(0, 50), st.sampled_from(["bill_client", "write_off", "appeal"])),
    st.tuples(st.just("clearinghouse"), st.integers(0, 50), st.sampled_from(["sent", "A1", "A7"])),
    # Bill edits: through Correct the claim, or plainly (refused once the claim has left).
    st.tuples(st.just("edit"), st.integers(0, 50), st.sampled_from(["90832", "90834", "90837"]), st.booleans()),
    st.tuples(st.just("add_line"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("remove_line"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("replace_or_void"), st.integers(0, 50), st.booleans()),
)


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


def apply(world: World, op: tuple) -> None:
    kind = op[0]
    today = local_today(ZONE)
    if kind in ("insured", "insured_twice"):
        _, clinician, payer, codes, ago = op
        world.bill(world.client(payer, secondary=kind == "insured_twice"), clinician, codes, ago)
    elif kind == "self_pay":
        _, clinician, codes, ago, issue = op
        bill = world.bill(world.client(None), clinician, codes, ago)
        if issue:
            bills.open_bill(bill)
    elif kind == "remit":
        _, index, outcome, share, ago = op
        claim = latest_claim(_pick(world.bill_ids, index) or 0)
        if claim is None:
            return
        paid_on = today - timedelta(days=ago)
        if claim.id in world.paid:
            earlier = world.paid.pop(claim.id)
            corrected = claim_payment(claim, allowed_share=min(share + 10, 100))
            post_835(world, [reversal_of(earlier), corrected], paid_on, _payer_index(world, claim))
            world.paid[claim.id] = corrected
            return
        if claim.status in (ClaimStatus.PAID, ClaimStatus.DENIED):
            return
        if claim.payer_order > 1 and outcome in ("paid", "forwarded"):
            post_835(world, [later_payer_payment(claim, share)], paid_on, _payer_index(world, claim))
            return
        denied = outcome in ("denied", "coverage")
        payment = claim_payment(claim, status="4" if denied else "1", allowed_share=share,
                                deductible=outcome == "deductible",
                                denial_reason="109" if outcome == "coverage" else ["197", "50", "16"][ago % 3])
        if outcome == "forwarded":
            payment = dataclasses.replace(payment, status_code="19", crossover_payer_name="Bayside Mutual",
                                          crossover_payer_id="BSM02")
        post_835(world, [payment], paid_on, _payer_index(world, claim))
        if outcome != "denied" and claim.payer_order == 1:
            world.paid[claim.id] = payment  # a coverage denial too: its reversal withdraws what it billed
    elif kind == "reverse_primary":
        _, index, correct, share = op
        bill_id = _pick(world.bill_ids, index) or 0
        primary = db.session.scalar(select(Claim).where(Claim.bill_id == bill_id, Claim.payer_order == 1,
                                                        Claim.id.in_(list(world.paid)))
                                    .order_by(Claim.id.desc()).limit(1))
        if primary is None:
            return
        earlier = world.paid.pop(primary.id)
        payments = [reversal_of(earlier)]
        if correct:
            corrected = claim_payment(primary, allowed_share=share)
            payments.append(corrected)
            world.paid[primary.id] = corrected
        post_835(world, payments, today, _payer_index(world, primary))
    elif kind == "pay":
        _, index, amount, ago = op
        client = db.session.get(Client, _pick(world.client_ids, index) or 0)
        if client is not None:
            payment = bills.record_payment(client, amount, "card", today - timedelta(days=ago))
            world.payment_ids.append(payment.id)
    elif kind == "refund":
        _, index, amount, ago = op
        client = db.session.get(Client, _pick(world.client_ids, index) or 0)
        if client is not None:
            credit = bills.client_credit(client.id)
            if credit > 0:
                bills.refund(client, min(amount, credit), "check", today - timedelta(days=ago))
    elif kind == "reverse":
        payment = db.session.get(Payment, _pick(world.payment_ids, op[1]) or 0)
        if payment is not None and payment.reversed_at is None:
            bills.reverse_payment(payment, "Check bounced")
    elif kind == "adjust":
        _, index, adjustment_kind, amount = op
        bill = db.session.get(Bill, _pick(world.bill_ids, index) or 0)
        if bill is not None and bill.status == BillStatus.OPEN:
            balance = bills.totals(bill).balance
            if balance > 0:
                bills.adjust(bill, adjustment_kind, min(amount, balance), "Courtesy")
    elif kind == "void":
        bill = db.session.get(Bill, _pick(world.bill_ids, op[1]) or 0)
        if bill is not None and bill.status in bills.EDITABLE:
            bills.void_bill(bill, "Entered in error")
    elif kind == "open":
        bill = db.session.get(Bill, _pick(world.bill_ids, op[1]) or 0)
        if bill is not None and bill.status == BillStatus.PENDED:
            bills.open_bill(bill)
    elif kind == "work_denial":
        _, index, action = op
        claim = latest_claim(_pick(world.bill_ids, index) or 0)
        if claim is not None and claim.status == ClaimStatus.DENIED and not claim.denial_action:
            if action == "bill_client" and denials.client_liability(claim).client_may_be_billed:
                denials.bill_client(claim)
            elif action in ("bill_client", "write_off"):  # a CO denial is never the client's: written off
                denials.write_off(claim, "Past the filing limit")
            else:
                denials.appeal(claim, "Portal appeal with the note attached")
    elif kind == "clearinghouse":
        _, index, what = op
        claim = latest_claim(_pick(world.bill_ids, index) or 0)
        if claim is None:
            return
        if what == "sent":
            if claim.status == ClaimStatus.QUEUED:
                claim_rules.transition(claim, ClaimStatus.SENT, "clearinghouse", "In 837P interchange 1.")
        else:
            acknowledgements.apply_report(claim, inbound.ClaimStatusReport(
                patient_control_number=claim.patient_control_number, category=what, status_code="21"))
    elif kind in ("edit", "add_line", "remove_line"):
        bill = db.session.get(Bill, _pick(world.bill_ids, op[1]) or 0)
        if bill is None:
            return
        correcting = op[-1]
        if kind == "edit":
            line = bill.lines[0]
            change = bills.LineChange(op[2], "", line.units, None, tuple(line.modifiers))
            if correcting:
                corrections.change_line(bill, line, change)
            else:
                bills.update_line(bill, line, change)
        elif kind == "add_line":
            change = bills.LineChange("90785", "", 1, None)
            corrections.add_line(bill, change) if correcting else bills.add_line(bill, change)
        else:
            line = bill.lines[-1]
            corrections.remove_line(bill, line) if correcting else bills.remove_line(bill, line)
    elif kind == "replace_or_void":
        _, index, replace = op
        claim = latest_claim(_pick(world.bill_ids, index) or 0)
        if claim is not None:
            (denials.resubmit_corrected if replace else denials.void_at_payer)(claim)


def build(world: World, operations: list[tuple], check=None) -> None:
    for op in operations:
        try:
            with db.session.begin_nested():
                apply(world, op)
        except REFUSED:
            pass
        db.session.commit()
        if check is not None:
            check(world)


# ---------------------------------------------------------------- what the ledger and the bills say


def ledger_money(world: World, start: date, end: date) -> Money:
    """The period's entries of every client's ledger, classified as the revenue report's fields; charges are the
    lines of the Open and Complete bills whose date of service is in the period (the ledger dates a bill by its
    issue, the revenue report by its month of service)."""
    sums = dict.fromkeys(FIELDS, 0)
    for bill in db.session.scalars(select(Bill).where(Bill.practice_id == world.practice_id,
                                                      Bill.status.in_((BillStatus.OPEN, BillStatus.COMPLETE)))):
        assert bill.service_date is not None, bill.number
        if start <= bill.service_date <= end:
            sums["charges"] += sum(line.charge_cents for line in bill.lines)
    for client_id in world.client_ids:
        for entry in ledger.entries(client_id, start, end):
            text = entry.description
            if text == "Opening balance" or text.startswith(ledger.AWAITING):
                continue  # not money that moved: the part of a bill insurance holds
            if text.startswith("Bill "):
                continue  # counted above, by date of service
            elif text.startswith("Insurance payment"):
                sums["insurance_paid"] += entry.credit
            elif text.startswith("Payment reversed: Reversed by the payer"):
                sums["insurance_paid"] -= entry.charge
            elif text.startswith("Payment reversed"):
                sums["client_paid"] -= entry.charge
            elif text.startswith("Payment ("):
                sums["client_paid"] += entry.credit
            elif text.startswith("Refund"):
                sums["client_paid"] -= entry.charge
            elif text.startswith("Write-off"):
                sums["write_offs"] += entry.credit
            else:
                assert text.startswith(("Adjustment", "Contractual")), text
                sums["adjustments"] += entry.credit
    return Money(**sums)


def add(moneys) -> Money:
    moneys = list(moneys)
    return Money(**{name: sum(getattr(m, name) for m in moneys) for name in FIELDS})


def later_payer_payment(claim: Claim, share: int) -> inbound.ClaimPayment:
    """A secondary or tertiary payer's 835 claim payment: `share` % of what the earlier payers left on each line (the
    bill's balance, split by charge) paid, the rest coinsurance (PR-2), the earlier payers' part OA-23. A crossover
    keeps the primary's claim number (CLP01) and says it was processed as secondary."""
    left, total = bills.totals(db.session.get(Bill, claim.bill_id)).balance, claim.total_charge_cents
    services, given = [], 0
    for position, line in enumerate(claim.lines):
        part = left - given if position == len(claim.lines) - 1 else line.charge_cents * left // total
        given += part
        paid = part * share // 100
        adjustments = tuple(a for a in (inbound.Adjustment(group="OA", reason="23",
                                                           amount_cents=line.charge_cents - part),
                                        inbound.Adjustment(group="PR", reason="2", amount_cents=part - paid))
                            if a.amount_cents)
        services.append(inbound.ServicePayment(procedure_code=line.code, modifiers=tuple(line.modifiers),
                                               charge_cents=line.charge_cents, paid_cents=paid, units=line.units,
                                               line_reference=line.line_reference, service_date=line.service_date,
                                               adjustments=adjustments))
    number = (db.session.get(Claim, claim.prior_payer_claim_id).patient_control_number if claim.crossover
              else claim.patient_control_number)
    return inbound.ClaimPayment(
        patient_control_number=number, status_code=str(claim.payer_order), charge_cents=total,
        paid_cents=sum(s.paid_cents for s in services),
        patient_responsibility_cents=sum(a.amount_cents for s in services for a in s.adjustments if a.group == "PR"),
        filing_indicator="CI", payer_claim_number=f"SEC{claim.id:08d}", services=tuple(services))


def latest_claim(bill_id: int) -> Claim | None:
    """The bill's latest original or replacement that is not withdrawn."""
    return db.session.scalar(select(Claim).where(Claim.bill_id == bill_id, Claim.frequency_code.in_(("1", "7")),
                                                 Claim.status != ClaimStatus.WITHDRAWN)
                             .order_by(Claim.id.desc()).limit(1))


def holds(bill: Bill) -> bool:
    """Whether insurance holds the bill's balance: its latest original or replacement is undecided, or denied and
    the denial not worked (or appealed)."""
    claim = latest_claim(bill.id)
    return claim is not None and (claim.status in UNSETTLED or (
        claim.status == ClaimStatus.DENIED and claim.denial_action in (None, "appealed")))


def receivables(practice_id: int, clinician_id: int | None = None) -> list[tuple[Bill, int, str]]:
    """Every bill the aging report should hold, with its balance from bills.totals and who owes it: Open bills, and
    Pended ones while insurance holds them (Complete ones owe 0)."""
    found = []
    for bill in db.session.scalars(select(Bill).where(Bill.practice_id == practice_id)):
        if clinician_id is not None and bill.clinician_id != clinician_id:
            continue
        balance = bills.totals(bill).balance
        if bill.status == BillStatus.COMPLETE:
            assert balance == 0
        if bill.status == BillStatus.OPEN or (bill.status == BillStatus.PENDED and holds(bill)):
            found.append((bill, balance, "insurance" if holds(bill) else "client"))
    return found


def expected_aging(practice_id: int, as_of: date):
    """(bucket totals, by client, by payer) worked out bill by bill in Python."""
    def blank():
        return {"insurance": [0] * 4, "client": [0] * 4}

    totals, by_client, by_payer = blank(), defaultdict(blank), defaultdict(blank)
    for bill, balance, side in receivables(practice_id):
        if not balance:
            continue
        age = (as_of - bill.service_date).days
        bucket = 0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3
        original = _claim_of(bill.id)
        for target in (totals, by_client[bill.client_id], by_payer[original.payer_id if original else None]):
            target[side][bucket] += balance
    return totals, by_client, by_payer


def money_agrees(world: World) -> None:
    """After every step: for every client, the statement's balance = the ledger's = the client's side of aging less
    their credit; practice-wide aging = the receivable bills' balances; each bill's claim says what the bill says
    (a correction of it is queued, or it is still waiting here); the summaries equal a rebuild."""
    today = local_today(ZONE)
    aging = reports.aging(ReportFilter(practice_id=world.practice_id, start=today, end=today), as_of=today,
                          clients_per_page=None)
    client_side = {group.id: sum(group.line.client) for group in aging.by_client}
    expected_client = defaultdict(int)
    for bill, balance, side in receivables(world.practice_id):
        if side == "client":
            expected_client[bill.client_id] += balance
    assert aging.totals.total == sum(balance for _, balance, _ in receivables(world.practice_id))
    for client_id in world.client_ids:
        client = db.session.get(Client, client_id)
        balance = ledger.balance(client_id)
        credit = bills.client_credit(client_id)
        assert client_side.get(client_id, 0) == expected_client[client_id] == balance + credit, client.legal_name
        assert bill_documents.statement_document(client, None, None).closing_balance_cents == balance
    for bill in db.session.scalars(select(Bill).where(Bill.practice_id == world.practice_id,
                                                      Bill.status != BillStatus.VOID)):
        claim = claim_rules.current_claim(bill.id)
        assert claim is None or claim_rules.matches_bill(claim, bill), (bill.number, claim.patient_control_number)
    assert_summaries_match_a_rebuild(world.practice_id)


def _split(line) -> dict:
    return {"insurance": list(line.insurance), "client": list(line.client)}


# ---------------------------------------------------------------- reconciliation over random practices


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(operations=st.lists(operation, min_size=4, max_size=24), as_of_shift=st.integers(-40, 200))
# Secondary insurance every run (bill 2 is the first drawn): the primary pays and the secondary, sent, pays too, then
# the primary's payment is reversed and corrected in one file; a coverage denial billed to the secondary is reversed
# before the secondary is sent, then paid; a crossover's secondary pays, then the primary's payment is reversed alone.
@example(operations=[("insured_twice", 0, 0, ("90834", "90785"), 10), ("remit", 2, "paid", 80, 5),
                     ("clearinghouse", 2, "sent"), ("remit", 2, "paid", 75, 3), ("reverse_primary", 2, True, 90),
                     ("remit", 2, "paid", 60, 1)], as_of_shift=0)
@example(operations=[("insured_twice", 1, 1, ("90837",), 20), ("remit", 2, "coverage", 80, 5),
                     ("reverse_primary", 2, False, 80), ("remit", 2, "deductible", 100, 2),
                     ("remit", 2, "paid", 50, 1), ("pay", 2, 5000, 0)], as_of_shift=10)
@example(operations=[("insured_twice", 0, 1, ("90834",), 30), ("remit", 2, "forwarded", 80, 5),
                     ("remit", 2, "paid", 75, 3), ("reverse_primary", 2, False, 80), ("remit", 2, "paid", 90, 1),
                     ("work_denial", 2, "write_off")], as_of_shift=0)
def test_revenue_equals_the_ledger_and_aging_equals_the_open_balances(app, make, operations, as_of_shift):
    world = new_world(make)
    with app.app_context():
        for ago, kind in ((5, "insured"), (40, "self_pay")):  # at least one of each, whatever was drawn
            apply(world, ("insured", 0, 0, ("90834",), ago) if kind == "insured" else
                  ("self_pay", 1, ("90837",), ago, True))
        db.session.commit()
        build(world, operations, check=money_agrees)
        today = local_today(ZONE)
        # Timestamped entries (adjustments, reversals) are all made now, so only the last period holds them,
        # whichever side of midnight UTC the test runs; dated entries (charges by service, payments) spread over all.
        periods = [(today - timedelta(days=150), today - timedelta(days=61)),
                   (today - timedelta(days=60), today - timedelta(days=3)),
                   (today - timedelta(days=2), today + timedelta(days=2)),
                   (today - timedelta(days=400), today + timedelta(days=2))]
        for start, end in periods:
            report = reports.revenue(ReportFilter(practice_id=world.practice_id, start=start, end=end))
            assert report.totals == ledger_money(world, start, end), (start, end)
            assert add(money for _, money in report.by_month) == report.totals
            for groups in (report.by_code, report.by_payer, report.by_clinician):
                assert add(group.money for group in groups) == report.totals
            by_clinician = {group.key: group.money for group in report.by_clinician}
            for clinician_id in world.clinician_ids:
                scoped = reports.revenue(ReportFilter(practice_id=world.practice_id, start=start, end=end,
                                                      clinician_id=clinician_id))
                name = db.session.get(Member, clinician_id).name
                assert scoped.totals == by_clinician.get(name, Money())
            for payer_id in [0, *world.payer_ids]:
                scoped = reports.revenue(ReportFilter(practice_id=world.practice_id, start=start, end=end,
                                                      payer_id=payer_id))
                assert scoped.totals.charges == sum(g.money.charges for g in report.by_payer
                                                    if g.key == (reports.SELF_PAY if payer_id == 0 else
                                                                 db.session.get(Payer, payer_id).name))

        as_of = today + timedelta(days=as_of_shift)
        aging = reports.aging(ReportFilter(practice_id=world.practice_id, start=today, end=today), as_of=as_of)
        assert aging.as_of == as_of
        assert aging.totals.total == sum(balance for _, balance, _ in receivables(world.practice_id))
        totals, by_client, by_payer = expected_aging(world.practice_id, as_of)
        assert _split(aging.totals) == totals
        assert {group.id: _split(group.line) for group in aging.by_client} == dict(by_client)
        # Every client at once (the CSV) is the pages of clients one after another.
        every = reports.aging(ReportFilter(practice_id=world.practice_id, start=today, end=today), as_of=as_of,
                              clients_per_page=None).by_client
        paged, after = [], None
        while True:
            page = reports.aging(ReportFilter(practice_id=world.practice_id, start=today, end=today), as_of=as_of,
                                 clients_after=after, clients_per_page=2)
            paged += page.by_client
            if page.clients_next_after is None:
                break
            after = page.clients_next_after
        assert paged == every and {group.id: _split(group.line) for group in every} == dict(by_client)
        assert {group.id: _split(group.line) for group in aging.by_payer} == dict(by_payer)
        # The ledgers' balances are the client side of aging less client credit.
        owed = sum(ledger.balance(client_id) + bills.client_credit(client_id) for client_id in world.client_ids)
        assert sum(aging.totals.client) == owed
        for clinician_id in world.clinician_ids:
            scoped = reports.aging(ReportFilter(practice_id=world.practice_id, start=today, end=today,
                                                clinician_id=clinician_id), as_of=as_of)
            assert scoped.totals.total == sum(balance for _, balance, _ in receivables(world.practice_id,
                                                                                          clinician_id))
        # What every commit kept up to date equals what a rebuild from the entries alone gives.
        assert_summaries_match_a_rebuild(world.practice_id)


# ---------------------------------------------------------------- plain cases


@pytest.fixture
def world(make):
    return new_world(make)


def _filter(world: World, start: date, end: date, **values) -> ReportFilter:
    return ReportFilter(practice_id=world.practice_id, start=start, end=end, **values)


def test_a_clinicians_reports_never_include_another_clinicians_work(app, world):
    with app.app_context():
        for clinician in (0, 1):
            for ago in (3, 20, 45):
                bill = world.bill(world.client(clinician), clinician, ("90834",), ago)
                bills.open_bill(bill)
                bills.record_payment(bill.client, 5000, "card", local_today(ZONE))
            claim = _claim_of(world.bill_ids[-1])
            post_835(world, [claim_payment(claim, status="4")], local_today(ZONE), clinician)
        db.session.commit()
        mine, theirs = world.clinician_ids
        today = local_today(ZONE)
        f = _filter(world, today - timedelta(days=90), today + timedelta(days=1), clinician_id=mine)
        trends = reports.service_trends(f)
        assert trends.rows and {row.clinician_id for row in trends.rows} == {mine}
        assert sum(row.sessions for row in trends.rows) == 3
        revenue = reports.revenue(f)
        assert [group.key for group in revenue.by_clinician] == ["Avery Lee, LMHC"]
        assert revenue.totals.charges == 3 * 15000 and revenue.totals.client_paid == 3 * 5000
        my_clients = {bill.client_id for bill in db.session.scalars(select(Bill).where(Bill.clinician_id == mine))}
        aging = reports.aging(f)
        assert aging.by_client and {group.id for group in aging.by_client} <= my_clients
        assert aging.totals.total == 3 * 10000
        outcomes = reports.claim_outcomes(f)
        assert [p.payer_id for p in outcomes.by_payer] == [world.payer_ids[0]]
        assert outcomes.by_payer[0].adjudicated == outcomes.by_payer[0].denied == 1
        # Self-pay (payer 0) holds none of these insured clinicians' claims.
        assert reports.claim_outcomes(_filter(world, f.start, f.end, payer_id=0)).by_payer == []
        assert reports.revenue(_filter(world, f.start, f.end, payer_id=0)).totals == Money()


def test_time_band_shares_by_month_in_the_practice_time_zone(app, world):
    zone = ZoneInfo(ZONE)
    with app.app_context():
        client = world.client(None)
        # 11:30 PM on Jan 31 in Los Angeles is Feb 1 in UTC: still a January session.
        january = [datetime(2026, 1, 5, 10, tzinfo=zone), datetime(2026, 1, 12, 10, tzinfo=zone),
                   datetime(2026, 1, 20, 10, tzinfo=zone), datetime(2026, 1, 31, 23, 30, tzinfo=zone)]
        for starts_at, codes in zip(january, [("90832",), ("90834",), ("90834", "90785"), ("90837",)]):
            world.session(client, 0, codes, starts_at.astimezone(timezone.utc))
        world.session(client, 1, ("90837",), datetime(2026, 3, 2, 9, tzinfo=zone).astimezone(timezone.utc))
        cancelled = world.session(client, 1, ("90834",), datetime(2026, 3, 3, 9, tzinfo=zone).astimezone(timezone.utc))
        cancelled.status = "cancelled"
        db.session.commit()
        trends = reports.service_trends(_filter(world, date(2026, 1, 1), date(2026, 3, 31)))
    assert trends.months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    january, february, march = trends.bands
    assert january.counts == {"90832": 1, "90834": 2, "90837": 1}
    assert january.shares == {"90832": Decimal("0.25"), "90834": Decimal("0.5"), "90837": Decimal("0.25")}
    assert february.counts == dict.fromkeys(("90832", "90834", "90837"), 0)
    assert set(february.shares.values()) == {Decimal(0)}
    assert march.counts["90837"] == 1 and march.shares["90837"] == 1 and march.counts["90834"] == 0
    rows = {(row.month, row.code, row.clinician_name): (row.sessions, row.units) for row in trends.rows}
    assert rows[(date(2026, 1, 1), "90785", "Avery Lee, LMHC")] == (1, 1)
    assert rows[(date(2026, 1, 1), "90834", "Avery Lee, LMHC")] == (2, 2)


def test_first_pass_acceptance_counts_upload_999_and_277ca_rejections(app, world):
    with app.app_context():
        made = []
        for _ in range(5):
            made.append(_claim_of(world.bill(world.client(0), 0, ("90834",), 10).id))
        accepted, rejected_277, rejected_upload, fixed_later, never_sent = made
        for claim in (accepted, rejected_277, fixed_later):
            claim_rules.transition(claim, ClaimStatus.SENT, "clearinghouse", "In 837P interchange 7.")
        acknowledgements.apply_report(accepted, inbound.ClaimStatusReport(
            patient_control_number=accepted.patient_control_number, category="A1", status_code="20"))
        for claim in (rejected_277, fixed_later):
            acknowledgements.apply_report(claim, inbound.ClaimStatusReport(
                patient_control_number=claim.patient_control_number, category="A7", status_code="21"))
        claim_rules.transition(rejected_upload, ClaimStatus.NEEDS_REVIEW, "clearinghouse",
                               "Rejected on upload: subscriber id missing")
        # Fixed and sent again, then paid: still not a first-pass acceptance.
        claim_rules.recheck(fixed_later)
        claim_rules.transition(fixed_later, ClaimStatus.SENT, "clearinghouse", "In 837P interchange 8.")
        post_835(world, [claim_payment(fixed_later)], local_today(ZONE))
        # The scrubber's own Needs Review before sending is not a rejection.
        claim_rules.transition(never_sent, ClaimStatus.NEEDS_REVIEW, "scrubber", "Missing NPI")
        db.session.commit()
        outcomes = reports.claim_outcomes(_filter(world, local_today(ZONE) - timedelta(days=30), local_today(ZONE)))
    assert (outcomes.submitted, outcomes.accepted_first_pass) == (4, 1)
    assert outcomes.first_pass_rate == Decimal("0.25")


def test_denial_rate_and_the_most_frequent_reasons_in_plain_words(app, world):
    with app.app_context():
        claims = [_claim_of(world.bill(world.client(0), 0, ("90834",), 12).id) for _ in range(5)]
        other = _claim_of(world.bill(world.client(1), 1, ("90837",), 12).id)
        post_835(world, [claim_payment(claims[0], status="4", denial_reason="197"),
                         claim_payment(claims[1], status="4", denial_reason="197"),
                         claim_payment(claims[2], status="4", denial_reason="50"),
                         claim_payment(claims[3]), claim_payment(claims[4])], local_today(ZONE))
        post_835(world, [claim_payment(other, status="4", denial_reason="27")], local_today(ZONE), payer_index=1)
        db.session.commit()
        outcomes = reports.claim_outcomes(_filter(world, local_today(ZONE) - timedelta(days=30), local_today(ZONE)))
    bayside, harborview = outcomes.by_payer
    assert (harborview.payer_name, harborview.adjudicated, harborview.denied) == ("Harborview Health Plan", 5, 3)
    assert harborview.denial_rate == Decimal("0.6")
    assert [(r.group, r.code, r.count) for r in harborview.top_reasons] == [("CO", "197", 2), ("CO", "50", 1)]
    assert harborview.top_reasons[0].text == "Prior authorization or notification was missing"
    assert harborview.top_reasons[1].text == "The payer does not consider the service medically necessary"
    assert (bayside.denied, bayside.top_reasons[0].code) == (1, "27")
    assert bayside.top_reasons[0].text == "The service was after the coverage ended"


def test_median_days_from_service_to_the_835_payment_date(app, world):
    today = local_today(ZONE)
    paid_on = today - timedelta(days=5)
    with app.app_context():
        made = [_claim_of(world.bill(world.client(0), 0, ("90834",), ago).id) for ago in (40, 30, 25, 10)]
        service = {claim.id: claim.service_date for claim in made}
        ids = [claim.id for claim in made]
        f = _filter(world, today - timedelta(days=60), today)
        post_835(world, [claim_payment(claim) for claim in made[:3]], paid_on)
        db.session.commit()
        three = reports.claim_outcomes(f)
        post_835(world, [claim_payment(made[3])], paid_on)
        db.session.commit()
        four = reports.claim_outcomes(f)
        # A reversed payment no longer counts; the corrected one (dated today) does.
        post_835(world, [reversal_of(claim_payment(made[0])), claim_payment(made[0], allowed_share=90)], today)
        db.session.commit()
        corrected = reports.claim_outcomes(f)
    days = sorted((paid_on - service[claim_id]).days for claim_id in ids)
    assert (three.paid_claims, three.median_days_to_payment) == (3, Decimal(days[2]))
    assert (four.paid_claims, four.median_days_to_payment) == (4, Decimal(days[1] + days[2]) / 2)
    after = sorted([(paid_on - service[claim_id]).days for claim_id in ids[1:]] + [(today - service[ids[0]]).days])
    assert (corrected.paid_claims, corrected.median_days_to_payment) == (4, Decimal(after[1] + after[2]) / 2)


def test_aging_splits_insurance_and_client_by_age(app, world):
    today = local_today(ZONE)
    with app.app_context():
        waiting = world.bill(world.client(0), 0, ("90834",), 10)  # claim out: insurance, 0–30
        paid = world.bill(world.client(0), 0, ("90834",), 45)  # paid with a $20 copay left: client, 31–60
        post_835(world, [claim_payment(_claim_of(paid.id), copay_cents=2000)], today)
        self_pay = world.bill(world.client(None), 1, ("90837",), 100)  # issued, no claim: client, over 90
        bills.open_bill(self_pay)
        unbilled = world.bill(world.client(None), 1, ("90832",), 5)  # Pended without a claim: not A/R
        db.session.commit()
        aging = reports.aging(_filter(world, today, today), as_of=today)
        assert unbilled.status == BillStatus.PENDED
    assert aging.totals.insurance == (15000, 0, 0, 0)
    assert aging.totals.client == (0, 2000, 0, 20000)
    assert [(g.key, g.line.total) for g in aging.by_payer] == [("Harborview Health Plan", 17000), ("Self-pay", 20000)]
    assert aging.by_payer[-1].id is None


def test_aging_buckets_by_whole_days_and_counts_undated_and_future_bills_as_new(app, world):
    as_of = date(2026, 6, 15)  # the 90-day edge (Mar 17) falls mid-month: both day and month totals are read
    ages = {None: 100, -20: 200, 0: 400, 30: 800, 31: 1600, 60: 3200, 61: 6400, 90: 12800, 91: 25600, 400: 51200}
    with app.app_context():
        for age, price in ages.items():
            bill = world.bill(world.client(None), 0, ("90834",), 3)
            bills.open_bill(bill)
            bill.lines[0].price_cents = price
            bill.service_date = None if age is None else as_of - timedelta(days=age)
        db.session.commit()
        aging = reports.aging(_filter(world, as_of, as_of), as_of=as_of)
        assert_summaries_match_a_rebuild(world.practice_id)
    assert aging.totals.insurance == (0, 0, 0, 0)
    assert aging.totals.client == (100 + 200 + 400 + 800, 1600 + 3200, 6400 + 12800, 25600 + 51200)
    assert sorted(group.line.total for group in aging.by_client) == sorted(ages.values())  # a client each


def test_a_bills_payment_is_split_over_its_lines_pro_rata_to_the_cent(app, world):
    today = local_today(ZONE)
    with app.app_context():
        bill = world.bill(world.client(None), 0, ("90834", "90785"), 3)  # $150 + $30
        bills.open_bill(bill)
        bills.record_payment(bill.client, 10001, "card", local_today(ZONE))
        bills.adjust(bill, "write_off", 333, "Courtesy")
        for _ in range(3):  # more bills with odd amounts, for the two ways of splitting to agree on
            other = world.bill(world.client(None), 1, ("90837", "90785"), 5)
            bills.open_bill(other)
            bills.record_payment(other.client, 7777, "card", local_today(ZONE))
        db.session.commit()
        f = _filter(world, today - timedelta(days=7), today + timedelta(days=1), clinician_id=world.clinician_ids[0])
        report = reports.revenue(f)
        by_code = {group.key: group.money for group in report.by_code}
        # 100.01 over 150 : 30 (each line weighs 100 × its charge + 1): 83.34 and 16.67.
        assert (by_code["90834"].client_paid, by_code["90785"].client_paid) == (8334, 1667)
        assert by_code["90834"].write_offs + by_code["90785"].write_offs == 333
        assert report.totals.client_paid == 10001
        # The summaries kept up commit by commit are what a rebuild from the entries gives.
        assert_summaries_match_a_rebuild(world.practice_id)
