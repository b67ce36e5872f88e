"""The reports, computed in the database from the entries the ledger and the claims use: no report keeps its own
copy of money. Each function takes a ReportFilter and returns the plain data of app/billing/reports_data.py;
no Flask request in sight. Every figure is a GROUP BY in SQL (SQLAlchemy 2 `select`), folded into the
dataclasses in Python over the grouped rows (a few thousand; for aging one per client, payer, age and side),
never over the sessions, bills or entries themselves.

Common rules
- Scope: one practice (`practice_id`). `clinician_id` keeps only that clinician's work: sessions by
  `TherapySession.clinician_id`, money and balances by `Bill.clinician_id`, claims by `Claim.clinician_id`
  (copied from the bill). A clinician's reports are built with their own id, so they never include another
  clinician's sessions, bills or claims.
- A bill's payer is the payer of its original claim (frequency 1; `claims.claim_for_bill` makes at most one
  per bill, and replacement and void claims go to the same payer). A bill without a claim is self-pay
  (payer 0, "Self-pay"). `payer_id` filters: service trends by the payer of the claim of the (non-void) bill
  that covers the session (a session on no such bill is self-pay); revenue and aging by the bill's payer;
  claim outcomes by `Claim.payer_id` (self-pay has no claims, so that report is empty for payer 0).
- Days and months are the practice's (`Practice.timezone`). A date range is inclusive: `start` 00:00 to
  the end of `end`, local time. Timestamps (session starts, bill issue, adjustments, allocations, reversals)
  are bucketed into months in SQL by comparing them with the UTC instants at which each local month begins:
  one CASE expression built by `_Calendar`, the same on SQLite and PostgreSQL, exact across daylight-saving
  changes, with range conditions that use the indexes. Date columns (payments' received-on, refunds'
  refunded-on) are local days already; their month is year × 12 + month (`_Calendar.month_of_date`, the one
  dialect-specific expression: text on SQLite, EXTRACT on PostgreSQL).
  Note: `ledger.entries` dates timestamped entries (bills issued, adjustments, reversals) by their UTC date,
  the reports by the practice's date, so the two differ for entries made between local and UTC midnight.

Service trends (`service_trends`)
- Sessions with status Completed whose start falls in the range. Per month, code and clinician: `sessions`
  is the number of sessions with at least one line of that code, `units` the sum of those lines' units
  (SessionService, what the clinician recorded when completing the session).
- Band shares: per month, the sessions of 90832, 90834 and 90837 (all clinicians in scope), each code's
  share of the three together, rounded to 4 places (all 0 in a month without any).

Revenue (`revenue`): the ledger's entries (app/billing/ledger.py), summed for the period:
- charges: lines of Open and Complete bills issued in the period (the ledger drops Pended and Void bills);
- insurance_paid / client_paid: payments of that source received in the period, less payments of that
  source reversed in the period; client_paid also less refunds made in the period;
- adjustments (kinds contractual and adjustment) and write_offs (kind write-off): recorded in the period,
  on Open and Complete bills.
  So, without filters, `totals` equals what `ledger.entries` shows over all clients for the same days, and
  `by_month` sums to `totals`.
- By code, payer and clinician every amount is attributed to bills, then to bill lines:
  - a charge is its line's;
  - an adjustment or write-off is its bill's;
  - a payment reaches bills through its allocations: an allocation that applies money (positive) counts on
    its payment's received-on day; one that takes money back (negative: a reversal, a void, a balance
    lowered below what was paid) on the day it was made;
  - a bill's amount a is split over the bill's lines pro rata to their charges by cumulative integer
    division: line i gets a·W_i/W − a·W_(i−1)/W (integer division), where W_i is the weight of lines 1..i in
    position order and W of all; the parts add up to exactly a, so the by-code figures sum to the bill's
    amount to the cent. A line weighs 100 × its charge (price × units) + 1: pro rata to the cent in practice,
    and a bill that charges nothing splits evenly. Each entry (allocation, adjustment) is split by itself.
    PostgreSQL does it with window functions, SQLite with one small index range per line (its window
    functions cost far more); both give the same cents;
  - payments that reached no bill in the period (money kept as client credit, refunds, credit from a
    reversed payment) go to the group `UNAPPLIED` in each breakdown, so that every breakdown sums to
    `totals` exactly: per month and source, what the ledger counts less what reached bills.
- With a clinician or payer filter only money that reaches that clinician's or payer's bills counts: charges
  and adjustments of those bills and payments through their allocations (dated as above); the totals are
  then the sums of those amounts, and client credit not applied to a bill and refunds are not in them.

Accounts receivable aging (`aging`)
- A receivable is a bill someone has been asked to pay or is being asked to: an Open bill, or a Pended bill
  that has a claim (the practice's default holds the client's bill until the payer's 835 opens it, so the
  insurance receivable lives on Pended bills). Complete bills owe nothing (the status machine completes a
  bill exactly when its balance is zero); Void bills and Pended bills without a claim are not receivables.
  Balances are today's (charges − allocations − adjustments, as `bills.totals`); `as_of` (default: today in
  the practice's time zone) is the day ages are measured to. The start and end of the filter are ignored.
- Age is `as_of` − the bill's date of service (its first): 0–30, 31–60, 61–90, over 90 days; a bill dated
  after `as_of` (paid in advance) or without a date is 0–30.
- Responsibility: insurance while the bill's latest original or replacement claim is unsettled (Queued For
  Submission, Sent, Received, In process, Needs Review) or Denied with the denial not worked yet or appealed;
  the client's once it is Paid (what is left is deductible, coinsurance or copay), once the denial was billed
  to the client, written off or voided, and for bills without a claim.
- by_payer groups by the bill's payer (id None and "Self-pay" without a claim), with both columns; by_client by
  the bill's client. `totals` equals the sum of `bills.totals(bill).balance` over the receivable bills in
  scope. It is not reduced by client credit (unapplied payments): the ledger's balance is those Open bills'
  balances minus that credit.

Claim outcomes (`claim_outcomes`)
- The claims are those whose date of service is in the period (a cohort, as the claims page filters them),
  originals and replacements; void claims (frequency 8) cancel a claim and are not counted.
- submitted: claims that left the queue for the payer: a status after sending (Sent, Received, In process,
  Paid, Denied), or, for a claim now Queued or in Needs Review, an event that took it out of Queued other
  than the scrubber's (to Sent, or a clearinghouse's answer: accepted or rejected on upload).
- accepted_first_pass: submitted claims the clearinghouse or payer never rejected: no event moved them to
  Needs Review with source "clearinghouse" (a rejection on upload, a 999 or a 277CA). Needs Review set by the
  scrubber before sending, or by a person, is not a rejection. first_pass_rate = accepted / submitted.
- by_payer: adjudicated = claims now Paid or Denied, denied = claims now Denied, denial_rate = denied /
  adjudicated; top_reasons: the adjustment reason codes (CARC, any group) of the standing (not reversed)
  denial postings of the denied claims, each claim counted once per code, most frequent first (5 at most),
  in plain words (`app.x12.reasons`).
- paid_claims / median_days_to_payment: claims now Paid with a standing (not reversed) paid 835 posting whose
  remittance has a payment date (BPR16): days from the claim's date of service to the earliest such payment
  date; the median over those claims (the mean of the two middle values for an even count), worked out in
  Python from a histogram of days grouped in SQL.

Database work
- Every query reads covering indexes (see the migration "report indexes"), so the wide rows (bills' and
  claims' snapshots) are not read. On PostgreSQL each report turns JIT compilation off and gives sorts and
  hashes 64 MB for its own transaction (`_settle_in`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, exists, extract, func, literal, or_, select, text, true, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from app.billing.reports_data import (TIME_BANDS, Aging, AgingGroup, AgingLine, BandShare,
                                      ClaimOutcomes, Money, PayerOutcome, ReasonCount, ReportFilter, Revenue,
                                      RevenueGroup, ServiceTrends, TrendRow)
from app.extensions import db
from app.models import (Adjustment, AdjustmentKind, Allocation, Bill, BillLine, BillStatus, Claim, ClaimEvent,
                        ClaimStatus, Client, Member, Payer, Payment, PaymentSource, PostingOutcome, Practice, Refund,
                        Remittance, RemittanceClaim, SessionService, SessionStatus, TherapySession)
from app.x12 import reasons

#: The breakdown group of payments that reached no bill in the period (client credit, refunds).
UNAPPLIED = "Not applied to a bill (client credit)"
SELF_PAY = "Self-pay"
NO_CLINICIAN = "No clinician"
NO_LINES = "No lines"
#: Bills the ledger shows.
ISSUED = (BillStatus.OPEN, BillStatus.COMPLETE)
#: Claim statuses in which the payer has not decided yet.
UNSETTLED = (ClaimStatus.QUEUED, ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS,
             ClaimStatus.NEEDS_REVIEW)
#: Denials still with the payer: not worked yet, or appealed.
DENIAL_STILL_WITH_PAYER = ("appealed",)
TOP_REASONS = 5
_FIELDS = ("charges", "insurance_paid", "client_paid", "adjustments", "write_offs")
_SHARE = Decimal("0.0001")


# ---------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class _Calendar:
    """The filter's days and months in the practice's time zone, as SQL bounds and month buckets."""

    zone: ZoneInfo
    start: date
    end: date
    months: list[date]

    @classmethod
    def of(cls, practice_id: int, start: date, end: date) -> "_Calendar":
        practice = db.session.get(Practice, practice_id)
        zone = ZoneInfo(practice.timezone if practice else "America/New_York")
        months, month = [], start.replace(day=1)
        while month <= end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return cls(zone, start, end, months)

    def instant(self, day: date) -> datetime:
        """Local midnight at the start of `day`, as an aware datetime."""
        return datetime.combine(day, time(0), tzinfo=self.zone)

    @property
    def first_instant(self) -> datetime:
        return self.instant(self.start)

    @property
    def after_instant(self) -> datetime:
        """The first instant after the range (exclusive upper bound for timestamps)."""
        return self.instant(self.end + timedelta(days=1))

    def in_range(self, column):
        """A timestamp column within the range (local days, inclusive)."""
        return and_(column >= self.first_instant, column < self.after_instant)

    def month_of_timestamp(self, column):
        """The month's index in `months` of a timestamp column already limited to the range: a CASE over the UTC
        instants at which the practice's months begin (exact across daylight-saving changes)."""
        bounds = [self.instant(month) for month in self.months[1:]]
        if not bounds:
            return literal(0, Integer)
        if _dialect() == "sqlite":
            # Unary + drops the column's NUMERIC affinity, so each comparison is a plain text comparison
            # (UTC timestamps are stored as ISO text) instead of a failed numeric conversion first.
            column = UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
        return case(*[(column < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))

    def month_of_date(self, column):
        """The month's index in `months` of a date column already limited to the range (a local day): year × 12
        + month, less the first month's."""
        first = self.months[0].year * 12 + self.months[0].month
        if _dialect() == "sqlite":  # dates are ISO text
            number = cast(func.substr(column, 1, 4), Integer) * 12 + cast(func.substr(column, 6, 2), Integer)
        else:
            number = cast(extract("year", column) * 12 + extract("month", column), Integer)
        return number - first


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _settle_in() -> None:
    """PostgreSQL, for the rest of the caller's transaction only: no JIT compilation (for queries of this size
    it costs more time than it saves) and room for the hash tables and sorts to stay in memory."""
    if _dialect() == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def _bill_payer():
    """The original claim of a bill (outer-joined), whose payer is the bill's payer."""
    return aliased(Claim, name="payer_claim")


def _join_bill_payer(query, bill, payer_claim):
    return query.outerjoin(payer_claim, and_(payer_claim.bill_id == bill.id, payer_claim.frequency_code == "1"))


def _bill_conditions(f: ReportFilter, bill, payer_claim) -> list:
    conditions = []
    if f.clinician_id is not None:
        conditions.append(bill.clinician_id == f.clinician_id)
    if f.payer_id is not None:
        conditions.append(func.coalesce(payer_claim.payer_id, 0) == f.payer_id)
    return conditions


def _clinician_names(practice_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(Member.id, Member.name).where(Member.practice_id == practice_id)).all())


