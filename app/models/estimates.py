"""Good Faith Estimates (No Surprises Act, 45 CFR 149.610): what a client without insurance, or not using
it, can expect to be charged. An issued estimate keeps what it printed and the PDF itself, so it never changes."""
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class GoodFaithEstimate(db.Model):
    __tablename__ = "good_faith_estimates"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        # The home page's watch: a practice's estimates whose period includes today.
        Index("ix_good_faith_estimates_practice_id_period_end", "practice_id", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The months the estimate covers (at most 12); the watch compares what was billed for them.
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column()
    #: Everything the estimate printed (client, providers, services, prices, diagnoses), as issued.
    content: Mapped[dict] = mapped_column(JSON)
    #: The PDF as issued: served as stored, never rendered again.
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    client: Mapped["Client"] = relationship()  # noqa: F821
