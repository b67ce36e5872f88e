"""Server-side sign-ins: each one a MemberSession row named by a random token that only the session
cookie holds. The web layer keeps the token in Flask's session and asks `signed_in` on every request, so
a session ended here (sign-out, sign out everywhere, a password change or reset) is over for every copy
of its cookie. Functions flush, never commit.
"""
import secrets
from datetime import timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload

from app import audit
from app.extensions import db
from app.models import Member, MemberSession
from app.models.accounts import token_hash
from app.models.types import utcnow

#: How stale last_seen_at may get before a request writes it again: one write a minute at most.
LAST_SEEN_EVERY = timedelta(minutes=1)


def start(member: Member, *, ip_address: str | None, user_agent: str | None) -> str:
    """Record a new sign-in; returns the token for the session cookie (stored here only as a hash)."""
    token = secrets.token_urlsafe(32)
    db.session.add(MemberSession(member_id=member.id, token_hash=token_hash(token), ip_address=ip_address,
                                 user_agent=(user_agent or "")[:300] or None))
    db.session.flush()
    return token


def current(member: Member, token: str | None) -> MemberSession | None:
    """The member's live session with this token (last seen noted at most once a minute), or None."""
    if not token:
        return None
    record = db.session.scalar(db.select(MemberSession).where(MemberSession.token_hash == token_hash(token)))
    if record is None or record.member_id != member.id or record.ended_at is not None:
        return None
    _seen(record)
    return record


#: Built once: this statement runs on every request, and building it and its cache key each time cost as much as
#: the rest of the sign-in check.
_SIGNED_IN = (
    db.select(Member, MemberSession).join(MemberSession, MemberSession.member_id == Member.id)
    .where(Member.login_token == bindparam("login_token"), Member.active.is_(True),
           MemberSession.token_hash == bindparam("token_hash"), MemberSession.ended_at.is_(None))
    .options(joinedload(Member.practice)))


def signed_in(login_token: str, token: str | None) -> Member | None:
    """The active member with this login token whose live sign-in this browser holds, with their practice, or
    None. One query: it runs on every request (what `current` answers, for a member not yet loaded)."""
    if not token:
        return None
    row = db.session.execute(_SIGNED_IN, {"login_token": login_token, "token_hash": token_hash(token)}).first()
    if row is None:
        return None
    member, record = row
    _seen(record)
    return member


def _seen(record: MemberSession) -> None:
    now = utcnow()
    if now - record.last_seen_at >= LAST_SEEN_EVERY:
        record.last_seen_at = now


def end(token: str | None) -> None:
    """End the session with this token (sign-out, idle sign-out); an unknown token is no error."""
    if token:
        db.session.execute(db.update(MemberSession)
                           .where(MemberSession.token_hash == token_hash(token), MemberSession.ended_at.is_(None))
                           .values(ended_at=utcnow()))


def end_all(member: Member, *, keep: str | None = None) -> int:
    """End every live session of the member but the one with token `keep`; returns how many ended."""
    statement = (db.update(MemberSession)
                 .where(MemberSession.member_id == member.id, MemberSession.ended_at.is_(None))
                 .values(ended_at=utcnow()))
    if keep:
        statement = statement.where(MemberSession.token_hash != token_hash(keep))
    return db.session.execute(statement).rowcount


def sign_out_everywhere(member: Member, *, keep: str | None = None) -> int:
    """The member's choice on their account page: every other sign-in ends; audited."""
    ended = end_all(member, keep=keep)
    audit.record("auth.signed_out_everywhere", member, sessions=ended)
    return ended


def live(member: Member) -> list[MemberSession]:
    """The member's live sessions, most recently seen first."""
    return list(db.session.scalars(
        db.select(MemberSession).where(MemberSession.member_id == member.id, MemberSession.ended_at.is_(None))
        .order_by(MemberSession.last_seen_at.desc(), MemberSession.id.desc())))
