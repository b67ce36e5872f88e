"""What needs action now, for one member: each item a count, the filtered list it links to, and who sees it.

The lists the home page links to filter with the same WHERE clauses as the counts here (`overdue_bill`,
`past_not_complete`, `unsigned_note`), so a count is always the number of rows its list shows. Each count is
one COUNT(*) on an index led by the practice (or the clinician); no rows are loaded to count them. Failed RQ
jobs are read from RQ's FailedJobRegistry: the newest `FAILED_JOBS_SHOWN`, attributed to their practice.

No request here: the caller passes the member, and builds URLs from each item's endpoint and arguments.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from sqlalchemy import exists, func, select

from app import access
from app.extensions import db
from app.models import (Bill, BillStatus, Claim, ClaimStatus, JobProblem, Member, OutboundEmail, PostingOutcome,
                        Practice, RemittanceClaim, Role, SessionNote, SessionStatus, TherapySession)
from app.models.types import utcnow

EVERYONE = frozenset(Role)
BILLING_STAFF = frozenset({Role.ADMIN, Role.BILLER})
ADMINS = frozenset({Role.ADMIN})

#: How many of the newest failed RQ jobs are read and attributed (the registry keeps a day of failures).
FAILED_JOBS_SHOWN = 100

#: Background jobs in plain words (JobProblem.job, and the function of an RQ job).
JOB_NAMES = {
    "submit_claims": "Sending claims to the clearinghouse",
    "poll_status": "Reading acknowledgements from the clearinghouse",
    "fetch_remittances": "Fetching remittances from the clearinghouse",
    "deliver_email": "Sending an email",
    "send_bill": "Emailing a bill",
    "clearinghouse_tick": "Scheduling the clearinghouse work",
}
#: Jobs whose first argument is the practice id.
_PRACTICE_FIRST = {"submit_claims", "poll_status", "fetch_remittances"}


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


@dataclass(frozen=True)
class FailedJob:
    """A job RQ gave up on (it sits in the FailedJobRegistry until its failure TTL passes)."""

    id: str
    function: str
    description: str
    error: str
    failed_at: datetime | None
    #: None: a job of the whole installation (the clearinghouse tick), shown when it has one practice.
    practice_id: int | None


# ---------------------------------------------------------------- the conditions lists share with the counts


def practice_today(practice: Practice) -> date:
    """Today where the practice is: a bill due today is not yet past its terms."""
    return datetime.now(ZoneInfo(practice.timezone or "America/New_York")).date()


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


# ---------------------------------------------------------------- failed RQ jobs


def _short_name(func_name: str | None) -> str:
    return (func_name or "?").rsplit(".", 1)[-1]


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def _error(job) -> str:
    from rq.results import Result

    try:
        result = job.latest_result()
    except Exception:  # noqa: BLE001 - a result that cannot be read leaves the stored exc_info
        result = None
    if result is not None and result.type == Result.Type.FAILED and result.exc_string:
        return _last_line(result.exc_string)
    return _last_line(getattr(job, "_exc_info", None))


def _record_practices(model, ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.practice_id).where(model.id.in_(ids))).all())


def failed_jobs(registry, practice_id: int, *, with_errors: bool = True) -> list[FailedJob]:
    """The newest failed RQ jobs that belong to this practice: by their meta's practice_id, their practice id
    argument, or the email or bill they were about. Jobs of the whole installation (the clearinghouse tick)
    are included only when the installation has this one practice, since they may concern any practice.
    Without `with_errors`, each job's result (one Redis read per job) is not read: for counting."""
    from rq.job import Job

    ids = registry.get_job_ids(0, FAILED_JOBS_SHOWN - 1, desc=True)
    loaded = [job for job in Job.fetch_many(ids, connection=registry.connection) if job is not None]
    about: list[tuple[Job, str, int | None, tuple[str, int] | None]] = []
    emails, bills = set(), set()
    for job in loaded:
        try:
            name, args = _short_name(job.func_name), job.args or ()
        except Exception:  # noqa: BLE001 - a job whose data no longer unpickles: attribute it by meta only
            name, args = "?", ()
        owner = (job.meta or {}).get("practice_id")
        record = None
        if owner is None and args and isinstance(args[0], int):
            if name in _PRACTICE_FIRST:
                owner = args[0]
            elif name == "deliver_email":
                record = ("email", args[0])
                emails.add(args[0])
            elif name == "send_bill":
                record = ("bill", args[0])
                bills.add(args[0])
        about.append((job, name, owner, record))
    practices = {"email": _record_practices(OutboundEmail, emails), "bill": _record_practices(Bill, bills)}
    only_practice = None
    found = []
    for job, name, owner, record in about:
        if record is not None:
            owner = practices[record[0]].get(record[1], -1)  # a record since deleted belongs to nobody we know
        if owner is None:
            if only_practice is None:
                only_practice = _count(Practice) == 1
            if not only_practice:
                continue
        elif owner != practice_id:
            continue
        found.append(FailedJob(id=job.id, function=name, description=JOB_NAMES.get(name, name),
                               error=_error(job) if with_errors else "", failed_at=job.ended_at, practice_id=owner))
    return found


