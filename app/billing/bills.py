"""Bills: the status machine, numbering, totals, payments and allocations, credit, refunds,
adjustments and voids. No Flask request in sight; callers own the transaction.

Balances are computed from entries (charges − allocations − adjustments), never stored. Every change
to a bill's money runs with the bill's row locked (SELECT … FOR UPDATE on PostgreSQL; SQLite holds one
writer at a time), and a bill is Complete exactly when its balance is zero.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import audit, bulk
from app.after_commit import request_job
from app.billing import catalog, claims, codes, dates
from app.billing.money import dollars
from app.extensions import db
from app.models import (Adjustment, AdjustmentKind, Allocation, Bill, BillCounter, BillEvent, BillLine, BillStatus,
                        Claim, ClaimLine, ClaimStatus, Client, Member, Payment, PaymentMethod, PaymentSource, Practice,
                        Refund, ServiceCode, SessionService, SessionStatus, TherapySession)
from app.models.types import utcnow

EDITABLE = (BillStatus.PENDED, BillStatus.OPEN)


class BillProblem(Exception):
    """A change the bill's state or the rules refuse; `field` says where the message belongs."""

    def __init__(self, message: str, field: str | None = None, conflict: bool = False):
        super().__init__(message)
        self.field = field
        #: True when the bill's state forbids the change (HTTP 409), not the input (422).
        self.conflict = conflict


@dataclass(frozen=True)
class Totals:
    charges: int
    paid: int
    adjusted: int

    @property
    def balance(self) -> int:
        return self.charges - self.paid - self.adjusted


# ---------------------------------------------------------------- reading money


def balances(bill_ids: list[int]) -> dict[int, int]:
    """The balances of many bills at once (three grouped queries), for postings that touch thousands."""
    found = {bill_id: 0 for bill_id in bill_ids}
    for start in range(0, len(bill_ids), 500):
        chunk = bill_ids[start:start + 500]
        for model, amount, sign in ((BillLine, BillLine.price_cents * BillLine.units, 1),
                                    (Allocation, Allocation.amount_cents, -1),
                                    (Adjustment, Adjustment.amount_cents, -1)):
            for bill_id, total in db.session.execute(select(model.bill_id, func.sum(amount))
                                                     .where(model.bill_id.in_(chunk)).group_by(model.bill_id)):
                found[bill_id] += sign * int(total)
    return found


def totals(bill: Bill) -> Totals:
    """The bill's totals, summed in the database from its entries (one round trip)."""
    charges, paid, adjusted = db.session.execute(select(
        _sum(BillLine.price_cents * BillLine.units, BillLine.bill_id == bill.id),
        _sum(Allocation.amount_cents, Allocation.bill_id == bill.id),
        _sum(Adjustment.amount_cents, Adjustment.bill_id == bill.id))).one()
    return Totals(int(charges), int(paid), int(adjusted))


def _sum(amount, *where, join=None):
    """A scalar subquery: the sum of `amount` over the rows `where` picks (0 for none)."""
    query = select(func.coalesce(func.sum(amount), 0))
    if join is not None:
        query = query.join(*join)
    return query.where(*where).scalar_subquery()


def unallocated(payment: Payment) -> int:
    """What is left of a payment to apply to bills (0 for a reversed payment)."""
    if payment.reversed_at is not None:
        return 0
    allocated = db.session.scalar(select(func.coalesce(func.sum(Allocation.amount_cents), 0))
                                  .where(Allocation.payment_id == payment.id))
    return payment.amount_cents - int(allocated)


def client_credit(client_id: int) -> int:
    """Money the client has paid that no bill has used and that was not refunded."""
    live = (Payment.client_id == client_id, Payment.reversed_at.is_(None))
    received, allocated, refunded = db.session.execute(select(
        _sum(Payment.amount_cents, *live),
        _sum(Allocation.amount_cents, *live, join=(Payment, Allocation.payment_id == Payment.id)),
        _sum(Refund.amount_cents, Refund.client_id == client_id))).one()
    return int(received) - int(allocated) - int(refunded)


def lock(bill_id: int) -> Bill:
    """The bill, re-read with its row locked for the rest of the transaction."""
    bill = db.session.scalar(select(Bill).where(Bill.id == bill_id).with_for_update()
                             .execution_options(populate_existing=True))
    return bill


def lock_many(bill_ids) -> dict[int, Bill]:
    """The bills, re-read with their rows locked in id order (the order every payment locks in, so two never
    deadlock), in one query."""
    bills = db.session.scalars(select(Bill).where(Bill.id.in_(sorted(set(bill_ids)))).order_by(Bill.id)
                               .with_for_update().execution_options(populate_existing=True)).all()
    return {bill.id: bill for bill in bills}


