"""Background work asked for inside a transaction and handed over only once it commits.

The domain asks for a job by name (`request_job(session, "send_bill", bill_id, key)`) without knowing how jobs
run; `app/jobs.py`, the one module that owns RQ, turns each request into an RQ job from SQLAlchemy's
`after_commit` event. So a job never looks for a row that is not there yet, and a rolled-back transaction asks
for nothing. Requests live on the session (`session.info`), like the transaction they belong to.
"""
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

_PENDING = "parity_jobs_after_commit"


@dataclass(frozen=True)
class JobRequest:
    #: The job's name: a function in app/jobs.py's JOBS.
    name: str
    args: tuple
    #: A deterministic id makes the job run once however often it is asked for.
    job_id: str | None = None
    #: Further RQ options chosen by the app layer (retry, result_ttl, meta …); the domain leaves them empty.
    options: dict = field(default_factory=dict)


def request_job(session: Session, name: str, *args, job_id: str | None = None, **options) -> None:
    """Ask for job `name(*args)` once the session's transaction commits; nothing if it rolls back."""
    session.info.setdefault(_PENDING, []).append(JobRequest(name, args, job_id, options))


def take(session: Session) -> list[JobRequest]:
    """The requests of the transaction that just committed (they are handed over once)."""
    return session.info.pop(_PENDING, [])


def forget(session: Session) -> None:
    """A rolled-back transaction asks for nothing."""
    session.info.pop(_PENDING, None)
