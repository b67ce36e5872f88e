"""The reports' maintained summaries (app/billing/summaries.py keeps them exact in the same transaction as the
entries they come from; a rebuild from the entries gives the same rows).

- ReportFact: what one source record (a bill, session, claim, payment or refund) contributes to the totals, per
  local day and measure, so that a change to the record can take back exactly what it added before.
- ReportTotal: the facts summed per day ("D") and per month ("M", keyed by the month's first day), by code,
  payer and clinician, with rollups over each of them (code "*", payer −1, clinician −1: every one): a one-year
  report reads about twelve months of the rows it shows instead of a year of entries.
- Receivable: a receivable bill's balance today with what aging groups it by (one row per bill that owes);
  aging by payer reads the balances' totals instead (measures owed_insurance and owed_client).
"""
from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ReportFact(db.Model):
    __tablename__ = "report_facts"
    __table_args__ = {"sqlite_with_rowid": False}

    #: bill, session, claim, payment or refund
    source: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    #: JSON list of [day, measure, code, payer id, clinician id, amount]; the source's share of ReportTotal.
    facts: Mapped[str] = mapped_column(Text)


class ReportTotal(db.Model):
    __tablename__ = "report_totals"
    #: On SQLite the primary key is the table (no rowid): a report's range scan reads the amounts from it.
    __table_args__ = {"sqlite_with_rowid": False}

    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), primary_key=True)
    #: "D" (day) or "M" (month, `day` is its first day)
    period: Mapped[str] = mapped_column(String(1), primary_key=True)
    measure: Mapped[str] = mapped_column(String(24), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    payer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    clinician_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    amount: Mapped[int] = mapped_column(BigInteger)


class Receivable(db.Model):
    __tablename__ = "receivables"
    # Aging by client: whether a client owes, and what, from the index alone.
    __table_args__ = (Index("ix_receivables_practice_id_client_id", "practice_id", "client_id", "service_date",
                            "insurance", "clinician_id", "payer_id", "balance_cents"),)

    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), primary_key=True, autoincrement=False)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    clinician_id: Mapped[int] = mapped_column(default=0)
    payer_id: Mapped[int] = mapped_column(default=0)  #: the payer of the bill's original claim; 0: self-pay
    service_date: Mapped[date | None] = mapped_column(Date)
    #: True while the payer still has to decide (see reports.aging); the client's otherwise.
    insurance: Mapped[bool] = mapped_column(default=False)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
