"""Eligibility checks: each 270 sent about a client's policy, the 271 that came back, and what it said."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class EligibilityCheck(db.Model):
    __tablename__ = "eligibility_checks"
    __table_args__ = (UniqueConstraint("practice_id", "trace_number"),
                      Index("ix_eligibility_checks_client_id_created_at", "client_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policies.id"), index=True)
    #: The member who asked; None for the nightly batch.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    #: web, cli or nightly
    source: Mapped[str] = mapped_column(String(10))
    #: pending (270 written, no answer yet), answered, rejected (AAA), failed (no usable answer)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: TRN02 of the 270; the 271 echoes it.
    trace_number: Mapped[str] = mapped_column(String(30))
    service_date: Mapped[date] = mapped_column(Date)
    request_270: Mapped[str] = mapped_column(Text)
    response_271: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: EB01 1–5 True, 6–8 False, None when not said.
    active: Mapped[bool | None] = mapped_column()
    plan_name: Mapped[str | None] = mapped_column(String(100))
    group_name: Mapped[str | None] = mapped_column(String(100))
    #: The headline numbers for outpatient mental health, in network when the payer says (see billing.eligibility).
    in_network: Mapped[bool | None] = mapped_column()
    copay_cents: Mapped[int | None] = mapped_column()
    coinsurance_percent: Mapped[int | None] = mapped_column()
    deductible_cents: Mapped[int | None] = mapped_column()
    deductible_remaining_cents: Mapped[int | None] = mapped_column()
    out_of_pocket_cents: Mapped[int | None] = mapped_column()
    out_of_pocket_remaining_cents: Mapped[int | None] = mapped_column()
    visit_limit: Mapped[int | None] = mapped_column()
    visits_remaining: Mapped[int | None] = mapped_column()
    authorization_required: Mapped[bool | None] = mapped_column()
    #: Every benefit the 271 gave, per service type, network and coverage level (Benefit fields).
    benefits: Mapped[list[dict]] = mapped_column(JSON, default=list)
    #: The payer's MSG texts.
    messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Why the payer (AAA) or the clearinghouse could not answer, in plain words.
    problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy: Mapped["InsurancePolicy"] = relationship()  # noqa: F821
    client: Mapped["Client"] = relationship()  # noqa: F821