# ---------------------------------------------------------------- the work list


def counts_for(member: Member, failed_registry=None, *, now: datetime | None = None) -> list[WorkItem]:
    """What needs this member's action now, in the order the home page shows it. Admins see everything,
    billers the money and the practice's sessions, clinicians their own sessions, notes and claims.
    `failed_registry` is RQ's FailedJobRegistry (for admins); None when Redis cannot be reached."""
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
         lambda: _count(Bill, Bill.practice_id == member.practice_id, overdue_bill(practice_today(practice)))),
        ("sessions_not_complete", "Past sessions not marked complete", "sessions.index",
         {"status": SessionStatus.SCHEDULED.value, "past": "1"}, EVERYONE,
         lambda: _count(TherapySession, sessions, past_not_complete(now))),
        ("unsigned_notes", "Notes not signed", "sessions.index", {"unsigned": "1"}, EVERYONE,
         lambda: _count(TherapySession, sessions, unsigned_note())),
        ("failed_jobs", "Failed background jobs", "settings.jobs", {}, ADMINS,
         lambda: _failed_count(member.practice_id, failed_registry)),
    ]
    return [WorkItem(key=key, label=f"Your {label[0].lower()}{label[1:]}" if own else label, count=count(),
                     endpoint=endpoint, args=args, roles=roles, own=own)
            for key, label, endpoint, args, roles, count in specs if role in roles]


def _failed_count(practice_id: int, registry) -> int | None:
    problems = _count(JobProblem, JobProblem.practice_id == practice_id, JobProblem.cleared_at.is_(None))
    if registry is None:
        return None
    try:
        return problems + len(failed_jobs(registry, practice_id, with_errors=False))
    except RedisError:  # the home page says it could not check, and still renders
        return None


# ---------------------------------------------------------------- dealing with failures


def resolve_problem(problem: JobProblem, actor: Member) -> bool:
    """Mark a job's failure as dealt with by a person (a later successful run clears it too). False when it
    was already resolved."""
    from app import audit

    if problem.cleared_at is not None:
        return False
    problem.cleared_at = utcnow()
    audit.record("job_problem.resolved", problem, actor=actor, job=problem.job, will_retry=problem.will_retry)
    db.session.flush()
    return True


def dismiss_failed_job(registry, job: FailedJob, actor: Member) -> None:
    """Delete a job RQ gave up on, so it no longer counts; the audit log keeps what it was."""
    from app import audit

    registry.remove(job.id, delete_job=True)
    audit.record("job.failed_dismissed", practice_id=actor.practice_id, actor=actor, job_id=job.id,
                 function=job.function, error=job.error)
