"""Two-factor sign-in: TOTP codes (RFC 6238) from an authenticator app, and single-use recovery codes.

Functions flush and audit; the caller's transaction commits. The caller passes the key secrets are
encrypted with (the app's `config.encryption_key`) and, where time matters, the moment to check against.
"""
import hashlib
import hmac
import secrets
from datetime import datetime
from urllib.parse import quote

import pyotp
import segno

from app import audit, secrets_at_rest
from app.accounts import RuleViolation, check_password
from app.extensions import db
from app.models import Member, RecoveryCode
from app.models.types import utcnow

ISSUER = "Parity"
RECOVERY_CODE_COUNT = 10
#: A code from the step before or after the server's clock is accepted too (phones drift).
ALLOWED_DRIFT_STEPS = 1
WRONG_CODE = "That code is not right, or it was already used. Enter the newest code your app shows."


def _totp(member: Member, key: str) -> pyotp.TOTP:
    return pyotp.TOTP(secrets_at_rest.decrypt(member.two_factor_secret, key))


def pending_secret(member: Member, key: str) -> str:
    """The secret the member is setting up (a new one the first time), to show as a QR code."""
    if member.two_factor_secret is None:
        member.two_factor_secret = secrets_at_rest.encrypt(pyotp.random_base32(), key)
        db.session.flush()
    return secrets_at_rest.decrypt(member.two_factor_secret, key)


def provisioning_uri(member: Member, secret: str) -> str:
    """otpauth://totp/Parity:<email>?secret=…&issuer=Parity, what authenticator apps read (Google's Key Uri
    Format). Every part is percent-encoded, so only URL characters remain; the email keeps its @ as there."""
    return f"otpauth://totp/{quote(ISSUER)}:{quote(member.email, safe='@')}?secret={secret}&issuer={quote(ISSUER)}"


def qr_code_svg(uri: str) -> str:
    """The URI as an inline SVG QR code: presentation attributes only, nothing the CSP's style-src blocks."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", svgclass="qr-code",
                                                 lineclass=None, title="QR code for your authenticator app")


def _use_totp(member: Member, code: str, key: str, now: datetime) -> bool:
    """True for a code of this step or the one either side, newer than the last accepted; marks its step used."""
    totp = _totp(member, key)
    current = totp.timecode(now)
    last_step = member.two_factor_last_step if member.two_factor_last_step is not None else -1
    for step in range(max(current - ALLOWED_DRIFT_STEPS, last_step + 1), current + ALLOWED_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Checked again in one UPDATE that only moves forward: two requests with the same code cannot both
            # win. (Writing only for a right code also leaves SQLite unlocked for a failure's audit event.)
            used = db.session.execute(
                db.update(Member).where(Member.id == member.id, db.or_(Member.two_factor_last_step.is_(None),
                                                                      Member.two_factor_last_step < step))
                .values(two_factor_last_step=step).execution_options(synchronize_session="fetch"))
            return used.rowcount == 1
    return False


def _normalized(code: str) -> str:
    return "".join(character for character in (code or "").lower() if character.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalized(code).encode()).hexdigest()


def _use_recovery_code(member: Member, code: str, now: datetime) -> bool:
    unused = db.session.scalar(db.select(RecoveryCode.id).where(
        RecoveryCode.member_id == member.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None)))
    if unused is None:
        return False
    # The UPDATE says again "not used yet", so two requests with the same code cannot both win.
    used = db.session.execute(
        db.update(RecoveryCode).where(RecoveryCode.id == unused, RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    return used.rowcount == 1


def sign_in_with(member: Member, code: str, key: str, now: datetime | None = None) -> str | None:
    """Check the second step's code: "totp" or "recovery code" when it is right (and now used), else None."""
    now = now or utcnow()
    code = _normalized(code)
    if not member.two_factor_enabled or not code:
        return None
    if code.isdigit() and len(code) == 6:
        return "totp" if _use_totp(member, code, key, now) else None
    if _use_recovery_code(member, code, now):
        audit.record("two_factor.recovery_code_used", member, actor=member,
                     recovery_codes_left=unused_recovery_codes(member))
        return "recovery code"
    return None


def unused_recovery_codes(member: Member) -> int:
    return db.session.scalar(db.select(db.func.count(RecoveryCode.id)).where(
        RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)))


def _new_recovery_codes(member: Member) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    # 16 hex digits: 64 random bits each, too many to guess or to find from the hash; shown in groups of four.
    codes = [secrets.token_hex(8) for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(member_id=member.id, code_hash=_hash(code)) for code in codes)
    db.session.flush()
    return ["-".join(code[start:start + 4] for start in range(0, 16, 4)) for code in codes]


def turn_on(member: Member, code: str, key: str, now: datetime | None = None) -> list[str]:
    """Confirm the pending secret with a code from the app; two-factor is on. Returns the recovery codes,
    which are never shown again."""
    now = now or utcnow()
    code = _normalized(code)
    if member.two_factor_enabled:
        raise RuleViolation("Two-factor sign-in is already on.", field="code")
    if member.two_factor_secret is None or not (code.isdigit() and _use_totp(member, code, key, now)):
        raise RuleViolation(WRONG_CODE, field="code")
    member.two_factor_enabled_at = now
    audit.record("two_factor.turned_on", member)
    return _new_recovery_codes(member)


def regenerate_recovery_codes(member: Member) -> list[str]:
    """Ten new recovery codes; the earlier ones stop working."""
    if not member.two_factor_enabled:
        raise RuleViolation("Turn on two-factor sign-in first.")
    audit.record("two_factor.recovery_codes_regenerated", member)
    return _new_recovery_codes(member)


def turn_off(member: Member, code_or_password: str, key: str, now: datetime | None = None) -> None:
    """Turn two-factor off, proven by a current code or the member's password; forgets the secret and codes."""
    if not member.two_factor_enabled:
        return
    if member.practice.require_two_factor:
        raise RuleViolation("Your practice requires two-factor sign-in, so it stays on.", field="confirmation")
    now = now or utcnow()
    code = _normalized(code_or_password)
    proven = (code.isdigit() and len(code) == 6 and _use_totp(member, code, key, now)) or \
        check_password(member, code_or_password or "")
    if not proven:
        raise RuleViolation("Enter a current code from your app, or your password.", field="confirmation")
    _forget(member)
    audit.record("two_factor.turned_off", member)


def reset(member: Member) -> bool:
    """An operator turns two-factor off for a member who lost their phone and their recovery codes
    (`flask users reset-two-factor`); they set it up again at their next sign-in if the practice requires it."""
    if member.two_factor_secret is None:
        return False
    _forget(member)
    audit.record("two_factor.reset", member)
    return True


def _forget(member: Member) -> None:
    member.two_factor_secret = member.two_factor_enabled_at = member.two_factor_last_step = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.member_id == member.id))


def setup_required(member: Member) -> bool:
    """True when the member's practice requires two-factor and the member has not turned it on."""
    return member.practice.require_two_factor and not member.two_factor_enabled
