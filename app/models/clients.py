"""Clients, their contacts (guardians, billing contacts), payers and insurance policies."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, false, func, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Sex(StrEnum):
    """As X12 DMG03 writes it."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class SubscriberRelationship(StrEnum):
    """The patient's relationship to the subscriber, as X12 (SBR02 / PAT01) codes it."""

    SELF = "18"
    SPOUSE = "01"
    CHILD = "19"
    OTHER = "G8"


class AddressMixin:
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    #: Five or nine digits, digits only.
    zip_code: Mapped[str | None] = mapped_column(String(9))


class Client(AddressMixin, db.Model):
    __tablename__ = "clients"
    # The second index lists clients in name order, as the reports do (aging's clients who owe, a page at a time).
    __table_args__ = (Index("ix_clients_practice_id_last_name", "practice_id", "last_name"),
                      Index("ix_clients_practice_id_name", "practice_id", func.lower(text("last_name")),
                            func.lower(text("first_name")), "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    #: What the client likes to be called; documents and claims use the legal name.
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    #: The clinician who usually sees the client; clinicians see the clients they have sessions with.
    primary_clinician_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contacts: Mapped[list["Contact"]] = relationship(back_populates="client", order_by="Contact.id")
    policies: Mapped[list["InsurancePolicy"]] = relationship(back_populates="client",
                                                             order_by="InsurancePolicy.priority")
    primary_clinician: Mapped["Member | None"] = relationship()  # noqa: F821

    @property
    def legal_name(self) -> str:
        middle = f" {self.middle_name}" if self.middle_name else ""
        return f"{self.first_name}{middle} {self.last_name}"

    @property
    def display_name(self) -> str:
        if self.preferred_name and self.preferred_name != self.first_name:
            return f"{self.first_name} “{self.preferred_name}” {self.last_name}"
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.date_of_birth.year
        return years - ((day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day))

    @property
    def billing_contact(self) -> "Contact | None":
        """Bills and statements go here when set (a guardian for a minor)."""
        return next((contact for contact in self.contacts if contact.is_billing_contact), None)


class Contact(AddressMixin, db.Model):
    """A person connected to a client: a guardian, parent, spouse, emergency contact."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: guardian, parent, spouse, emergency, other
    relation: Mapped[str] = mapped_column(String(20))
    is_billing_contact: Mapped[bool] = mapped_column(default=False, server_default=false())
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))

    client: Mapped[Client] = relationship(back_populates="contacts")


class Payer(AddressMixin, db.Model):
    """An insurance company as the practice's clearinghouse knows it."""

    __tablename__ = "payers"
    __table_args__ = (UniqueConstraint("practice_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The clearinghouse's payer ID (NM1*PR … PI).
    clearinghouse_payer_id: Mapped[str] = mapped_column(String(20))
    #: SBR09 claim filing indicator: CI commercial, MB Medicare B, MC Medicaid, BL Blue Cross, …
    filing_indicator: Mapped[str] = mapped_column(String(2))
    #: The modifier this payer wants on video sessions: "95", "GT", or "" for none.
    telehealth_modifier: Mapped[str] = mapped_column(String(2), default="95", server_default="95")
    #: The modifier for audio-only sessions: "93", or "" for none.
    audio_only_modifier: Mapped[str] = mapped_column(String(2), default="93", server_default="93")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InsurancePolicy(db.Model):
    """A client's coverage with one payer; the subscriber is the client or another person."""

    __tablename__ = "insurance_policies"
    __table_args__ = (
        Index("ix_insurance_policies_practice_id_member_id", "practice_id", "member_id"),  # the header's search
        CheckConstraint("priority IN (1, 2, 3)", name="priority"),
        CheckConstraint("copay_cents >= 0", name="copay_not_negative"),
        CheckConstraint("end_date IS NULL OR end_date >= effective_date", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"), index=True)
    member_id: Mapped[str] = mapped_column(String(40))
    group_number: Mapped[str | None] = mapped_column(String(40))
    #: 1 primary, 2 secondary, 3 tertiary.
    priority: Mapped[int] = mapped_column(default=1)
    copay_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    effective_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    #: SubscriberRelationship: "18" when the client is the subscriber.
    relationship_to_subscriber: Mapped[str] = mapped_column(String(2), default="18", server_default="18")
    subscriber_first_name: Mapped[str | None] = mapped_column(String(100))
    subscriber_last_name: Mapped[str | None] = mapped_column(String(100))
    subscriber_date_of_birth: Mapped[date | None] = mapped_column(Date)
    subscriber_sex: Mapped[str | None] = mapped_column(String(1))
    subscriber_address_line1: Mapped[str | None] = mapped_column(String(200))
    subscriber_address_line2: Mapped[str | None] = mapped_column(String(200))
    subscriber_city: Mapped[str | None] = mapped_column(String(100))
    subscriber_state: Mapped[str | None] = mapped_column(String(2))
    subscriber_zip_code: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(back_populates="policies")
    payer: Mapped[Payer] = relationship()

    @property
    def client_is_subscriber(self) -> bool:
        return self.relationship_to_subscriber == SubscriberRelationship.SELF

    def is_active_on(self, day: date) -> bool:
        return self.effective_date <= day and (self.end_date is None or day <= self.end_date)
