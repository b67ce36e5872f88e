"""What each report page shows, made from the report's data (app/billing/reports_data.py): its tables, which
the page renders and `?format=csv&table=<name>` exports row for row (one list of rows serves both, so the
CSV always equals the page), and its charts (app/charts.py), drawn from the same numbers.

Cells keep their values (money in cents, rates 0..1, months as dates); only the edges format them: the
template with the `cents` filter, the CSV (app/csv_export.py) with `amount`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from markupsafe import Markup

from app import charts, csv_export
from app.billing.reports_data import (AGING_BUCKETS, TIME_BANDS, Aging, AgingGroup, AgingLine, ClaimOutcomes, Money,
                                      Revenue, RevenueGroup, ServiceTrends)
from app.formatting import cents

#: Cell kinds whose values are numbers (right-aligned).
NUMERIC = {"count", "money", "rate", "days"}


@dataclass(frozen=True)
class Cell:
    """One value of a table: text, count, money (cents), rate (0..1), days or month (its first day)."""

    value: object
    kind: str = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def text(self) -> str:
        """The value as the page shows it, for kinds the template does not format itself."""
        if self.value is None:
            return "—"
        if self.kind == "rate":
            return charts.percent(self.value)
        if self.kind == "days":
            return f"{Decimal(self.value).normalize():f}"
        return str(self.value)

    @property
    def csv_value(self) -> object:
        """The value for app/csv_export.py: money as a dollars.cents number, counts and days as numbers, months
        as YYYY-MM, rates as the page shows them; only text is text, so only text is defused."""
        if self.value is None:
            return None
        if self.kind == "money":
            return csv_export.amount(self.value)
        if self.kind == "count":
            return self.value
        if self.kind == "days":
            return Decimal(self.text)
        if self.kind == "month":
            return self.value.strftime("%Y-%m")
        return self.text


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    name: str  #: `?table=<name>` exports it; the element id is `table-<name>` (dashes)
    caption: str
    columns: list[Column]
    rows: list[list[Cell]]
    footer: list[list[Cell]] = field(default_factory=list)
    empty: str = "Nothing in this period."
    #: A table shown a page at a time: the query arguments of the next page (None: the last page), and whether
    #: this page is a later one. The CSV has every row.
    next_page: dict | None = None
    later_page: bool = False
    noun: str = "rows"  #: what the pages are of ("clients")

    @property
    def paged(self) -> bool:
        return self.next_page is not None or self.later_page

    @property
    def element_id(self) -> str:
        return "table-" + self.name.replace("_", "-")

    def csv_text(self) -> str:
        return csv_export.csv_text([column.label for column in self.columns],
                                   [[cell.csv_value for cell in row] for row in [*self.rows, *self.footer]])


@dataclass(frozen=True)
class ReportPage:
    """A report ready to render: its tables by name (in page order) and its charts by name."""

    tables: dict[str, Table]
    charts: dict[str, Markup]
    facts: dict[str, object] = field(default_factory=dict)


def month_label(month: date) -> str:
    return month.strftime("%b %Y")


def _money_columns() -> list[Column]:
    return [Column(label, True) for label in ("Charges", "Insurance paid", "Client paid", "Adjustments", "Write-offs")]


def _money_cells(money: Money) -> list[Cell]:
    return [Cell(value, "money") for value in (money.charges, money.insurance_paid, money.client_paid,
                                               money.adjustments, money.write_offs)]


# ---------------------------------------------------------------- service trends


def service_trends(data: ServiceTrends) -> ReportPage:
    sessions = Table(
        "sessions", "Completed sessions and units by month, code and clinician",
        [Column("Month"), Column("Code"), Column("Clinician"), Column("Sessions", True), Column("Units", True)],
        [[Cell(row.month, "month"), Cell(row.code), Cell(row.clinician_name), Cell(row.sessions, "count"),
          Cell(row.units, "count")] for row in data.rows],
        footer=[[Cell("Total"), Cell(""), Cell(""), Cell(sum(r.sessions for r in data.rows), "count"),
                 Cell(sum(r.units for r in data.rows), "count")]] if data.rows else [],
        empty="No completed sessions in this period.")
    band_columns = [Column("Month")]
    for code in TIME_BANDS:
        band_columns += [Column(f"{code} sessions", True), Column(f"{code} share", True)]
    band_rows = []
    for band in data.bands:
        counted = any(band.counts.get(code, 0) for code in TIME_BANDS)
        row = [Cell(band.month, "month")]
        for code in TIME_BANDS:
            row += [Cell(band.counts.get(code, 0), "count"),
                    Cell(band.shares.get(code, Decimal(0)) if counted else None, "rate")]
        band_rows.append(row)
    bands = Table("bands", "Psychotherapy time bands by month: sessions and share of the month's "
                           + "/".join(TIME_BANDS) + " sessions", band_columns, band_rows,
                  empty="No psychotherapy sessions in this period.")

    months = [month_label(m) for m in data.months]
    by_code: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in data.rows:
        by_code[row.code][row.month] += row.sessions
    sessions_chart = charts.stacked_bars(
        "chart-sessions", "Completed sessions per month, by code", months if data.rows else [],
        [charts.Series(code, [by_code[code].get(m, 0) for m in data.months]) for code in sorted(by_code)],
        empty="No completed sessions in this period.")
    shares = {band.month: band for band in data.bands}
    band_series = []
    for code in TIME_BANDS:
        values = []
        for month in data.months:
            band = shares.get(month)
            counted = band is not None and any(band.counts.get(c, 0) for c in TIME_BANDS)
            values.append(band.shares.get(code, Decimal(0)) if counted else None)
        band_series.append(charts.Series(code, values))
    bands_chart = charts.line_chart("chart-bands", f"Share of {'/'.join(TIME_BANDS)} sessions per month", months,
                                    band_series, fmt=charts.percent, max_value=1,
                                    empty="No psychotherapy sessions in this period.")
    return ReportPage(tables={"sessions": sessions, "bands": bands},
                      charts={"sessions": sessions_chart, "bands": bands_chart},
                      facts={"sessions": sum(r.sessions for r in data.rows), "units": sum(r.units for r in data.rows)})


# ---------------------------------------------------------------- revenue


def _group_table(name: str, caption: str, key: str, groups: list[RevenueGroup]) -> Table:
    return Table(name, caption, [Column(key), *_money_columns()],
                 [[Cell(group.key), *_money_cells(group.money)] for group in groups],
                 empty="No money moved in this period.")


def _moved(money: Money) -> bool:
    return any((money.charges, money.insurance_paid, money.client_paid, money.adjustments, money.write_offs))


def revenue(data: Revenue) -> ReportPage:
    by_month = Table("by_month", "Charges, payments, adjustments and write-offs by month",
                     [Column("Month"), *_money_columns()],
                     [[Cell(month, "month"), *_money_cells(money)] for month, money in data.by_month],
                     footer=[[Cell("Total"), *_money_cells(data.totals)]] if data.by_month else [],
                     empty="No money moved in this period.")
    tables = {
        "by_month": by_month,
        "by_code": _group_table("by_code", "By service code", "Code", data.by_code),
        "by_payer": _group_table("by_payer", "By payer (Self-pay: clients without insurance)", "Payer",
                                 data.by_payer),
        "by_clinician": _group_table("by_clinician", "By clinician", "Clinician", data.by_clinician),
    }
    moved = any(_moved(money) for _, money in data.by_month)
    chart = charts.bar_chart(
        "chart-revenue", "Charges and payments received per month",
        [month_label(month) for month, _ in data.by_month] if moved else [],
        [charts.Series("Charges", [m.charges for _, m in data.by_month]),
         charts.Series("Insurance paid", [m.insurance_paid for _, m in data.by_month]),
         charts.Series("Client paid", [m.client_paid for _, m in data.by_month])],
        fmt=cents, empty="No money moved in this period.")
    return ReportPage(tables=tables, charts={"revenue": chart}, facts={"totals": data.totals})


# ---------------------------------------------------------------- accounts receivable aging

BUCKET_COLUMNS = [Column(f"{bucket} days", True) for bucket in AGING_BUCKETS]


def _aging_rows(key: str, line: AgingLine) -> list[list[Cell]]:
    """Two rows per payer or client, what insurance owes and what the client owes (left out when nothing)."""
    rows = []
    for party, buckets in (("Insurance", line.insurance), ("Client", line.client)):
        if any(buckets):
            rows.append([Cell(key), Cell(party), *[Cell(amount, "money") for amount in buckets],
                         Cell(sum(buckets), "money")])
    return rows


def _aging_table(name: str, caption: str, key: str, everyone: str, groups: list[AgingGroup],
                 totals: AgingLine, **paging) -> Table:
    rows = [row for group in groups for row in _aging_rows(group.key, group.line)]
    return Table(name, caption, [Column(key), Column("Owed by"), *BUCKET_COLUMNS, Column("Total", True)], rows,
                 footer=_aging_rows(everyone, totals) if rows else [], empty="Nothing is owed.", **paging)


def aging(data: Aging) -> ReportPage:
    tables = {
        "by_payer": _aging_table("by_payer", "Open balances by payer and age", "Payer", "All payers",
                                 data.by_payer, data.totals),
        "by_client": _aging_table("by_client", "Open balances by client and age", "Client", "All clients",
                                  data.by_client, data.totals, noun="clients", later_page=not data.first_clients,
                                  next_page=None if data.clients_next_after is None
                                  else {"clients_after": data.clients_next_after}),
    }
    owed = any(data.totals.insurance) or any(data.totals.client)
    chart = charts.stacked_bars(
        "chart-aging", f"Open balances by age on {data.as_of.strftime('%b %-d, %Y')}",
        [f"{bucket} days" for bucket in AGING_BUCKETS] if owed else [],
        [charts.Series("Insurance", list(data.totals.insurance)), charts.Series("Client", list(data.totals.client))],
        fmt=cents, empty="Nothing is owed.")
    return ReportPage(tables=tables, charts={"aging": chart}, facts={"as_of": data.as_of, "total": data.totals.total})


# ---------------------------------------------------------------- claim outcomes


def reasons_text(outcome) -> str:
    return "; ".join(f"{reason.group}-{reason.code} {reason.text} ({reason.count})" for reason in outcome.top_reasons)


def claim_outcomes(data: ClaimOutcomes) -> ReportPage:
    summary = Table("summary", "Claims in this period", [Column("Measure"), Column("Value", True)], [
        [Cell("Claims sent"), Cell(data.submitted, "count")],
        [Cell("Accepted on the first try"), Cell(data.accepted_first_pass, "count")],
        [Cell("First-pass acceptance rate"), Cell(data.first_pass_rate, "rate")],
        [Cell("Claims paid"), Cell(data.paid_claims, "count")],
        [Cell("Median days from service to payment"), Cell(data.median_days_to_payment, "days")],
    ])
    by_payer = Table("by_payer", "Denials by payer, with the most frequent reasons",
                     [Column("Payer"), Column("Paid or denied", True), Column("Denied", True),
                      Column("Denial rate", True), Column("Most frequent reasons")],
                     [[Cell(o.payer_name), Cell(o.adjudicated, "count"), Cell(o.denied, "count"),
                       Cell(o.denial_rate, "rate"), Cell(reasons_text(o) or None)] for o in data.by_payer],
                     empty="No payer paid or denied a claim in this period.")
    rated = [o for o in data.by_payer if o.denial_rate is not None]
    chart = charts.bar_chart("chart-denials", "Denial rate by payer", [o.payer_name for o in rated],
                             [charts.Series("Denial rate", [o.denial_rate for o in rated])], fmt=charts.percent,
                             empty="No payer paid or denied a claim in this period.")
    return ReportPage(tables={"summary": summary, "by_payer": by_payer}, charts={"denials": chart})
