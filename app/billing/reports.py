"""The reports, from the same entries the ledger and the claims use. Each function takes a ReportFilter and returns
the plain data of app/billing/reports_data.py; no Flask request in sight. They read the maintained summaries of
app/billing/summaries.py (each source record's facts summed by day and by month, kept exact in the same
transaction as the entries, and equal to a rebuild from the entries alone) with one GROUP BY each, and fold the
grouped rows (a few thousand) into the dataclasses in Python.

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
- Days and months are the practice's (`Practice.timezone`): every fact is dated by the practice's local day
  (timestamps converted when the fact is worked out; bills' and claims' dates of service, payments' received-on
  and refunds' refunded-on are dates already). A date range is inclusive; its whole months are read from the
  month totals and the days before the first and after the last whole month from the day totals.
  Note: `ledger.entries` dates timestamped entries (bills issued, adjustments, reversals) by their UTC date,
  the reports by the practice's date, so the two differ for entries made between local and UTC midnight.

Service trends (`service_trends`)
- Sessions with status Completed whose start falls in the range. Per month, code and clinician: `sessions`
  is the number of sessions with at least one line of that code, `units` the sum of those lines' units
  (SessionService, what the clinician recorded when completing the session).
- Band shares: per month, the sessions of 90832, 90834 and 90837 (all clinicians in scope), each code's
  share of the three together, rounded to 4 places (all 0 in a month without any).

Revenue (`revenue`): the ledger's entries (app/billing/ledger.py), summed for the period:
- charges: lines of Open and Complete bills whose date of service is in the period (the month of service, even
  for a bill held Pended until the payer answers; the day it was issued for a bill without a date of service;
  the ledger drops Pended and Void bills too, but dates a bill by its issue);
- insurance_paid / client_paid: payments of that source received in the period, less payments of that
  source reversed in the period; client_paid also less refunds made in the period;
- adjustments (kinds contractual and adjustment) and write_offs (kind write-off): recorded in the period,
  on Open and Complete bills.
  So, without filters, `totals` equals what `ledger.entries` shows over all clients for the same days, but for
  charges (by date of service here, by issue there), and `by_month` sums to `totals`.
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
  - payments that reached no bill in the period (money kept as client credit, refunds, credit from a
    reversed payment) go to the group `UNAPPLIED` in each breakdown, so that every breakdown sums to
    `totals` exactly: per month and source, what the ledger counts less what reached bills.
- With a clinician or payer filter only money that reaches that clinician's or payer's bills counts: charges
  and adjustments of those bills and payments through their allocations (dated as above); the totals are
  then the sums of those amounts, and client credit not applied to a bill and refunds are not in them.

Accounts receivable aging (`aging`)
- A receivable is a bill someone has been asked to pay or is being asked to: an Open bill, or a Pended bill
  while insurance holds it (the practice's default holds the client's bill until the payer's 835 opens it, so
  the insurance receivable lives on Pended bills). Complete bills owe nothing (the status machine completes a
  bill exactly when its balance is zero); Void bills and other Pended bills are not receivables.
  Balances are today's (charges − allocations − adjustments, as `bills.totals`); `as_of` (default: today in
  the practice's time zone) is the day ages are measured to. The start and end of the filter are ignored.
- Age is `as_of` − the bill's date of service (its first): 0–30, 31–60, 61–90, over 90 days; a bill dated
  after `as_of` (paid in advance) or without a date is 0–30.
- Responsibility (`responsibility.side`, which the ledger, the statement and the bill page use too): insurance
  while the bill's latest original or replacement claim is unsettled (Queued For Submission, Sent, Received, In
  process, Needs Review) or Denied with the denial not worked yet or appealed; the client's once it is Paid
  (what is left is deductible, coinsurance or copay), once the denial was billed to the client, written off or
  voided, and for bills without a claim.
- by_payer groups by the bill's payer (id None and "Self-pay" without a claim), with both columns; by_client by
  the bill's client, in name order, a page of CLIENTS_PER_PAGE at a time (`clients_next_after`: the client
  the next page starts after), or every client with `clients_per_page=None`. `totals` equals the sum of
  `bills.totals(bill).balance` over the receivable bills in scope. It is not reduced by client credit
  (unapplied payments): a client's ledger balance is their side of it minus that credit.

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
- Small grouped queries over `report_totals`, whose primary key leads with practice, period, measure and day:
  each reads only the rows it shows (a dimension not broken down by is read from its rollup), so the work
  grows with the number of months, codes, payers and clinicians, not with the number of sessions or entries.
  Aging sums the balance totals (`owed_insurance`, `owed_client`, by date of service): the days of the last
  three to four months and the months before; by client it reads one page of clients from the name index and
  their rows of `receivables`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, literal, or_, select, text, tuple_

from app.billing import dates, summaries
from app.billing.summaries import ALL_CLINICIANS, ALL_CODES, ALL_PAYERS
from app.billing.reports_data import (TIME_BANDS, Aging, AgingGroup, AgingLine, BandShare,
                                      ClaimOutcomes, Money, PayerOutcome, ReasonCount, ReportFilter, Revenue,
                                      RevenueGroup, ServiceTrends, TrendRow)
from app.extensions import db
from app.models import Client, Member, Payer, Practice, Receivable, ReportTotal
from app.x12 import reasons

#: The breakdown group of payments that reached no bill in the period (client credit, refunds).
UNAPPLIED = "Not applied to a bill (client credit)"
SELF_PAY = "Self-pay"
#: Clients on a page of the aging report's by-client table (the CSV has every one).
CLIENTS_PER_PAGE = 100
NO_CLINICIAN = "No clinician"
NO_LINES = "No lines"
TOP_REASONS = 5
_FIELDS = ("charges", "insurance_paid", "client_paid", "adjustments", "write_offs")
_LEDGER = {"ledger_insurance_paid": "insurance_paid", "ledger_client_paid": "client_paid"}
_SHARE = Decimal("0.0001")


# ---------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class _Calendar:
    """The filter's days and months in the practice's time zone."""

    zone: ZoneInfo
    start: date
    end: date
    months: list[date]

    @classmethod
    def of(cls, practice_id: int, start: date, end: date) -> "_Calendar":
        practice = db.session.get(Practice, practice_id)
        if practice is not None and practice.reports_built_at is None:
            summaries.ensure_built(db.session, practice_id)
        zone = dates.zone(practice.timezone if practice else None)
        months, month = [], start.replace(day=1)
        while month <= end:
            months.append(month)
            month = _next_month(month)
        return cls(zone, start, end, months)

    def parts(self) -> list[tuple[str, date, date, int]]:
        """(period, first day, last day, sign) ranges of totals rows whose signed sum is the range: whole months
        from the month totals; a partial month from its days, or, when fewer of its days are outside the range,
        from its month total less those days."""
        parts: list[tuple[str, date, date, int]] = []

        def add(period: str, first: date, last: date, sign: int) -> None:
            if parts and parts[-1][0] == period and parts[-1][3] == sign and first == (
                    _next_month(parts[-1][2]) if period == "M" else parts[-1][2] + timedelta(days=1)):
                parts[-1] = (period, parts[-1][1], last, sign)
            else:
                parts.append((period, first, last, sign))

        for month in self.months:
            last = _next_month(month) - timedelta(days=1)
            first_in, last_in = max(self.start, month), min(self.end, last)
            inside = (last_in - first_in).days + 1
            if inside * 2 <= (last - month).days + 1 and (first_in, last_in) != (month, last):
                add("D", first_in, last_in, 1)
                continue
            add("M", month, month, 1)
            if first_in > month:
                add("D", month, first_in - timedelta(days=1), -1)
            if last_in < last:
                add("D", last_in + timedelta(days=1), last, -1)
        return parts

    def in_range(self):
        """Totals rows that make up the range (see `parts`)."""
        total = ReportTotal
        return or_(*(and_(total.period == period, total.day >= first, total.day <= last)
                     for period, first, last, _ in self.parts()))

    def sign(self):
        """+1 or −1 for a totals row already limited to the range."""
        total = ReportTotal
        taken_off = [and_(total.period == period, total.day >= first, total.day <= last)
                     for period, first, last, sign in self.parts() if sign < 0]
        return case((or_(*taken_off), -1), else_=1) if taken_off else literal(1, Integer)

    def slot(self):
        """The month's index in `months` of a totals row already limited to the range."""
        bounds = self.months[1:]
        if not bounds:
            return literal(0, Integer)
        return case(*[(ReportTotal.day < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))


def _next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


#: What `_sums` breaks a sum down by.
_DIMENSIONS = {"code": (ReportTotal.code, ALL_CODES), "payer": (ReportTotal.payer_id, ALL_PAYERS),
               "clinician": (ReportTotal.clinician_id, ALL_CLINICIANS)}


def _sums(f: ReportFilter, calendar: _Calendar | _AgeBuckets, measures, by: tuple[str, ...] = (),
          by_slot: bool = True):
    """The practice's totals of `measures` in the calendar's range, within the filter: rows of ([slot,] measure,
    *by, amount), the slot being the month's index (with _AgeBuckets, the age bucket's), `by` naming dimensions
    of _DIMENSIONS. A dimension the filter fixes reads that value's rows; one broken down by reads each value's
    rows; any other reads its rollup ("every one")."""
    total = ReportTotal
    fixed = {"payer": f.payer_id, "clinician": f.clinician_id, "code": None}
    conditions = [total.practice_id == f.practice_id, total.measure.in_(measures), calendar.in_range()]
    for name, (column, every) in _DIMENSIONS.items():
        if fixed[name] is not None:
            conditions.append(column == fixed[name])
        elif name in by:
            conditions.append(column != every)
        else:
            conditions.append(column == every)
    groups = ([calendar.slot().label("slot")] if by_slot else []) + [total.measure] + [
        _DIMENSIONS[name][0].label(name) for name in by]
    rows = select(*groups, (total.amount * calendar.sign()).label("amount")).where(*conditions).subquery()
    columns = [column for column in rows.c if column.key != "amount"]
    return db.session.execute(select(*columns, func.sum(rows.c.amount)).group_by(*columns)).all()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _settle_in() -> None:
    """PostgreSQL, for the rest of the caller's transaction only: no JIT compilation (for queries of this size
    it costs more time than it saves) and room for grouping every client's receivables in memory (the CSV)."""
    if _dialect() == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))


