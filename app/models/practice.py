"""The tenant (Practice) and the people who sign in to it (Member)."""
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, false, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    BILLER = "biller"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def new_catalog_version() -> str:
    return secrets.token_hex(16)


class Practice(db.Model):
    """A practice: the tenant every other record belongs to."""

    __tablename__ = "practices"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    #: Employer identification number, digits only; printed as 12-3456789. A sole provider may bill under a
    #: social security number instead (tax_id_is_ssn).
    tax_id: Mapped[str | None] = mapped_column(String(9))
    #: The tax ID is the sole provider's SSN: claims send REF*SY instead of REF*EI.
    tax_id_is_ssn: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Type 2 (organization) NPI used as the billing provider on claims.
    group_npi: Mapped[str | None] = mapped_column(String(10))
    #: NUCC taxonomy of the practice as billing provider, e.g. 261QM0801X.
    taxonomy: Mapped[str | None] = mapped_column(String(10))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    #: ZIP+4, digits only (claims need all nine).
    zip_code: Mapped[str | None] = mapped_column(String(9))
    phone: Mapped[str | None] = mapped_column(String(20))
    #: IANA time zone the practice schedules in; sessions are stored in UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York", server_default="America/New_York")
    #: When the reports' summaries were last rebuilt from the entries (app/billing/summaries.py); empty for a
    #: practice that existed before them, whose summaries are built when its reports are first opened.
    reports_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # Billing automation and what bills print.
    bill_on_complete: Mapped[bool] = mapped_column(default=True, server_default=true())
    open_bills_automatically: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_bills_when_opened: Mapped[bool] = mapped_column(default=False, server_default=false())
    bill_prefix: Mapped[str] = mapped_column(String(10), default="B-", server_default="B-")
    payment_terms_days: Mapped[int] = mapped_column(default=30, server_default="30")
    #: Where clients send checks, as printed on bills (empty: the practice address).
    remit_to: Mapped[str | None] = mapped_column(Text)
    bill_message: Mapped[str | None] = mapped_column(Text)
    #: Where the CMS-1500's data prints on the red pre-printed form, in tenths of a millimetre: right (x) and down
    #: (y) from the standard position, to match the practice's printer; negative moves left or up.
    cms1500_offset_x: Mapped[int] = mapped_column(default=0, server_default="0")
    cms1500_offset_y: Mapped[int] = mapped_column(default=0, server_default="0")
    # Insurance: how claims leave (sandbox, claimmd or files) and who they say they come from.
    clearinghouse: Mapped[str] = mapped_column(String(10), default="sandbox", server_default="sandbox")
    submitter_name: Mapped[str | None] = mapped_column(String(60))
    #: Our submitter id at the clearinghouse (ISA06 / GS02 / NM1*41).
    submitter_id: Mapped[str | None] = mapped_column(String(15))
    #: The clearinghouse's receiver id (ISA08 / GS03 / NM1*40).
    receiver_id: Mapped[str | None] = mapped_column(String(15))
    receiver_name: Mapped[str | None] = mapped_column(String(60))
    create_claims_automatically: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Let the worker send Queued For Submission claims on its own (sandbox and claimmd).
    submit_claims_automatically: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: How often the worker asks the clearinghouse for acknowledgements, statuses and 835s.
    poll_every_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    #: The practice's Claim.MD AccountKey (claimmd only), encrypted (app/secrets_at_rest.py: a Fernet token of
    #: a key of up to 100 characters is at most 228); never shown back.
    claimmd_account_key: Mapped[str | None] = mapped_column(String(255))
    #: Claim.MD `response/` cursor (last_responseid) and `eralist/` cursor (last eraid seen).
    clearinghouse_response_cursor: Mapped[str] = mapped_column(String(40), default="", server_default="")
    clearinghouse_era_cursor: Mapped[str] = mapped_column(String(40), default="", server_default="")
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "group": the practice's NPI bills (2010AA) and the clinician renders (2310B); "individual": the
    #: clinician's own NPI bills.
    billing_provider: Mapped[str] = mapped_column(String(10), default="group", server_default="group")
    #: A fresh random token whenever the service catalog changes, so every process rebuilds its code
    #: search index (random rather than a counter, so a reused id can never match a stale index).
    catalog_version: Mapped[str] = mapped_column(String(32), default=new_catalog_version, server_default="0")
    #: Every member must turn on two-factor sign-in; until they have, every page sends them to set it up.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["Member"]] = relationship(back_populates="practice", order_by="Member.name")

    def __repr__(self) -> str:
        return f"<Practice {self.id} {self.legal_name!r}>"


class Member(UserMixin, db.Model):
    """Someone who signs in to one practice with one role."""

    __tablename__ = "members"
    __table_args__ = (CheckConstraint("role IN ('admin', 'clinician', 'biller')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    #: Stored lower-cased; sign-in looks members up by it across all practices.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Individual (type 1) NPI; required for clinicians, who render services.
    npi: Mapped[str | None] = mapped_column(String(10))
    taxonomy: Mapped[str | None] = mapped_column(String(10))
    #: What the session cookie names instead of the id; replaced on password change or
    #: deactivation so that every session signed in before ends at once.
    login_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_login_token)
    #: Set when failed sign-ins from anywhere reach the account-wide limit: the right password no longer
    #: signs in until a new one is set (accounts.set_password clears it).
    password_reset_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The TOTP secret (RFC 6238), encrypted with app/secrets_at_rest.py; set while two-factor is being set up
    #: or is on.
    two_factor_secret: Mapped[str | None] = mapped_column(String(255))
    #: When the member confirmed a code from their authenticator: two-factor is on while this is set.
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The 30-second time step of the last code accepted, so that a code is never accepted twice.
    two_factor_last_step: Mapped[int | None] = mapped_column(BigInteger)

    practice: Mapped[Practice] = relationship(back_populates="members")
    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(back_populates="member", cascade="all, delete-orphan")

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

    def get_id(self) -> str:
        return self.login_token

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.email} {self.role}>"


class RecoveryCode(db.Model):
    """A single-use code that stands in for an authenticator code; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="recovery_codes")


def member_by_email(email: str) -> Member | None:
    return db.session.scalar(db.select(Member).where(func.lower(Member.email) == (email or "").strip().lower()))
