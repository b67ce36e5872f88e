"""Comparing the reports' maintained summaries (app/billing/summaries.py) with a rebuild from the entries."""
from sqlalchemy import select

from app.billing import summaries
from app.extensions import db
from app.models import Receivable, ReportFact, ReportTotal


def summaries_of(practice_id: int) -> dict:
    """Everything the practice's maintained summaries hold, zero totals left out."""
    totals = {tuple(row[:-1]): row[-1] for row in db.session.execute(
        select(ReportTotal.period, ReportTotal.measure, ReportTotal.day, ReportTotal.code, ReportTotal.payer_id,
               ReportTotal.clinician_id, ReportTotal.amount).where(ReportTotal.practice_id == practice_id)) if row[-1]}
    facts = {(source, source_id): text for source, source_id, text in db.session.execute(
        select(ReportFact.source, ReportFact.source_id, ReportFact.facts).where(ReportFact.practice_id == practice_id))}
    owed = {row[0]: tuple(row) for row in db.session.execute(
        select(Receivable.bill_id, Receivable.client_id, Receivable.clinician_id, Receivable.payer_id,
               Receivable.service_date, Receivable.insurance, Receivable.balance_cents)
        .where(Receivable.practice_id == practice_id))}
    return {"totals": totals, "facts": facts, "receivables": owed}


def assert_summaries_match_a_rebuild(practice_id: int) -> None:
    kept = summaries_of(practice_id)
    assert kept["totals"], "the practice has summaries"
    summaries.rebuild(db.session, practice_id)
    rebuilt = summaries_of(practice_id)
    db.session.rollback()
    assert kept == rebuilt
