"""AuditEvent: who did what to which record, when, and from where."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_practice_id_id", "practice_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Empty for events with no practice yet, such as a failed sign-in with an unknown email.
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practices.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    #: Dotted verb, e.g. "auth.sign_in", "member.role_changed", "practice.identity_changed".
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: The record acted on, as a table name and id.
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column()
    #: What changed, e.g. {"role": ["clinician", "admin"]}; never a password or note text.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    #: "web" requests carry the client address; "cli" and "worker" have none.
    origin: Mapped[str] = mapped_column(String(16), default="web")
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped["Member | None"] = relationship()  # noqa: F821