def _payer_names(practice_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(Payer.id, Payer.name).where(Payer.practice_id == practice_id)).all())


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(_SHARE) if whole else None


# ---------------------------------------------------------------- service trends


def service_trends(f: ReportFilter) -> ServiceTrends:
    """Completed sessions and units per code per month by clinician, and the time bands' monthly shares."""
    _settle_in()
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    session, line = TherapySession, SessionService
    conditions = [session.practice_id == f.practice_id, session.status == SessionStatus.COMPLETED,
                  calendar.in_range(session.starts_at)]
    if f.clinician_id is not None:
        conditions.append(session.clinician_id == f.clinician_id)
    if f.payer_id is not None:
        claimed = (select(Claim.id).select_from(BillLine).join(Bill, Bill.id == BillLine.bill_id)
                   .join(Claim, and_(Claim.bill_id == Bill.id, Claim.frequency_code == "1"))
                   .where(BillLine.session_id == session.id, Bill.status != BillStatus.VOID))
        conditions.append(~exists(claimed) if f.payer_id == 0 else exists(claimed.where(Claim.payer_id == f.payer_id)))
    rows = (select(calendar.month_of_timestamp(session.starts_at).label("month"), line.code.label("code"),
                   session.clinician_id.label("clinician_id"), session.id.label("session_id"),
                   line.units.label("units"))
            .select_from(session).join(line, line.session_id == session.id).where(*conditions)).subquery()
    grouped = db.session.execute(
        select(rows.c.month, rows.c.code, rows.c.clinician_id, func.count(func.distinct(rows.c.session_id)),
               func.sum(rows.c.units))
        .group_by(rows.c.month, rows.c.code, rows.c.clinician_id)).all()
    names = _clinician_names(f.practice_id)
    trend_rows = sorted(
        (TrendRow(month=calendar.months[month], code=code, clinician_id=clinician_id,
                  clinician_name=names.get(clinician_id, NO_CLINICIAN), sessions=int(sessions), units=int(units))
         for month, code, clinician_id, sessions, units in grouped),
        key=lambda row: (row.month, row.code, row.clinician_name, row.clinician_id))
    band_counts = {month: dict.fromkeys(TIME_BANDS, 0) for month in calendar.months}
    for row in trend_rows:
        if row.code in TIME_BANDS:
            band_counts[row.month][row.code] += row.sessions
    bands = []
    for month in calendar.months:
        counts = band_counts[month]
        total = sum(counts.values())
        shares = {code: _rate(count, total) if total else Decimal(0) for code, count in counts.items()}
        bands.append(BandShare(month=month, counts=counts, shares=shares))
    return ServiceTrends(months=list(calendar.months), rows=trend_rows, bands=bands)


