"""Operations on practices and members: the rules (last admin, identity checks), no request in sight.

Functions flush and audit; the caller's transaction (the request wrapper, a CLI command or a job)
commits.
"""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from app import audit, mail, member_sessions
from app.billing.identity import digits_only
from app.extensions import db
from app.models import Member, PasswordReset, Practice, Role
from app.models.accounts import token_hash
from app.models.practice import member_by_email, new_login_token
from app.models.types import utcnow

_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("parity-timing-equaliser")

MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score runs 0 (guessed at once) to 4; 3 is "safely unguessable: moderate protection from offline attacks".
MIN_PASSWORD_SCORE = 3
#: zxcvbn's time grows with the length; nobody needs more than this many characters checked.
_STRENGTH_CHECKED_CHARACTERS = 100
RESET_LINK_LIFETIME = timedelta(hours=1)


class RuleViolation(Exception):
    """A change the practice's rules forbid; the message is shown to the person as it is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(member: Member | None, password: str) -> bool:
    """True when the password is the member's; always does the same work, member or not."""
    try:
        return _hasher.verify(member.password_hash if member else _DUMMY_HASH, password) and member is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why a new password will not do (too short, or easy to guess by zxcvbn, with its advice), or None.
    `user_inputs` are the member's own words (name, email), which make a password weaker when used."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    words = [part for value in user_inputs if value for part in (value, *value.replace("@", " ").split())]
    strength = zxcvbn(password[:_STRENGTH_CHECKED_CHARACTERS], user_inputs=words)
    if strength["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = strength["feedback"]
    advice = [feedback["warning"], *feedback["suggestions"]] if feedback["warning"] else feedback["suggestions"]
    return " ".join(["This password is too easy to guess.", *(line for line in advice if line)]
                    or ["Add another word or two. Uncommon words are better."])


def _own_words(member: Member) -> tuple[str, ...]:
    return (member.name, member.email)


def _require_strong(member: Member, password: str, field: str) -> None:
    problem = password_problem(password, _own_words(member))
    if problem:
        raise RuleViolation(problem, field=field)


def set_password(member: Member, password: str) -> None:
    """Set the password (an operator's CLI) and end every session the member had open."""
    _take_new_password(member, password, "password")
    _end_every_session(member)
    audit.record("member.password_changed", member)


def _take_new_password(member: Member, password: str, field: str) -> None:
    """The one way a password is replaced: strong enough, hashed, and a required reset thereby done."""
    _require_strong(member, password, field)
    member.password_hash = hash_password(password)
    member.password_reset_required = False


def _end_every_session(member: Member) -> None:
    member.login_token = new_login_token()
    member_sessions.end_all(member)


def change_password(member: Member, current_password: str, new_password: str, *, keep_session: str | None) -> None:
    """The member's own change: the current password first; every other sign-in of theirs ends."""
    if not check_password(member, current_password):
        raise RuleViolation("That is not your current password.", field="current_password")
    _take_new_password(member, new_password, "new_password")
    ended = member_sessions.end_all(member, keep=keep_session)
    audit.record("member.password_changed", member, other_sessions_ended=ended)


def _send_reset_link(member: Member, *, forced: bool) -> None:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(PasswordReset(member_id=member.id, token_hash=token_hash(token), created_at=now,
                                 expires_at=now + RESET_LINK_LIFETIME))
    db.session.flush()
    mail.queue(member.practice, to=member.email, subject="Set a new Parity password",
               template="mail/password_reset.txt", member=member, token=token, forced=forced,
               minutes=int(RESET_LINK_LIFETIME.total_seconds() // 60))


def request_password_reset(email: str) -> bool:
    """Email a reset link when an active member signs in with this email; True when one was sent.
    Links sent before stay usable until they expire or any one of them is used."""
    member = member_by_email(email)
    if member is None or not member.active:
        return False
    _send_reset_link(member, forced=False)
    audit.record("member.password_reset_requested", member)  # by whoever typed the email: no actor
    return True


def force_password_reset(member: Member) -> None:
    """An admin's reset: the password stops working at once, every session ends, and the member gets a
    link to choose a new one (which the admin never sees)."""
    if not member.active:
        raise RuleViolation("Reactivate this member first: a deactivated member cannot sign in.")
    member.password_hash = hash_password(secrets.token_urlsafe(32))  # a password nobody knows
    _end_every_session(member)
    _send_reset_link(member, forced=True)
    audit.record("member.password_reset_forced", member)


def usable_reset(token: str) -> PasswordReset | None:
    """The reset this link's token names, while unused, unexpired and its member active; else None."""
    reset = db.session.scalar(db.select(PasswordReset).where(PasswordReset.token_hash == token_hash(token or "")))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.member.active:
        return None
    return reset


def reset_password(reset: PasswordReset, new_password: str) -> Member:
    """Set the new password from a reset link: the link and any other outstanding ones are used up and
    every session of the member ends."""
    member = reset.member
    _take_new_password(member, new_password, "new_password")
    now = utcnow()
    db.session.execute(db.update(PasswordReset)
                       .where(PasswordReset.member_id == member.id, PasswordReset.used_at.is_(None))
                       .values(used_at=now))
    _end_every_session(member)
    audit.record("member.password_reset", member, actor=member)
    return member


def require_password_reset(member: Member) -> None:
    """Refuse sign-in with the current password until a new one is set: failed sign-ins from anywhere
    reached the account-wide limit. Saved in its own transaction, like audit.record_now, because the
    failed sign-in that triggers it answers 422 and its own transaction is rolled back."""
    if member.password_reset_required:
        return
    with db.engine.begin() as connection:
        connection.execute(db.update(Member).where(Member.id == member.id).values(password_reset_required=True))
    audit.record_now("member.password_reset_required", practice_id=member.practice_id, member_id=member.id)


@dataclass(frozen=True)
class MemberDetails:
    email: str
    name: str
    role: Role
    npi: str | None = None
    taxonomy: str | None = None


def _email_taken(email: str) -> bool:
    return db.session.scalar(db.select(Member.id).where(Member.email == email)) is not None


def add_member(practice: Practice, details: MemberDetails, password: str, *, welcome: bool = True) -> Member:
    """Add a member to the practice and, when asked, queue a welcome email (sent after commit)."""
    email = details.email.strip().lower()
    if _email_taken(email):
        raise RuleViolation("Someone already signs in with this email.", field="email")
    problem = password_problem(password, (details.name, email))
    if problem:
        raise RuleViolation(problem, field="password")
    member = Member(
        practice=practice,
        email=email,
        name=details.name.strip(),
        role=details.role,
        password_hash=hash_password(password),
        npi=details.npi or None,
        taxonomy=details.taxonomy or None,
    )
    db.session.add(member)
    db.session.flush()
    audit.record("member.added", member, email=email, role=str(details.role))
    if welcome:
        mail.queue(
            practice,
            to=email,
            subject=f"Your Parity account at {practice.legal_name}",
            template="mail/welcome.txt",
            member=member,
        )
    return member


def _active_admins(practice_id: int) -> int:
    return db.session.scalar(
        db.select(db.func.count(Member.id)).where(
            Member.practice_id == practice_id, Member.role == Role.ADMIN, Member.active.is_(True)
        )
    )


def _lock_practice_members(practice_id: int) -> None:
    """Make changes to who is an active admin take turns within one practice, so that the count read next is
    not changed by another transaction before this one commits (two admins demoting each other at once
    would otherwise both see two admins). PostgreSQL: lock the practice row (FOR NO KEY UPDATE, so records
    being added for the practice are not held up); SQLite: take the database's single write lock now."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.select(Practice.id).where(Practice.id == practice_id).with_for_update(key_share=True))
    else:
        db.session.execute(db.update(Practice).where(Practice.id == practice_id).values(id=Practice.id)
                           .execution_options(synchronize_session=False))


def _guard_last_admin(member: Member) -> None:
    if not (member.role == Role.ADMIN and member.active):
        return
    _lock_practice_members(member.practice_id)
    if _active_admins(member.practice_id) <= 1:
        raise RuleViolation("A practice needs at least one active admin: make someone else an admin first.")


def change_role(member: Member, role: Role, *, npi: str | None = None, taxonomy: str | None = None) -> None:
    """Change a member's role; the last active admin cannot be demoted."""
    if member.role == role:
        return
    if role == Role.CLINICIAN and not ((npi or member.npi) and (taxonomy or member.taxonomy)):
        raise RuleViolation("A clinician needs an individual NPI and a taxonomy code: edit the member first.")
    _guard_last_admin(member)
    audit.record("member.role_changed", member, role=[member.role, str(role)])
    member.role = role


def update_member(member: Member, details: MemberDetails) -> None:
    """Edit name, email, NPI and taxonomy (role changes go through change_role)."""
    email = details.email.strip().lower()
    if email != member.email and _email_taken(email):
        raise RuleViolation("Someone already signs in with this email.", field="email")
    changes = audit.apply_changes(member, {"email": email, "name": details.name.strip(), "npi": details.npi or None,
                                "taxonomy": details.taxonomy or None})
    if changes:
        audit.record("member.updated", member, **changes)
    change_role(member, details.role, npi=details.npi, taxonomy=details.taxonomy)


def deactivate_member(member: Member) -> None:
    """Stop a member signing in (records they made stay theirs); the last active admin cannot be."""
    if not member.active:
        return
    _guard_last_admin(member)
    member.active = False
    _end_every_session(member)
    audit.record("member.deactivated", member)


def reactivate_member(member: Member) -> None:
    if member.active:
        return
    member.active = True
    audit.record("member.reactivated", member)


IDENTITY_FIELDS = ("legal_name", "tax_id", "group_npi", "taxonomy", "address_line1", "address_line2",
                   "city", "state", "zip_code", "phone", "timezone")


def update_practice_identity(practice: Practice, values: dict) -> dict:
    """Save the identity claims and documents print (already validated by the form); audit what changed."""
    cleaned = {field: (values.get(field) or None) for field in IDENTITY_FIELDS}
    cleaned["legal_name"] = (values.get("legal_name") or "").strip()
    for field in ("tax_id", "zip_code", "phone"):
        cleaned[field] = digits_only(cleaned[field]) or None
    if cleaned["state"]:
        cleaned["state"] = cleaned["state"].upper()
    if "tax_id_is_ssn" in values:
        cleaned["tax_id_is_ssn"] = bool(values["tax_id_is_ssn"])
    changed = audit.apply_changes(practice, cleaned)
    if changed:
        audit.record("practice.identity_changed", practice, **changed)
    return changed


def require_two_factor(practice: Practice, required: bool) -> dict:
    """Require (or stop requiring) two-factor sign-in of every member; audit the change."""
    changed = audit.apply_changes(practice, {"require_two_factor": bool(required)})
    if changed:
        audit.record("practice.two_factor_requirement_changed", practice, **changed)
    return changed
