"""The reports' summaries (app/models/reports.py), kept exact in the same transaction as the entries they sum.

Every flush notes which source records changed (bills and what hangs off them: lines, allocations, adjustments;
sessions and their services; claims, their events and their 835 postings; payments; refunds) — from the ORM's
new, dirty and deleted objects, and from app/bulk.py's rows written in bulk. Just before the transaction
commits, `refresh` works out each noted record's facts again from what the database holds now, compares them
with the facts it stored for that record last time, and adds the difference to the day and month totals. So the
totals always equal the sum of every record's facts, and `rebuild` (from the entries alone) gives the same rows.
A commit whose facts cannot be brought up to date (records that keep changing, or one written after the refresh)
is refused with SummariesOutOfDate rather than saved with summaries that disagree. Only the app's session
(db.session) is followed.
A practice's time-zone change rebuilds its summaries, since days are the practice's: a job after the commit, or
the first report opened before it runs (`ensure_built`).

Facts (measure: what is counted; day: the practice's local day):
- bill: `charges` (each line of an Open or Complete bill, on its date of service, so a bill held Pended until the
  payer answers still charges in the month of service; on the day it was issued if it has no date of service);
  `adjustments` and `write_offs` (of Open and Complete bills, on the day recorded); `insurance_paid` /
  `client_paid` through the bill's allocations (an allocation that applies money on its payment's received-on
  day, one that takes money back on the day it was made). Each amount but charges is split over the bill's lines
  pro rata to their charges by cumulative integer division, so the parts add up to the amount exactly (see
  `split`).
  Code: the line's; payer: the payer of the bill's original claim (0: self-pay); clinician: the bill's.
- payment and refund: `ledger_insurance_paid` / `ledger_client_paid`, money as the ledger counts it (received,
  less reversed on the day of the reversal, less refunds): what reached no bill is the difference.
- session: `sessions` (1 per code of a Completed session) and `units`, on the session's day, by the session's
  clinician and the payer of the claim of the (non-void) bill that covers it.
- claim (originals and replacements; voids count nothing), on its date of service: `claims`, `claims_submitted`,
  `claims_accepted` (submitted and never rejected by the clearinghouse or payer), `claims_adjudicated`,
  `claims_denied`, `claims_reason` (code "GROUP-CARC", once per claim) and `claims_paid_days` (code: the days from
  service to the first standing 835 payment date).

- bill, for aging: `owed_insurance` / `owed_client`, the balance of a receivable bill by who owes it now
  (`responsibility.side`, the rule the ledger and the bill page use too), on its date of service (`UNDATED`
  without one), by payer and clinician: aging by payer reads these totals, the last months' days into their age
  buckets.

Receivables: one row per receivable bill whose balance is not zero, with its balance, client, date of service
and who owes it (aging by client reads a page of clients' rows).

Concurrency: on PostgreSQL the records being refreshed are locked (in id order) before their stored facts are
read, so two transactions never add the same record's difference twice; totals are upserted in key order; a
refresh holds its practices FOR KEY SHARE and a rebuild FOR UPDATE, so the two never interleave.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, and_, delete, event, insert, inspect, select, union, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from app.after_commit import request_job
from app.billing import dates, responsibility
from app.executemany import insert_rows
from app.extensions import db
from app.models import (Adjustment, AdjustmentKind, Allocation, Bill, BillLine, BillStatus, Claim, ClaimEvent,
                        ClaimStatus, Payment, PaymentSource, Practice, Receivable, Refund, Remittance,
                        RemittanceClaim, ReportFact, ReportTotal, SessionService, SessionStatus, TherapySession)
from app.models.types import utcnow

log = logging.getLogger(__name__)

_KEY = "parity_report_touched"
#: Set once the summaries are up to date for the commit under way: a source record written after that is an error.
_SETTLED = "parity_report_settled"
#: Refreshing can flush more changes (autoflush), which need refreshing too; normally the second round finds none.
_ROUNDS = 10
_CHUNK = 2000
ISSUED = (BillStatus.OPEN, BillStatus.COMPLETE)
WAITING = (ClaimStatus.QUEUED, ClaimStatus.NEEDS_REVIEW)
#: The day of the balance facts of a bill without a date of service (aging counts it as new: 0–30 days).
UNDATED = date.max

#: (practice id, day, measure, code, payer id, clinician id)
Key = tuple[int, date, str, str, int, int]


@dataclass
class Touched:
    """Source records changed in this transaction, by kind."""

    bills: set[int] = field(default_factory=set)
    sessions: set[int] = field(default_factory=set)
    claims: set[int] = field(default_factory=set)
    payments: set[int] = field(default_factory=set)
    refunds: set[int] = field(default_factory=set)
    #: bills whose sessions' payer may have changed; payments whose bills' days may have changed
    bill_sessions: set[int] = field(default_factory=set)
    payment_bills: set[int] = field(default_factory=set)
    #: practices whose summaries are rebuilt (their time zone changed)
    practices: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(vars(self).values())

    def add(self, other: Touched) -> None:
        for kind, ids in vars(other).items():
            getattr(self, kind).update(ids)

    def __str__(self) -> str:
        return "; ".join(f"{kind} {sorted(ids)[:10]}" for kind, ids in vars(self).items() if ids)


class SummariesOutOfDate(RuntimeError):
    """The report summaries could not be brought up to date for a commit, which is therefore refused."""


def _touched(session: Session) -> Touched:
    return session.info.setdefault(_KEY, Touched())


def note_row(session: Session, table: str, values, changed: Iterable[str] | None = None,
             before: dict | None = None) -> None:
    """Note what a written row of `table` changes. `values` maps column keys to the row's values; `changed` is
    None for a new or deleted row, else the keys changed; `before` the changed keys' earlier values."""
    touched = _touched(session)
    changed = None if changed is None else set(changed)
    before = before or {}

    def add(target: set[int], key: str) -> None:
        for value in (values.get(key), before.get(key)):
            if value is not None:
                target.add(value)

    if table == "bills":
        add(touched.bills, "id")
        if changed is None or changed & {"status"}:
            add(touched.bill_sessions, "id")
    elif table == "bill_lines":
        add(touched.bills, "bill_id")
        add(touched.sessions, "session_id")
    elif table in ("allocations", "adjustments"):
        add(touched.bills, "bill_id")
    elif table == "payments":
        add(touched.payments, "id")
        if changed is not None and changed & {"received_on", "source"}:
            add(touched.payment_bills, "id")
    elif table == "refunds":
        add(touched.refunds, "id")
    elif table == "claims":
        add(touched.claims, "id")
        add(touched.bills, "bill_id")
        if changed is None or changed & {"payer_id", "frequency_code", "bill_id"}:
            add(touched.bill_sessions, "bill_id")
    elif table in ("claim_events", "remittance_claims"):
        add(touched.claims, "claim_id")
    elif table == "sessions":
        add(touched.sessions, "id")
    elif table == "session_services":
        add(touched.sessions, "session_id")
    elif table == "practices" and changed is not None and "timezone" in changed:
        add(touched.practices, "id")
    if touched and session.info.get(_SETTLED):
        raise SummariesOutOfDate(f"Records were written after the report summaries were brought up to date for "
                                 f"the commit under way ({touched}): the commit is refused, since the reports "
                                 "would not count them.")


