"""Therapy sessions, the services billed for them, and the clinical note that supplies diagnoses."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return {"no_show": "No-show"}.get(self.value, self.value.capitalize())


class Modality(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    AUDIO = "audio"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "video": "Video", "audio": "Audio only"}[self.value]


class TherapySession(db.Model):
    """One appointment between a clinician and a client."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'completed', 'cancelled', 'no_show')", name="status"),
        CheckConstraint("modality IN ('in_person', 'video', 'audio')", name="modality"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        Index("ix_sessions_practice_id_starts_at", "practice_id", "starts_at"),
        Index("ix_sessions_clinician_id_starts_at", "clinician_id", "starts_at"),
        # The home page: past sessions not marked complete (per clinician too), counted from the index.
        Index("ix_sessions_practice_id_status_starts_at", "practice_id", "status", "starts_at", "clinician_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Minutes actually spent face to face: from start and end unless the clinician corrected it.
    minutes: Mapped[int | None] = mapped_column()
    #: Why the minutes differ from start to end (e.g. a telehealth connection dropped). Required then.
    time_correction_note: Mapped[str | None] = mapped_column(Text)
    #: Why a code lower than the minutes support is billed (the clinician's confirmation). Required then.
    lower_code_reason: Mapped[str | None] = mapped_column(Text)
    #: CMS place-of-service code: 02, 03, 10, 11, 12, 52, 53, 99.
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    modality: Mapped[str] = mapped_column(String(10), default=Modality.IN_PERSON)
    status: Mapped[str] = mapped_column(String(10), default=SessionStatus.SCHEDULED)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    #: The service booked in advance (for services that require payment before the session).
    booked_service_id: Mapped[int | None] = mapped_column(ForeignKey("service_codes.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped["Client"] = relationship()  # noqa: F821
    clinician: Mapped["Member"] = relationship(foreign_keys=[clinician_id])  # noqa: F821
    lines: Mapped[list["SessionService"]] = relationship(back_populates="session", order_by="SessionService.position",
                                                         cascade="all, delete-orphan")
    note: Mapped["SessionNote | None"] = relationship(back_populates="session", uselist=False)

    @property
    def scheduled_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SessionService(db.Model):
    """A service line of a completed (or booked) session: what will be billed."""

    __tablename__ = "session_services"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        # Reports (service trends): a session's codes and units from the index alone.
        Index("ix_session_services_session_id_code", "session_id", "code", "units"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    #: Deleting a service that lines use is refused by the database; the catalog says "disable it".
    service_id: Mapped[int] = mapped_column(ForeignKey("service_codes.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    #: Copied from the service when picked, so later catalog edits do not rewrite history.
    code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    units: Mapped[int] = mapped_column(default=1)
    #: Charge per unit (the whole charge when units is 1).
    price_cents: Mapped[int] = mapped_column()
    #: Up to four two-character modifiers, in claim order.
    modifiers: Mapped[list[str]] = mapped_column(JSON, default=list)

    session: Mapped[TherapySession] = relationship(back_populates="lines")
    service: Mapped["ServiceCode"] = relationship()  # noqa: F821

    @property
    def charge_cents(self) -> int:
        return self.price_cents * self.units


class SessionNote(db.Model):
    """The clinician's note. Signing freezes the diagnoses that claims and superbills use; after that,
    changes are addenda and never alter what the signed note supplied."""

    __tablename__ = "session_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), unique=True)
    #: Clinical text: never shown to billers, in any page, fragment, PDF or CSV.
    body: Mapped[str] = mapped_column(Text, default="")
    #: Draft diagnoses: dotted ICD-10-CM codes, principal first, at most 12.
    diagnosis_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The diagnoses as signed: [{"code": "F41.1", "description": "…"}]; claims read only these.
    signed_diagnoses: Mapped[list[dict] | None] = mapped_column(JSON)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[TherapySession] = relationship(back_populates="note")
    signed_by: Mapped["Member | None"] = relationship()  # noqa: F821
    addenda: Mapped[list["NoteAddendum"]] = relationship(back_populates="note", order_by="NoteAddendum.id")

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class NoteAddendum(db.Model):
    """Text added to a signed note, with any diagnosis change it records (for the chart, not the claim)."""

    __tablename__ = "note_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    note_id: Mapped[int] = mapped_column(ForeignKey("session_notes.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    body: Mapped[str] = mapped_column(Text)
    diagnosis_codes: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note: Mapped[SessionNote] = relationship(back_populates="addenda")
    author: Mapped["Member"] = relationship()  # noqa: F821
