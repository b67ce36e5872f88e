"""A client's ledger: what they were charged and what they paid, in date order with a running balance.

Built from the same entries bills use. Pended bills are not shown (the client has not seen them) and
voided bills drop out; money applied to a voided bill went back to credit, so the balance still adds up.
An Open bill whose balance insurance holds (`responsibility.side`: a claim the payer has not decided, or a
denial not worked yet) is followed by an entry that takes that balance off the client's, on the same day, until
the payer decides: so the final balance equals the client's side of the open bills (as aging and the bill page
put it) minus the client's credit.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.billing import bills as bill_rules
from app.billing import dates
from app.billing import responsibility
from app.billing.summaries import line_weight, split
from app.extensions import db
from app.models import (Adjustment, Allocation, Bill, BillLine, BillStatus, Client, Payment, PaymentSource, Refund,
                        SessionStatus, TherapySession)

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
    # Entries fall on the practice's day, as the reports count them: a payment taken at 8 pm in New York is
    # that day's, not tomorrow's (UTC).
    zone_name = dates.zone_name(db.session.get(Client, client_id).practice_id)

    def day(moment) -> date:
        return dates.local_day(moment, zone_name)

    issued = db.session.scalars(select(Bill).where(Bill.client_id == client_id, Bill.status.in_(ISSUED))
                                .options(selectinload(Bill.lines))).all()
    owed_by = responsibility.sides(issued)
    balances = bill_rules.balances([bill.id for bill in issued if owed_by[bill.id] == responsibility.Side.INSURANCE])
    for bill in issued:
        raw.append(Entry(day(bill.issued_at), f"Bill {bill.number}", sum(l.charge_cents for l in bill.lines), 0,
                         order=1))
        waiting = balances.get(bill.id, 0)
        if waiting:
            raw.append(Entry(day(bill.issued_at), f"{AWAITING} (bill {bill.number})", max(-waiting, 0),
                             max(waiting, 0), order=1))
    payments = db.session.scalars(select(Payment).where(Payment.client_id == client_id)).all()
    for payment in payments:
        label = "Insurance payment" if payment.source == "insurance" else f"Payment ({payment.method})"
        if payment.reference:
            label += f", ref {payment.reference}"
        raw.append(Entry(payment.received_on, label, 0, payment.amount_cents, order=2))
        if payment.reversed_at is not None:
            raw.append(Entry(day(payment.reversed_at), f"Payment reversed: {payment.reversal_reason}",
                             payment.amount_cents, 0, order=3))
    adjustments = db.session.scalars(select(Adjustment).join(Bill).where(Bill.client_id == client_id,
                                                                         Bill.status.in_(ISSUED))).all()
    for adjustment in adjustments:
        raw.append(Entry(day(adjustment.created_at), f"{adjustment.kind.replace('_', '-').capitalize()}: "
                         f"{adjustment.reason}", 0, adjustment.amount_cents, order=4))
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