#: The tables whose rows the summaries are worked out from.
SOURCE_TABLES = {"bills", "bill_lines", "allocations", "adjustments", "payments", "refunds", "claims", "claim_events",
           "remittance_claims", "sessions", "session_services", "practices"}


def note_object(session: Session, record, *, new: bool = False, changed: dict | None = None) -> None:
    """Note an ORM object being written: `new`, or with `changed` mapping the changed keys to their earlier
    values (worked out from the object's history when not given)."""
    table = getattr(record, "__tablename__", None)
    if table not in SOURCE_TABLES:
        return
    state = inspect(record)
    if not new and changed is None:
        changed = {}
        for attr in state.mapper.column_attrs:
            history = state.attrs[attr.key].history
            if history.has_changes():
                changed[attr.key] = history.deleted[0] if history.deleted else None
    if not new and not changed:
        return
    note_row(session, table, state.dict, None if new else list(changed), changed)


# The listeners are on the app's session class (db.session's), not on every SQLAlchemy session in the process.
@event.listens_for(db.session, "after_flush")
def _note_flushed(session: Session, _context) -> None:
    for record in session.new:
        note_object(session, record, new=True)
    for record in session.dirty:
        note_object(session, record)
    for record in session.deleted:
        note_row(session, getattr(record, "__tablename__", ""), inspect(record).dict)