def _event(bill: Bill, kind: str, message: str = "", actor: Member | None = None) -> None:
    bulk.add(BillEvent, practice_id=bill.practice_id, bill_id=bill.id, kind=kind, message=message,
             member_id=actor.id if actor else None)


# ---------------------------------------------------------------- numbering and creation


def next_number(practice: Practice) -> str:
    """The practice's next bill number: one atomic UPDATE … RETURNING, so concurrent bills never collide."""
    bump = (update(BillCounter).where(BillCounter.practice_id == practice.id)
            .values(last_number=BillCounter.last_number + 1).returning(BillCounter.last_number))
    number = db.session.execute(bump).scalar()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(BillCounter(practice_id=practice.id, last_number=0))
        except IntegrityError:
            pass  # another transaction created the counter first; the UPDATE below waits for it
        number = db.session.execute(bump).scalar()
    return f"{practice.bill_prefix}{number}"


def _billed_session_ids(session_ids: list[int]) -> set[int]:
    rows = db.session.scalars(select(BillLine.session_id).join(Bill).where(
        BillLine.session_id.in_(session_ids), Bill.status != BillStatus.VOID))
    return set(rows)


def create_from_sessions(practice: Practice, sessions: list[TherapySession], actor: Member | None = None,
                         *, open_now: bool | None = None) -> Bill:
    """One bill from completed sessions of one client (usually one session). Lines copy the session's
    services; the bill starts Pended, or Open when the practice opens bills automatically."""
    if not sessions:
        raise BillProblem("Choose at least one completed session.", field="sessions")
    clients = {session.client_id for session in sessions}
    if len(clients) != 1:
        raise BillProblem("A bill covers sessions of one client.", field="sessions")
    for session in sessions:
        served = dates.service_day(session.starts_at, practice.timezone)
        if session.status != SessionStatus.COMPLETED and not session.booked_service_id:
            raise BillProblem(f"The session of {served:%b %-d} is not completed yet.", field="sessions")
        if not session.lines:
            raise BillProblem(f"The session of {served:%b %-d} has no services to bill.", field="sessions")
    already = _billed_session_ids([session.id for session in sessions])
    if already:
        raise BillProblem("A session on this bill is already on another bill; void that bill first.",
                          field="sessions", conflict=True)
    first = min(sessions, key=lambda session: session.starts_at)
    bill = Bill(practice_id=practice.id, number=next_number(practice), client_id=first.client_id,
                clinician_id=first.clinician_id, status=BillStatus.PENDED,
                service_date=dates.service_day(first.starts_at, practice.timezone))
    position = 0
    for session in sorted(sessions, key=lambda s: s.starts_at):
        served = dates.service_day(session.starts_at, practice.timezone)
        for line in session.lines:
            position += 1
            bill.lines.append(BillLine(practice_id=practice.id, session_id=session.id, service_id=line.service_id,
                                       position=position, service_date=served,
                                       place_of_service=session.place_of_service, code=line.code,
                                       description=line.description, units=line.units, price_cents=line.price_cents,
                                       modifiers=list(line.modifiers)))
    db.session.add(bill)
    db.session.flush()
    _event(bill, "created", f"From {len(sessions)} session{'s' if len(sessions) != 1 else ''}.", actor)
    audit.record("bill.created", bill, number=bill.number, actor=actor)
    if practice.open_bills_automatically if open_now is None else open_now:
        open_bill(bill, actor)
    if not bill.booked_session_id and not any(session.booked_service_id for session in sessions):
        claims.claim_for_bill(bill, actor)
    return bill


def session_moved(session: TherapySession, actor: Member | None = None) -> None:
    """A booked session moved: the lines billing it on a Pended or Open bill (a paid-in-advance booking's) take
    its new date of service, unless the bill's claim has left, whose payer has the date it was sent with."""
    day = dates.service_day(session.starts_at, dates.zone_name(session.practice_id))
    billed = db.session.scalars(select(Bill).where(
        Bill.id.in_(select(BillLine.bill_id).where(BillLine.session_id == session.id)),
        Bill.status.in_(EDITABLE)).order_by(Bill.id)).all()
    for bill in billed:
        claim = claims.current_claim(bill.id)
        moving = [line for line in bill.lines if line.session_id == session.id and line.service_date != day]
        if not moving or claims.has_left(claim):
            continue
        for line in moving:
            line.service_date = day
        bill.service_date = min(line.service_date for line in bill.lines)
        db.session.flush()
        _event(bill, "rescheduled", f"Date of service {day:%b %-d, %Y}: the session moved.", actor)
        _lines_changed(bill, claim, actor)


