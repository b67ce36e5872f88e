"""Record-level visibility inside a practice, on top of authz's role and practice checks.

Admins and billers work on the whole practice. A clinician works on their own clients (those they are
the primary clinician of, or have a session with), their own sessions, and the bills and claims of their own
sessions (those whose clinician they are: a claim copies its bill's clinician, so the two rules agree). A
client's ledger and statement are one account, payments and credit included: a clinician sees them only
while every bill of the client is theirs. Records a member may not see answer 404, exactly like another practice's
records: nothing about them is revealed. The rules raise `NotVisible`, which the web layer answers with 404
(app/errors.py); no request in sight, so the domain's own lists (the home page's work list, the reports)
filter with the same clauses.
"""
from sqlalchemy import exists, or_, select

from app.extensions import db
from app.models import Bill, Claim, Client, Member, Role, TherapySession


class NotVisible(LookupError):
    """The member may not see this record: answered like a record that does not exist (404)."""


def sees_whole_practice(member: Member) -> bool:
    return member.role in (Role.ADMIN, Role.BILLER)


def client_filter(member: Member):
    """A WHERE clause limiting Client rows to those the member may see."""
    in_practice = Client.practice_id == member.practice_id
    if sees_whole_practice(member):
        return in_practice
    has_session = exists(select(TherapySession.id).where(TherapySession.client_id == Client.id,
                                                         TherapySession.clinician_id == member.id))
    return in_practice & or_(Client.primary_clinician_id == member.id, has_session)


def _own_records(model, member: Member):
    """A WHERE clause limiting a model's rows (sessions, bills, claims) to the member's: the whole practice for
    admins and billers, a clinician's own (`clinician_id`) otherwise."""
    in_practice = model.practice_id == member.practice_id
    if sees_whole_practice(member):
        return in_practice
    return in_practice & (model.clinician_id == member.id)


def _require_own(member: Member, record):
    """The session, bill or claim, or NotVisible (404) when it is another clinician's."""
    if sees_whole_practice(member) or record.clinician_id == member.id:
        return record
    raise NotVisible(f"{record.__tablename__} {record.id}")


def session_filter(member: Member):
    """A WHERE clause limiting TherapySession rows to those the member may see."""
    return _own_records(TherapySession, member)


def bill_filter(member: Member):
    """A WHERE clause limiting Bill rows to those the member may see: bills of their own sessions."""
    return _own_records(Bill, member)


def claim_filter(member: Member):
    """A WHERE clause limiting Claim rows to those the member may see: claims of their own bills."""
    return _own_records(Claim, member)


def require_client(member: Member, client: Client) -> Client:
    """The client, or NotVisible (404) when this member may not see them."""
    if sees_whole_practice(member) or client.primary_clinician_id == member.id:
        return client
    if db.session.scalar(select(TherapySession.id).where(TherapySession.client_id == client.id,
                                                         TherapySession.clinician_id == member.id).limit(1)):
        return client
    raise NotVisible(f"client {client.id}")


def require_session(member: Member, session: TherapySession) -> TherapySession:
    return _require_own(member, session)


def require_bill(member: Member, bill: Bill) -> Bill:
    return _require_own(member, bill)


def sees_account(member: Member, client: Client) -> bool:
    """Whether the member may see the client's ledger and statement (the client already visible to them): a
    clinician only while no other clinician's bill is on the account (a part of it would show a wrong balance)."""
    if sees_whole_practice(member):
        return True
    others = select(Bill.id).where(Bill.client_id == client.id,
                                   or_(Bill.clinician_id.is_(None), Bill.clinician_id != member.id)).limit(1)
    return db.session.scalar(others) is None


def require_account(member: Member, client: Client) -> Client:
    """The client whose ledger or statement is asked for, or NotVisible (404)."""
    if sees_account(member, require_client(member, client)):
        return client
    raise NotVisible(f"account of client {client.id}")


def require_claim(member: Member, claim: Claim) -> Claim:
    return _require_own(member, claim)


def may_edit_session(member: Member, session: TherapySession) -> bool:
    """The session's clinician or an admin; billers read sessions but do not change them."""
    return member.role == Role.ADMIN or session.clinician_id == member.id


def may_read_note_text(member: Member, session: TherapySession) -> bool:
    """Clinical note text is for the treating clinician and admins; never for billers."""
    return member.role != Role.BILLER and (member.role == Role.ADMIN or session.clinician_id == member.id)