@event.listens_for(db.session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    """Bring the summaries up to date for the outermost commit, or refuse it (raise, so nothing is saved)."""
    if session.in_nested_transaction():
        return  # a savepoint: what it noted is refreshed when the whole transaction commits
    session.info.pop(_SETTLED, None)
    for _ in range(_ROUNDS):
        session.flush()
        touched = session.info.pop(_KEY, None)
        if not touched:
            session.info[_SETTLED] = True
            return
        try:
            refresh(session, touched)
        except BaseException:
            _touched(session).add(touched)  # still owed: a retried commit must refresh them again
            raise
    raise SummariesOutOfDate(f"The report summaries did not settle in {_ROUNDS} rounds: records kept changing "
                             f"while their facts were worked out ({_touched(session) or touched}); the commit is "
                             "refused, since the reports would not match the entries.")


@event.listens_for(db.session, "after_commit")
def _check_nothing_left_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outermost commit refreshes what it noted
    left = session.info.pop(_KEY, None)
    if left:  # note_row refuses records written once settled, so this would be a bug here
        log.error("Report summaries committed without the facts of records noted for them: %s", left)


@event.listens_for(db.session, "after_transaction_end")
def _forget_when_the_transaction_ends(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed, rolled back or closed: a savepoint's end keeps the notes
        session.info.pop(_KEY, None)
        session.info.pop(_SETTLED, None)


# ---------------------------------------------------------------- refreshing


def refresh(session: Session, touched: Touched) -> None:
    """Bring the facts, totals and receivables of the touched records up to date."""
    for practice_id in sorted(touched.practices):
        _rebuild_later(session, practice_id)
    if session.get_bind().dialect.name == "postgresql":
        _share_practices(session, touched)
    bills = set(touched.bills)
    sessions = set(touched.sessions)
    for ids in _chunks(touched.payment_bills):
        bills.update(session.scalars(select(Allocation.bill_id).where(Allocation.payment_id.in_(ids))))
    for ids in _chunks(touched.bill_sessions):
        sessions.update(session.scalars(select(BillLine.session_id).where(BillLine.bill_id.in_(ids),
                                                                          BillLine.session_id.is_not(None))))
    deltas: dict[Key, int] = defaultdict(int)
    zones = _Zones(session)
    lock = session.get_bind().dialect.name == "postgresql"
    touched_ids = {"bill": bills, "session": sessions, "claim": touched.claims, "payment": touched.payments,
                   "refund": touched.refunds}
    for kind, (_model, facts_of) in _SOURCES.items():
        for chunk in _chunks(touched_ids[kind]):
            found = facts_of(session, chunk, zones, lock)
            changed = _replace_facts(session, kind, chunk, found, deltas)
            if kind == "bill" and changed:
                # A receivable is the bill's owed_* fact with the bill's client, who never changes: unchanged facts,
                # unchanged receivable.
                _replace_receivables(session, changed, [found.receivables[bill_id] for bill_id in changed
                                                        if bill_id in found.receivables])
    _add_to_totals(session, deltas)


def ensure_built(session: Session, practice_id: int) -> bool:
    """Build the summaries of a practice whose summaries are not built (one that existed before them, or whose
    time zone changed): once, whoever comes first — the rebuild job or a report page. True when built now."""
    query = select(Practice.reports_built_at).where(Practice.id == practice_id)
    if session.scalar(query) is not None:
        return False
    if session.get_bind().dialect.name == "postgresql":  # wait for anyone building them right now
        if session.scalar(query.with_for_update()) is not None:
            return False
    rebuild(session, practice_id)
    return True


def _rebuild_later(session: Session, practice_id: int) -> None:
    """The practice's days changed (time zone): its summaries are rebuilt by a job after the commit, or by the
    first report opened before that."""
    session.execute(update(Practice).where(Practice.id == practice_id).values(reports_built_at=None)
                    .execution_options(synchronize_session="fetch"))
    request_job(session, "rebuild_report_summaries", practice_id, job_id=rebuild_job_id(practice_id))


def rebuild_job_id(practice_id: int) -> str:
    """One rebuild job per practice at a time, however often it is asked for."""
    return f"report-summaries-{practice_id}"


def rebuild(session: Session, practice_id: int) -> None:
    """Work out the practice's summaries again from the entries alone (the practice row locked against
    refreshes on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Practice.id).where(Practice.id == practice_id).with_for_update())
    session.execute(update(Practice).where(Practice.id == practice_id).values(reports_built_at=utcnow())
                    .execution_options(synchronize_session="fetch"))
    for model in (ReportFact, ReportTotal, Receivable):
        session.execute(delete(model).where(model.practice_id == practice_id))
    totals: dict[Key, int] = defaultdict(int)
    zones = _Zones(session)
    for kind, (model, facts_of) in _SOURCES.items():
        ids = session.scalars(select(model.id).where(model.practice_id == practice_id).order_by(model.id)).all()
        for chunk in _chunks(ids):
            found = facts_of(session, chunk, zones, False)
            rows = []
            for source_id, facts in found.facts.items():
                facts = {key: amount for key, amount in facts.items() if amount}
                if facts:
                    rows.append({"source": kind, "source_id": source_id, "practice_id": practice_id,
                                 "facts": _encode(facts)})
                    for key, amount in facts.items():
                        totals[key] += amount
            if rows:
                insert_rows(session.connection(), ReportFact.__table__, rows)
            if kind == "bill" and found.receivables:
                insert_rows(session.connection(), Receivable.__table__, list(found.receivables.values()))
    _insert_totals(session, practice_id, totals)


def _insert_totals(session: Session, practice_id: int, totals: dict[Key, int]) -> None:
    """A practice's day and month totals with their rollups, written in primary-key order (period, measure,
    day, code, payer, clinician) so the database appends to its index; plain tuples through the driver, since a
    large practice has millions of them."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    rolled_up = sorted(((key[6], key[2], key[1], key[3], key[4], key[5]), amount)
                       for key, amount in _by_period(totals).items() if amount)
    columns = "practice_id, period, measure, day, code, payer_id, clinician_id, amount"
    marker = "?" if sqlite else "%s"
    statement = f"INSERT INTO report_totals ({columns}) VALUES ({', '.join([marker] * 8)})"
    connection = session.connection()
    for start in range(0, len(rolled_up), 50_000):
        connection.exec_driver_sql(statement, [
            (practice_id, period, measure, day.isoformat() if sqlite else day, code, payer_id, clinician_id, amount)
            for (period, measure, day, code, payer_id, clinician_id), amount in rolled_up[start:start + 50_000]])


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


