"""What the reports show, as plain frozen data: `app/billing/reports.py` computes these from the same entries
the ledger and the claims use; the reports pages, charts and CSV exports render them. Money is integer cents.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

#: The psychotherapy time bands whose share over time the service trends report shows.
TIME_BANDS = ("90832", "90834", "90837")
#: Accounts receivable age buckets (days since the date of service), as labels.
AGING_BUCKETS = ("0–30", "31–60", "61–90", "over 90")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFilter:
    """One practice, an inclusive date range, and optionally one clinician and one payer. For a clinician,
    the view always sets `clinician_id` to the clinician's own id."""

    practice_id: int
    start: date
    end: date
    clinician_id: int | None = None
    payer_id: int | None = None  #: 0 means self-pay (no insurance)


# ---------------------------------------------------------------- service trends


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendRow:
    """Completed sessions and units of one code, one clinician, one month."""

    month: date  #: the first day of the month (in the practice's time zone)
    code: str
    clinician_id: int
    clinician_name: str
    sessions: int
    units: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BandShare:
    """How the psychotherapy time bands (TIME_BANDS) split one month's sessions."""

    month: date
    counts: dict[str, int]  #: code → sessions
    shares: dict[str, Decimal]  #: code → share of the month's band sessions, 0..1 (all 0 when none)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceTrends:
    months: list[date]
    rows: list[TrendRow]
    bands: list[BandShare]


# ---------------------------------------------------------------- revenue


@dataclass(frozen=True, slots=True, kw_only=True)
class Money:
    """What happened to money in the period, as the ledger records it."""

    charges: int = 0  #: lines of bills issued in the period
    insurance_paid: int = 0  #: insurance payments received in the period (net of reversals)
    client_paid: int = 0  #: client payments received in the period (net of reversals and refunds)
    adjustments: int = 0  #: contractual and other adjustments recorded in the period
    write_offs: int = 0  #: write-offs recorded in the period


@dataclass(frozen=True, slots=True, kw_only=True)
class RevenueGroup:
    key: str  #: the code, the payer's name ("Self-pay" without insurance) or the clinician's name
    money: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Revenue:
    totals: Money
    by_month: list[tuple[date, Money]]
    by_code: list[RevenueGroup]
    by_payer: list[RevenueGroup]
    by_clinician: list[RevenueGroup]


# ---------------------------------------------------------------- accounts receivable aging


class AgingLine(NamedTuple):
    """Open balances by age bucket (AGING_BUCKETS), split into what insurance and the client owe. (Named
    tuples, like AgingGroup: a large practice's aging has one per client, tens of thousands.)"""

    insurance: tuple[int, int, int, int] = (0, 0, 0, 0)
    client: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def total(self) -> int:
        return sum(self.insurance) + sum(self.client)


class AgingGroup(NamedTuple):
    key: str  #: the payer's or the client's name
    id: int | None  #: the payer's or the client's id (None for self-pay)
    line: AgingLine


@dataclass(frozen=True, slots=True, kw_only=True)
class Aging:
    as_of: date
    totals: AgingLine
    by_payer: list[AgingGroup]
    by_client: list[AgingGroup]  #: a page of clients in name order (or every one)
    first_clients: bool = True  #: by_client starts with the first client who owes
    clients_next_after: int | None = None  #: the client the next page starts after; None: no page follows


# ---------------------------------------------------------------- claim outcomes


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasonCount:
    group: str
    code: str
    text: str  #: in plain words (app.x12.reasons)
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PayerOutcome:
    payer_id: int
    payer_name: str
    adjudicated: int  #: claims the payer paid or denied
    denied: int
    denial_rate: Decimal | None  #: denied / adjudicated, 0..1
    top_reasons: list[ReasonCount] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimOutcomes:
    submitted: int  #: claims sent in the period
    accepted_first_pass: int  #: of those, accepted without a rejection (999/277CA/upload) on the first try
    first_pass_rate: Decimal | None
    by_payer: list[PayerOutcome]
    paid_claims: int
    median_days_to_payment: Decimal | None  #: date of service → the 835's payment date
