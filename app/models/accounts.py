"""What a member's sign-ins and password resets leave on the server.

MemberSession: one row per sign-in, named by a random token kept in the signed session cookie (only its
sha256 is stored), so that signing out ends the session here and a copy of the cookie stops working.
PasswordReset: one row per emailed reset link, also stored as a sha256 of the link's token.
"""
import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.practice import Member
from app.models.types import UTCDateTime, utcnow


def token_hash(token: str) -> str:
    """How both tables store a secret token: its sha256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


class MemberSession(db.Model):
    """A sign-in on one browser; live while ended_at is empty."""

    __tablename__ = "member_sessions"
    __table_args__ = (Index("ix_member_sessions_member_id_ended_at", "member_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: sha256 (hex) of the token in the session cookie: a copy of this table signs nobody in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Written at most once a minute, so that a busy member does not write on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()


class PasswordReset(db.Model):
    """An emailed link that lets a member set a new password once, before expires_at."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    #: sha256 (hex) of the token in the link; the link itself is only in the email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()