def bill_for_completed_session(session: TherapySession, actor: Member | None) -> Bill | None:
    """The practice's automation: a bill when a session is marked complete (if it is switched on and the
    session is not billed yet)."""
    practice = db.session.get(Practice, session.practice_id)
    if not practice.bill_on_complete or _billed_session_ids([session.id]) or not session.lines:
        return None
    return create_from_sessions(practice, [session], actor)


# ---------------------------------------------------------------- status machine


def _identity(bill: Bill) -> dict:
    """What an issued bill prints, copied once so that later edits elsewhere never change it."""
    practice = db.session.get(Practice, bill.practice_id)
    client = bill.client
    contact = client.billing_contact
    clinician = bill.clinician
    address = [line for line in (practice.address_line1, practice.address_line2,
                                 f"{practice.city or ''}, {practice.state or ''} {practice.zip_code or ''}".strip(", "))
               if line]
    bill_to = contact or client
    bill_to_name = contact.name if contact else client.legal_name
    return {
        "practice": {"legal_name": practice.legal_name, "tax_id": practice.tax_id, "group_npi": practice.group_npi,
                     "taxonomy": practice.taxonomy, "address": address, "phone": practice.phone},
        "clinician": {"name": clinician.name, "npi": clinician.npi, "taxonomy": clinician.taxonomy}
        if clinician else None,
        "client": {"name": client.legal_name, "date_of_birth": client.date_of_birth.isoformat(),
                   "address": [line for line in (client.address_line1, client.address_line2,
                                                 f"{client.city or ''}, {client.state or ''} {client.zip_code or ''}"
                                                 .strip(", ")) if line]},
        "bill_to": {"name": bill_to_name, "email": bill_to.email,
                    "address": [line for line in (bill_to.address_line1, bill_to.address_line2,
                                                  f"{bill_to.city or ''}, {bill_to.state or ''} "
                                                  f"{bill_to.zip_code or ''}".strip(", ")) if line],
                    "is_contact": contact is not None},
        "remit_to": (practice.remit_to or "").splitlines() or address,
        "message": practice.bill_message or "",
        "terms_days": practice.payment_terms_days,
    }


def open_bill(bill: Bill, actor: Member | None = None, *, balance: int | None = None, send_now: bool = True) -> None:
    """Issue a Pended bill: it copies the identity it prints, gets a due date, and the client can pay it.
    A caller that already holds the bill's lock and knows its balance passes `balance` (nothing is queried);
    one that will change the bill's money right after passes send_now=False and sends it itself."""
    if balance is None:
        bill = lock(bill.id)
    if bill.status != BillStatus.PENDED:
        raise BillProblem(f"Only a Pended bill can be opened; this one is {bill.status}.", conflict=True)
    if not bill.lines:
        raise BillProblem("Add at least one line before opening the bill.", field="lines")
    practice = db.session.get(Practice, bill.practice_id)
    bill.status = BillStatus.OPEN
    bill.issued_at = utcnow()
    bill.due_date = dates.today(practice.timezone) + timedelta(days=practice.payment_terms_days)
    bill.issued_identity = _identity(bill)
    _event(bill, "opened", f"Due {bill.due_date:%b %-d, %Y}.", actor)
    audit.record("bill.opened", bill, number=bill.number, actor=actor)
    settle(bill, balance)
    if send_now and practice.email_bills_when_opened:
        send(bill, actor)


def settle(bill: Bill, balance: int | None = None) -> None:
    """Complete an Open bill whose balance is zero; reopen a Complete one that owes again."""
    balance = totals(bill).balance if balance is None else balance
    if bill.status == BillStatus.OPEN and balance == 0:
        bill.status = BillStatus.COMPLETE
        bill.completed_at = utcnow()
        _event(bill, "completed", "Paid in full.")
        audit.record("bill.completed", bill, number=bill.number)
    elif bill.status == BillStatus.COMPLETE and balance != 0:
        bill.status = BillStatus.OPEN
        bill.completed_at = None
        _event(bill, "reopened", "A payment was reversed; the bill owes again.")
        audit.record("bill.reopened", bill, number=bill.number)


def void_bill(bill: Bill, reason: str, actor: Member | None = None) -> None:
    """Cancel a Pended or Open bill, keeping it for the record; money applied to it returns to credit."""
    bill = lock(bill.id)
    if bill.status not in EDITABLE:
        raise BillProblem(f"A {bill.status} bill cannot be voided.", conflict=True)
    if not (reason or "").strip():
        raise BillProblem("Say why the bill is voided.", field="reason")
    _return_allocations(bill, totals(bill).paid)
    bill.status = BillStatus.VOID
    bill.voided_at = utcnow()
    bill.void_reason = reason.strip()
    _event(bill, "voided", reason.strip(), actor)
    audit.record("bill.voided", bill, number=bill.number, reason=reason.strip(), actor=actor)


