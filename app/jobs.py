"""Background jobs (run by worker.py) and the one way to enqueue them: after the commit.

Jobs take ids, load what they need, and are safe to run twice. enqueue_after_commit() keeps the job
on the database session and hands it to RQ only once that session's transaction has committed, so
a job never looks for a row that is not there yet, and a rolled-back request enqueues nothing.
"""
import functools
import logging
from collections.abc import Callable

from flask import current_app
from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.redis_conn import get_redis

log = logging.getLogger(__name__)

_PENDING = "parity_jobs_after_commit"


def queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis())


def enqueue_after_commit(func: Callable, *args, job_id: str | None = None, retry: Retry | None = None) -> None:
    """Enqueue func(*args) once the current transaction commits; nothing if it rolls back."""
    db.session.info.setdefault(_PENDING, []).append((func, args, job_id, retry))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    target = queue()
    for func, args, job_id, retry in pending:
        target.enqueue(func, *args, job_id=job_id, retry=retry)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction) -> None:
    if session.in_transaction() is False:
        session.info.pop(_PENDING, None)


def transactional(func: Callable) -> Callable:
    """Run a job as one transaction: commit when it returns, roll back when it raises."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()

    return run


# Network sends back off: 10 s, 1 min, 5 min, then the failure stays visible on the record.
NETWORK_RETRY = Retry(max=3, interval=[10, 60, 300])


@transactional
def deliver_email(email_id: int) -> str:
    """Send one queued email over SMTP, or file it in the outbox when no SMTP server is configured."""
    from app import mail

    return mail.deliver(email_id)


@transactional
def send_bill(bill_id: int, send_key: str) -> str:
    """Render the bill PDF and email it to the client or billing contact. The send key makes a retry (or a
    second run of the same job) deliver one message, not two."""
    from app import mail
    from app.billing.bill_documents import bill_pdf
    from app.models import Bill, OutboundEmail, Practice

    existing = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.idempotency_key == f"bill:{send_key}"))
    if existing is None:
        bill = db.session.get(Bill, bill_id)
        identity = bill.issued_identity
        practice = db.session.get(Practice, bill.practice_id)
        existing = mail.queue(practice, to=identity["bill_to"]["email"], subject=f"Your bill {bill.number} from "
                              f"{identity['practice']['legal_name']}", template="mail/bill.txt", bill=bill,
                              identity=identity, attachment=(f"bill-{bill.number}.pdf", bill_pdf(bill)),
                              idempotency_key=f"bill:{send_key}", deliver=False)
        db.session.flush()
    return mail.deliver(existing.id)