# ---------------------------------------------------------------- revenue


def revenue(f: ReportFilter) -> Revenue:
    """Charges, insurance and client payments, adjustments and write-offs in the period, as the ledger counts
    them, by month, code, payer and clinician."""
    _settle_in()
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    filtered = f.clinician_id is not None or f.payer_id is not None
    #: (month index, code, payer id, clinician id, field) → cents
    facts: dict[tuple, int] = defaultdict(int)
    for month, code, payer_id, clinician_id, cents in _charges(f, calendar):
        facts[(month, code, payer_id, clinician_id, "charges")] += int(cents)
    for month, field, code, payer_id, clinician_id, cents in _apportioned(f, calendar):
        facts[(month, code, payer_id, clinician_id, field)] += int(cents)
    if not filtered:
        attributed: dict[tuple[int, str], int] = defaultdict(int)
        for (month, _, _, _, field), cents in facts.items():
            if field in ("insurance_paid", "client_paid"):
                attributed[(month, field)] += cents
        ledger = _ledger_payments(f, calendar)
        for month, field in set(ledger) | set(attributed):
            rest = ledger.get((month, field), 0) - attributed[(month, field)]
            if rest:
                facts[(month, UNAPPLIED, UNAPPLIED, UNAPPLIED, field)] += rest
    return _fold_revenue(f, calendar, facts)


