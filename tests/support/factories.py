"""Factories that build committed records with sensible defaults. Tests say only what matters to them."""
import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache

from app.billing import bills
from app.extensions import db
from app.models.practice import new_catalog_version
from app.models import (Bill, BillLine, Claim, EligibilityCheck, GoodFaithEstimate, X12File, Payment, Remittance, RemittanceClaim, Client, CodeType, Contact, InsurancePolicy, Member, OutboundEmail, Payer, Practice, Role,
                        ServiceCode, SessionNote, SessionService, TherapySession)
from tests.support.days import local_today

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


@cache
def password_hash() -> str:
    # Hashing with argon2 takes tens of milliseconds; one hash serves every factory-made member.
    from app.accounts import hash_password

    return hash_password(PASSWORD)


@dataclass(frozen=True)
class PracticeRef:
    """Stands for a practice where a factory needs only its id."""

    id: int


@dataclass(frozen=True)
class ClientRef:
    """Stands for a client where a factory needs only its id and practice."""

    id: int
    practice_id: int


CLINICIAN_NPIS = ["1234567893", "1000000004"]


class Factory:
    """Each record is saved in its own app context and handed back detached, with its columns loaded:
    a test must not hold an app context open across requests, or requests would share its `g`."""

    def __init__(self, app):
        self.app = app

    def save(self, record):
        with self.app.app_context():
            db.session.add(record)
            db.session.commit()
            db.session.refresh(record)
            db.session.expunge(record)
        return record

    def practice_of(self, member: Member) -> Practice:
        with self.app.app_context():
            practice = db.session.get(Practice, member.practice_id)
            db.session.expunge(practice)
        return practice

    def practice(self, **values) -> Practice:
        number = next(_numbers)
        practice = Practice(**{"legal_name": f"Practice {number}", "tax_id": "123456789", "group_npi": "2000000002",
                               "taxonomy": "261QM0801X", "address_line1": f"{number} Main St", "city": "Cambridge",
                               "state": "MA", "zip_code": "021394307", "phone": "6175550100", **values})
        return self.save(practice)

    def member(self, practice: Practice | None = None, role: Role = Role.ADMIN, **values) -> Member:
        practice = practice or self.practice()
        number = next(_numbers)
        defaults = {"email": f"{role}{number}@example.org", "name": f"{str(role).title()} {number}", "role": role,
                    "password_hash": password_hash()}
        if role == Role.CLINICIAN:
            defaults |= {"npi": CLINICIAN_NPIS[number % 2], "taxonomy": "101YP2500X"}
        return self.save(Member(practice_id=practice.id, **(defaults | values)))

    def email(self, practice: Practice | None = None, **values) -> OutboundEmail:
        return self.save(OutboundEmail(practice_id=(practice or self.practice()).id, **{
            "to_address": "client@example.org", "subject": "Your bill", "body": "Hello", **values}))

    def service(self, practice: Practice | None = None, code: str = "90834", **values) -> ServiceCode:
        practice = practice or self.practice()
        service = self.save(ServiceCode(practice_id=practice.id, **{
            "code": code, "code_type": CodeType.CPT, "name": f"Service {code}", "description": "",
            "price_cents": 15000, **values}))
        with self.app.app_context():  # as the catalog operations do: search indexes must rebuild
            db.session.execute(db.update(Practice).where(Practice.id == practice.id)
                               .values(catalog_version=new_catalog_version()))
            db.session.commit()
        return service

    def client(self, practice: Practice | None = None, **values) -> Client:
        number = next(_numbers)
        return self.save(Client(practice_id=(practice or self.practice()).id, **{
            "first_name": f"Client{number}", "last_name": f"Person{number}", "date_of_birth": date(1988, 4, 12),
            "sex": "F", "address_line1": f"{number} Elm St", "city": "Somerville", "state": "MA",
            "zip_code": "021441234", "phone": "6175550123", "email": f"client{number}@example.org", **values}))

    def contact(self, client: Client, **values) -> Contact:
        return self.save(Contact(practice_id=client.practice_id, client_id=client.id, **{
            "name": "Pat Guardian", "relation": "guardian", "is_billing_contact": True,
            "email": "guardian@example.org", **values}))

    def payer(self, practice: Practice | None = None, **values) -> Payer:
        number = next(_numbers)
        return self.save(Payer(practice_id=(practice or self.practice()).id, **{
            "name": f"Payer {number}", "clearinghouse_payer_id": f"P{number:05d}", "filing_indicator": "CI",
            **values}))

    def policy(self, client: Client, payer: Payer | None = None, **values) -> InsurancePolicy:
        payer = payer or self.payer(PracticeRef(client.practice_id))
        return self.save(InsurancePolicy(practice_id=client.practice_id, client_id=client.id, payer_id=payer.id, **{
            "member_id": "MEM123456", "group_number": "GRP1", "priority": 1, "copay_cents": 2000,
            "effective_date": date(2025, 1, 1), **values}))

    def session(self, client: Client, clinician: Member, starts_at: datetime | None = None, minutes: int = 53,
                **values) -> TherapySession:
        starts_at = starts_at or datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
        return self.save(TherapySession(practice_id=client.practice_id, client_id=client.id,
                                        clinician_id=clinician.id, starts_at=starts_at,
                                        ends_at=starts_at + timedelta(minutes=minutes), minutes=minutes, **values))

    def line(self, session: TherapySession, service: ServiceCode, **values) -> SessionService:
        return self.save(SessionService(practice_id=session.practice_id, session_id=session.id, service_id=service.id,
                                        **{"code": service.code, "description": service.description or service.name,
                                           "units": 1, "price_cents": service.price_cents, "modifiers": [],
                                           **values}))

    def billed_session(self, client: Client, clinician: Member, service: ServiceCode, *,
                       open_now: bool = True) -> Bill:
        """A completed session with one line of `service`, billed through the real rules (Open by default)."""
        session = self.session(client, clinician, status="completed")
        self.line(session, service)
        with self.app.app_context():
            bill = bills.create_from_sessions(db.session.get(Practice, client.practice_id),
                                              [db.session.get(TherapySession, session.id)], open_now=open_now)
            db.session.commit()
            db.session.refresh(bill)
            db.session.expunge(bill)
        return bill

    def note(self, session: TherapySession, **values) -> SessionNote:
        return self.save(SessionNote(practice_id=session.practice_id, session_id=session.id,
                                     **{"body": "Client discussed sleep and work stress.",
                                        "diagnosis_codes": ["F41.1"], **values}))

    def _first_line(self, bill: Bill) -> BillLine:
        with self.app.app_context():
            line = db.session.scalar(db.select(BillLine).where(BillLine.bill_id == bill.id))
            db.session.expunge(line)
        return line

    def bill(self, client: Client, clinician: Member | None = None, status: str = "pended",
             price_cents: int = 15000) -> Bill:
        number = next(_numbers)
        bill = Bill(practice_id=client.practice_id, number=f"T-{number}", client_id=client.id,
                    clinician_id=clinician.id if clinician else None, status=status, service_date=local_today())
        bill.lines.append(BillLine(practice_id=client.practice_id, service_date=local_today(), code="90834",
                                   description="Psychotherapy, 45 min", units=1, price_cents=price_cents))
        return self.save(bill)

    def payment(self, client: Client, amount_cents: int = 5000, **values) -> Payment:
        return self.save(Payment(practice_id=client.practice_id, client_id=client.id, **{
            "method": "card", "received_on": local_today(), "amount_cents": amount_cents, **values}))

    def claim(self, bill: Bill, status: str = "queued", **values) -> Claim:
        client = PracticeRef(bill.practice_id)
        with self.app.app_context():
            row = db.session.get(Bill, bill.id)
            client_id, clinician_id = row.client_id, row.clinician_id
        payer = self.payer(client)
        policy = self.policy(ClientRef(client_id, bill.practice_id), payer)
        number = next(_numbers)
        return self.save(Claim(practice_id=bill.practice_id, bill_id=bill.id, policy_id=policy.id, payer_id=payer.id,
                               client_id=client_id, clinician_id=clinician_id, status=status,
                               patient_control_number=f"T{number}", service_date=local_today(),
                               place_of_service="11", total_charge_cents=15000,
                               **{"snapshot": {"diagnoses": ["F41.1"]}, **values}))

    def estimate(self, client: Client, total_cents: int = 60000, **values) -> GoodFaithEstimate:
        """An issued Good Faith Estimate as stored (tests of issuing go through app/billing/estimates.py)."""
        return self.save(GoodFaithEstimate(practice_id=client.practice_id, client_id=client.id, **{
            "period_start": local_today().replace(day=1), "period_end": local_today().replace(day=28),
            "total_cents": total_cents, "content": {"number": "GFE-T", "practice": {"legal_name": "Practice"}},
            "pdf": b"%PDF-1.7 stored", **values}))

    def x12_file(self, practice_id: int) -> X12File:
        return self.save(X12File(practice_id=practice_id, kind="837P", interchange_control_number=next(_numbers),
                                 claim_count=1, content="ISA*00~", valid=True, validation_messages=[]))

    def remittance(self, practice_id: int, **values) -> Remittance:
        """A posted remittance record (no claims), as era.import_835 leaves one."""
        number = next(_numbers)
        file = self.x12_file(practice_id)
        return self.save(Remittance(**{"practice_id": practice_id, "payer_name": "Harborview Health Plan",
                                       "payer_key": "HHP01", "trace_number": f"EFT{number:06d}",
                                       "payment_method": "ACH", "total_paid_cents": 0, "paid_on": local_today(),
                                       "file_id": file.id, "source": "upload", **values}))

    def remittance_claim(self, practice_id: int, **values) -> RemittanceClaim:
        """An unmatched claim payment waiting for a biller."""
        remittance = self.remittance(practice_id)
        return self.save(RemittanceClaim(**{"practice_id": practice_id, "remittance_id": remittance.id,
                                            "patient_control_number": f"X{next(_numbers)}", "status_code": "1",
                                            "charge_cents": 15000, "paid_cents": 9000, "outcome": "unmatched",
                                            "message": "No claim of this practice has this number.", **values}))

    def eligibility_check(self, policy: InsurancePolicy, **values) -> EligibilityCheck:
        """A check waiting for its 271 (its 270 is a stand-in: the route matrix only opens its pages)."""
        return self.save(EligibilityCheck(practice_id=policy.practice_id, client_id=policy.client_id,
                                          policy_id=policy.id, **{"source": "web", "status": "pending",
                                                                  "trace_number": f"E{next(_numbers)}",
                                                                  "service_date": local_today(),
                                                                  "request_270": "ISA*", "benefits": [],
                                                                  "messages": [], **values}))

    def for_model(self, model: type, practice: Practice):
        """A record of `model` in `practice`: the route matrix uses this for every scoped URL argument."""
        def session():
            return self.session(self.client(practice), self.member(practice, Role.CLINICIAN))

        builders = {Member: lambda: self.member(practice, Role.BILLER), OutboundEmail: lambda: self.email(practice),
                    ServiceCode: lambda: self.service(practice, f"S{next(_numbers):04d}", code_type="Custom"),
                    Client: lambda: self.client(practice), Contact: lambda: self.contact(self.client(practice)),
                    Payer: lambda: self.payer(practice), InsurancePolicy: lambda: self.policy(self.client(practice)),
                    TherapySession: session,
                    Bill: lambda: self.bill(self.client(practice)),
                    BillLine: lambda: self._first_line(self.bill(self.client(practice))),
                    Payment: lambda: self.payment(self.client(practice)),
                    Claim: lambda: self.claim(self.bill(self.client(practice))),
                    X12File: lambda: self.x12_file(practice.id),
                    Remittance: lambda: self.remittance(practice.id),
                    RemittanceClaim: lambda: self.remittance_claim(practice.id),
                    EligibilityCheck: lambda: self.eligibility_check(self.policy(self.client(practice))),
                    GoodFaithEstimate: lambda: self.estimate(self.client(practice)),
                    SessionService: lambda: self.line(session(), self.service(practice, f"S{next(_numbers):04d}",
                                                                              code_type="Custom"))}
        if model not in builders:
            raise LookupError(f"tests/support/factories.py has no factory for {model.__name__}: add one to for_model")
        return builders[model]()
