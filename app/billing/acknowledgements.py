"""What clearinghouses and payers say about claims before the money: 999 file acknowledgements and 277CA
claim acknowledgements (or a clearinghouse's own status feed mapped onto 277CA categories). No Flask
request in sight; callers own the transaction.

- 999: a rejected transaction set (IK5 R, or AK9 R) sends every claim of that file to Needs Review with
  the reason. Accepted files only mark the Submission acknowledged.
- 277CA: A0/A1/A2/A5 → Received; A3/A4/A6/A7/A8 → Needs Review with the payer's words (a rejection: fix and
  resend, never a denial); P0–P5 → In process; E0–E2 → no change (try later); E3/E4 → Needs Review;
  F1 → Paid, F2 and F4 → Denied (the 835 has the last word on money); REF*1K is kept as the payer claim number.
Applying the same acknowledgement twice changes nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app import audit
from app.billing import claims as claim_rules, submissions
from app.extensions import db
from app.models import (Claim, ClaimEvent, ClaimStatus, Member, Practice, Submission, X12File)
from app.models.types import utcnow
from app.x12 import inbound, reasons
from app.x12.acknowledgements import parse_277ca, parse_999
from app.x12.segments import kind_of

RECEIVED = {"A0", "A1", "A2", "A5"}
REJECTED = {"A3", "A4", "A6", "A7", "A8", "E3", "E4"}
PENDING = {"P0", "P1", "P2", "P3", "P4", "P5"}
#: Where each category sends a claim, and the statuses it may leave from (a later step is never undone).
MOVES = {
    ClaimStatus.RECEIVED: (ClaimStatus.QUEUED, ClaimStatus.SENT),
    ClaimStatus.IN_PROCESS: (ClaimStatus.QUEUED, ClaimStatus.SENT, ClaimStatus.RECEIVED),
    ClaimStatus.NEEDS_REVIEW: (ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS),
    ClaimStatus.PAID: (ClaimStatus.QUEUED, ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS,
                       ClaimStatus.NEEDS_REVIEW),
    ClaimStatus.DENIED: (ClaimStatus.QUEUED, ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS,
                         ClaimStatus.NEEDS_REVIEW),
}


class AcknowledgementRefused(Exception):
    """The file is not a 999 or 277CA Parity can read whole; nothing was changed."""


@dataclass
class AckResult:
    kind: str
    file: X12File | None = None
    claims_moved: int = 0
    claims_unchanged: int = 0
    unknown: list[str] = field(default_factory=list)  #: patient control numbers that are not ours
    messages: list[str] = field(default_factory=list)


def target_status(category: str) -> ClaimStatus | None:
    if category in RECEIVED:
        return ClaimStatus.RECEIVED
    if category in REJECTED:
        return ClaimStatus.NEEDS_REVIEW
    if category in PENDING:
        return ClaimStatus.IN_PROCESS
    if category == "F1":
        return ClaimStatus.PAID
    if category in ("F2", "F4"):
        return ClaimStatus.DENIED
    return None


def import_file(practice: Practice, text: str, *, source: str, actor: Member | None = None) -> AckResult:
    """Read a 999 or 277CA file whole, keep it, and apply it; anything unreadable changes nothing."""
    try:
        kind = kind_of(text)
        if kind == "999":
            acks = parse_999(text)
        elif kind == "277CA":
            reports = parse_277ca(text)
        else:
            raise AcknowledgementRefused(f"This is an {kind} file; upload 999 and 277CA acknowledgements here"
                                         + (" and 835 remittances on the Remittances page." if kind == "835" else "."))
    except inbound.X12ReadError as error:
        raise AcknowledgementRefused(f"The file was not read: {error}") from error
    file = X12File(practice_id=practice.id, kind=kind, content=text)
    db.session.add(file)
    db.session.flush()
    result = apply_999(practice, acks, actor=actor) if kind == "999" else apply_reports(practice, reports, actor=actor)
    result.file = file
    file.claim_count = result.claims_moved + result.claims_unchanged
    audit.record("acknowledgement.imported", file, kind=kind, source=source, moved=result.claims_moved,
                 unknown=len(result.unknown), actor=actor)
    return result


def apply_999(practice: Practice, acks: list[inbound.FunctionalAck], *, actor: Member | None = None) -> AckResult:
    """Match each 999 to the file we sent (GS06 = our control number) and bounce rejected transactions."""
    result = AckResult("999")
    for ack in acks:
        number = int(ack.group_control_number) if ack.group_control_number.isdigit() else None
        submission = db.session.scalar(select(Submission).where(Submission.practice_id == practice.id,
                                                                Submission.control_number == number)) \
            if number is not None else None
        if submission is None:
            result.unknown.append(f"999 for group {ack.group_control_number}")
            continue
        first_time = submission.acknowledged_at is None
        submission.acknowledged_at = submission.acknowledged_at or utcnow()
        rejected = [t for t in ack.transactions if t.rejected] or (
            [inbound.TransactionAck(transaction_control_number=ack.group_control_number, status="R")]
            if ack.status == "R" else [])
        if not rejected:
            result.messages.append(f"File {number} accepted ({reasons.describe_ack_status(ack.status)}).")
            continue
        why = "; ".join(error for t in rejected for error in t.errors) or "no reason given"
        for claim in submissions.claims_in(submission):
            if first_time and claim.status in MOVES[ClaimStatus.NEEDS_REVIEW]:
                claim.problems = [{"message": f"The clearinghouse rejected the file (999): {why}", "fix": ""}]
                claim_rules.transition(claim, ClaimStatus.NEEDS_REVIEW, "clearinghouse",
                                       f"999 rejected file {number}: {why}", actor)
                result.claims_moved += 1
            else:
                result.claims_unchanged += 1
        result.messages.append(f"File {number} rejected: {why}")
    return result


def apply_reports(practice: Practice, reports: list[inbound.ClaimStatusReport], *,
                  actor: Member | None = None) -> AckResult:
    """Move each claim a status report names, as far as its category says, never backwards."""
    result = AckResult("277CA")
    numbers = sorted({report.patient_control_number for report in reports})
    claims = {claim.patient_control_number: claim for claim in db.session.scalars(
        select(Claim).where(Claim.practice_id == practice.id, Claim.patient_control_number.in_(numbers)))} \
        if numbers else {}
    for report in reports:
        claim = claims.get(report.patient_control_number)
        if claim is None:
            result.unknown.append(report.patient_control_number)
            continue
        if apply_report(claim, report, actor):
            result.claims_moved += 1
        else:
            result.claims_unchanged += 1
    return result


def _words(report: inbound.ClaimStatusReport) -> str:
    words = report.message or reasons.describe_category(report.category)
    if report.status_code and not report.message:
        words += f" ({reasons.describe_status(report.status_code)})"
    return words


def apply_report(claim: Claim, report: inbound.ClaimStatusReport, actor: Member | None = None) -> bool:
    """Apply one status report to its claim; returns whether the claim's status changed."""
    if report.payer_claim_number and report.category not in REJECTED:
        claim.payer_claim_number = report.payer_claim_number[:50]
    if report.clearinghouse_claim_id:
        claim.clearinghouse_claim_id = report.clearinghouse_claim_id[:50]
    target = target_status(report.category)
    message = f"277CA {report.category}: {_words(report)}"
    if target is None or claim.status not in MOVES[target]:
        if not _already_said(claim, message):
            db.session.add(ClaimEvent(claim_id=claim.id, from_status=claim.status, to_status=claim.status,
                                      source="clearinghouse", message=message, member_id=actor.id if actor else None))
        return False
    if target == ClaimStatus.NEEDS_REVIEW:
        words = _words(report)
        claim.problems = [{"message": f"Rejected by the payer or clearinghouse: {words}",
                           "fix": claim_rules.rejection_fix(claim, report.status_code, report.entity, words)}]
    claim_rules.transition(claim, target, "clearinghouse", message, actor)
    return True


def _already_said(claim: Claim, message: str) -> bool:
    last = db.session.scalar(select(ClaimEvent.message).where(ClaimEvent.claim_id == claim.id)
                             .order_by(ClaimEvent.id.desc()).limit(1))
    return last == message
