"""Dates of service are the practice's local day, not the UTC day the session started

Bills made before this took each line's date of service from the session's start in UTC, so an evening session
(7:30 pm in New York is 00:30 UTC the next day) was dated the next day. This recomputes, with the rule bills now
use (`app.billing.dates.service_day` in the practice's time zone), the dates of the lines that came from a
session, their bill's date of service (its first line's), a line added by hand that carried the bill's date,
and the claims that follow those bills, but only where nothing dated has left Parity:

- only bills still Pended or Open (a Complete or Void bill is history: statements and receipts show its date);
- only when none of the bill's claims was ever sent: a claim written into an 837P file (`claim_files`), one that
  was ever Sent (a `claim_events` row to `sent`, which a crossover or a paper claim marked Sent also has), or one
  past Queued For Submission and Needs Review. The payer has the old date of service of a sent claim, and the
  835, a correction or an appeal will quote it, so those bills and claims keep the date they were sent with;
  a person who wants the payer told corrects the claim (Correct the claim) as for any other mistake.

Practices whose dates changed have their report summaries built again (by `flask reports build`, which
`make run` calls, a worker's start, or the first report opened), as 5c2e8d7a91b4 did. The downgrade changes
nothing: the old dates were wrong.

Revision ID: 21820b02a63c
Revises: 5c2e8d7a91b4
Create Date: 2026-12-03 21:00:00

"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from app.billing.dates import service_day
from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '21820b02a63c'
down_revision = '5c2e8d7a91b4'
branch_labels = None
depends_on = None

practices = sa.table("practices", sa.column("id", sa.Integer), sa.column("timezone", sa.String),
                     sa.column("reports_built_at", UTCDateTime))
sessions = sa.table("sessions", sa.column("id", sa.Integer), sa.column("starts_at", UTCDateTime))
bills = sa.table("bills", sa.column("id", sa.Integer), sa.column("practice_id", sa.Integer),
                 sa.column("status", sa.String), sa.column("service_date", sa.Date))
bill_lines = sa.table("bill_lines", sa.column("id", sa.Integer), sa.column("bill_id", sa.Integer),
                      sa.column("session_id", sa.Integer), sa.column("service_date", sa.Date))
claims = sa.table("claims", sa.column("id", sa.Integer), sa.column("bill_id", sa.Integer),
                  sa.column("status", sa.String), sa.column("service_date", sa.Date))
claim_lines = sa.table("claim_lines", sa.column("id", sa.Integer), sa.column("claim_id", sa.Integer),
                       sa.column("bill_line_id", sa.Integer), sa.column("service_date", sa.Date))
claim_files = sa.table("claim_files", sa.column("claim_id", sa.Integer))
claim_events = sa.table("claim_events", sa.column("claim_id", sa.Integer), sa.column("to_status", sa.String))

#: Bills whose dates may still change, and the claim statuses of a claim that has not left.
OPEN_BILLS = ("pended", "open")
UNSENT = ("queued", "needs_review")


def sent_claims():
    """The claims that left Parity (or were recorded as sent): their bills keep their dates."""
    return sa.or_(claims.c.status.not_in(UNSENT),
                  sa.exists().where(claim_files.c.claim_id == claims.c.id),
                  sa.exists().where(claim_events.c.claim_id == claims.c.id, claim_events.c.to_status == "sent"))


def correct_service_dates(connection) -> set[int]:
    """Recompute the dates of service of unsent open bills and their claims; the practices whose dates changed."""
    zones = dict(connection.execute(sa.select(practices.c.id, practices.c.timezone)).all())
    held = sa.exists().where(claims.c.bill_id == bills.c.id, sent_claims())
    rows = connection.execute(
        sa.select(bills.c.id, bills.c.practice_id, bills.c.service_date, bill_lines.c.id, bill_lines.c.session_id,
                  bill_lines.c.service_date, sessions.c.starts_at)
        .select_from(bills.join(bill_lines, bill_lines.c.bill_id == bills.c.id)
                     .outerjoin(sessions, sessions.c.id == bill_lines.c.session_id))
        .where(bills.c.status.in_(OPEN_BILLS), ~held)
        .order_by(bills.c.id, bill_lines.c.id)).all()
    by_bill: dict[int, list] = defaultdict(list)
    for row in rows:
        by_bill[row[0]].append(row)
    changed_practices: set[int] = set()
    for bill_id, lines in by_bill.items():
        practice_id, old_bill_day = lines[0][1], lines[0][2]
        old_days = {line_id: line_day for _, _, _, line_id, _, line_day, _ in lines}
        from_sessions = {line_id: service_day(starts_at, zones.get(practice_id))
                         for _, _, _, line_id, _, _, starts_at in lines if starts_at is not None}
        if not from_sessions:
            continue
        new_bill_day = min(from_sessions.values())
        # A line added by hand took the bill's date of service; it keeps following it.
        new_days = {line_id: from_sessions.get(line_id, new_bill_day if day == old_bill_day else day)
                    for line_id, day in old_days.items()}
        moved = {line_id: day for line_id, day in new_days.items() if day != old_days[line_id]}
        if not moved and new_bill_day == old_bill_day:
            continue
        changed_practices.add(practice_id)
        for line_id, day in moved.items():
            connection.execute(sa.update(bill_lines).where(bill_lines.c.id == line_id).values(service_date=day))
            connection.execute(sa.update(claim_lines).where(claim_lines.c.bill_line_id == line_id)
                               .values(service_date=day))
        connection.execute(sa.update(bills).where(bills.c.id == bill_id).values(service_date=new_bill_day))
        connection.execute(sa.update(claims).where(claims.c.bill_id == bill_id).values(service_date=new_bill_day))
    if changed_practices:
        connection.execute(sa.update(practices).where(practices.c.id.in_(sorted(changed_practices)))
                           .values(reports_built_at=None))
    return changed_practices


def upgrade():
    correct_service_dates(op.get_bind())


def downgrade():
    pass
