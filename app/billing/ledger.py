"""A client's ledger: what they were charged and what they paid, in date order with a running balance.

Built from the same entries bills use. Pended bills are not shown (the client has not seen them) and
voided bills drop out; money applied to a voided bill went back to credit, so the balance still adds up.
An Open bill whose balance insurance holds (`responsibility.side`: a claim the payer has not decided, or a
denial not worked yet) is followed by an entry that takes that balance off the client's, on the same day, until
the payer decides: so the final balance equals the client's side of the open bills (as aging and the bill page
put it) minus the client's credit. Insurance money on a bill the client has not been sent yet (Pended while a
secondary payer decides) is left out until the bill is issued; then the earlier payers' money and adjustments show
with the bill, never before it.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.billing import bills as bill_rules
from app.billing import responsibility
from app.billing.summaries import line_weight, split
from app.extensions import db
from app.models import (Adjustment, Allocation, Bill, BillLine, BillStatus, Claim, Client, Payment, PaymentSource,
                        Refund, SessionStatus, TherapySession)

ISSUED = (BillStatus.OPEN, BillStatus.COMPLETE)
#: The entry that takes a balance insurance holds off the client's.
AWAITING = "Billed to insurance, awaiting its decision"


@dataclass(frozen=True)
class Entry:
    day: date
    description: str
    charge: int  #: cents the client owes more
    credit: int  #: cents the client owes less
    balance: int = 0  #: running: positive owed, negative credit
    order: int = 0


def entries(client_id: int, start: date | None = None, end: date | None = None) -> list[Entry]:
    """Ledger entries with running balances; with a period, the first entry is the opening balance."""
    raw: list[Entry] = []
    issued = db.session.scalars(select(Bill).where(Bill.client_id == client_id, Bill.status.in_(ISSUED))
                                .options(selectinload(Bill.lines))).all()
    owed_by = responsibility.sides(issued)
    balances = bill_rules.balances([bill.id for bill in issued if owed_by[bill.id] == responsibility.Side.INSURANCE])
    for bill in issued:
        raw.append(Entry(bill.issued_at.date(), f"Bill {bill.number}", sum(l.charge_cents for l in bill.lines), 0,
                         order=1))
        waiting = balances.get(bill.id, 0)
        if waiting:
            raw.append(Entry(bill.issued_at.date(), f"{AWAITING} (bill {bill.number})", max(-waiting, 0),
                             max(waiting, 0), order=1))
    payments = db.session.scalars(select(Payment).where(Payment.client_id == client_id)).all()
    held, shown_from = _insurance_money_on_unissued_bills(client_id)
    for payment in payments:
        label = "Insurance payment" if payment.source == "insurance" else f"Payment ({payment.method})"
        if payment.reference:
            label += f", ref {payment.reference}"
        # Insurance money on a bill the client has not been sent (Pended while the next payer decides) is not
        # theirs to see yet: it shows with the bill, never before it.
        amount = payment.amount_cents - held.get(payment.id, 0)
        if amount:
            raw.append(Entry(max(payment.received_on, shown_from.get(payment.id, payment.received_on)), label, 0,
                             amount, order=2))
        if payment.reversed_at is not None:
            raw.append(Entry(payment.reversed_at.date(), f"Payment reversed: {payment.reversal_reason}",
                             payment.amount_cents, 0, order=3))
    adjustments = db.session.execute(select(Adjustment, Bill.issued_at).join(Bill).where(
        Bill.client_id == client_id, Bill.status.in_(ISSUED))).all()
    followed = _bills_a_later_payer_followed(client_id)
    for adjustment, issued_at in adjustments:
        # One an earlier payer made while the bill waited, Pended, for the next payer shows with the bill.
        day = adjustment.created_at.date()
        if adjustment.bill_id in followed and issued_at:
            day = max(day, issued_at.date())
        raw.append(Entry(day, f"{adjustment.kind.replace('_', '-').capitalize()}: {adjustment.reason}", 0,
                         adjustment.amount_cents, order=4))
    for refund in db.session.scalars(select(Refund).where(Refund.client_id == client_id)).all():
        raw.append(Entry(refund.refunded_on, f"Refund ({refund.method})", refund.amount_cents, 0, order=5))
    raw.sort(key=lambda entry: (entry.day, entry.order))
    running = 0
    result: list[Entry] = []
    opening = None
    for entry in raw:
        if start and entry.day < start:
            running += entry.charge - entry.credit
            continue
        if start and opening is None:
            opening = Entry(start, "Opening balance", 0, 0, running)
            result.append(opening)
        if end and entry.day > end:
            break
        running += entry.charge - entry.credit
        result.append(Entry(entry.day, entry.description, entry.charge, entry.credit, running))
    if start and opening is None:
        result.append(Entry(start, "Opening balance", 0, 0, running))
    return result


@dataclass(frozen=True)
class ServiceLine:
    """One service on a client's statement: its charge, what insurance paid and what was adjusted off it (each
    bill-level amount split over the bill's lines pro rata, as the reports split them: summaries.split), so the
    client's share of it, what they paid toward it and what of it they still owe."""
    service_date: date
    bill_number: str
    code: str
    description: str
    charge: int
    insurance_paid: int
    adjustments: int  #: contractual adjustments, write-offs and other adjustments
    client_paid: int
    #: Insurance holds the bill (responsibility.side): the client owes nothing on it until the payer decides.
    awaiting_insurance: bool = False

    @property
    def client_share(self) -> int:
        if self.awaiting_insurance:
            return 0
        return self.charge - self.insurance_paid - self.adjustments

    @property
    def balance(self) -> int:
        return self.client_share - self.client_paid


