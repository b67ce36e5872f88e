"""The header's search: clients by name or member ID, bills by number, claims by our control number or the payer's
claim number. Only what the member may see (app/access.py), each kind a few rows. Identifiers match exactly as
typed or upper-cased, each an index lookup (the unique bill and claim numbers, ix_insurance_policies_practice_id_
member_id, ix_claims_practice_id_payer_claim_number); names match by the start of each word, as ranges over the
lower-cased names (ix_clients_practice_id_name leads with the last name; first and preferred names are read from
the practice's clients)."""
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app import access
from app.extensions import db
from app.models import Bill, Claim, Client, InsurancePolicy, Member

#: Rows of each kind the search shows; the full results page shows more.
SHOWN = 8
FULL_PAGE = 50
#: Longer than any name or identifier: anything beyond is cut before it reaches the database.
LONGEST = 60


@dataclass
class Found:
    query: str
    clients: list[Client] = field(default_factory=list)
    bills: list[Bill] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.clients) + len(self.bills) + len(self.claims)


def _starts_with(column, text: str):
    """column starts with text, as a range an index on the column can answer (LIKE cannot, on every database)."""
    return (column >= text) & (column < text[:-1] + chr(ord(text[-1]) + 1))


def _identifiers(text: str) -> list[str]:
    return list(dict.fromkeys([text, text.upper()]))


def find(member: Member, text: str, limit: int = SHOWN) -> Found:
    """What matches the text among the records the member may see."""
    text = " ".join(text.split())[:LONGEST]
    found = Found(text)
    if not text:
        return found
    exact = _identifiers(text)
    names = (Client.last_name, Client.first_name, Client.preferred_name)
    name = and_(*(or_(*(_starts_with(func.lower(column), word) for column in names))
                  for word in text.lower().replace(",", " ").split()[:3]))  # "reyes, dan", "Dan Reyes"
    member_ids = select(InsurancePolicy.client_id).where(InsurancePolicy.practice_id == member.practice_id,
                                                         InsurancePolicy.member_id.in_(exact))
    found.clients = list(db.session.scalars(
        select(Client).where(access.client_filter(member), or_(name, Client.id.in_(member_ids)))
        .options(selectinload(Client.policies)).order_by(Client.last_name, Client.first_name, Client.id).limit(limit)))
    found.bills = list(db.session.scalars(
        select(Bill).where(access.bill_filter(member), Bill.number.in_(exact))
        .options(selectinload(Bill.client)).order_by(Bill.id.desc()).limit(limit)))
    found.claims = list(db.session.scalars(
        select(Claim).where(access.claim_filter(member),
                            or_(Claim.patient_control_number.in_(exact), Claim.payer_claim_number.in_(exact)))
        .options(selectinload(Claim.client), selectinload(Claim.payer)).order_by(Claim.id.desc()).limit(limit)))
    return found
