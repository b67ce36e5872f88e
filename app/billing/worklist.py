"""What needs action now, for one member: each item a count, the filtered list it links to, and who sees it.

The lists the home page links to filter with the same WHERE clauses as the counts here (`overdue_bill`,
`past_not_complete`, `unsigned_note`), so a count is always the number of rows its list shows. Each count is
one COUNT(*) on an index led by the practice (or the clinician); no rows are loaded to count them. Failed
background jobs are counted by the function the caller passes (app/jobs.py reads them from RQ).

No request here: the caller passes the member, and builds URLs from each item's endpoint and arguments.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, func, select

from app import access, audit
from app.billing import dates
from app.extensions import db
from app.models import (Bill, BillStatus, Claim, ClaimStatus, JobProblem, Member, PostingOutcome,
                        Practice, RemittanceClaim, Role, SessionNote, SessionStatus, TherapySession)
from app.models.types import utcnow

EVERYONE = frozenset(Role)
BILLING_STAFF = frozenset({Role.ADMIN, Role.BILLER})
ADMINS = frozenset({Role.ADMIN})

@dataclass(frozen=True)
class WorkItem:
    key: str
    label: str
    #: None when it could not be counted (Redis unreachable, for failed jobs).
    count: int | None
    #: Where the filtered list lives: url_for(endpoint, **args).
    endpoint: str
    args: dict = field(default_factory=dict)
    #: The roles that see this item.
    roles: frozenset[Role] = EVERYONE
    #: Counted over the member's own records only (a clinician's sessions, notes and claims).
    own: bool = False


# ---------------------------------------------------------------- the conditions lists share with the counts


def practice_today(practice: Practice) -> date:
    """Today where the practice is: a bill due today is not yet past its terms."""
    return dates.today(practice.timezone)


def overdue_bill(today: date):
    """Open bills past their terms: still Open after their due date."""
    return (Bill.status == BillStatus.OPEN) & (Bill.due_date < today)


def ended(now: datetime):
    """Sessions whose time has passed. `starts_at < now` is implied by `ends_at < now`, and lets the starts_at
    indexes bound the scan."""
    return (TherapySession.starts_at < now) & (TherapySession.ends_at < now)


def past_not_complete(now: datetime):
    """Sessions whose time has passed that are still Scheduled: nobody marked them complete (or cancelled, or a
    no-show)."""
    return (TherapySession.status == SessionStatus.SCHEDULED) & ended(now)


def unsigned_note():
    """Completed sessions with no signed note (no note yet, or a draft)."""
    signed = exists(select(SessionNote.id).where(SessionNote.session_id == TherapySession.id,
                                                  SessionNote.signed_at.is_not(None)))
    return (TherapySession.status == SessionStatus.COMPLETED) & ~signed


def needs_review(member: Member):
    """Claims in Needs Review that the member sees (the claims list's Needs Review tab)."""
    return access.claim_filter(member) & (Claim.status == ClaimStatus.NEEDS_REVIEW)


def denial_to_work(member: Member):
    """Denied claims the member sees that nobody has worked yet (the denials queue's To work tab)."""
    return access.claim_filter(member) & (Claim.status == ClaimStatus.DENIED) & Claim.denial_action.is_(None)


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def unresolved_problems(practice_id: int) -> list[JobProblem]:
    return db.session.scalars(select(JobProblem).where(JobProblem.practice_id == practice_id,
                                                       JobProblem.cleared_at.is_(None))
                              .order_by(JobProblem.id.desc())).all()


# ---------------------------------------------------------------- the work list


def counts_for(member: Member, count_failed_jobs: Callable[[int], int | None] | None = None, *,
               now: datetime | None = None) -> list[WorkItem]:
    """What needs this member's action now, in the order the home page shows it. Admins see everything,
    billers the money and the practice's sessions, clinicians their own sessions, notes and claims.
    `count_failed_jobs(practice_id)` counts the background jobs that failed for good (None: it could not tell);
    without it, failed jobs are not counted."""
    now = now or utcnow()
    role = Role(member.role)
    practice = db.session.get(Practice, member.practice_id)
    sessions = access.session_filter(member)
    own = role == Role.CLINICIAN
    specs = [
        ("needs_review", "Claims in Needs Review", "claims.index", {"status": ClaimStatus.NEEDS_REVIEW.label},
         EVERYONE, lambda: _count(Claim, needs_review(member))),
        ("denials", "Denied claims not yet worked", "claims.denials_queue", {}, BILLING_STAFF,
         lambda: _count(Claim, denial_to_work(member))),
        ("unmatched", "Unmatched remittance lines", "remittances.unmatched", {}, BILLING_STAFF,
         lambda: _count(RemittanceClaim, RemittanceClaim.practice_id == member.practice_id,
                        RemittanceClaim.outcome == PostingOutcome.UNMATCHED)),
        ("overdue_bills", "Open bills past their terms", "bills.index",
         {"status": BillStatus.OPEN.label, "overdue": "1"}, BILLING_STAFF,
         lambda: _count(Bill, access.bill_filter(member), overdue_bill(practice_today(practice)))),
        ("sessions_not_complete", "Past sessions not marked complete", "sessions.index",
         {"status": SessionStatus.SCHEDULED.value, "past": "1"}, EVERYONE,
         lambda: _count(TherapySession, sessions, past_not_complete(now))),
        ("unsigned_notes", "Notes not signed", "sessions.index", {"unsigned": "1"}, EVERYONE,
         lambda: _count(TherapySession, sessions, unsigned_note())),
        ("failed_jobs", "Failed background jobs", "settings.jobs", {}, ADMINS,
         lambda: _failed_count(member.practice_id, count_failed_jobs)),
    ]
    return [WorkItem(key=key, label=f"Your {label[0].lower()}{label[1:]}" if own else label, count=count(),
                     endpoint=endpoint, args=args, roles=roles, own=own)
            for key, label, endpoint, args, roles, count in specs if role in roles]


def _failed_count(practice_id: int, count_failed_jobs) -> int | None:
    failed = count_failed_jobs(practice_id) if count_failed_jobs is not None else None
    if failed is None:  # the home page says it could not check, and still renders
        return None
    return _count(JobProblem, JobProblem.practice_id == practice_id, JobProblem.cleared_at.is_(None)) + failed


# ---------------------------------------------------------------- dealing with failures


def resolve_problem(problem: JobProblem, actor: Member) -> bool:
    """Mark a job's failure as dealt with by a person (a later successful run clears it too). False when it
    was already resolved."""
    if problem.cleared_at is not None:
        return False
    problem.cleared_at = utcnow()
    audit.record("job_problem.resolved", problem, actor=actor, job=problem.job, will_retry=problem.will_retry)
    db.session.flush()
    return True
