"""Insurance claims: what was sent to a payer about a bill, every status change, and the control
numbers of the X12 files they travel in."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class ClaimStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    RECEIVED = "received"
    IN_PROCESS = "in_process"
    PAID = "paid"
    NEEDS_REVIEW = "needs_review"
    DENIED = "denied"
    #: Parity will not send or pursue it: a later payer's claim whose earlier payer's decision was reversed before
    #: it was sent, or that a claim rebuilt from the corrected decision speaks for now.
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"queued": "Queued For Submission", "sent": "Sent", "received": "Received",
                "in_process": "In process", "paid": "Paid", "needs_review": "Needs Review",
                "denied": "Denied", "withdrawn": "Withdrawn"}[self.value]

    @classmethod
    def from_label(cls, label: str) -> "ClaimStatus | None":
        return next((status for status in cls if status.label.lower() == (label or "").strip().lower()
                     or status.value == (label or "").strip().lower()), None)


class Claim(db.Model):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint("frequency_code IN ('1', '7', '8')", name="frequency_code"),
        CheckConstraint("payer_order IN (1, 2, 3)", name="payer_order"),
        CheckConstraint("status IN ('queued', 'sent', 'received', 'in_process', 'paid', 'needs_review', 'denied', "
                        "'withdrawn')", name="status"),
        UniqueConstraint("patient_control_number"),
        # The claims page: a status tab of one practice, newest first, keyset on id.
        Index("ix_claims_practice_id_status_id", "practice_id", "status", "id"),
        Index("ix_claims_practice_id_id", "practice_id", "id"),
        # Filters: each lists a page by id and counts the tabs by status from the index alone.
        Index("ix_claims_practice_id_payer_id_status_id", "practice_id", "payer_id", "status", "id"),
        Index("ix_claims_practice_id_clinician_id_status_id", "practice_id", "clinician_id", "status", "id"),
        Index("ix_claims_practice_id_service_date_status", "practice_id", "service_date", "status"),
        # A claim's corrections and voids (bill and claim pages).
        Index("ix_claims_original_claim_id", "original_claim_id"),
        # The header's search by the payer's claim number.
        Index("ix_claims_practice_id_payer_claim_number", "practice_id", "payer_claim_number"),
        # The reports' summaries: a bill's claims in order with payer and status, from the index alone.
        Index("ix_claims_bill_id_id", "bill_id", "id", "frequency_code", "payer_id", "status", "denial_action"),
        # The denials waiting for work, counted on every biller's page: from this small index alone, without
        # reading each denied claim's row (20 ms at 8,000 denials, 1 ms with it).
        Index("ix_claims_practice_id_denials_to_work", "practice_id", "id",
              postgresql_where=text("status = 'denied' AND denial_action IS NULL"),
              sqlite_where=text("status = 'denied' AND denial_action IS NULL")),
        CheckConstraint("denial_action IS NULL OR denial_action IN ('resubmitted', 'voided', 'appealed', "
                        "'billed_client', 'written_off', 'billed_next_payer')", name="denial_action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policies.id"))
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str] = mapped_column(String(12), default=ClaimStatus.QUEUED)
    #: 1 original, 7 replacement of a prior claim, 8 void of a prior claim.
    frequency_code: Mapped[str] = mapped_column(String(1), default="1")
    #: The claim this one replaces or voids (frequency 7 or 8).
    original_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    #: Which payer this claim asks: 1 primary, 2 secondary, 3 tertiary (SBR01 P, S, T).
    payer_order: Mapped[int] = mapped_column(default=1, server_default="1")
    #: The earlier payer's claim this one follows (a secondary follows the primary's, a tertiary the secondary's).
    prior_payer_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    #: The earlier payer forwarded the claim itself (835 CLP02 19–21): nothing is sent; its 835 is awaited.
    crossover: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Our claim id in CLM01 (≤ 20 characters), echoed back in 277CA TRN02 and 835 CLP01.
    patient_control_number: Mapped[str] = mapped_column(String(20))
    #: The payer's claim control number (277CA REF*1K, 835 CLP07); REF*F8 on a replacement or void.
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    service_date: Mapped[date] = mapped_column(Date)
    place_of_service: Mapped[str] = mapped_column(String(2))
    total_charge_cents: Mapped[int] = mapped_column()
    paid_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    patient_responsibility_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    #: What the claim sends, copied when it was built: diagnoses, subscriber, patient, providers, payer.
    snapshot: Mapped[dict] = mapped_column(JSON)
    #: The clearinghouse's own id for the claim (Claim.MD claimid), when it gave one.
    clearinghouse_claim_id: Mapped[str | None] = mapped_column(String(50))
    #: How a denial was worked: resubmitted, voided, appealed, billed_client or written_off by a person, or
    #: billed_next_payer when posting billed the client's next policy for it (a denial for coverage).
    denial_action: Mapped[str | None] = mapped_column(String(20))
    denial_worked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The scrubber's findings: [{"message": "...", "fix": "/url"}]; empty when it passed.
    problems: Mapped[list[dict]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list["ClaimLine"]] = relationship(back_populates="claim", order_by="ClaimLine.position",
                                                    cascade="all, delete-orphan")
    events: Mapped[list["ClaimEvent"]] = relationship(back_populates="claim", order_by="ClaimEvent.id")
    payer: Mapped["Payer"] = relationship()  # noqa: F821
    client: Mapped["Client"] = relationship()  # noqa: F821
    clinician: Mapped["Member | None"] = relationship()  # noqa: F821
    bill: Mapped["Bill"] = relationship()  # noqa: F821


class ClaimLine(db.Model):
    __tablename__ = "claim_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    bill_line_id: Mapped[int | None] = mapped_column(ForeignKey("bill_lines.id"))
    position: Mapped[int] = mapped_column()
    #: Our line id in REF*6R, echoed in the 835's SVC REF*6R so payments match lines.
    line_reference: Mapped[str] = mapped_column(String(30))
    service_date: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(20))
    modifiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    units: Mapped[int] = mapped_column()
    charge_cents: Mapped[int] = mapped_column()
    #: 1-based positions in the claim's diagnoses (at most four).
    diagnosis_pointers: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: The line's place of service (SV105 when it differs from the claim's).
    place_of_service: Mapped[str | None] = mapped_column(String(2))
    paid_cents: Mapped[int] = mapped_column(default=0, server_default="0")

    claim: Mapped[Claim] = relationship(back_populates="lines")


class ClaimEvent(db.Model):
    """Every status change of a claim, with what caused it."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    #: person, scrubber, clearinghouse, remittance
    source: Mapped[str] = mapped_column(String(14))
    message: Mapped[str] = mapped_column(Text, default="")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="events")
    member: Mapped["Member | None"] = relationship()  # noqa: F821