def service_lines(client_id: int, start: date | None = None, end: date | None = None) -> list[ServiceLine]:
    """Every service line of the client's issued bills whose date of service falls in the period, oldest first."""
    query = select(Bill).where(Bill.client_id == client_id, Bill.status.in_(ISSUED)).options(selectinload(Bill.lines))
    if start:
        query = query.where(Bill.service_date >= start)
    if end:
        query = query.where(Bill.service_date <= end)
    issued = db.session.scalars(query.order_by(Bill.service_date, Bill.id)).all()
    ids = [bill.id for bill in issued]
    paid: dict[tuple[int, str], int] = defaultdict(int)
    for bill_id, source, amount in db.session.execute(
            select(Allocation.bill_id, Payment.source, func.sum(Allocation.amount_cents))
            .join(Payment, Payment.id == Allocation.payment_id).where(Allocation.bill_id.in_(ids))
            .group_by(Allocation.bill_id, Payment.source)):
        paid[(bill_id, source)] = amount
    adjusted = dict(db.session.execute(select(Adjustment.bill_id, func.sum(Adjustment.amount_cents))
                                       .where(Adjustment.bill_id.in_(ids)).group_by(Adjustment.bill_id)).all())
    owed_by = responsibility.sides(issued)
    result = []
    for bill in issued:
        weights = [(str(index), line_weight(line.price_cents, line.units)) for index, line in enumerate(bill.lines)]
        insurance, adjustments, client = ([part for _, part in split(amount, weights)] for amount in (
            paid[(bill.id, PaymentSource.INSURANCE)], adjusted.get(bill.id, 0), paid[(bill.id, PaymentSource.CLIENT)]))
        for index, line in enumerate(bill.lines):
            result.append(ServiceLine(line.service_date, bill.number or "", line.code, line.description or "",
                                      line.charge_cents, insurance[index], adjustments[index], client[index],
                                      owed_by[bill.id] == responsibility.Side.INSURANCE))
    return result


#: The statement's aging: what the client still owes, by days since the date of service.
AGING_BUCKETS = (("0–30 days", 0, 30), ("31–60 days", 31, 60), ("61–90 days", 61, 90), ("Over 90 days", 91, None))


def aging(lines: list[ServiceLine], today: date) -> list[tuple[str, int]]:
    """What is still owed on these lines in each of AGING_BUCKETS."""
    totals = {label: 0 for label, *_ in AGING_BUCKETS}
    for line in lines:
        age = max(0, (today - line.service_date).days)
        for label, low, high in AGING_BUCKETS:
            if age >= low and (high is None or age <= high):
                totals[label] += line.balance
                break
    return list(totals.items())


def _bills_a_later_payer_followed(client_id: int) -> set[int]:
    """The client's bills with a secondary or tertiary claim: they stayed Pended after the primary paid."""
    return set(db.session.scalars(select(Claim.bill_id).where(Claim.client_id == client_id, Claim.payer_order > 1)))


def _insurance_money_on_unissued_bills(client_id: int) -> tuple[dict[int, int], dict[int, date]]:
    """For the client's insurance payments: what they apply to bills not issued yet (by payment id), and, for a
    bill that waited for a later payer, the day it was issued (its earlier payers' money is shown no earlier)."""
    held: dict[int, int] = defaultdict(int)
    shown_from: dict[int, date] = {}
    followed = _bills_a_later_payer_followed(client_id)
    for payment_id, amount, bill_id, status, issued_at in db.session.execute(
            select(Allocation.payment_id, Allocation.amount_cents, Bill.id, Bill.status, Bill.issued_at)
            .join(Payment, Payment.id == Allocation.payment_id).join(Bill, Bill.id == Allocation.bill_id)
            .where(Payment.client_id == client_id, Payment.source == PaymentSource.INSURANCE)):
        if status in ISSUED and issued_at is not None:
            if bill_id in followed:
                shown_from[payment_id] = max(shown_from.get(payment_id, issued_at.date()), issued_at.date())
        elif status != BillStatus.VOID:
            held[payment_id] += amount
    return held, shown_from


def balance(client_id: int) -> int:
    """What the client owes now (negative: credit)."""
    rows = entries(client_id)
    return rows[-1].balance if rows else 0


def open_bills(client_id: int) -> list[Bill]:
    return db.session.scalars(select(Bill).where(Bill.client_id == client_id, Bill.status == BillStatus.OPEN)
                              .order_by(Bill.service_date, Bill.id)).all()


def unbilled_sessions(client_id: int) -> list[TherapySession]:
    """Completed sessions with services that no (non-void) bill covers yet."""
    billed = select(BillLine.session_id).join(Bill).where(Bill.status != BillStatus.VOID,
                                                          BillLine.session_id.is_not(None))
    return db.session.scalars(select(TherapySession).where(
        TherapySession.client_id == client_id, TherapySession.status == SessionStatus.COMPLETED,
        TherapySession.id.not_in(billed)).options(selectinload(TherapySession.lines))
        .order_by(TherapySession.starts_at)).all()


def clients_with_unbilled_sessions(practice_id: int) -> list[tuple[Client, int]]:
    """Clients of the practice with completed sessions no bill covers yet, and how many."""
    billed = select(BillLine.session_id).join(Bill).where(Bill.status != BillStatus.VOID,
                                                          BillLine.session_id.is_not(None))
    rows = db.session.execute(
        select(Client, func.count(TherapySession.id)).join(TherapySession, TherapySession.client_id == Client.id)
        .where(Client.practice_id == practice_id, TherapySession.status == SessionStatus.COMPLETED,
               TherapySession.id.not_in(billed)).group_by(Client.id).order_by(Client.last_name, Client.first_name))
    return [(client, count) for client, count in rows]
