"""Bills, their lines, payments with allocations, refunds and adjustments.

A bill's balance is never stored: it is charges − allocations − adjustments, computed from entries.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class BillStatus(StrEnum):
    PENDED = "pended"
    OPEN = "open"
    COMPLETE = "complete"
    VOID = "void"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PaymentSource(StrEnum):
    CLIENT = "client"
    INSURANCE = "insurance"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CHECK = "check"
    CARD = "card"
    ACH = "ach"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"ach": "ACH"}.get(self.value, self.value.capitalize())


class AdjustmentKind(StrEnum):
    WRITE_OFF = "write_off"  #: the practice gives up collecting (hardship, small balance)
    ADJUSTMENT = "adjustment"  #: a correction or courtesy discount
    CONTRACTUAL = "contractual"  #: what an insurer's contract says the practice may not bill

    @property
    def label(self) -> str:
        return {"write_off": "Write-off", "adjustment": "Adjustment", "contractual": "Contractual adjustment"}[self.value]


class BillCounter(db.Model):
    """The next bill number of each practice, taken with an atomic UPDATE … RETURNING."""

    __tablename__ = "bill_counters"

    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Bill(db.Model):
    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("practice_id", "number"),
        CheckConstraint("status IN ('pended', 'open', 'complete', 'void')", name="status"),
        Index("ix_bills_practice_id_status_id", "practice_id", "status", "id"),
        Index("ix_bills_practice_id_status_service_date", "practice_id", "status", "service_date", "client_id",
              "clinician_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    #: Unique per practice and sequential, e.g. "B-1042".
    number: Mapped[str] = mapped_column(String(30))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str] = mapped_column(String(10), default=BillStatus.PENDED)
    #: The first date of service on the bill (for filters and aging).
    service_date: Mapped[date | None] = mapped_column(Date, index=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_date: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the issued bill prints, copied when it is opened so later edits elsewhere never change it:
    #: practice, clinician and client identity, bill-to, remit-to and message.
    issued_identity: Mapped[dict | None] = mapped_column(JSON)
    #: A paid-in-advance booking this bill was opened for.
    booked_session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped["Client"] = relationship()  # noqa: F821
    clinician: Mapped["Member | None"] = relationship()  # noqa: F821
    lines: Mapped[list["BillLine"]] = relationship(back_populates="bill", order_by="BillLine.position",
                                                   cascade="all, delete-orphan")
    allocations: Mapped[list["Allocation"]] = relationship(back_populates="bill")
    adjustments: Mapped[list["Adjustment"]] = relationship(back_populates="bill", order_by="Adjustment.id")
    events: Mapped[list["BillEvent"]] = relationship(back_populates="bill", order_by="BillEvent.id")


class BillLine(db.Model):
    __tablename__ = "bill_lines"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        # Reports: a bill's lines in order with their codes and charges, from the index alone.
        Index("ix_bill_lines_bill_id_position", "bill_id", "position", "id", "code", "price_cents", "units"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service_codes.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(default=1)
    service_date: Mapped[date] = mapped_column(Date)
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    units: Mapped[int] = mapped_column(default=1)
    #: Per unit.
    price_cents: Mapped[int] = mapped_column()
    modifiers: Mapped[list[str]] = mapped_column(JSON, default=list)

    bill: Mapped[Bill] = relationship(back_populates="lines")

    @property
    def charge_cents(self) -> int:
        return self.price_cents * self.units


class Payment(db.Model):
    """Money received: from the client (or their billing contact) or from an insurer."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_payments_practice_id_received_on", "practice_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default=PaymentSource.CLIENT)
    method: Mapped[str] = mapped_column(String(10))
    received_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column()
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    #: Set when the money did not arrive after all (a bounced check, a card chargeback).
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped["Client"] = relationship()  # noqa: F821
    allocations: Mapped[list["Allocation"]] = relationship(back_populates="payment")


class Allocation(db.Model):
    """Part of a payment applied to a bill. A reversal is a negative allocation, never an edit."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        # A bill's allocations (its balance) from the index alone.
        Index("ix_allocations_bill_id_amount_cents", "bill_id", "amount_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    amount_cents: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    bill: Mapped[Bill] = relationship(back_populates="allocations")


class Refund(db.Model):
    """Client credit paid back to the client."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    refunded_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column()
    reference: Mapped[str | None] = mapped_column(String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Adjustment(db.Model):
    """A write-off or adjustment on a bill, with its reason; charges themselves are never edited."""

    __tablename__ = "adjustments"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        # A bill's adjustments (its balance) from the index alone.
        Index("ix_adjustments_bill_id_amount_cents", "bill_id", "amount_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    #: The 835 claim payment this adjustment was posted from (CO / PI / OA amounts), if any.
    remittance_claim_id: Mapped[int | None] = mapped_column(ForeignKey("remittance_claims.id"), index=True)
    #: Positive lowers the balance; a negative amount reverses an earlier adjustment.
    amount_cents: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bill: Mapped[Bill] = relationship(back_populates="adjustments")


class BillEvent(db.Model):
    """The bill's history: created, opened, sent, paid, reopened, voided, lines edited."""

    __tablename__ = "bill_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bill: Mapped[Bill] = relationship(back_populates="events")
    member: Mapped["Member | None"] = relationship()  # noqa: F821
