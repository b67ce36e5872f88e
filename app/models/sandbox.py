"""The sandbox clearinghouse's own memory. It plays a remote party, so it keeps what it received in tables
of its own and never reads them from Parity's side except through the adapter."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class SandboxUpload(db.Model):
    __tablename__ = "sandbox_uploads"
    __table_args__ = (UniqueConstraint("practice_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    filename: Mapped[str] = mapped_column(String(80))
    content: Mapped[str] = mapped_column(Text)
    claim_count: Mapped[int] = mapped_column(default=0)
    #: Whether a poll has returned this file's 999.
    acknowledged: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxClaim(db.Model):
    """A claim the sandbox payer holds; `stage` moves one step per poll: received → acknowledged →
    adjudicating → remitted (or rejected)."""

    __tablename__ = "sandbox_claims"
    __table_args__ = (UniqueConstraint("practice_id", "patient_control_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    patient_control_number: Mapped[str] = mapped_column(String(40))
    upload_id: Mapped[int] = mapped_column(ForeignKey("sandbox_uploads.id"))
    stage: Mapped[str] = mapped_column(String(12), default="received")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SandboxRemittance(db.Model):
    __tablename__ = "sandbox_remittances"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    payer_name: Mapped[str] = mapped_column(String(120))
    payer_id: Mapped[str] = mapped_column(String(80))
    check_number: Mapped[str] = mapped_column(String(80))
    amount_cents: Mapped[int] = mapped_column()
    paid_on: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