def _share_practices(session: Session, touched: Touched) -> None:
    """Lock the practices of the touched records against a rebuild (FOR KEY SHARE: refreshes don't wait for
    each other, a rebuild waits for them and they for it), in one statement."""
    owners = [select(model.practice_id).where(model.id.in_(chunk))
              for model, ids in ((Bill, touched.bills | touched.bill_sessions), (TherapySession, touched.sessions),
                                 (Claim, touched.claims), (Payment, touched.payments | touched.payment_bills),
                                 (Refund, touched.refunds))
              for chunk in _chunks(ids)]
    if owners:
        session.execute(select(Practice.id).where(Practice.id.in_(union(*owners))).order_by(Practice.id)
                        .with_for_update(read=True, key_share=True))  # key_share alone: FOR NO KEY UPDATE


def _first_read(statement: Select, model: type, lock: bool) -> Select:
    """A source's first read of its touched rows; when refreshing on PostgreSQL it locks them, in id order, before
    their stored facts are read (see Concurrency above)."""
    return statement.order_by(model.id).with_for_update() if lock else statement


def _encode(facts: dict[Key, int]) -> str:
    return json.dumps([[key[1].isoformat(), key[2], key[3], key[4], key[5], amount]
                       for key, amount in sorted(facts.items()) if amount], separators=(",", ":"))


