"""Operations on practices and members: the rules (last admin, identity checks), no request in sight.

Functions flush and audit; the caller's transaction (the request wrapper, a CLI command or a job)
commits.
"""
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app import audit, mail
from app.billing.identity import digits_only
from app.extensions import db
from app.models import Member, Practice, Role
from app.models.practice import new_login_token

_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("parity-timing-equaliser")

MIN_PASSWORD_LENGTH = 10


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


def password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    return None


def set_password(member: Member, password: str) -> None:
    """Change the password and end every session the member had open."""
    problem = password_problem(password)
    if problem:
        raise RuleViolation(problem, field="password")
    member.password_hash = hash_password(password)
    member.login_token = new_login_token()
    member.password_reset_required = False
    audit.record("member.password_changed", member)


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
    problem = password_problem(password)
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
    member.login_token = new_login_token()
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
