"""Factories that build committed records with sensible defaults. Tests say only what matters to them."""
import itertools
from functools import cache

from app.extensions import db
from app.models.practice import new_catalog_version
from app.models import CodeType, Member, OutboundEmail, Practice, Role, ServiceCode

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


@cache
def password_hash() -> str:
    # Hashing with argon2 takes tens of milliseconds; one hash serves every factory-made member.
    from app.accounts import hash_password

    return hash_password(PASSWORD)


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

    def for_model(self, model: type, practice: Practice):
        """A record of `model` in `practice`: the route matrix uses this for every scoped URL argument."""
        builders = {Member: lambda: self.member(practice, Role.BILLER), OutboundEmail: lambda: self.email(practice),
                    ServiceCode: lambda: self.service(practice)}
        if model not in builders:
            raise LookupError(f"tests/support/factories.py has no factory for {model.__name__}: add one to for_model")
        return builders[model]()