def _return_allocations(bill: Bill, amount: int) -> None:
    """Move `amount` of what was applied to the bill back to the payments it came from (newest first),
    as negative allocations: the money becomes client credit again."""
    remaining = amount
    by_payment = db.session.execute(
        select(Allocation.payment_id, func.sum(Allocation.amount_cents)).where(Allocation.bill_id == bill.id)
        .group_by(Allocation.payment_id).order_by(Allocation.payment_id.desc())).all()
    for payment_id, applied in by_payment:
        if remaining <= 0:
            break
        take = min(int(applied), remaining)
        if take > 0:
            db.session.add(Allocation(practice_id=bill.practice_id, payment_id=payment_id, bill_id=bill.id,
                                      amount_cents=-take))
            remaining -= take
    db.session.flush()


# ---------------------------------------------------------------- lines


def _editable(bill: Bill) -> Bill:
    bill = lock(bill.id)
    if bill.status not in EDITABLE:
        raise BillProblem(f"This bill is {bill.status} and can no longer be edited.", conflict=True)
    return bill


@dataclass(frozen=True)
class LineChange:
    code: str
    description: str
    units: int
    price_cents: int | None
    modifiers: tuple[str, ...] = ()


def billed_session(bill: Bill) -> TherapySession | None:
    """The one session the bill's lines come from (None for a bill of several sessions, or of none)."""
    session_ids = {line.session_id for line in bill.lines if line.session_id}
    return db.session.get(TherapySession, session_ids.pop()) if len(session_ids) == 1 else None


def session_minutes(bill: Bill) -> int | None:
    """The minutes in session the bill's codes are checked against, when it bills one session."""
    found = billed_session(bill)
    return found.minutes if found else None


def _time_problem(bill: Bill, code: str) -> str | None:
    """The session's time rule for a code put on the bill: the same check as Mark Session Complete; a lower
    code only when the clinician confirmed one on the session."""
    found = billed_session(bill)
    if found is None or found.minutes is None:
        return None
    check = catalog.time_check(bill.practice_id, code, found.minutes)
    if not check.allowed:
        return check.message
    if check.lower_code and not found.lower_code_reason:
        return (f"{found.minutes} minutes supports {check.best_code}, not {code}. A lower code needs the "
                "clinician's reason, given on the session's Mark Session Complete page.")
    return None


def _line_problems(bill: Bill, change: LineChange,
                   line: BillLine | None = None) -> tuple[ServiceCode | None, dict[str, str]]:
    """What is wrong with a new line, or a change to `line` (whose unchanged code is not checked again)."""
    practice_id = bill.practice_id
    problems = {}
    service = db.session.scalar(select(ServiceCode).where(ServiceCode.practice_id == practice_id,
                                                          ServiceCode.code == codes.normalize_code(change.code),
                                                          ServiceCode.enabled.is_(True)))
    if service is None:
        problems["code"] = f"{change.code or 'That'} is not an enabled service of your practice: pick one from the list."
    elif (line is None or line.code != service.code) and (time_problem := _time_problem(bill, service.code)):
        problems["code"] = time_problem
    if (change.units is None or change.units < 1) and "code" not in problems:  # one message: units follow the code
        problems["units"] = "Units must be at least 1."
    if change.price_cents is not None and change.price_cents < 0:
        problems["price"] = "The price cannot be negative."
    if len(change.modifiers) > 4 or any(not (len(m) == 2 and m.isalnum()) for m in change.modifiers):
        problems["modifiers"] = "Up to four modifiers of two letters or digits."
    return service, problems


def update_line(bill: Bill, line: BillLine, change: LineChange, actor: Member | None = None, *,
                correcting: bool = False) -> None:
    """Change a line's code (its description and price follow the picked service unless given), units,
    price or modifiers, while the bill is Pended or Open. A change the payer would read, once the bill's claim
    has left, is refused unless `correcting` (app/billing/corrections.py, which then corrects the claim)."""
    bill = _editable(bill)
    service, problems = _line_problems(bill, change, line)
    price = change.price_cents if change.price_cents is not None else service.price_cents if service else None
    if not problems and (short := _below_write_offs(bill, price * change.units - line.price_cents * line.units)):
        problems["price"] = short
    if problems:
        raise LineProblems(problems)
    before = (line.code, line.units, line.price_cents, list(line.modifiers))
    after = (service.code, change.units, price, [m.upper() for m in change.modifiers])
    claim = _claim_allows(bill, correcting) if before != after else None
    line.service_id = service.id
    line.code = service.code
    line.description = (change.description or service.description or service.name).strip()
    line.units = change.units
    line.price_cents = price
    line.modifiers = after[3]
    db.session.flush()
    if before != after:
        _event(bill, "line_changed", f"Line {line.position}: {before[0]} → {after[0]}", actor)
        if bill.status == BillStatus.OPEN:
            audit.record("bill.line_changed", bill, line=line.position, before=list(before), after=list(after),
                         actor=actor)
    _lines_changed(bill, claim, actor)