class ClaimCount(db.Model):
    """How many claims of a practice are in each status, kept exact by every status change, so the claims
    page's tab counts cost one small read however many claims a practice has."""

    __tablename__ = "claim_counts"

    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class X12Counter(db.Model):
    """The practice's last ISA13 / GS06 / ST02 control numbers: real and increasing."""

    __tablename__ = "x12_counters"

    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), primary_key=True)
    last_interchange: Mapped[int] = mapped_column(default=0)


class X12File(db.Model):
    """Every X12 file Parity produced (or received), kept as it was."""

    __tablename__ = "x12_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    #: 837P, 999, 277CA, 835
    kind: Mapped[str] = mapped_column(String(8))
    interchange_control_number: Mapped[int | None] = mapped_column()
    claim_count: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(Text)
    valid: Mapped[bool] = mapped_column(default=True)
    validation_messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimFile(db.Model):
    """Which file a claim was sent in."""

    __tablename__ = "claim_files"
    __table_args__ = (UniqueConstraint("claim_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("x12_files.id"), index=True)


class SubmissionStatus(StrEnum):
    PENDING = "pending"  #: written and validated, not yet handed to the clearinghouse
    UPLOADING = "uploading"  #: a worker holds the lease and may be uploading right now
    ACCEPTED = "accepted"  #: the clearinghouse took the file (claim-level rejections are on the claims)
    REJECTED = "rejected"  #: the clearinghouse refused the whole file


class Submission(db.Model):
    """One 837P file on its way to the clearinghouse. Its interchange control number is the idempotency key:
    the file name sent is made from it, so a worker that died mid-upload can ask the clearinghouse whether
    that file arrived before sending it again."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("practice_id", "control_number"),
        UniqueConstraint("file_id"),
        CheckConstraint("status IN ('pending', 'uploading', 'accepted', 'rejected')", name="status"),
        Index("ix_submissions_practice_id_status", "practice_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("x12_files.id"))
    #: ISA13 = GS06 = ST02 of the file.
    control_number: Mapped[int] = mapped_column()
    filename: Mapped[str] = mapped_column(String(80))
    #: sandbox, claimmd or files
    adapter: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=SubmissionStatus.PENDING)
    claim_count: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: While status is uploading, no other worker touches the submission until this passes.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The clearinghouse's file or batch id, and its answer as received.
    reference: Mapped[str | None] = mapped_column(String(60))
    receipt: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a 999 for this file arrived.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    file: Mapped[X12File] = relationship()


class JobProblem(db.Model):
    """A background job that failed for a practice (the clearinghouse unreachable, a refused key): shown to
    billers and admins until a later run of the same kind succeeds."""

    __tablename__ = "job_problems"
    __table_args__ = (Index("ix_job_problems_practice_id_cleared_at", "practice_id", "cleared_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    #: submit_claims, poll_clearinghouse, fetch_remittances
    job: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    #: Whether RQ will try again (network errors back off: 10 s, 1 min, 5 min).
    will_retry: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
