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

from app.clearinghouse.base import ClearinghouseError, ClearinghouseUnavailable
from app.extensions import db
from app.redis_conn import get_redis

log = logging.getLogger(__name__)

_PENDING = "parity_jobs_after_commit"


def queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis())


def enqueue_after_commit(func: Callable, *args, job_id: str | None = None, retry: Retry | None = None,
                         **options) -> None:
    """Enqueue func(*args) once the current transaction commits; nothing if it rolls back. `options` go to
    RQ as they are (meta, result_ttl, failure_ttl …)."""
    db.session.info.setdefault(_PENDING, []).append((func, args, job_id, retry, options))


@event.listens_for(db.session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    target = queue()
    for func, args, job_id, retry, options in pending:
        target.enqueue(func, *args, job_id=job_id, retry=retry, **options)


@event.listens_for(db.session, "after_soft_rollback")
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


@transactional
def rebuild_report_summaries(practice_id: int) -> str:
    """Build a practice's report summaries again (after its time zone changed, or an upgrade that added to
    them); nothing when a report page already did."""
    from app.billing import summaries

    return "rebuilt" if summaries.ensure_built(db.session, practice_id) else "already built"


def enqueue_report_rebuild(practice_id: int, *, after_commit: bool = True) -> None:
    """Queue rebuild_report_summaries for a practice, once (one job id per practice). A large practice takes
    minutes, far beyond RQ's default job timeout."""
    options = dict(job_id=f"report-summaries-{practice_id}",
                   job_timeout=current_app.config["REPORT_REBUILD_TIMEOUT_SECONDS"])
    if after_commit:
        enqueue_after_commit(rebuild_report_summaries, practice_id, **options)
        return
    from rq.job import Job, JobStatus

    existing = Job.fetch_many([options["job_id"]], connection=get_redis())[0]
    if existing is None or existing.get_status() not in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED,
                                                         JobStatus.SCHEDULED):
        queue().enqueue(rebuild_report_summaries, practice_id, **options)  # (the job is idempotent)


def queue_missing_report_builds() -> list[int]:
    """At the worker's start: queue a rebuild for every practice whose summaries are not built (an upgrade
    that changed what they hold marks them so), so that no report page has to build them. Returns the ids."""
    from app.models import Practice

    missing = db.session.scalars(db.select(Practice.id).where(Practice.reports_built_at.is_(None))
                                 .order_by(Practice.id)).all()
    db.session.remove()
    for practice_id in missing:
        enqueue_report_rebuild(practice_id, after_commit=False)
    return list(missing)


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


# ---------------------------------------------------------------- clearinghouse
#
# These jobs commit more than once on purpose: a submission is written and committed before its upload,
# and its receipt is committed after, so no crash can send a claim twice or lose one (see
# app/billing/submissions.py). No transaction is open while the clearinghouse is called.

SUBMISSION_JOB_KEY = "parity:submission-job:{practice_id}"


def _problem(practice_id: int, job: str, message: str, will_retry: bool) -> None:
    """Make a failure visible to billers (in its own transaction, whatever happens to the job's)."""
    from app.models import JobProblem

    db.session.rollback()
    db.session.add(JobProblem(practice_id=practice_id, job=job, message=message[:2000], will_retry=will_retry))
    db.session.commit()


def _clear_problems(practice_id: int, job: str) -> None:
    from app.models import JobProblem
    from app.models.types import utcnow

    db.session.execute(db.update(JobProblem).where(JobProblem.practice_id == practice_id, JobProblem.job == job,
                                                   JobProblem.cleared_at.is_(None)).values(cleared_at=utcnow()))
    db.session.commit()


def _progress(**values) -> None:
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.meta.update(values)
        job.save_meta()


def submission_job_id(practice_id: int) -> str | None:
    """The id of the practice's latest submission job, for the claims page's progress bar."""
    value = get_redis().get(SUBMISSION_JOB_KEY.format(practice_id=practice_id))
    return value.decode() if isinstance(value, bytes) else value


def enqueue_submission(practice_id: int, *, job_id: str, after_commit: bool = True) -> str | None:
    """Queue submit_claims for a practice (once per job id) and remember it for the progress bar."""
    options = dict(job_id=job_id, retry=NETWORK_RETRY, result_ttl=3600, failure_ttl=24 * 3600,
                   meta={"practice_id": practice_id, "total": 0, "sent": 0, "stage": "queued"},
                   job_timeout=current_app.config["SUBMIT_JOB_TIMEOUT_SECONDS"])
    if after_commit:
        enqueue_after_commit(submit_claims, practice_id, **options)
    else:
        from rq.exceptions import DuplicateJobError

        try:
            queue().enqueue(submit_claims, practice_id, unique=True, **options)
        except DuplicateJobError:
            return None
    get_redis().set(SUBMISSION_JOB_KEY.format(practice_id=practice_id), job_id, ex=24 * 3600)
    return job_id