def add_line(bill: Bill, change: LineChange, actor: Member | None = None, *, correcting: bool = False) -> BillLine:
    """A new line on a Pended or Open bill (of the bill's session, when it covers one); refused once the bill's
    claim has left, unless `correcting`."""
    bill = _editable(bill)
    service, problems = _line_problems(bill, change)
    if problems:
        raise LineProblems(problems)
    claim = _claim_allows(bill, correcting)
    position = max((line.position for line in bill.lines), default=0) + 1
    sessions = {line.session_id for line in bill.lines}
    line = BillLine(practice_id=bill.practice_id, bill_id=bill.id, service_id=service.id, position=position,
                    session_id=next(iter(sessions)) if len(sessions) == 1 else None,
                    service_date=bill.service_date or dates.practice_today(bill.practice_id),
                    place_of_service=bill.lines[0].place_of_service if bill.lines else "11", code=service.code,
                    description=(change.description or service.description or service.name).strip(),
                    units=change.units, price_cents=service.price_cents if change.price_cents is None
                    else change.price_cents, modifiers=[m.upper() for m in change.modifiers])
    db.session.add(line)
    db.session.flush()
    db.session.refresh(bill, ["lines"])
    _event(bill, "line_added", f"Line {position}: {line.code}", actor)
    if bill.status == BillStatus.OPEN:
        audit.record("bill.line_added", bill, code=line.code, actor=actor)
    _lines_changed(bill, claim, actor)
    return line


def remove_line(bill: Bill, line: BillLine, actor: Member | None = None, *, correcting: bool = False) -> None:
    bill = _editable(bill)
    if len(bill.lines) <= 1:
        raise BillProblem("A bill keeps at least one line; void the bill instead.", field="lines")
    if short := _below_write_offs(bill, -line.price_cents * line.units):
        raise BillProblem(short, field="lines", conflict=True)
    claim = _claim_allows(bill, correcting)
    code = line.code
    session_id = line.session_id
    # Claims that left keep what they said about the line; only their link to it goes.
    db.session.execute(update(ClaimLine).where(ClaimLine.bill_line_id == line.id).values(bill_line_id=None)
                       .execution_options(synchronize_session="fetch"))
    db.session.delete(line)
    db.session.flush()
    db.session.refresh(bill, ["lines"])
    _event(bill, "line_removed", f"Removed {code}", actor)
    if bill.status == BillStatus.OPEN:
        audit.record("bill.line_removed", bill, code=code, actor=actor)
    _lines_changed(bill, claim, actor, also_session=session_id)


def correction_needed(claim: Claim, bill: Bill) -> str:
    """Why a change to what the payer reads is refused outside the Correct the claim flow."""
    return (f"Claim {claim.patient_control_number} for this bill is {ClaimStatus(claim.status).label} with "
            f"{claim.payer.name}: a change to codes, units, modifiers or charges goes through Correct the claim "
            f"(/bills/{bill.id}/correct), which queues a corrected claim so the payer hears of it.")


def _below_write_offs(bill: Bill, change_in_charges: int) -> str | None:
    """Why charges changed by `change_in_charges` would fall below what is written off on the bill, which no edit
    takes back (payments beyond the new charges return to credit; write-offs have nowhere to go)."""
    if change_in_charges >= 0:
        return None
    current = totals(bill)
    if current.charges + change_in_charges >= current.adjusted:
        return None
    return (f"${dollars(current.adjusted)} is written off or adjusted on this bill, so its charges cannot go below "
            f"that (they would be ${dollars(max(current.charges + change_in_charges, 0))}). Void the bill and bill "
            "the session again to start over.")


def _claim_allows(bill: Bill, correcting: bool) -> Claim | None:
    """The bill's current claim, once it is sure a change to what the payer reads may go ahead: the claim is still
    waiting here (it will be rewritten), or the caller corrects it."""
    claim = claims.current_claim(bill.id)
    if claims.has_left(claim) and not correcting:
        raise BillProblem(correction_needed(claim, bill), conflict=True)
    return claim