def _charges(f: ReportFilter, calendar: _Calendar):
    payer_claim = _bill_payer()
    rows = _join_bill_payer(
        select(calendar.month_of_timestamp(Bill.issued_at).label("month"), BillLine.code.label("code"),
               func.coalesce(payer_claim.payer_id, 0).label("payer_id"), Bill.clinician_id.label("clinician_id"),
               (BillLine.price_cents * BillLine.units).label("cents"))
        .select_from(Bill).join(BillLine, BillLine.bill_id == Bill.id), Bill, payer_claim) \
        .where(Bill.practice_id == f.practice_id, Bill.status.in_(ISSUED), calendar.in_range(Bill.issued_at),
               *_bill_conditions(f, Bill, payer_claim)).subquery()
    return db.session.execute(select(rows.c.month, rows.c.code, rows.c.payer_id, rows.c.clinician_id,
                                     func.sum(rows.c.cents))
                              .group_by(rows.c.month, rows.c.code, rows.c.payer_id, rows.c.clinician_id)).all()


def _source_field(payment):
    return case((payment.source == PaymentSource.INSURANCE, "insurance_paid"), else_="client_paid")


def _apportioned(f: ReportFilter, calendar: _Calendar):
    """Adjustments, write-offs and applied payments, each entry split over its bill's lines (see the module
    docstring): rows of (month, field, code, payer id, clinician id, cents). `entry` tells entries apart
    (allocation ids, and adjustment ids negated)."""
    adjustments = (
        select((-Adjustment.id).label("entry"), Adjustment.bill_id.label("bill_id"),
               calendar.month_of_timestamp(Adjustment.created_at).label("month"),
               case((Adjustment.kind == AdjustmentKind.WRITE_OFF, "write_offs"), else_="adjustments").label("field"),
               Adjustment.amount_cents.label("cents"))
        .where(Adjustment.practice_id == f.practice_id, calendar.in_range(Adjustment.created_at)))
    applied = (
        select(Allocation.id, Allocation.bill_id, calendar.month_of_date(Payment.received_on), _source_field(Payment),
               Allocation.amount_cents)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Payment.practice_id == f.practice_id, Payment.received_on >= calendar.start,
               Payment.received_on <= calendar.end, Allocation.amount_cents > 0))
    taken_back = (
        select(Allocation.id, Allocation.bill_id, calendar.month_of_timestamp(Allocation.created_at),
               _source_field(Payment), Allocation.amount_cents)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.practice_id == f.practice_id, Allocation.amount_cents < 0,
               calendar.in_range(Allocation.created_at)))
    amounts = union_all(adjustments, applied, taken_back).subquery("amounts")
    if _dialect() == "sqlite":
        return _split_row_by_row(f, amounts)
    return _split_by_window(f, amounts)