def _clearinghouse_job(name: str):
    """For jobs that commit as they go: a network failure is recorded as a visible problem and raised so RQ
    retries with backoff; a refusal is recorded and ends the job; a run that ends well clears the job's
    problems. Whatever is left uncommitted on an error is rolled back, and the session is always released."""
    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(practice_id: int, *args, **kwargs):
            try:
                result = func(practice_id, *args, **kwargs)
                _clear_problems(practice_id, name)
                return result
            except ClearinghouseError as error:
                will_retry = isinstance(error, ClearinghouseUnavailable)
                _problem(practice_id, name, str(error), will_retry)
                if will_retry:
                    raise
                return {"error": str(error)}
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

        return run

    return wrap


def _adapter(practice_id: int):
    """The practice and its clearinghouse adapter (None when people move the files by hand)."""
    from app import clearinghouse
    from app.models import Practice

    practice = db.session.get(Practice, practice_id)
    adapter = clearinghouse.for_practice(practice)
    return practice, adapter if adapter.automated else None


@_clearinghouse_job("submit_claims")
def submit_claims(practice_id: int, claim_ids: list[int] | None = None) -> dict:
    """Send the practice's Queued For Submission claims (or those of `claim_ids`) to its clearinghouse.
    Safe to run twice or after a crash: every submission still pending is resumed, and one whose earlier
    upload may have arrived is looked up at the clearinghouse before it is sent again."""
    from app.billing import submissions
    from app.models import Submission

    practice, adapter = _adapter(practice_id)
    if adapter is None:
        return {"sent": 0, "reason": "files"}
    _progress(stage="writing")
    submissions.prepare(practice, claim_ids, per_file=current_app.config["CLAIMS_PER_FILE"])
    db.session.commit()
    waiting = submissions.waiting(practice_id)
    total = sum(db.session.get(Submission, sid).claim_count for sid in waiting)
    sent = refused = 0
    _progress(stage="sending", total=total, sent=0)
    # The lease must outlive one upload however slow, or a second worker could send a file still in flight.
    lease = max(current_app.config["SUBMISSION_LEASE_SECONDS"],
                int(2 * current_app.config["CLAIMMD_TIMEOUT_SECONDS"]) + 5)
    for submission_id in waiting:
        submission = submissions.take_lease(submission_id, lease)
        if submission is None:
            db.session.rollback()
            continue  # another worker holds it
        filename, content, retrying = submission.filename, submission.file.content, submission.attempts > 1
        db.session.commit()
        try:
            receipt = adapter.find_upload(filename) if retrying else None
            if receipt is None:
                receipt = adapter.upload(filename, content)
        except ClearinghouseError as error:
            submissions.record_failure(db.session.get(Submission, submission_id), str(error))
            db.session.commit()
            raise type(error)(f"Claims not sent: {error}") from error
        submission = db.session.get(Submission, submission_id)
        submissions.record_receipt(submission, receipt)
        db.session.commit()
        sent += submission.claim_count if receipt.accepted else 0
        refused += 0 if receipt.accepted else submission.claim_count
        _progress(sent=sent + refused)
    _progress(stage="done")
    return {"sent": sent, "refused": refused}


@_clearinghouse_job("poll_status")
def poll_status(practice_id: int) -> dict:
    """Ask the clearinghouse for acknowledgements and claim statuses since the stored cursor, and apply them."""
    from app.billing import acknowledgements
    from app.models.types import utcnow

    practice, adapter = _adapter(practice_id)
    if adapter is None:
        return {}
    cursor = practice.clearinghouse_response_cursor or ""
    db.session.commit()
    result = adapter.poll(cursor)
    practice, _ = _adapter(practice_id)
    moved, refused = 0, []
    for document in result.documents:
        try:
            with db.session.begin_nested():
                moved += acknowledgements.import_file(practice, document, source="clearinghouse").claims_moved
        except acknowledgements.AcknowledgementRefused as error:
            refused.append(str(error))
    if result.reports:
        moved += acknowledgements.apply_reports(practice, list(result.reports)).claims_moved
    practice.clearinghouse_response_cursor = result.cursor
    practice.last_polled_at = utcnow()
    db.session.commit()
    if refused:
        raise ClearinghouseError("Acknowledgements not read: " + "; ".join(refused))
    return {"moved": moved}