def _decode(practice_id: int, text: str) -> dict[Key, int]:
    return {(practice_id, date.fromisoformat(day), measure, code, payer_id, clinician_id): amount
            for day, measure, code, payer_id, clinician_id, amount in json.loads(text)}


def _replace_facts(session: Session, kind: str, ids: list[int], found: "_Found",
                   deltas: dict[Key, int]) -> list[int]:
    """Store the records' facts where they changed, adding the differences to `deltas`; returns the changed ids."""
    stored = {source_id: _decode(practice_id, text) for source_id, practice_id, text in session.execute(
        select(ReportFact.source_id, ReportFact.practice_id, ReportFact.facts)
        .where(ReportFact.source == kind, ReportFact.source_id.in_(ids)))}
    changed, rows = [], []
    for source_id in ids:
        old = stored.get(source_id, {})
        new = {key: amount for key, amount in found.facts.get(source_id, {}).items() if amount}
        if old == new:
            continue
        changed.append(source_id)
        for key, amount in old.items():
            deltas[key] -= amount
        for key, amount in new.items():
            deltas[key] += amount
        if new:
            rows.append({"source": kind, "source_id": source_id, "practice_id": next(iter(new))[0],
                         "facts": _encode(new)})
    stale = [source_id for source_id in changed if source_id in stored]  # a new record has none to delete
    if stale:
        session.execute(delete(ReportFact).where(ReportFact.source == kind, ReportFact.source_id.in_(stale)))
    if rows:
        session.execute(insert(ReportFact), rows)
    return changed


def _replace_receivables(session: Session, ids: list[int], receivables: list[dict]) -> None:
    session.execute(delete(Receivable).where(Receivable.bill_id.in_(ids)))
    if receivables:
        session.execute(insert(Receivable), receivables)


#: Totals rows that sum over every code, payer or clinician (the rollups a report reads when it does not break
#: down by that dimension).
ALL_CODES, ALL_PAYERS, ALL_CLINICIANS = "*", -1, -1


def _by_period(amounts: dict[Key, int]) -> dict[tuple, int]:
    """Day keys → the totals rows they add to: by day ("D") and by month ("M"), each for the key itself and for
    its rollups over code, payer and clinician, as (…key, period) tuples."""
    found: dict[tuple, int] = defaultdict(int)
    for (practice_id, day, measure, code, payer_id, clinician_id), amount in amounts.items():
        month = day.replace(day=1)
        for code_key in (code, ALL_CODES):
            for payer_key in (payer_id, ALL_PAYERS):
                for clinician_key in (clinician_id, ALL_CLINICIANS):
                    found[(practice_id, day, measure, code_key, payer_key, clinician_key, "D")] += amount
                    found[(practice_id, month, measure, code_key, payer_key, clinician_key, "M")] += amount
    return found


#: PostgreSQL: every row in one statement, as one array per column, upserted in the order given (key order, so
#: two transactions adding to the same totals lock them in the same order).
_ADD_TO_TOTALS_POSTGRESQL = (
    "INSERT INTO report_totals (practice_id, period, day, measure, code, payer_id, clinician_id, amount) "
    "SELECT practice_id, period, day, measure, code, payer_id, clinician_id, amount "
    "FROM unnest(%s::integer[], %s::varchar[], %s::date[], %s::varchar[], %s::varchar[], %s::integer[], "
    "%s::integer[], %s::bigint[]) WITH ORDINALITY "
    "AS added (practice_id, period, day, measure, code, payer_id, clinician_id, amount, ordinal) ORDER BY ordinal "
    "ON CONFLICT (practice_id, period, measure, day, code, payer_id, clinician_id) "
    "DO UPDATE SET amount = report_totals.amount + excluded.amount")
_TOTALS_COLUMNS = ("practice_id", "period", "day", "measure", "code", "payer_id", "clinician_id", "amount")