def _clinician_names(practice_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(Member.id, Member.name).where(Member.practice_id == practice_id)).all())


def _payer_names(practice_id: int) -> dict[int, str]:
    return dict(db.session.execute(select(Payer.id, Payer.name).where(Payer.practice_id == practice_id)).all())


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(_SHARE) if whole else None


# ---------------------------------------------------------------- service trends


def service_trends(f: ReportFilter) -> ServiceTrends:
    """Completed sessions and units per code per month by clinician, and the time bands' monthly shares."""
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    found: dict[tuple, dict[str, int]] = defaultdict(lambda: {"sessions": 0, "units": 0})
    for month, measure, code, clinician_id, amount in _sums(f, calendar, ("sessions", "units"),
                                                            by=("code", "clinician")):
        found[(month, code, clinician_id)][measure] += int(amount)
    names = _clinician_names(f.practice_id)
    trend_rows = sorted(
        (TrendRow(month=calendar.months[month], code=code, clinician_id=clinician_id,
                  clinician_name=names.get(clinician_id, NO_CLINICIAN), sessions=counts["sessions"],
                  units=counts["units"])
         for (month, code, clinician_id), counts in found.items() if counts["sessions"]),
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
    """Charges (by date of service), insurance and client payments, adjustments and write-offs in the period, the
    money as the ledger counts it, by month, code, payer and clinician."""
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    filtered = f.clinician_id is not None or f.payer_id is not None
    by_month: dict[int, dict[str, int]] = {index: defaultdict(int) for index in range(len(calendar.months))}
    ledger: dict[int, dict[str, int]] = {index: defaultdict(int) for index in range(len(calendar.months))}
    for month, measure, cents in _sums(f, calendar, _FIELDS if filtered else _FIELDS + tuple(_LEDGER)):
        if measure in _LEDGER:
            ledger[month][_LEDGER[measure]] += int(cents)
        else:
            by_month[month][measure] += int(cents)
    # Money the ledger counts that reached no bill in the period (credit, refunds): its own group.
    unapplied: dict[str, int] = defaultdict(int)
    if not filtered:
        for month, values in by_month.items():
            for field in _LEDGER.values():
                rest = ledger[month][field] - values[field]
                values[field] += rest
                unapplied[field] += rest
    totals: dict[str, int] = defaultdict(int)
    for values in by_month.values():
        for field, cents in values.items():
            totals[field] += cents
    breakdowns = {}
    for dimension in ("code", "payer", "clinician"):
        sums: dict = defaultdict(lambda: defaultdict(int))
        for measure, key, cents in _sums(f, calendar, _FIELDS, by=(dimension,), by_slot=False):
            sums[key][measure] += int(cents)
        if any(unapplied.values()):
            sums[UNAPPLIED] = unapplied
        breakdowns[dimension] = sums
    payers, clinicians = _payer_names(f.practice_id), _clinician_names(f.practice_id)

    def payer_label(key):
        return key if key == UNAPPLIED else SELF_PAY if key == 0 else payers.get(key, f"Payer {key}")

    def clinician_label(key):
        return key if key == UNAPPLIED else NO_CLINICIAN if key == 0 else clinicians.get(key, f"Member {key}")

    def code_label(key):
        return NO_LINES if key == "" else key

    def order(label):
        return lambda key: (key == UNAPPLIED, key in (0, ""), label(key).lower())

    return Revenue(totals=_money(totals),
                   by_month=[(calendar.months[index], _money(values)) for index, values in by_month.items()],
                   by_code=_groups(breakdowns["code"], code_label, order(code_label)),
                   by_payer=_groups(breakdowns["payer"], payer_label, order(payer_label)),
                   by_clinician=_groups(breakdowns["clinician"], clinician_label, order(clinician_label)))


def _money(values: dict[str, int]) -> Money:
    return Money(**{name: values.get(name, 0) for name in _FIELDS})


def _groups(sums: dict, label, order) -> list[RevenueGroup]:
    groups = [(key, values) for key, values in sums.items() if any(values.values())]
    groups.sort(key=lambda item: order(item[0]))
    return [RevenueGroup(key=label(key), money=_money(values)) for key, values in groups]


# ---------------------------------------------------------------- accounts receivable aging


@dataclass(frozen=True)
class _AgeBuckets:
    """The totals rows of the balances (dated by service) that make up the age buckets on `as_of`: the days from
    the first of the month 90 days back, and whole months before that (all over 90 days)."""

    as_of: date

    def in_range(self):
        total, first_day = ReportTotal, (self.as_of - timedelta(days=90)).replace(day=1)
        return or_(and_(total.period == "D", total.day >= first_day), and_(total.period == "M", total.day < first_day))

    def sign(self):
        return literal(1, Integer)

    def slot(self):
        """The age bucket's index (0: 0–30 days … 3: over 90) of a totals row already limited to the range."""
        return _bucket(ReportTotal.day, self.as_of)


def _bucket(service_date, as_of: date):
    """Age on `as_of` in whole days since the date of service, as the index of its AGING_BUCKETS; a date after
    `as_of` (paid in advance), or none, is 0–30."""
    return case((service_date.is_(None), 0), (service_date >= as_of - timedelta(days=30), 0),
                (service_date >= as_of - timedelta(days=60), 1),
                (service_date >= as_of - timedelta(days=90), 2), else_=3)


def aging(f: ReportFilter, as_of: date | None = None, clients_after: int | None = None,
          clients_per_page: int | None = CLIENTS_PER_PAGE) -> Aging:
    """Open balances by age on `as_of`, split into what insurance and clients owe: in all and by payer (from the
    maintained totals), and by client: a page of the clients who owe, in name order after the client
    `clients_after`, or every one (`clients_per_page` None, for the CSV)."""
    _settle_in()
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    as_of = as_of or datetime.now(calendar.zone).date()
    by_payer: dict[int, list[int]] = defaultdict(lambda: [0] * 8)
    for bucket, measure, payer_id, cents in _sums(f, _AgeBuckets(as_of), ("owed_insurance", "owed_client"),
                                                  by=("payer",)):
        by_payer[payer_id][bucket + (4 if measure == "owed_insurance" else 0)] += int(cents)
    payers = _payer_names(f.practice_id)
    payer_groups = sorted((AgingGroup(key=SELF_PAY if payer_id == 0 else payers.get(payer_id, f"Payer {payer_id}"),
                                      id=payer_id or None, line=_aging_line(slots))
                           for payer_id, slots in by_payer.items() if any(slots)),
                          key=lambda group: (group.id is None, group.key.lower()))
    totals = AgingLine(insurance=tuple(sum(group.line.insurance[index] for group in payer_groups) for index in range(4)),
                       client=tuple(sum(group.line.client[index] for group in payer_groups) for index in range(4)))
    client_groups, next_after = _clients_aging(f, as_of, clients_after, clients_per_page)
    return Aging(as_of=as_of, totals=totals, by_payer=payer_groups, by_client=client_groups,
                 first_clients=clients_after is None, clients_next_after=next_after)


def _aging_line(slots: list[int]) -> AgingLine:
    """Client buckets 0–3, then insurance buckets 0–3 → an AgingLine."""
    return AgingLine(insurance=tuple(slots[4:]), client=tuple(slots[:4]))


def _clients_aging(f: ReportFilter, as_of: date, after: int | None,
                   per_page: int | None) -> tuple[list[AgingGroup], int | None]:
    """The clients who owe within the filter, in name order (a page after the client `after`, or every one),
    with their balances by age; and the client the next page starts after (None: this is the last). A page
    walks the clients' name index from where the last one ended and checks each client in the receivables'
    client index, so it costs the same however many clients a practice has and whichever page it is."""
    owed = Receivable
    scope = [owed.practice_id == f.practice_id]
    if f.clinician_id is not None:
        scope.append(owed.clinician_id == f.clinician_id)
    if f.payer_id is not None:
        scope.append(owed.payer_id == f.payer_id)
    name = (func.lower(Client.last_name), func.lower(Client.first_name), Client.id)
    clients = select(Client.id, Client.first_name, Client.last_name).where(
        Client.practice_id == f.practice_id, select(owed.bill_id).where(owed.client_id == Client.id, *scope).exists()
    ).order_by(*name)
    if after is not None:
        last_shown = db.session.execute(select(*name).where(Client.practice_id == f.practice_id,
                                                            Client.id == after)).first()
        if last_shown is not None:
            clients = clients.where(tuple_(*name) > tuple(last_shown))
    if per_page is not None:
        clients = clients.limit(per_page + 1)
    found = db.session.execute(clients).all()
    next_after = found[per_page - 1][0] if per_page is not None and len(found) > per_page else None
    found = found[:per_page]
    balances: dict[int, list[int]] = defaultdict(lambda: [0] * 8)
    if found:
        slot = case((owed.insurance, 4), else_=0) + _bucket(owed.service_date, as_of)
        query = select(owed.client_id, slot, func.sum(owed.balance_cents)).where(*scope).group_by(owed.client_id, slot)
        if per_page is not None:
            query = query.where(owed.client_id.in_([client_id for client_id, _, _ in found]))
        for client_id, index, cents in db.session.execute(query):
            balances[client_id][index] += int(cents)
    groups = [AgingGroup(key=f"{first} {last}", id=client_id, line=_aging_line(balances[client_id]))
              for client_id, first, last in found if any(balances[client_id])]
    return groups, next_after


# ---------------------------------------------------------------- claim outcomes

_CLAIM_MEASURES = ("claims", "claims_submitted", "claims_accepted", "claims_adjudicated", "claims_denied",
                   "claims_reason", "claims_paid_days")


def claim_outcomes(f: ReportFilter) -> ClaimOutcomes:
    """First-pass acceptance, denial rates by payer with their most frequent reasons, and days to payment for
    the claims whose date of service is in the period."""
    calendar = _Calendar.of(f.practice_id, f.start, f.end)
    counts: dict[str, int] = defaultdict(int)
    per_payer: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    found_reasons: dict[int, list[ReasonCount]] = defaultdict(list)
    histogram: dict[int, int] = defaultdict(int)
    for measure, payer_id, code, amount in _sums(f, calendar, _CLAIM_MEASURES, by=("payer", "code"),
                                                 by_slot=False):
        amount = int(amount)
        if not amount:
            continue
        counts[measure] += amount
        per_payer[payer_id][measure] += amount
        if measure == "claims_reason":
            group, reason = code.split("-", 1)
            found_reasons[payer_id].append(ReasonCount(group=group, code=reason, count=amount,
                                                       text=reasons.describe_reason(reason)))
        elif measure == "claims_paid_days":
            histogram[int(code)] += amount
    payers = _payer_names(f.practice_id)
    by_payer = []
    for payer_id, measures in per_payer.items():
        if not measures["claims"]:
            continue
        adjudicated, denied = measures["claims_adjudicated"], measures["claims_denied"]
        top = sorted(found_reasons[payer_id], key=lambda r: (-r.count, r.group, r.code))[:TOP_REASONS]
        by_payer.append(PayerOutcome(payer_id=payer_id, payer_name=payers.get(payer_id, f"Payer {payer_id}"),
                                     adjudicated=adjudicated, denied=denied, denial_rate=_rate(denied, adjudicated),
                                     top_reasons=top))
    by_payer.sort(key=lambda outcome: (outcome.payer_name.lower(), outcome.payer_id))
    paid_claims = sum(histogram.values())
    submitted, accepted = counts["claims_submitted"], counts["claims_accepted"]
    return ClaimOutcomes(submitted=submitted, accepted_first_pass=accepted, first_pass_rate=_rate(accepted, submitted),
                         by_payer=by_payer, paid_claims=paid_claims,
                         median_days_to_payment=_median(sorted(histogram.items()), paid_claims))


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
