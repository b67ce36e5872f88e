"""Background jobs (run by worker.py) and the one way to enqueue them: after the commit.

Jobs take ids, load what they need, and are safe to run twice. enqueue_after_commit() keeps the job
on the database session and hands it to RQ only once that session's transaction has committed, so
a job never looks for a row that is not there yet, and a rolled-back request enqueues nothing.
"""
import functools
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.results import Result
from sqlalchemy import exists, event, func, select
from sqlalchemy.orm import Session

from app import audit, backups, clearinghouse, logs, mail, metrics, practice_export, secrets_at_rest
from app.after_commit import request_job, rolled_back, savepoint_started, take
from app.billing import acknowledgements, dates, eligibility, era, submissions, summaries
from app.billing.bill_documents import bill_pdf
from app.clearinghouse.base import ClearinghouseError, ClearinghouseUnavailable
from app.config import encryption_key
from app.extensions import db
from app.models import Bill, EligibilityCheck, InsurancePolicy, JobProblem, OutboundEmail, Practice, SandboxClaim, Submission
from app.models.types import utcnow
from app.redis_conn import get_redis

log = logging.getLogger(__name__)

#: RQ statuses of a job still to finish (scheduled: waiting to retry after a network error).
_RUNNING = (JobStatus.CREATED, JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.STARTED)


def queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=get_redis())


def worker_count() -> int:
    """How many RQ workers are alive (for /healthz)."""
    return Worker.count(connection=get_redis())


def queue_stats() -> dict[str, int]:
    """RQ's jobs by state, for /metrics."""
    target = queue()
    return {"queued": target.count, "started": target.started_job_registry.count,
            "scheduled": target.scheduled_job_registry.count, "failed": target.failed_job_registry.count}


def enqueue_after_commit(func: Callable, *args, job_id: str | None = None, **options) -> None:
    """Enqueue func(*args) once the current transaction commits; nothing if it rolls back. `options` go to
    RQ as they are (retry, meta, result_ttl, failure_ttl …). The domain asks the same way by name, through
    `app.after_commit.request_job`."""
    request_job(db.session, func.__name__, *args, job_id=job_id, **options)


@event.listens_for(db.session, "after_commit")
def _enqueue_requested(session: Session) -> None:
    requests = take(session)
    if not requests:
        return
    target = queue()
    request_id = logs.current_request_id()
    for request in requests:
        options = {**_default_options(request.name), **request.options}
        if request_id:  # the job's log lines carry the id of the request that queued it
            options["meta"] = {**options.get("meta", {}), "request_id": request_id}
        target.enqueue(JOBS[request.name], *request.args, job_id=request.job_id, **options)


@event.listens_for(db.session, "after_transaction_create")
def _savepoint_started(session: Session, transaction) -> None:
    if transaction.nested:
        savepoint_started(session, transaction)