def _add_to_totals(session: Session, deltas: dict[Key, int]) -> None:
    rows = [{"practice_id": key[0], "period": key[6], "day": key[1], "measure": key[2], "code": key[3],
             "payer_id": key[4], "clinician_id": key[5], "amount": amount}
            for key, amount in sorted(_by_period(deltas).items(), key=lambda item: (item[0][6], item[0][:6]))
            if amount]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One statement, where executemany ran one per row: a save adds to 30–100 rows (it was a fifth of its refresh).
        session.connection().exec_driver_sql(_ADD_TO_TOTALS_POSTGRESQL,
                                             tuple([row[column] for row in rows] for column in _TOTALS_COLUMNS))
        return
    statement = sqlite.insert(ReportTotal)  # in-process: executemany costs no round trips
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in ReportTotal.__table__.primary_key.columns],
        set_={"amount": ReportTotal.__table__.c.amount + statement.excluded.amount})
    session.execute(statement, rows)


# ---------------------------------------------------------------- working facts out from the entries


class _Zones:
    """Each practice's time zone, to date timestamps by the practice's local day."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.zones: dict[int, str | None] = {}

    def day(self, practice_id: int, moment: datetime) -> date:
        if practice_id not in self.zones:
            self.zones[practice_id] = self.session.scalar(select(Practice.timezone).where(Practice.id == practice_id))
        return dates.local_day(moment, self.zones[practice_id])


@dataclass
class _Found:
    facts: dict[int, dict[Key, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    receivables: dict[int, dict] = field(default_factory=dict)


def split(amount: int, lines: list[tuple[str, int]]) -> Iterator[tuple[str, int]]:
    """An amount split over (code, weight) lines pro rata by cumulative integer division: line i gets
    a·W_i/W − a·W_(i−1)/W, with W_i the weight of lines 1..i; the parts add up to exactly a."""
    if not lines:
        yield "", amount
        return
    whole = sum(weight for _, weight in lines)
    running = taken = 0
    for code, weight in lines:
        running += weight
        upto = amount * running // whole
        yield code, upto - taken
        taken = upto


def line_weight(price_cents: int, units: int) -> int:
    """A line's weight in `split`: its charge × 100, + 1 (so that a bill charging nothing splits evenly)."""
    return price_cents * units * 100 + 1