def _lines_changed(bill: Bill, claim: Claim | None, actor: Member | None, also_session: int | None = None) -> None:
    """After the lines changed: the sessions they bill say the same, a claim still waiting here follows the bill,
    and the money is rebalanced."""
    db.session.refresh(bill, ["lines"])
    _sessions_follow(bill, also_session)
    if claim is not None and not claims.has_left(claim):
        claims.follow_bill(claim, actor)
    _rebalance(bill)


def _sessions_follow(bill: Bill, also_session: int | None = None) -> None:
    """Rewrite the services of each session on the bill from the bill's lines for it, so the session shows what
    was billed."""
    session_ids = {line.session_id for line in bill.lines if line.session_id} | ({also_session} - {None})
    for session_id in sorted(session_ids):
        session = db.session.get(TherapySession, session_id)
        billed = [line for line in bill.lines if line.session_id == session_id]
        if not billed or sessions_match(session, billed):
            continue
        session.lines.clear()
        db.session.flush()
        for position, line in enumerate(billed, start=1):
            session.lines.append(SessionService(
                practice_id=session.practice_id, service_id=line.service_id, position=position, code=line.code,
                description=line.description, units=line.units, price_cents=line.price_cents,
                modifiers=list(line.modifiers)))
        db.session.flush()


def sessions_match(session: TherapySession, billed: list[BillLine]) -> bool:
    """Whether the session's services are the bill's lines for it (code, modifiers, units, price, in order)."""
    def shape(lines):
        return [(line.code, tuple(line.modifiers), line.units, line.price_cents) for line in lines]
    return shape(session.lines) == shape(billed)


class LineProblems(Exception):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _rebalance(bill: Bill) -> None:
    """After charges change: money beyond the new charges goes back to credit; then settle."""
    current = totals(bill)
    if current.balance < 0 and current.paid > 0:
        _return_allocations(bill, min(-current.balance, current.paid))
    settle(bill)
    db.session.flush()  # a caller that refreshes the bill to show it must not lose the status settle gave it


# ---------------------------------------------------------------- payments, credit, refunds, adjustments


def _open_bills_oldest_first(client_id: int) -> list[Bill]:
    return db.session.scalars(select(Bill).where(Bill.client_id == client_id, Bill.status == BillStatus.OPEN)
                              .order_by(Bill.service_date, Bill.id)).all()


def _apply(payment: Payment, bill: Bill, amount: int, balance: int | None = None) -> int:
    """Apply up to `amount` of the payment to the (locked, Open) bill; returns what was applied. With a known
    `balance` nothing is queried or flushed (the payment may not have an id yet)."""
    known = balance is not None
    take = min(amount, balance if known else totals(bill).balance)
    if take <= 0:
        return 0
    bulk.add(Allocation, practice_id=bill.practice_id, payment_id=payment.id, bill_id=bill.id, amount_cents=take)
    if not known:
        db.session.flush()
    _event(bill, "payment", f"{payment.source.capitalize()} payment applied: ${dollars(take)}")
    settle(bill, balance - take if known else None)
    return take


def record_payment(client: Client, amount_cents: int, method: str, received_on: date, *,
                   source: str = PaymentSource.CLIENT, reference: str | None = None,
                   allocate: list[tuple[Bill, int]] | None = None, first: Bill | None = None,
                   actor: Member | None = None) -> Payment:
    """Record money received and apply it: to the chosen bills (each at most its balance), or to `first` (the
    bill it was recorded from), then oldest Open bill first. Whatever is left is client credit, usable on
    later bills."""
    if amount_cents is None or amount_cents <= 0:
        raise BillProblem("A payment must be more than $0.00.", field="amount")
    if method not in set(PaymentMethod):
        raise BillProblem("Choose cash, check, card, ACH or other.", field="method")
    if received_on > dates.practice_today(client.practice_id):
        raise BillProblem("A payment cannot be dated in the future.", field="received_on")
    payment = Payment(practice_id=client.practice_id, client_id=client.id, source=source, method=method,
                      received_on=received_on, amount_cents=amount_cents, reference=(reference or "").strip() or None,
                      recorded_by_id=actor.id if actor else None)
    db.session.add(payment)
    db.session.flush()
    if allocate is not None:
        first = None
    targets = allocate if allocate is not None else [(bill, amount_cents) for bill in
                                                     _open_bills_oldest_first(client.id)]
    if first is not None:
        targets = [(first, amount_cents)] + [target for target in targets if target[0].id != first.id]
    # Lock every bill in id order, so that two payments touching the same bills never deadlock; then apply in
    # order: the bill the payment was recorded from first, the rest by id.
    locks = lock_many(bill.id for bill, _ in targets)
    leading = targets[:1] if first is not None else []
    ordered = leading + sorted(targets[len(leading):], key=lambda target: target[0].id)
    owed = balances(list(locks))  # read under the locks, three queries however many bills the client has open
    remaining = amount_cents
    for bill, wanted in ordered:
        if remaining <= 0:
            break
        locked = locks[bill.id]
        if locked.client_id != client.id:
            raise BillProblem("A payment applies only to the same client's bills.", field="bills")
        if locked.status != BillStatus.OPEN:
            if allocate is not None or leading and bill.id == first.id:  # a bill the person chose
                raise BillProblem(f"Bill {locked.number} is {locked.status}: only Open bills take payments.",
                                  field="bills", conflict=True)
            continue
        remaining -= _apply(payment, locked, min(wanted, remaining), owed[bill.id])
    audit.record("payment.recorded", payment, amount_cents=amount_cents, method=method, source=source,
                 credit_left=remaining, actor=actor)
    return payment