@event.listens_for(db.session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    rolled_back(session, previous_transaction)


def _default_options(name: str) -> dict:
    """What RQ needs to know of a job whoever asks for it."""
    if name in ("deliver_email", "send_bill"):
        return {"retry": NETWORK_RETRY}
    if name == "rebuild_report_summaries":
        # A large practice takes minutes, far beyond RQ's default job timeout.
        return {"job_timeout": current_app.config["REPORT_REBUILD_TIMEOUT_SECONDS"]}
    return {}


@contextmanager
def _job_session() -> Iterator[None]:
    """Whatever a job leaves uncommitted when it raises is rolled back, and its session is always released."""
    try:
        yield
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def transactional(func: Callable) -> Callable:
    """Run a job as one transaction: commit when it returns, roll back when it raises."""
    @functools.wraps(func)
    def run(*args, **kwargs):
        with _job_session():
            result = func(*args, **kwargs)
            db.session.commit()
            return result

    return run


@transactional
def rebuild_report_summaries(practice_id: int) -> str:
    """Build a practice's report summaries again (after its time zone changed, or an upgrade that added to
    them); nothing when a report page already did."""
    return "rebuilt" if summaries.ensure_built(db.session, practice_id) else "already built"


def enqueue_report_rebuild(practice_id: int, *, after_commit: bool = True) -> None:
    """Queue rebuild_report_summaries for a practice, once (one job id per practice)."""
    job_id = summaries.rebuild_job_id(practice_id)
    if after_commit:
        enqueue_after_commit(rebuild_report_summaries, practice_id, job_id=job_id)
        return
    existing = Job.fetch_many([job_id], connection=get_redis())[0]
    if existing is None or existing.get_status() not in _RUNNING:
        queue().enqueue(rebuild_report_summaries, practice_id, job_id=job_id,
                        **_default_options("rebuild_report_summaries"))  # (the job is idempotent)


def queue_missing_report_builds() -> list[int]:
    """At the worker's start: queue a rebuild for every practice whose summaries are not built (an upgrade
    that changed what they hold marks them so), so that no report page has to build them. Returns the ids."""
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
    return mail.deliver(email_id)


@transactional
def send_bill(bill_id: int, send_key: str) -> str:
    """Render the bill PDF and email it to the client or billing contact. The send key makes a retry (or a
    second run of the same job) deliver one message, not two."""
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
    db.session.rollback()
    db.session.add(JobProblem(practice_id=practice_id, job=job, message=message[:2000], will_retry=will_retry))
    db.session.commit()


def _clear_problems(practice_id: int, job: str) -> None:
    db.session.execute(db.update(JobProblem).where(JobProblem.practice_id == practice_id, JobProblem.job == job,
                                                   JobProblem.cleared_at.is_(None)).values(cleared_at=utcnow()))
    db.session.commit()


def _progress(**values) -> None:
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
        try:
            queue().enqueue(submit_claims, practice_id, unique=True, **options)
        except DuplicateJobError:
            return None
    get_redis().set(SUBMISSION_JOB_KEY.format(practice_id=practice_id), job_id, ex=24 * 3600)
    return job_id


def _clearinghouse_job(name: str):
    """For jobs that commit as they go: a network failure is recorded as a visible problem and raised so RQ
    retries with backoff; a refusal is recorded and ends the job; a run that ends well clears the job's
    problems."""
    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(practice_id: int, *args, **kwargs):
            with _job_session():
                try:
                    result = func(practice_id, *args, **kwargs)
                except ClearinghouseError as error:
                    will_retry = isinstance(error, ClearinghouseUnavailable)
                    _problem(practice_id, name, str(error), will_retry)
                    if will_retry:
                        raise
                    return {"error": str(error)}
                _clear_problems(practice_id, name)
                log.info("%s for practice %s done", name, practice_id,
                         extra={"job": name, "practice_id": practice_id, "result": result})
                return result

        return run

    return wrap


def _claimmd_account_key(practice: Practice) -> str | None:
    """The practice's AccountKey in plain text, for this job only (the database keeps it encrypted)."""
    if not practice.claimmd_account_key:
        return None
    try:
        return secrets_at_rest.decrypt(practice.claimmd_account_key, encryption_key(current_app.config))
    except secrets_at_rest.SecretUnreadable as error:
        raise ClearinghouseError("The stored Claim.MD AccountKey cannot be read (SECRET_KEY or ENCRYPTION_KEY "
                                 "changed since it was saved): enter it again in Settings → Insurance.") from error


def _adapter(practice_id: int):
    """The practice and its clearinghouse adapter (None when people move the files by hand)."""
    practice = db.session.get(Practice, practice_id)
    adapter = clearinghouse.for_practice(practice, claimmd_account_key=_claimmd_account_key(practice),
                                         claimmd_url=current_app.config["CLAIMMD_URL"],
                                         claimmd_timeout=current_app.config["CLAIMMD_TIMEOUT_SECONDS"])
    if not adapter.automated:
        return practice, None
    return practice, metrics.CountedClearinghouse(adapter, practice.clearinghouse, get_redis())


@_clearinghouse_job("submit_claims")
def submit_claims(practice_id: int, claim_ids: list[int] | None = None) -> dict:
    """Send the practice's Queued For Submission claims (or those of `claim_ids`) to its clearinghouse.
    Safe to run twice or after a crash: every submission still pending is resumed, and one whose earlier
    upload may have arrived is looked up at the clearinghouse before it is sent again."""
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
    for func in (poll_status, fetch_remittances):
        try:
            queue().enqueue(func, practice_id, job_id=f"{func.__name__}-{practice_id}-{job_suffix}", unique=True,
                            retry=NETWORK_RETRY, result_ttl=600, failure_ttl=24 * 3600)
        except DuplicateJobError:
            pass


TICK_JOB = "clearinghouse_tick-{slot}"


def _slot(at: float | None = None) -> int:
    return int((at or time.time()) // current_app.config["CLEARINGHOUSE_TICK_SECONDS"])


def schedule_next_tick() -> None:
    """Put the next clearinghouse tick on RQ's scheduler. The job id is the time slot, so however many
    workers call this, each slot runs once."""
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
            _enqueue_nightly_eligibility(practice)
        db.session.rollback()
    finally:
        db.session.remove()
        schedule_next_tick()
    return {"submitted": submitted, "polled": polled}


def _sandbox_waiting(practice_id: int) -> bool:
    """The sandbox payer answers within a poll or two; poll it every tick while it holds claims."""
    return bool(db.session.scalar(select(exists().where(SandboxClaim.practice_id == practice_id,
                                                        SandboxClaim.stage.in_(["received", "acknowledged",
                                                                                "adjudicating"])))))


# ---------------------------------------------------------------- eligibility


def eligibility_adapter(practice_id: int):
    practice = db.session.get(Practice, practice_id)
    return clearinghouse.for_practice(practice, claimmd_account_key=_claimmd_account_key(practice),
                                      claimmd_url=current_app.config["CLAIMMD_URL"],
                                      claimmd_timeout=current_app.config["CLAIMMD_TIMEOUT_SECONDS"])


def check_eligibility(check_id: int) -> str:
    """Send a pending check's 270 and read the 271 onto it (nothing when it is no longer pending). A payer or
    clearinghouse that cannot answer leaves the check failed with the reason; people ask again."""
    with _job_session():
        check = db.session.get(EligibilityCheck, check_id)
        if check is None or check.status != "pending":
            return "not pending"
        try:
            adapter = eligibility_adapter(check.practice_id)
            eligibility.run_check(check, adapter)
        except ClearinghouseError as error:  # unavailable, or no usable adapter configuration
            check.status, check.problem = "failed", str(error)
            audit.record("eligibility.failed", check, problem=str(error))
        db.session.commit()
        return check.status


def nightly_eligibility(practice_id: int, day: str) -> dict:
    """Check every client seen in the next few days whose last check is older than 30 days (see
    billing.eligibility.due_for_nightly), one transaction per check; safe to run twice (checked clients are
    no longer due)."""
    checked, failed = 0, 0
    with _job_session():
        practice = db.session.get(Practice, practice_id)
        if practice is None or practice.clearinghouse not in ("sandbox", "claimmd"):
            return {"checked": 0, "failed": 0}
        adapter = eligibility_adapter(practice_id)
        for policy_id in eligibility.due_for_nightly(practice_id, date.fromisoformat(day)):
            policy = db.session.get(InsurancePolicy, policy_id)
            try:
                check = eligibility.start_check(policy, source="nightly", service_date=date.fromisoformat(day))
                eligibility.run_check(check, adapter)
            except eligibility.EligibilityProblem as error:
                db.session.rollback()
                log.warning("nightly eligibility: policy %s: %s", policy_id, error)
                failed += 1
                continue
            except ClearinghouseUnavailable as error:
                check.status, check.problem = "failed", str(error)
            failed += check.status == "failed"
            checked += 1
            db.session.commit()
    return {"checked": checked, "failed": failed}


#: The nightly batch runs on the first tick at or after this local hour.
NIGHTLY_HOUR = 2


def _enqueue_nightly_eligibility(practice: Practice) -> bool:
    """From the tick: queue the practice's nightly batch once per local day (the job id is the day)."""
    local = datetime.now(dates.zone(practice.timezone))
    if local.hour < NIGHTLY_HOUR:
        return False
    day = local.date().isoformat()
    try:
        queue().enqueue(nightly_eligibility, practice.id, day, job_id=f"nightly_eligibility-{practice.id}-{day}",
                        unique=True, result_ttl=48 * 3600, failure_ttl=48 * 3600, job_timeout=4 * 3600)
    except DuplicateJobError:
        return False
    return True
# ---------------------------------------------------------------- backups

BACKUP_JOB = "daily_backup-{slot}"


def take_backup(to_dir: str) -> backups.Backup:
    """Write one backup archive and remember how it ended (for the admins' home page and /metrics); the
    failure is raised after it is remembered. Redis not answering does not fail a backup that worked."""
    at = datetime.now(timezone.utc)
    try:
        backup = backups.create(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.instance_path, to_dir,
                                now=at)
    except backups.BackupError as error:
        _remember_backup(ok=False, at=at, detail=str(error))
        log.error("backup failed: %s", error)
        raise
    _remember_backup(ok=True, at=at, detail=backup.path.name)
    log.info("backup written", extra={"archive": backup.path.name, "seconds": round(backup.seconds, 2),
                                       "bytes": backup.path.stat().st_size})
    return backup


def _remember_backup(**outcome) -> None:
    try:
        backups.record_outcome(get_redis(), **outcome)
    except RedisError as error:
        log.warning("could not record the backup's outcome in Redis: %s", error)


def schedule_next_backup() -> None:
    """Put the next backup on RQ's scheduler when BACKUP_DIR is set: once per BACKUP_EVERY_SECONDS slot,
    however many workers call this (the job id is the slot)."""
    if not current_app.config["BACKUP_DIR"]:
        return
    seconds = current_app.config["BACKUP_EVERY_SECONDS"]
    slot = int(time.time() // seconds) + 1
    try:
        queue().enqueue_at(datetime.fromtimestamp(slot * seconds, timezone.utc), daily_backup,
                           job_id=BACKUP_JOB.format(slot=slot), unique=True,
                           job_timeout=current_app.config["BACKUP_TIMEOUT_SECONDS"], result_ttl=seconds * 2,
                           failure_ttl=7 * 24 * 3600)
    except DuplicateJobError:
        pass


def daily_backup() -> dict:
    """Back up the installation into BACKUP_DIR and rotate (7 daily, 4 weekly); then schedule the next one. A
    failure fails the job, so it shows in the failed jobs and on the admins' home page."""
    try:
        directory = current_app.config["BACKUP_DIR"]
        if not directory:
            return {"skipped": "BACKUP_DIR is not set"}
        db.session.remove()
        backup = take_backup(directory)
        deleted = backups.rotate(directory, daily=current_app.config["BACKUP_KEEP_DAILY"],
                                 weekly=current_app.config["BACKUP_KEEP_WEEKLY"])
        return {"archive": backup.path.name, "seconds": round(backup.seconds, 2), "deleted": deleted}
    finally:
        schedule_next_backup()


def backup_problem() -> dict | None:
    """The latest backup's failure ({"at", "detail"}) when the latest one failed; None otherwise or when Redis
    does not answer."""
    try:
        outcome = backups.last_outcome(get_redis())
    except RedisError:
        return None
    return outcome if outcome and not outcome["ok"] else None


# ---------------------------------------------------------------- a practice's export, for its admins

PRACTICE_EXPORT_KEY = "parity:practice-export:{practice_id}"


def exports_dir() -> Path:
    """Where export zips are written (EXPORT_DIR; shared by the web servers and workers when on several machines)."""
    return Path(current_app.config["EXPORT_DIR"] or Path(current_app.instance_path) / "exports")


def enqueue_practice_export(practice_id: int) -> str:
    """Queue export_practice after this commit, and remember it as the practice's latest export."""
    seconds = current_app.config["EXPORT_LINK_SECONDS"]
    job_id = f"export_practice-{practice_id}-{secrets.token_hex(16)}"
    enqueue_after_commit(export_practice, practice_id, job_id, job_id=job_id, result_ttl=seconds,
                         failure_ttl=24 * 3600, job_timeout=current_app.config["REPORT_REBUILD_TIMEOUT_SECONDS"],
                         meta={"practice_id": practice_id, "done": 0, "total": 0})
    get_redis().set(PRACTICE_EXPORT_KEY.format(practice_id=practice_id), job_id, ex=seconds)
    return job_id


def _export_path(practice_id: int, job_id: str) -> Path:
    return exports_dir() / f"{job_id}.zip"


def export_practice(practice_id: int, job_id: str) -> dict:
    """Write the practice's export zip (once: a second run finds it), reporting progress; and delete the exports
    whose download link has expired."""
    folder = exports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - current_app.config["EXPORT_LINK_SECONDS"]
    for old in folder.glob("export_practice-*.zip"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    path = _export_path(practice_id, job_id)
    if not path.exists():
        with _job_session():
            summary = practice_export.write(db.session, practice_id, path,
                                            progress=lambda done, total: _progress(done=done, total=total))
        log.info("practice export written", extra={"job": "export_practice", "practice_id": practice_id,
                                                    "pdfs": summary["pdfs"], "x12_files": summary["x12_files"]})
    return {"file": path.name}


def practice_export_state(practice_id: int) -> dict:
    """The practice's latest export: running (done of total steps), ready (its file and when the link expires),
    failed, or none (never, or its link expired)."""
    job_id = get_redis().get(PRACTICE_EXPORT_KEY.format(practice_id=practice_id))
    if job_id is None:
        return {"state": "none"}
    job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
    job = Job.fetch_many([job_id], connection=get_redis())[0]
    if job is None:  # queued after a commit that has not reached RQ yet
        return {"state": "running", "done": 0, "total": 0}
    status = job.get_status(refresh=False)
    if status in _RUNNING:
        return {"state": "running", "done": int(job.meta.get("done") or 0), "total": int(job.meta.get("total") or 0)}
    path = _export_path(practice_id, job_id)
    if status == JobStatus.FINISHED and path.exists():
        expires = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) + timedelta(
            seconds=current_app.config["EXPORT_LINK_SECONDS"])
        if expires > datetime.now(timezone.utc):
            return {"state": "ready", "path": path, "expires_at": expires}
        return {"state": "none"}
    return {"state": "failed"}


#: Every job by name, for the work asked for through app.after_commit (and for reading failed jobs).
JOBS: dict[str, Callable] = {job.__name__: job for job in (
    deliver_email, send_bill, rebuild_report_summaries, submit_claims, poll_status, fetch_remittances,
    clearinghouse_tick, check_eligibility, nightly_eligibility, daily_backup, export_practice)}


# ---------------------------------------------------------------- what RQ knows of jobs, for the pages

#: Background jobs in plain words (JobProblem.job, and the function of an RQ job).
JOB_NAMES = {
    "submit_claims": "Sending claims to the clearinghouse",
    "poll_status": "Reading acknowledgements from the clearinghouse",
    "fetch_remittances": "Fetching remittances from the clearinghouse",
    "deliver_email": "Sending an email",
    "send_bill": "Emailing a bill",
    "clearinghouse_tick": "Scheduling the clearinghouse work",
    "rebuild_report_summaries": "Rebuilding the reports' summaries",
    "check_eligibility": "Checking a client's eligibility",
    "nightly_eligibility": "Checking eligibility for the coming sessions",
    "daily_backup": "Backing up the installation",
    "export_practice": "Exporting the practice's records",
}
#: Jobs about the whole installation that every practice's admins are shown when they fail.
_INSTALLATION_WIDE = {"daily_backup"}
#: Jobs whose first argument is the practice id.
_PRACTICE_FIRST = {"submit_claims", "poll_status", "fetch_remittances", "rebuild_report_summaries",
                   "nightly_eligibility", "export_practice"}
#: How many of the newest failed RQ jobs are read and attributed (the registry keeps a day of failures).
FAILED_JOBS_SHOWN = 100
#: The submission job's stages in plain words, for the claims page's progress bar.
SUBMISSION_STAGES = {"queued": "Waiting for the worker", "writing": "Writing the 837P files", "sending": "Sending",
                     "done": "Done"}


def submission_state(practice_id: int, *, just_queued: bool = False) -> dict:
    """The practice's latest submission job as RQ knows it: running (stage, sent of total), or how it ended."""
    if just_queued:  # enqueued after this request commits: RQ has not seen it yet
        return {"running": True, "stage": SUBMISSION_STAGES["queued"], "sent": 0, "total": 0, "retrying": False}
    job_id = submission_job_id(practice_id)
    try:
        job = Job.fetch(job_id, connection=get_redis()) if job_id else None
    except NoSuchJobError:
        job = None  # expired, or its request was rolled back before the job reached RQ
    if job is None:
        return {"running": False, "outcome": "none"}
    status = job.get_status(refresh=False)
    meta = job.meta or {}
    if status in _RUNNING:
        return {"running": True, "stage": SUBMISSION_STAGES.get(meta.get("stage"), "Working"),
                "sent": int(meta.get("sent") or 0), "total": int(meta.get("total") or 0),
                "retrying": status == JobStatus.SCHEDULED}
    if status == JobStatus.FINISHED:
        return {"running": False, "outcome": "finished", "result": job.return_value() or {}}
    return {"running": False, "outcome": "failed"}


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


def _failed_registry() -> FailedJobRegistry:
    return FailedJobRegistry(queue=queue())


def _short_name(func_name: str | None) -> str:
    return (func_name or "?").rsplit(".", 1)[-1]


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def _error(job: Job) -> str:
    """The last line of the traceback RQ stored with the job's failed result."""
    try:
        result = job.latest_result()
    except Exception:  # noqa: BLE001 - a result that cannot be read: the page shows no error text
        return ""
    if result is not None and result.type == Result.Type.FAILED:
        return _last_line(result.exc_string)
    return ""


def _record_practices(model, ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.practice_id).where(model.id.in_(ids))).all())


def failed_jobs(practice_id: int, *, with_errors: bool = True) -> list[FailedJob]:
    """The newest failed RQ jobs that belong to this practice: by their meta's practice_id, their practice id
    argument, or the email or bill they were about. Jobs of the whole installation (the clearinghouse tick)
    are included only when the installation has this one practice, since they may concern any practice.
    Without `with_errors`, each job's result (one Redis read per job) is not read: for counting. Raises
    RedisError when Redis does not answer."""
    registry = _failed_registry()
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
        if owner is None and name in _INSTALLATION_WIDE:
            pass  # a failed backup concerns every practice's admins
        elif owner is None:
            if only_practice is None:
                only_practice = db.session.scalar(select(func.count()).select_from(Practice)) == 1
            if not only_practice:
                continue
        elif owner != practice_id:
            continue
        found.append(FailedJob(id=job.id, function=name, description=JOB_NAMES.get(name, name),
                               error=_error(job) if with_errors else "", failed_at=job.ended_at, practice_id=owner))
    return found


def failed_job_count(practice_id: int) -> int | None:
    """How many failed RQ jobs belong to the practice; None when Redis does not answer (the page says it could
    not check, and still renders)."""
    try:
        return len(failed_jobs(practice_id, with_errors=False))
    except RedisError:
        return None


def dismiss_failed_job(job: FailedJob, actor) -> None:
    """Delete a job RQ gave up on, so it no longer counts; the audit log keeps what it was."""
    _failed_registry().remove(job.id, delete_job=True)
    audit.record("job.failed_dismissed", practice_id=actor.practice_id, actor=actor, job_id=job.id,
                 function=job.function, error=job.error)