def _bill_facts(session: Session, ids: list[int], zones: _Zones, lock: bool) -> _Found:
    found = _Found()
    bills = session.execute(_first_read(select(Bill.id, Bill.practice_id, Bill.status, Bill.clinician_id,
                                               Bill.issued_at, Bill.client_id, Bill.service_date)
                                        .where(Bill.id.in_(ids)), Bill, lock)).all()
    claims: dict[int, list] = defaultdict(list)
    for bill_id, frequency, payer_id, status, action in session.execute(
            select(Claim.bill_id, Claim.frequency_code, Claim.payer_id, Claim.status, Claim.denial_action)
            .where(Claim.bill_id.in_(ids)).order_by(Claim.id)):
        claims[bill_id].append((frequency, payer_id, status, action))
    lines: dict[int, list] = defaultdict(list)
    for bill_id, code, price, units in session.execute(
            select(BillLine.bill_id, BillLine.code, BillLine.price_cents, BillLine.units)
            .where(BillLine.bill_id.in_(ids)).order_by(BillLine.bill_id, BillLine.position, BillLine.id)):
        lines[bill_id].append((code, price, units))
    adjustments: dict[int, list] = defaultdict(list)
    for bill_id, kind, amount, created_at in session.execute(
            select(Adjustment.bill_id, Adjustment.kind, Adjustment.amount_cents, Adjustment.created_at)
            .where(Adjustment.bill_id.in_(ids))):
        adjustments[bill_id].append((kind, amount, created_at))
    allocations: dict[int, list] = defaultdict(list)
    for bill_id, amount, created_at, received_on, source in session.execute(
            select(Allocation.bill_id, Allocation.amount_cents, Allocation.created_at, Payment.received_on,
                   Payment.source).join(Payment, Payment.id == Allocation.payment_id)
            .where(Allocation.bill_id.in_(ids))):
        allocations[bill_id].append((amount, created_at, received_on, source))
    for bill_id, practice_id, status, clinician_id, issued_at, client_id, service_date in bills:
        originals = [claim for claim in claims[bill_id] if claim[0] == "1"]
        payer_id = originals[0][1] if originals else 0
        clinician_id = clinician_id or 0
        bill_lines = lines[bill_id]
        weights = [(code, line_weight(price, units)) for code, price, units in bill_lines]
        facts = found.facts[bill_id]
        issued = status in ISSUED
        # Charges fall on the bill's date of service (a date, used as it is); the issue day only without one.
        charged_on = service_date or (zones.day(practice_id, issued_at) if issued_at is not None else None)
        if issued and charged_on is not None:
            day = charged_on
            for code, price, units in bill_lines:
                facts[(practice_id, day, "charges", code, payer_id, clinician_id)] += price * units
        if issued:
            for kind, amount, created_at in adjustments[bill_id]:
                measure = "write_offs" if kind == AdjustmentKind.WRITE_OFF else "adjustments"
                day = zones.day(practice_id, created_at)
                for code, part in split(amount, weights):
                    facts[(practice_id, day, measure, code, payer_id, clinician_id)] += part
        for amount, created_at, received_on, source in allocations[bill_id]:
            measure = "insurance_paid" if source == PaymentSource.INSURANCE else "client_paid"
            day = received_on if amount > 0 else zones.day(practice_id, created_at)
            for code, part in split(amount, weights):
                facts[(practice_id, day, measure, code, payer_id, clinician_id)] += part
        # Aging: who owes the balance of a receivable bill (app/billing/responsibility.py).
        owed_by = responsibility.side(status, [(frequency, status_, action)
                                               for frequency, _, status_, action in claims[bill_id]])
        if owed_by is not None:
            balance = (sum(price * units for _, price, units in bill_lines)
                       - sum(amount for amount, *_ in allocations[bill_id])
                       - sum(amount for _, amount, _ in adjustments[bill_id]))
            if balance:
                insurance = owed_by == responsibility.Side.INSURANCE
                measure = "owed_insurance" if insurance else "owed_client"
                facts[(practice_id, service_date or UNDATED, measure, "", payer_id, clinician_id)] += balance
                found.receivables[bill_id] = {
                    "bill_id": bill_id, "practice_id": practice_id, "client_id": client_id,
                    "clinician_id": clinician_id, "payer_id": payer_id, "service_date": service_date,
                    "insurance": insurance, "balance_cents": balance}
    return found


def _session_facts(session: Session, ids: list[int], zones: _Zones, lock: bool) -> _Found:
    found = _Found()
    rows = [row[:4] for row in session.execute(_first_read(
        select(TherapySession.id, TherapySession.practice_id, TherapySession.starts_at, TherapySession.clinician_id,
               TherapySession.status).where(TherapySession.id.in_(ids)), TherapySession, lock))
        if row.status == SessionStatus.COMPLETED]
    services: dict[int, list] = defaultdict(list)
    for session_id, code, units in session.execute(
            select(SessionService.session_id, SessionService.code, SessionService.units)
            .where(SessionService.session_id.in_(ids))):
        services[session_id].append((code, units))
    payers: dict[int, int] = {}
    for session_id, payer_id in session.execute(
            select(BillLine.session_id, Claim.payer_id).join(Bill, Bill.id == BillLine.bill_id)
            .join(Claim, and_(Claim.bill_id == Bill.id, Claim.frequency_code == "1"))
            .where(BillLine.session_id.in_(ids), Bill.status != BillStatus.VOID).order_by(Claim.id)):
        payers.setdefault(session_id, payer_id)
    for session_id, practice_id, starts_at, clinician_id in rows:
        day = zones.day(practice_id, starts_at)
        payer_id, clinician_id = payers.get(session_id, 0), clinician_id or 0
        facts = found.facts[session_id]
        codes = defaultdict(int)
        for code, units in services[session_id]:
            codes[code] += units
        for code, units in codes.items():
            facts[(practice_id, day, "sessions", code, payer_id, clinician_id)] += 1
            facts[(practice_id, day, "units", code, payer_id, clinician_id)] += units
    return found