def apply_credit(bill: Bill, actor: Member | None = None) -> int:
    """Use the client's credit (oldest unapplied payments first) on this Open bill. Returns the amount."""
    bill = lock(bill.id)
    if bill.status != BillStatus.OPEN:
        raise BillProblem("Credit applies to Open bills.", conflict=True)
    applied = 0
    payments = db.session.scalars(select(Payment).where(Payment.client_id == bill.client_id,
                                                        Payment.reversed_at.is_(None))
                                  .order_by(Payment.received_on, Payment.id).with_for_update()).all()
    for payment in payments:
        left = unallocated(payment)
        if left > 0 and bill.status == BillStatus.OPEN:
            applied += _apply(payment, bill, left)
    if applied:
        audit.record("bill.credit_applied", bill, amount_cents=applied, actor=actor)
    return applied


def refund(client: Client, amount_cents: int, method: str, refunded_on: date, reference: str | None = None,
           actor: Member | None = None) -> Refund:
    """Pay credit back to the client; never more than the credit they have."""
    if amount_cents is None or amount_cents <= 0:
        raise BillProblem("A refund must be more than $0.00.", field="amount")
    # Lock the client's payments so two refunds cannot both spend the same credit.
    db.session.scalars(select(Payment.id).where(Payment.client_id == client.id).with_for_update()).all()
    available = client_credit(client.id)
    if amount_cents > available:
        raise BillProblem(f"The client has ${dollars(available)} of credit; a refund cannot be larger.",
                          field="amount")
    record = Refund(practice_id=client.practice_id, client_id=client.id, method=method, refunded_on=refunded_on,
                    amount_cents=amount_cents, reference=reference, recorded_by_id=actor.id if actor else None)
    db.session.add(record)
    db.session.flush()
    audit.record("payment.refunded", record, client_id=client.id, amount_cents=amount_cents, actor=actor)
    return record


def reverse_payment(payment: Payment, reason: str, actor: Member | None = None) -> None:
    """The money never arrived (a bounced check): undo its allocations, which reopens Complete bills."""
    if payment.reversed_at is not None:
        raise BillProblem("This payment is already reversed.", conflict=True)
    if not (reason or "").strip():
        raise BillProblem("Say why the payment is reversed.", field="reason")
    if client_credit(payment.client_id) < unallocated(payment):
        raise BillProblem("Part of this payment was already refunded to the client as credit, so reversing it "
                          "would leave a debt on no bill. Record the returned money as a new charge instead.",
                          conflict=True)
    applied = db.session.execute(select(Allocation.bill_id, func.sum(Allocation.amount_cents))
                                 .where(Allocation.payment_id == payment.id).group_by(Allocation.bill_id)
                                 .order_by(Allocation.bill_id)).all()
    for bill_id, amount in applied:
        bill = lock(bill_id)
        if int(amount) > 0:
            db.session.add(Allocation(practice_id=payment.practice_id, payment_id=payment.id, bill_id=bill.id,
                                      amount_cents=-int(amount)))
            db.session.flush()
            _event(bill, "payment_reversed", reason.strip(), actor)
            settle(bill)
    # Whatever credit the payment left is gone too; if a refund already paid it out, the client owes it.
    payment.reversed_at = utcnow()
    payment.reversal_reason = reason.strip()
    audit.record("payment.reversed", payment, reason=reason.strip(), actor=actor)


