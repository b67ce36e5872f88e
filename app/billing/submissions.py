"""Claims on their way to the clearinghouse. No Flask request in sight; callers own the transaction.

A Submission is one validated 837P file and its claims. It is written (pending) in one transaction and
uploaded after that commit, so a crash can only leave it pending or uploading, never lost:
- `prepare` puts Queued claims that are not already on their way into new files;
- `take_lease` lets exactly one worker upload a submission at a time (an atomic UPDATE); a worker that dies
  keeps the lease until it runs out, then another may take over;
- a submission whose earlier attempt may have reached the clearinghouse (attempts > 0) is looked up there
  by its file name, made from the control number, before anything is sent again;
- `record_receipt` marks the claims Sent only when the clearinghouse accepted the file.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from app import audit
from app.billing import claims as claim_rules
from app.clearinghouse.base import UploadReceipt
from app.extensions import db
from app.models import (Claim, ClaimFile, ClaimStatus, Member, Practice, Submission, SubmissionStatus, X12File)
from app.models.types import utcnow

IN_FLIGHT = (SubmissionStatus.PENDING, SubmissionStatus.UPLOADING)


def filename_for(practice_id: int, control_number: int) -> str:
    """The name the file is uploaded under: unique per practice, and the idempotency key at the clearinghouse."""
    return f"parity-{practice_id}-{control_number:09d}.837"


def in_flight_claim_ids():
    return (select(ClaimFile.claim_id).join(Submission, Submission.file_id == ClaimFile.file_id)
            .where(Submission.status.in_(IN_FLIGHT)))


def ready_to_send(practice_id: int, claim_ids: list[int] | None = None):
    """Queued claims of the practice that are not already in a file on its way."""
    query = (select(Claim).where(Claim.practice_id == practice_id, Claim.status == ClaimStatus.QUEUED,
                                 Claim.id.not_in(in_flight_claim_ids())).order_by(Claim.id))
    if claim_ids is not None:
        query = query.where(Claim.id.in_(claim_ids))
    return query


def prepare(practice: Practice, claim_ids: list[int] | None = None, *, usage: str = "P",
            per_file: int = 100) -> list[Submission]:
    """Write the practice's ready claims into validated 837P files, one pending Submission per file. Claims
    whose file fails validation go to Needs Review (claims.write_batches)."""
    # One writer per practice at a time: on PostgreSQL the row lock, on SQLite the write lock this first
    # write takes, so two workers never put the same claim into two files.
    db.session.execute(update(Practice).where(Practice.id == practice.id)
                       .values(clearinghouse=Practice.clearinghouse).execution_options(synchronize_session=False))
    claims = db.session.scalars(ready_to_send(practice.id, claim_ids)).all()
    if not claims:
        return []
    files = []
    for start in range(0, len(claims), per_file):
        files += claim_rules.write_batches(practice, claims[start:start + per_file], usage=usage).files
    made = []
    for file in files:
        submission = Submission(practice_id=practice.id, file_id=file.id, control_number=file.interchange_control_number,
                                filename=filename_for(practice.id, file.interchange_control_number),
                                adapter=practice.clearinghouse, status=SubmissionStatus.PENDING,
                                claim_count=file.claim_count)
        db.session.add(submission)
        made.append(submission)
    db.session.flush()
    return made


def waiting(practice_id: int) -> list[int]:
    """Ids of submissions to upload now: pending, or uploading under a lease that ran out (a worker died)."""
    return db.session.scalars(select(Submission.id).where(
        Submission.practice_id == practice_id,
        or_(Submission.status == SubmissionStatus.PENDING,
            and_(Submission.status == SubmissionStatus.UPLOADING, Submission.lease_until < utcnow())))
        .order_by(Submission.id)).all()


def take_lease(submission_id: int, seconds: int) -> Submission | None:
    """Claim the right to upload this submission for `seconds`; None when another worker holds it or it is done."""
    now = utcnow()
    claimed = db.session.execute(
        update(Submission).where(Submission.id == submission_id,
                                 or_(Submission.status == SubmissionStatus.PENDING,
                                     and_(Submission.status == SubmissionStatus.UPLOADING,
                                          Submission.lease_until < now)))
        .values(status=SubmissionStatus.UPLOADING, attempts=Submission.attempts + 1,
                lease_until=now + timedelta(seconds=seconds)).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    return db.session.get(Submission, submission_id, populate_existing=True)


def claims_in(submission: Submission) -> list[Claim]:
    return db.session.scalars(select(Claim).join(ClaimFile, ClaimFile.claim_id == Claim.id)
                              .where(ClaimFile.file_id == submission.file_id).order_by(Claim.id)).all()


def record_receipt(submission: Submission, receipt: UploadReceipt, actor: Member | None = None) -> None:
    """The clearinghouse answered: accepted claims are Sent, rejected ones (or all, for a refused file) go to
    Needs Review with its words."""
    claims = claims_in(submission)
    submission.lease_until = None
    submission.reference = (receipt.reference or "")[:60] or None
    submission.receipt = receipt.raw or {"accepted": receipt.accepted, "errors": list(receipt.errors)}
    source = "person" if actor else "clearinghouse"
    if not receipt.accepted:
        submission.status = SubmissionStatus.REJECTED
        why = "; ".join(receipt.errors) or "no reason given"
        submission.last_error = why
        for claim in claims:
            if claim.status == ClaimStatus.QUEUED:
                claim.problems = [{"message": f"The clearinghouse refused the file: {why}", "fix": ""}]
                claim_rules.transition(claim, ClaimStatus.NEEDS_REVIEW, source,
                                       f"File {submission.control_number} refused: {why}", actor)
        audit.record("submission.rejected", submission, errors=list(receipt.errors), actor=actor)
        return
    submission.status = SubmissionStatus.ACCEPTED
    submission.sent_at = utcnow()
    submission.last_error = None
    by_number = {item.patient_control_number: item for item in receipt.claims}
    for claim in claims:
        item = by_number.get(claim.patient_control_number)
        if item is not None and item.clearinghouse_claim_id:
            claim.clearinghouse_claim_id = item.clearinghouse_claim_id[:50]
        if claim.status != ClaimStatus.QUEUED:
            continue  # a person moved it meanwhile; the clearinghouse's later answers will say more
        if item is not None and not item.accepted:
            words = "; ".join(item.messages) or "no reason given"
            claim.problems = [{"message": f"The clearinghouse rejected the claim: {words}",
                               "fix": claim_rules.rejection_fix(claim, words=words)}]
            claim_rules.transition(claim, ClaimStatus.NEEDS_REVIEW, source, f"Rejected on upload: {words}", actor)
        else:
            claim_rules.transition(claim, ClaimStatus.SENT, source,
                                   f"In 837P interchange {submission.control_number} ({submission.filename}).", actor)
    audit.record("submission.accepted", submission, reference=submission.reference, claims=len(claims), actor=actor)


def record_failure(submission: Submission, message: str) -> None:
    """The upload failed without an answer: back to pending. Because attempts > 0, the next try asks the
    clearinghouse whether the file arrived before sending it again."""
    submission.status = SubmissionStatus.PENDING
    submission.lease_until = None
    submission.last_error = message


def download(practice: Practice, actor: Member) -> list[X12File]:
    """The `files` clearinghouse: write the ready claims into 837P files for a person to download and send,
    marking them Sent."""
    made = prepare(practice)
    files = []
    for submission in made:
        submission.attempts = 1
        record_receipt(submission, UploadReceipt(accepted=True, reference="download",
                                                 raw={"downloaded_by": actor.email}), actor)
        files.append(db.session.get(X12File, submission.file_id))
    return files


def active(practice_id: int) -> list[Submission]:
    return db.session.scalars(select(Submission).where(Submission.practice_id == practice_id,
                                                       Submission.status.in_(IN_FLIGHT))
                              .order_by(Submission.id)).all()
