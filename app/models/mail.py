"""OutboundEmail: every message Parity sends, kept so that sending is a retryable job and admins
can read the outbox when no SMTP server is configured."""
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Set by jobs that create a message, so that running the job twice queues one message, not two.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    #: queued → sent (through SMTP) or outbox (no SMTP configured: kept for admins to read); failed keeps the error.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practice: Mapped["Practice"] = relationship()  # noqa: F821