def _claim_facts(session: Session, ids: list[int], zones: _Zones, lock: bool) -> _Found:
    found = _Found()
    rows = [row[:6] for row in session.execute(_first_read(
        select(Claim.id, Claim.practice_id, Claim.status, Claim.payer_id, Claim.clinician_id, Claim.service_date,
               Claim.frequency_code).where(Claim.id.in_(ids)), Claim, lock))
        if row.frequency_code != "8" and row.status != ClaimStatus.WITHDRAWN]
    rejected, left_queue = set(), set()
    for claim_id, from_status, to_status, source in session.execute(
            select(ClaimEvent.claim_id, ClaimEvent.from_status, ClaimEvent.to_status, ClaimEvent.source)
            .where(ClaimEvent.claim_id.in_(ids))):
        if to_status == ClaimStatus.NEEDS_REVIEW and source == "clearinghouse":
            rejected.add(claim_id)
        # A claim Queued or in Needs Review now was submitted if an event other than the scrubber's took it out of
        # Queued (to Sent, or a clearinghouse's answer).
        if from_status == ClaimStatus.QUEUED and (to_status != ClaimStatus.NEEDS_REVIEW or source == "clearinghouse"):
            left_queue.add(claim_id)
    reasons: dict[int, set] = defaultdict(set)
    paid_on: dict[int, date] = {}
    for claim_id, outcome, adjustments, day in session.execute(
            select(RemittanceClaim.claim_id, RemittanceClaim.outcome, RemittanceClaim.adjustments, Remittance.paid_on)
            .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
            .where(RemittanceClaim.claim_id.in_(ids), RemittanceClaim.outcome.in_(("denied", "paid")),
                   RemittanceClaim.reversed_at.is_(None))):
        if outcome == "denied":
            for entry in adjustments or []:
                reasons[claim_id].add(f"{entry['group']}-{entry['reason']}")
        elif day is not None:
            paid_on[claim_id] = min(day, paid_on.get(claim_id, day))
    for claim_id, practice_id, status, payer_id, clinician_id, service_date in rows:
        facts = found.facts[claim_id]
        key = (practice_id, service_date)
        who = (payer_id, clinician_id or 0)

        def count(measure: str, code: str = "") -> None:
            facts[(*key, measure, code, *who)] += 1

        count("claims")
        if status not in WAITING or claim_id in left_queue:
            count("claims_submitted")
            if claim_id not in rejected:
                count("claims_accepted")
        if status in (ClaimStatus.PAID, ClaimStatus.DENIED):
            count("claims_adjudicated")
        if status == ClaimStatus.DENIED:
            count("claims_denied")
            for code in reasons[claim_id]:
                count("claims_reason", code)
        if status == ClaimStatus.PAID and claim_id in paid_on:
            count("claims_paid_days", str((paid_on[claim_id] - service_date).days))
    return found


def _payment_facts(session: Session, ids: list[int], zones: _Zones, lock: bool) -> _Found:
    found = _Found()
    for payment_id, practice_id, source, amount, received_on, reversed_at in session.execute(_first_read(
            select(Payment.id, Payment.practice_id, Payment.source, Payment.amount_cents, Payment.received_on,
                   Payment.reversed_at).where(Payment.id.in_(ids)), Payment, lock)):
        measure = "ledger_insurance_paid" if source == PaymentSource.INSURANCE else "ledger_client_paid"
        facts = found.facts[payment_id]
        facts[(practice_id, received_on, measure, "", 0, 0)] += amount
        if reversed_at is not None:
            facts[(practice_id, zones.day(practice_id, reversed_at), measure, "", 0, 0)] -= amount
    return found


def _refund_facts(session: Session, ids: list[int], zones: _Zones, lock: bool) -> _Found:
    found = _Found()
    for refund_id, practice_id, amount, refunded_on in session.execute(_first_read(
            select(Refund.id, Refund.practice_id, Refund.amount_cents, Refund.refunded_on)
            .where(Refund.id.in_(ids)), Refund, lock)):
        found.facts[refund_id][(practice_id, refunded_on, "ledger_client_paid", "", 0, 0)] -= amount
    return found


#: Each kind of source record: its model, and how its facts are worked out from the entries.
_SOURCES = {"bill": (Bill, _bill_facts), "session": (TherapySession, _session_facts), "claim": (Claim, _claim_facts),
            "payment": (Payment, _payment_facts), "refund": (Refund, _refund_facts)}
