"""Background work asked for inside a transaction and handed over only once it commits.

The domain asks for a job by name (`request_job(session, "send_bill", bill_id, key)`) without knowing how jobs
run; `app/jobs.py`, the one module that owns RQ, turns each request into an RQ job from SQLAlchemy's
`after_commit` event. So a job never looks for a row that is not there yet, and a rolled-back transaction asks
for nothing. Requests live on the session (`session.info`), like the transaction they belong to.
"""
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, scoped_session

_PENDING = "parity_jobs_after_commit"
_SAVEPOINTS = "parity_jobs_savepoints"


@dataclass(frozen=True)
class JobRequest:
    #: The job's name: a function in app/jobs.py's JOBS.
    name: str
    args: tuple
    #: A deterministic id makes the job run once however often it is asked for.
    job_id: str | None = None
    #: Further RQ options chosen by the app layer (retry, result_ttl, meta …); the domain leaves them empty.
    options: dict = field(default_factory=dict)


def request_job(session: Session | scoped_session, name: str, *args, job_id: str | None = None, **options) -> None:
    """Ask for job `name(*args)` once the session's transaction commits; nothing if it rolls back."""
    if isinstance(session, scoped_session):
        session = session()  # the session of this thread or app context
    if not session.in_transaction():
        session.begin()  # the request belongs to a transaction, even one that has written nothing yet
    session.info.setdefault(_PENDING, []).append(JobRequest(name, args, job_id, options))


def take(session: Session) -> list[JobRequest]:
    """The requests of the transaction that just committed (they are handed over once). Nothing while a savepoint
    is released: its requests belong to the transaction around it, which may still roll back."""
    if session.in_nested_transaction():
        return []
    session.info.pop(_SAVEPOINTS, None)
    return session.info.pop(_PENDING, [])


def savepoint_started(session: Session, savepoint) -> None:
    """Remember how much was asked for before the savepoint, to forget what it asks for if it rolls back."""
    session.info.setdefault(_SAVEPOINTS, {})[savepoint] = len(session.info.get(_PENDING, []))


def rolled_back(session: Session, transaction) -> None:
    """A rolled-back savepoint asks for nothing; a rolled-back transaction asks for nothing at all."""
    if transaction.nested:
        asked_before = session.info.get(_SAVEPOINTS, {}).pop(transaction, None)
        if asked_before is not None:
            del session.info.get(_PENDING, [])[asked_before:]
    elif not session.in_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_SAVEPOINTS, None)
