"""The practice's service catalog: what it bills, under which procedure code, at what price."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class CodeType(StrEnum):
    #: A CPT or HCPCS Level II code: must have the five-character format, goes on claims.
    CPT = "CPT"
    #: The practice's own code (a late-cancellation fee, a workshop): never goes on a claim.
    CUSTOM = "Custom"


class ServiceCode(db.Model):
    """One service the practice bills. Changing it never changes bills already issued: bills copy
    the code, description and price onto their lines."""

    __tablename__ = "service_codes"
    __table_args__ = (
        UniqueConstraint("practice_id", "code"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("code_type IN ('CPT', 'Custom')", name="code_type"),
        CheckConstraint("minutes_per_unit IS NULL OR minutes_per_unit > 0", name="minutes_per_unit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    #: Upper-case, e.g. 90834, H2019 or the practice's own LATE-CANCEL.
    code: Mapped[str] = mapped_column(String(20))
    code_type: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The default charge, or the charge per unit when billed in units.
    price_cents: Mapped[int] = mapped_column()
    bill_in_units: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Minutes one unit stands for (15 for most unit codes); suggests units from session minutes.
    minutes_per_unit: Mapped[int | None] = mapped_column()
    #: How partial units round for 15-minute codes; empty means the CMS 8-minute rule.
    unit_rounding: Mapped[str | None] = mapped_column(String(32))
    #: May appear on more than one line of the same session.
    repeatable: Mapped[bool] = mapped_column(default=False, server_default=false())
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Booking this service asks for payment before the session (a bill is opened at booking).
    requires_advance_payment: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ServiceCode {self.practice_id}:{self.code}>"