def _line_weight(line):
    """What a bill line weighs when a bill's amount is split over its lines: its charge × 100, + 1 (so that a
    bill charging nothing splits evenly)."""
    return line.price_cents * line.units * 100 + 1


def _split_by_window(f: ReportFilter, amounts):
    """The split with window functions over each entry's bill lines (PostgreSQL: one sort, hash joins and hash
    aggregates)."""
    payer_claim = _bill_payer()
    weight = func.coalesce(_line_weight(BillLine), 1)
    # One ordering serves both windows, so the database sorts once.
    window = {"partition_by": amounts.c.entry, "order_by": (BillLine.position, BillLine.id)}
    lines = _join_bill_payer(
        select(amounts.c.month, amounts.c.field, amounts.c.cents, BillLine.code.label("code"),
               Bill.clinician_id.label("clinician_id"), func.coalesce(payer_claim.payer_id, 0).label("payer_id"),
               weight.label("weight"), func.sum(weight).over(**window, rows=(None, 0)).label("running"),
               func.sum(weight).over(**window, rows=(None, None)).label("total"))
        .select_from(amounts).join(Bill, Bill.id == amounts.c.bill_id)
        .outerjoin(BillLine, BillLine.bill_id == Bill.id), Bill, payer_claim) \
        .where(or_(amounts.c.field.in_(("insurance_paid", "client_paid")), Bill.status.in_(ISSUED)),
               *_bill_conditions(f, Bill, payer_claim)).subquery("lines")
    c = lines.c
    share = c.cents * c.running // c.total - c.cents * (c.running - c.weight) // c.total
    return db.session.execute(select(c.month, c.field, c.code, c.payer_id, c.clinician_id, func.sum(share))
                              .group_by(c.month, c.field, c.code, c.payer_id, c.clinician_id)).all()


