"""Remittances (835): the payer's payment and what was posted from it onto claims and bills."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class PostingOutcome(StrEnum):
    PAID = "paid"  #: insurance payment applied, CO written off, PR left to the client
    DENIED = "denied"  #: the payer adjudicated and paid nothing; the claim waits in the denials queue
    REVERSED = "reversed"  #: CLP02 22: an earlier posting of this claim was undone
    UNMATCHED = "unmatched"  #: no claim of ours has this CLP01 (or nothing to reverse): a biller decides
    DISMISSED = "dismissed"  #: a biller looked at an unmatched claim payment and set it aside, with a note

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Remittance(db.Model):
    """One 835 payment (one ST…SE): a check or EFT, or a $0 notice, from one payer."""

    __tablename__ = "remittances"
    __table_args__ = (
        # A file already posted (same payer, same TRN02) is refused as a whole.
        UniqueConstraint("practice_id", "payer_key", "trace_number"),
        Index("ix_remittances_practice_id_id", "practice_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    #: The payer, when the 835's payer id or name matches one of the practice's payers.
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payers.id"))
    payer_name: Mapped[str] = mapped_column(String(120))
    #: How the payer names itself in the 835 (N1*PR REF*2U, TRN03 or the name): half of the duplicate key.
    payer_key: Mapped[str] = mapped_column(String(80))
    #: TRN02: the check or EFT trace number.
    trace_number: Mapped[str] = mapped_column(String(80))
    #: BPR04: ACH, CHK, BOP, FWT or NON.
    payment_method: Mapped[str] = mapped_column(String(3))
    total_paid_cents: Mapped[int] = mapped_column()
    paid_on: Mapped[date | None] = mapped_column(Date)
    file_id: Mapped[int] = mapped_column(ForeignKey("x12_files.id"))
    #: upload, clearinghouse or command line
    source: Mapped[str] = mapped_column(String(14))
    claim_count: Mapped[int] = mapped_column(default=0)
    unmatched_count: Mapped[int] = mapped_column(default=0)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claims: Mapped[list["RemittanceClaim"]] = relationship(back_populates="remittance",
                                                          order_by="RemittanceClaim.id")
    adjustments: Mapped[list["ProviderAdjustment"]] = relationship(back_populates="remittance",
                                                                   order_by="ProviderAdjustment.id")
    payer: Mapped["Payer | None"] = relationship()  # noqa: F821
    posted_by: Mapped["Member | None"] = relationship()  # noqa: F821


class RemittanceClaim(db.Model):
    """One CLP of a remittance and what Parity did with it."""

    __tablename__ = "remittance_claims"
    __table_args__ = (
        CheckConstraint("outcome IN ('paid', 'denied', 'reversed', 'unmatched', 'dismissed')", name="outcome"),
        Index("ix_remittance_claims_practice_id_outcome", "practice_id", "outcome"),
        # Reports (claim outcomes): a claim's standing postings and their remittances, from the index alone.
        Index("ix_remittance_claims_claim_id_outcome", "claim_id", "outcome", "reversed_at", "remittance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    #: CLP01 as the payer sent it.
    patient_control_number: Mapped[str] = mapped_column(String(40))
    #: CLP02: 1/2/3 processed, 4 denied, 22 reversal …
    status_code: Mapped[str] = mapped_column(String(3))
    charge_cents: Mapped[int] = mapped_column()
    paid_cents: Mapped[int] = mapped_column()
    patient_responsibility_cents: Mapped[int] = mapped_column(default=0)
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    patient_name: Mapped[str | None] = mapped_column(String(120))
    #: Claim- and line-level CAS: [{"group": "CO", "reason": "45", "amount_cents": 4000, "line": "P1C7-1",
    #: "text": "..."}]
    adjustments: Mapped[list[dict]] = mapped_column(JSON, default=list)
    #: Remark codes with their words: [{"code": "N54", "text": "..."}]
    remarks: Mapped[list[dict]] = mapped_column(JSON, default=list)
    #: SVC lines: [{"code", "modifiers", "charge_cents", "paid_cents", "units", "line", "allowed_cents"}]
    services: Mapped[list[dict]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(10))
    #: What posting did, in plain words (or why it could not).
    message: Mapped[str] = mapped_column(Text, default="")
    #: The insurance payment made from this claim payment (none when it paid $0).
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    #: Set when a later CLP02 22 undid this posting.
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    remittance: Mapped[Remittance] = relationship(back_populates="claims")
    claim: Mapped["Claim | None"] = relationship()  # noqa: F821


class ProviderAdjustment(db.Model):
    """One PLB adjustment of a remittance, so that a remittance's posted claim payments less these equal the
    deposit: interest (L6, negative: money added), recoveries (WO, 72: money taken back, tied to the claim that
    PLB03-2 names when it is ours), forwarding balances (FB), and the rest (CS …)."""

    __tablename__ = "provider_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    #: PLB01: the provider the payer adjusts (its NPI or tax id).
    provider_id: Mapped[str] = mapped_column(String(50))
    #: PLB02: the end of the provider's fiscal period.
    fiscal_period_date: Mapped[date | None] = mapped_column(Date)
    #: PLB03-1: L6 interest, WO overpayment recovery, 72 authorized return, FB forwarding balance, CS adjustment …
    reason: Mapped[str] = mapped_column(String(2))
    #: PLB03-2 as the payer sent it: for WO and 72 the claim it recovers (our control number or the payer's).
    reference: Mapped[str] = mapped_column(String(50), default="")
    #: PLB04: positive takes money from the deposit, negative adds to it.
    amount_cents: Mapped[int] = mapped_column()
    #: The claim PLB03-2 names, when it is one of ours.
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)

    remittance: Mapped[Remittance] = relationship(back_populates="adjustments")
    claim: Mapped["Claim | None"] = relationship()  # noqa: F821