@_clearinghouse_job("fetch_remittances")
def fetch_remittances(practice_id: int) -> dict:
    """Fetch the 835s the clearinghouse holds since the stored cursor and post each, one transaction per file.
    A file posted before changes nothing; a file that does not balance is refused and shown to billers."""
    from app.billing import era

    practice, adapter = _adapter(practice_id)
    if adapter is None:
        return {}
    cursor = practice.clearinghouse_era_cursor or ""
    db.session.commit()
    listing = adapter.list_remittances(cursor)
    posted, refused = 0, []
    for notice in listing.notices:
        text = adapter.fetch_remittance(notice)
        practice, _ = _adapter(practice_id)
        try:
            era.import_835(practice, text, source="clearinghouse")
            db.session.commit()
            posted += 1
        except era.AlreadyPosted:
            db.session.rollback()
        except era.RemittanceRefused as error:
            db.session.rollback()
            refused.append(f"835 {notice.reference} ({notice.payer_name}): {error}")
    practice, _ = _adapter(practice_id)
    practice.clearinghouse_era_cursor = listing.cursor
    db.session.commit()
    if refused:
        raise ClearinghouseError("; ".join(refused))
    return {"posted": posted}


def enqueue_poll(practice_id: int, *, job_suffix: str) -> None:
    """Queue one poll-and-fetch cycle for a practice (once per suffix)."""
    from rq.exceptions import DuplicateJobError

    for func in (poll_status, fetch_remittances):
        try:
            queue().enqueue(func, practice_id, job_id=f"{func.__name__}-{practice_id}-{job_suffix}", unique=True,
                            retry=NETWORK_RETRY, result_ttl=600, failure_ttl=24 * 3600)
        except DuplicateJobError:
            pass


TICK_JOB = "clearinghouse_tick-{slot}"


def _slot(at: float | None = None) -> int:
    import time

    return int((at or time.time()) // current_app.config["CLEARINGHOUSE_TICK_SECONDS"])


def schedule_next_tick() -> None:
    """Put the next clearinghouse tick on RQ's scheduler. The job id is the time slot, so however many
    workers call this, each slot runs once."""
    from datetime import datetime, timezone

    from rq.exceptions import DuplicateJobError

    seconds = current_app.config["CLEARINGHOUSE_TICK_SECONDS"]
    slot = _slot() + 1
    try:
        queue().enqueue_at(datetime.fromtimestamp(slot * seconds, timezone.utc), clearinghouse_tick,
                           job_id=TICK_JOB.format(slot=slot), unique=True, result_ttl=seconds * 4,
                           failure_ttl=24 * 3600)
    except DuplicateJobError:
        pass


def clearinghouse_tick() -> dict:
    """Every tick: for each practice with an automated clearinghouse, send what is ready (if it sends on its
    own) and poll when its interval has passed; then schedule the next tick."""
    from datetime import timedelta

    from sqlalchemy import exists, select

    from app.billing import submissions
    from app.models import Practice
    from app.models.types import utcnow

    slot = _slot()
    submitted, polled = [], []
    try:
        practices = db.session.scalars(select(Practice).where(Practice.clearinghouse.in_(["sandbox", "claimmd"]))
                                       .order_by(Practice.id)).all()
        for practice in practices:
            if practice.submit_claims_automatically and (
                    db.session.scalar(select(exists(submissions.ready_to_send(practice.id).subquery())))
                    or submissions.waiting(practice.id)):
                if enqueue_submission(practice.id, job_id=f"submit_claims-{practice.id}-{slot}", after_commit=False):
                    submitted.append(practice.id)
            due = practice.last_polled_at is None or \
                utcnow() - practice.last_polled_at >= timedelta(minutes=practice.poll_every_minutes)
            if due or (practice.clearinghouse == "sandbox" and _sandbox_waiting(practice.id)):
                enqueue_poll(practice.id, job_suffix=str(slot))
                polled.append(practice.id)
        db.session.rollback()
    finally:
        db.session.remove()
        schedule_next_tick()
    return {"submitted": submitted, "polled": polled}


def _sandbox_waiting(practice_id: int) -> bool:
    """The sandbox payer answers within a poll or two; poll it every tick while it holds claims."""
    from sqlalchemy import exists, select

    from app.models import SandboxClaim

    return bool(db.session.scalar(select(exists().where(SandboxClaim.practice_id == practice_id,
                                                        SandboxClaim.stage.in_(["received", "acknowledged",
                                                                                "adjudicating"])))))