def adjust(bill: Bill, kind: str, amount_cents: int, reason: str, actor: Member | None = None) -> Adjustment:
    """A write-off or adjustment with its reason; it may not take the balance below zero."""
    bill = lock(bill.id)
    if bill.status != BillStatus.OPEN:
        raise BillProblem("Adjustments apply to Open bills.", conflict=True)
    if kind not in set(AdjustmentKind):
        raise BillProblem("Choose write-off, adjustment or contractual adjustment.", field="kind")
    if not (reason or "").strip():
        raise BillProblem("Say why.", field="reason")
    if amount_cents is None or amount_cents <= 0:
        raise BillProblem("The amount must be more than $0.00.", field="amount")
    balance = totals(bill).balance
    if amount_cents > balance:
        raise BillProblem(f"The balance is ${dollars(balance)}; an adjustment cannot be larger.", field="amount")
    adjustment = Adjustment(practice_id=bill.practice_id, bill_id=bill.id, kind=kind, amount_cents=amount_cents,
                            reason=reason.strip(), recorded_by_id=actor.id if actor else None)
    db.session.add(adjustment)
    db.session.flush()
    _event(bill, "adjusted", f"{AdjustmentKind(kind).label}: {reason.strip()}", actor)
    audit.record("bill.adjusted", bill, kind=kind, amount_cents=amount_cents, reason=reason.strip(), actor=actor)
    settle(bill)
    return adjustment


# ---------------------------------------------------------------- insurance remittances


def post_insurance(bill: Bill, payment: Payment | None, write_offs: list[tuple[str, int, str]],
                   remittance_claim_id: int | None = None, *, balance: int | None = None,
                   open_for_client: bool = True) -> int:
    """Post what a payer decided onto a bill: the write-offs it imposes (CO, PI, OA amounts, each
    (kind, cents, reason); negative amounts undo earlier ones) and its payment, up to the balance. A Pended
    bill is opened first, since the payer decided (what it left is the client's, or the next payer's claim holds it
    on insurance's side) — unless `open_for_client` is False: a reversal takes a decision back and leaves the client
    nothing new. When write-offs leave the
    bill owing less than was already paid, the difference goes back to credit; whatever the payment does
    not need stays unapplied on it (client credit). Returns the new balance.

    A remittance posting thousands of bills locks and reads them all first and passes each `balance`: then
    nothing here queries or flushes (rows may be collected by app.bulk), and write-offs may not take the
    balance below zero."""
    known = balance is not None
    if not known:
        bill = lock(bill.id)
    if bill.status == BillStatus.VOID:
        raise BillProblem(f"Bill {bill.number} is void; nothing can be posted onto it.", conflict=True)
    opened = bill.status == BillStatus.PENDED and open_for_client
    if opened:
        open_bill(bill, balance=balance, send_now=False)
    written_off = 0
    for kind, amount, reason in write_offs:
        if amount:
            bulk.add(Adjustment, practice_id=bill.practice_id, bill_id=bill.id, kind=kind, amount_cents=amount,
                     reason=reason, remittance_claim_id=remittance_claim_id)
            _event(bill, "adjusted", f"{AdjustmentKind(kind).label} ${dollars(amount)}: {reason}")
            written_off += amount
    if known:
        balance -= written_off
        if balance < 0:
            raise BillProblem(f"Bill {bill.number}: the write-offs exceed what is owed.", conflict=True)
    else:
        db.session.flush()
        balance = totals(bill).balance
        if balance < 0:
            _return_allocations(bill, -balance)
            balance = 0
    if payment is not None:
        balance -= _apply(payment, bill, payment.amount_cents, balance)
    settle(bill, balance)
    if opened and bill.status == BillStatus.OPEN and db.session.get(Practice, bill.practice_id).email_bills_when_opened \
            and (bill.issued_identity or {}).get("bill_to", {}).get("email"):
        send(bill)  # what the payer left for the client to pay
    return balance


# ---------------------------------------------------------------- sending


def send(bill: Bill, actor: Member | None = None) -> None:
    """Email the bill PDF to the client or billing contact: rendered and sent by a job after commit."""
    if bill.status not in (BillStatus.OPEN, BillStatus.COMPLETE):
        raise BillProblem("Open the bill before sending it; a Pended bill is not visible to the client.",
                          conflict=True)
    recipient = (bill.issued_identity or {}).get("bill_to", {}).get("email")
    if not recipient:
        raise BillProblem("The client (or billing contact) has no email address.", field="email")
    bill.last_sent_at = utcnow()
    _event(bill, "send_requested", f"To {recipient}", actor)
    audit.record("bill.sent", bill, to=recipient, actor=actor)
    request_job(db.session, "send_bill", bill.id, f"{bill.id}:{bill.last_sent_at.isoformat()}",
                job_id=f"send_bill-{bill.id}-{int(bill.last_sent_at.timestamp())}")