def _split_row_by_row(f: ReportFilter, amounts):
    """The same split, each amount's share of each line worked out by one small index range over the bill's lines
    (SQLite, whose window functions and sorts cost far more per row than an index lookup)."""
    line, other = BillLine, aliased(BillLine, name="other_line")
    payer_claim = _bill_payer()
    weight = _line_weight(other)
    before = or_(other.position < line.position, and_(other.position == line.position, other.id < line.id))
    share = select(amounts.c.cents * func.sum(case((or_(before, other.id == line.id), weight), else_=0))
                   // func.sum(weight)
                   - amounts.c.cents * func.sum(case((before, weight), else_=0)) // func.sum(weight)) \
        .where(other.bill_id == amounts.c.bill_id).scalar_subquery()
    rows = _join_bill_payer(
        select(amounts.c.month.label("month"), amounts.c.field.label("field"), line.code.label("code"),
               func.coalesce(payer_claim.payer_id, 0).label("payer_id"), Bill.clinician_id.label("clinician_id"),
               func.coalesce(share, amounts.c.cents).label("cents"))
        .select_from(amounts).join(Bill, Bill.id == amounts.c.bill_id)
        .outerjoin(line, line.bill_id == Bill.id), Bill, payer_claim) \
        .where(or_(amounts.c.field.in_(("insurance_paid", "client_paid")), Bill.status.in_(ISSUED)),
               *_bill_conditions(f, Bill, payer_claim)).subquery("shares")
    c = rows.c
    return db.session.execute(select(c.month, c.field, c.code, c.payer_id, c.clinician_id, func.sum(c.cents))
                              .group_by(c.month, c.field, c.code, c.payer_id, c.clinician_id)).all()


def _ledger_payments(f: ReportFilter, calendar: _Calendar) -> dict[tuple[int, str], int]:
    """Payments as the ledger counts them, by (month index, field): received, less reversed, less refunds."""
    found: dict[tuple[int, str], int] = defaultdict(int)
    received = select(calendar.month_of_date(Payment.received_on).label("month"),
                      _source_field(Payment).label("field"), Payment.amount_cents.label("cents")) \
        .where(Payment.practice_id == f.practice_id, Payment.received_on >= calendar.start,
               Payment.received_on <= calendar.end)
    reversed_ = select(calendar.month_of_timestamp(Payment.reversed_at), _source_field(Payment),
                       -Payment.amount_cents) \
        .where(Payment.practice_id == f.practice_id, Payment.reversed_at.is_not(None),
               calendar.in_range(Payment.reversed_at))
    refunded = select(calendar.month_of_date(Refund.refunded_on), literal("client_paid"), -Refund.amount_cents) \
        .where(Refund.practice_id == f.practice_id, Refund.refunded_on >= calendar.start,
               Refund.refunded_on <= calendar.end)
    rows = union_all(received, reversed_, refunded).subquery()
    for month, field, cents in db.session.execute(select(rows.c.month, rows.c.field, func.sum(rows.c.cents))
                                                  .group_by(rows.c.month, rows.c.field)):
        found[(month, field)] += int(cents)
    return found


def _money(values: dict[str, int]) -> Money:
    return Money(**{name: values.get(name, 0) for name in _FIELDS})


def _groups(sums: dict, label, order) -> list[RevenueGroup]:
    groups = [(key, values) for key, values in sums.items() if any(values.values())]
    groups.sort(key=lambda item: order(item[0]))
    return [RevenueGroup(key=label(key), money=_money(values)) for key, values in groups]


def _fold_revenue(f: ReportFilter, calendar: _Calendar, facts: dict[tuple, int]) -> Revenue:
    totals: dict[str, int] = defaultdict(int)
    by_month = {index: defaultdict(int) for index in range(len(calendar.months))}
    by_code, by_payer, by_clinician = (defaultdict(lambda: defaultdict(int)) for _ in range(3))
    for (month, code, payer_id, clinician_id, field), cents in facts.items():
        totals[field] += cents
        by_month[month][field] += cents
        by_code[code][field] += cents
        by_payer[payer_id][field] += cents
        by_clinician[clinician_id][field] += cents
    payers, clinicians = _payer_names(f.practice_id), _clinician_names(f.practice_id)

    def payer_label(key):
        return key if key == UNAPPLIED else SELF_PAY if key == 0 else payers.get(key, f"Payer {key}")

    def clinician_label(key):
        return key if key == UNAPPLIED else NO_CLINICIAN if key is None else clinicians.get(key, f"Member {key}")

    def code_label(key):
        return NO_LINES if key is None else key

    def order(label):
        return lambda key: (key == UNAPPLIED, key in (0, None), label(key).lower())

    return Revenue(totals=_money(totals),
                   by_month=[(calendar.months[index], _money(values)) for index, values in by_month.items()],
                   by_code=_groups(by_code, code_label, order(code_label)),
                   by_payer=_groups(by_payer, payer_label, order(payer_label)),
                   by_clinician=_groups(by_clinician, clinician_label, order(clinician_label)))


# ---------------------------------------------------------------- accounts receivable aging


def aging(f: ReportFilter, as_of: date | None = None) -> Aging:
    """Open balances by age on `as_of`, split into what insurance and clients owe, by payer and by client."""
    _settle_in()
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    as_of = as_of or datetime.now(calendar.zone).date()
    payer_claim = _bill_payer()
    latest = aliased(Claim, name="latest_claim")
    with_payer = select(case((or_(latest.status.in_(UNSETTLED),
                                  and_(latest.status == ClaimStatus.DENIED,
                                       or_(latest.denial_action.is_(None),
                                           latest.denial_action.in_(DENIAL_STILL_WITH_PAYER)))), 1), else_=0)) \
        .where(latest.bill_id == Bill.id, latest.frequency_code.in_(("1", "7"))) \
        .order_by(latest.id.desc()).limit(1).scalar_subquery()
    bucket = case((Bill.service_date.is_(None), 0), (Bill.service_date >= as_of - timedelta(days=30), 0),
                  (Bill.service_date >= as_of - timedelta(days=60), 1),
                  (Bill.service_date >= as_of - timedelta(days=90), 2), else_=3)
    # The receivable bills with what groups them, worked out once per bill (materialized), then their entries:
    # the balance of a group is its lines' charges less its allocations and adjustments.
    receivable = _join_bill_payer(
        select(Bill.id.label("bill_id"), bucket.label("bucket"), func.coalesce(with_payer, 0).label("insurance"),
               func.coalesce(payer_claim.payer_id, 0).label("payer_id"), Bill.client_id.label("client_id"))
        .select_from(Bill), Bill, payer_claim) \
        .where(Bill.practice_id == f.practice_id, Bill.status.in_((BillStatus.OPEN, BillStatus.PENDED)),
               or_(Bill.status == BillStatus.OPEN, payer_claim.id.is_not(None)),
               *_bill_conditions(f, Bill, payer_claim)).cte("receivable").prefix_with("MATERIALIZED")
    r = receivable.c
    keys = (r.bucket, r.insurance, r.payer_id, r.client_id)
    entries = union_all(
        select(*keys, (BillLine.price_cents * BillLine.units).label("cents"))
        .join(BillLine, BillLine.bill_id == r.bill_id),
        select(*keys, -Allocation.amount_cents).join(Allocation, Allocation.bill_id == r.bill_id),
        select(*keys, -Adjustment.amount_cents).join(Adjustment, Adjustment.bill_id == r.bill_id)).subquery("entries")
    e = entries.c
    grouped = select(e.bucket, e.insurance, e.payer_id, e.client_id, func.sum(e.cents).label("cents")) \
        .group_by(e.bucket, e.insurance, e.payer_id, e.client_id).subquery("grouped")
    g = grouped.c
    rows = db.session.execute(select(g.bucket, g.insurance, g.payer_id, g.client_id, Client.first_name,
                                     Client.last_name, g.cents).join(Client, Client.id == g.client_id)).all()
    totals = [[0] * 4, [0] * 4]  # [client, insurance] × bucket
    by_payer: dict[int, list] = defaultdict(lambda: [[0] * 4, [0] * 4])
    by_client: dict[int, list] = defaultdict(lambda: [[0] * 4, [0] * 4])
    client_names: dict[int, tuple[str, str]] = {}
    for bucket_index, insurance, payer_id, client_id, first_name, last_name, cents in rows:
        cents = int(cents)
        if not cents:
            continue
        totals[insurance][bucket_index] += cents
        by_payer[payer_id][insurance][bucket_index] += cents
        by_client[client_id][insurance][bucket_index] += cents
        client_names[client_id] = (last_name, first_name)

    def line(split) -> AgingLine:
        return AgingLine(insurance=tuple(split[1]), client=tuple(split[0]))

    payers = _payer_names(f.practice_id)
    payer_groups = [AgingGroup(key=SELF_PAY if payer_id == 0 else payers.get(payer_id, f"Payer {payer_id}"),
                               id=payer_id or None, line=line(split)) for payer_id, split in by_payer.items()
                    if any(split[0]) or any(split[1])]
    payer_groups.sort(key=lambda group: (group.id is None, group.key.lower()))
    client_groups = [AgingGroup(key=f"{client_names[client_id][1]} {client_names[client_id][0]}", id=client_id,
                                line=line(split)) for client_id, split in by_client.items()
                     if any(split[0]) or any(split[1])]
    client_groups.sort(key=lambda group: (client_names[group.id][0].lower(), client_names[group.id][1].lower(),
                                          group.id))
    return Aging(as_of=as_of, totals=line(totals), by_payer=payer_groups, by_client=client_groups)


# ---------------------------------------------------------------- claim outcomes


def _days_between(later, earlier):
    """Whole days from one date column to another, on either database."""
    if _dialect() == "postgresql":
        return later.op("-", return_type=Integer)(earlier)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _adjustment_codes(column):
    """A table of the (group, reason) of each entry of a JSON list of adjustments, joinable to its row."""
    if _dialect() == "postgresql":
        entries = func.json_array_elements(column).table_valued("value").alias("entry")
        return entries, entries.c.value.op("->>")("group"), entries.c.value.op("->>")("reason")
    entries = func.json_each(column).table_valued("value").alias("entry")
    return entries, func.json_extract(entries.c.value, "$.group"), func.json_extract(entries.c.value, "$.reason")


def claim_outcomes(f: ReportFilter) -> ClaimOutcomes:
    """First-pass acceptance, denial rates by payer with their most frequent reasons, and days to payment for
    the claims whose date of service is in the period."""
    _settle_in()
    claim = Claim
    cohort = [claim.practice_id == f.practice_id, claim.service_date >= f.start, claim.service_date <= f.end,
              claim.frequency_code != "8"]
    if f.clinician_id is not None:
        cohort.append(claim.clinician_id == f.clinician_id)
    if f.payer_id is not None:
        cohort.append(claim.payer_id == f.payer_id)
    rejections = select(ClaimEvent.claim_id).where(ClaimEvent.to_status == ClaimStatus.NEEDS_REVIEW,
                                                   ClaimEvent.source == "clearinghouse")
    rejected = case((claim.id.in_(rejections), 1), else_=0)
    waiting = (ClaimStatus.QUEUED, ClaimStatus.NEEDS_REVIEW)
    rows = select(claim.payer_id.label("payer_id"), claim.status.label("status"), rejected.label("rejected")) \
        .where(*cohort).subquery()
    counts = db.session.execute(select(rows.c.payer_id, rows.c.status, rows.c.rejected, func.count())
                                .group_by(rows.c.payer_id, rows.c.status, rows.c.rejected)).all()
    # A claim Queued or in Needs Review now was submitted if an event took it out of Queued other than the
    # scrubber's; looked up for those few claims only, one index range each.
    left_queue = exists().where(ClaimEvent.claim_id == claim.id, ClaimEvent.from_status == ClaimStatus.QUEUED,
                                or_(ClaimEvent.to_status != ClaimStatus.NEEDS_REVIEW,
                                    ClaimEvent.source == "clearinghouse"))
    waiting_rows = select(rejected.label("rejected")).where(*cohort, claim.status.in_(waiting), left_queue).subquery()
    resubmitted = db.session.execute(select(waiting_rows.c.rejected, func.count())
                                     .group_by(waiting_rows.c.rejected)).all()
    total_submitted = accepted = 0
    adjudicated: dict[int, int] = defaultdict(int)
    denied: dict[int, int] = defaultdict(int)
    for payer_id, status, was_rejected, count in counts:
        if status not in waiting:
            total_submitted += count
            accepted += 0 if was_rejected else count
        if status in (ClaimStatus.PAID, ClaimStatus.DENIED):
            adjudicated[payer_id] += count
        if status == ClaimStatus.DENIED:
            denied[payer_id] += count
    for was_rejected, count in resubmitted:
        total_submitted += count
        accepted += 0 if was_rejected else count
    top = _top_reasons(cohort)
    payers = _payer_names(f.practice_id)
    by_payer = [PayerOutcome(payer_id=payer_id, payer_name=payers.get(payer_id, f"Payer {payer_id}"),
                             adjudicated=adjudicated[payer_id], denied=denied[payer_id],
                             denial_rate=_rate(denied[payer_id], adjudicated[payer_id]),
                             top_reasons=top.get(payer_id, []))
                for payer_id in {payer_id for payer_id, *_ in counts}]
    by_payer.sort(key=lambda outcome: (outcome.payer_name.lower(), outcome.payer_id))
    paid_claims, median = _days_to_payment(cohort)
    return ClaimOutcomes(submitted=total_submitted, accepted_first_pass=accepted,
                         first_pass_rate=_rate(accepted, total_submitted), by_payer=by_payer, paid_claims=paid_claims,
                         median_days_to_payment=median)


def _top_reasons(cohort: list) -> dict[int, list[ReasonCount]]:
    posting = RemittanceClaim
    entries, group, reason = _adjustment_codes(posting.adjustments)
    rows = select(Claim.payer_id.label("payer_id"), Claim.id.label("claim_id"), group.label("group"),
                  reason.label("reason")) \
        .select_from(Claim).join(posting, posting.claim_id == Claim.id).join(entries, true()) \
        .where(*cohort, Claim.status == ClaimStatus.DENIED, posting.outcome == PostingOutcome.DENIED,
               posting.reversed_at.is_(None)).subquery()
    found: dict[int, list[ReasonCount]] = defaultdict(list)
    for payer_id, group_code, reason_code, count in db.session.execute(
            select(rows.c.payer_id, rows.c.group, rows.c.reason, func.count(func.distinct(rows.c.claim_id)))
            .group_by(rows.c.payer_id, rows.c.group, rows.c.reason)):
        found[payer_id].append(ReasonCount(group=group_code, code=reason_code, count=int(count),
                                           text=reasons.describe_reason(reason_code)))
    return {payer_id: sorted(counts, key=lambda r: (-r.count, r.group, r.code))[:TOP_REASONS]
            for payer_id, counts in found.items()}


def _days_to_payment(cohort: list) -> tuple[int, Decimal | None]:
    posting, remittance = RemittanceClaim, Remittance
    per_claim = select(Claim.id, func.min(_days_between(remittance.paid_on, Claim.service_date)).label("days")) \
        .select_from(Claim) \
        .join(posting, and_(posting.claim_id == Claim.id, posting.outcome == PostingOutcome.PAID,
                            posting.reversed_at.is_(None))) \
        .join(remittance, remittance.id == posting.remittance_id) \
        .where(*cohort, Claim.status == ClaimStatus.PAID, remittance.paid_on.is_not(None)) \
        .group_by(Claim.id).subquery()
    histogram = sorted((int(days), int(count)) for days, count in db.session.execute(
        select(per_claim.c.days, func.count()).group_by(per_claim.c.days)))
    total = sum(count for _, count in histogram)
    return total, _median(histogram, total)


def _median(histogram: list[tuple[int, int]], total: int) -> Decimal | None:
    """The median of values given as sorted (value, how many) pairs."""
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # 0-based positions of the middle value(s)
    found, seen = [], 0
    for value, count in histogram:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return Decimal(found[0] + found[1]) / 2
