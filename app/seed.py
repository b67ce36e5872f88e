"""The demo practice. One module that grows with the product; every step is idempotent."""
from sqlalchemy import select

from app import accounts
from app.accounts import MemberDetails
from app.extensions import db
from app.models import Member, Practice, Role

DEMO_PRACTICE = "Demo Counseling Group"
DEMO_PASSWORD = "parity-demo"

DEMO_IDENTITY = {
    "legal_name": DEMO_PRACTICE,
    "tax_id": "123456789",
    "group_npi": "2000000002",
    "taxonomy": "261QM0801X",
    "address_line1": "100 Main Street",
    "address_line2": "Suite 200",
    "city": "Cambridge",
    "state": "MA",
    "zip_code": "021394307",
    "phone": "6175550100",
}

DEMO_MEMBERS = [
    MemberDetails("admin@demo.parity", "Avery Admin", Role.ADMIN),
    MemberDetails("clinician@demo.parity", "Casey Clinician, LMHC", Role.CLINICIAN, "1234567893", "101YM0800X"),
    MemberDetails("clinician2@demo.parity", "Jordan Rivera, LICSW", Role.CLINICIAN, "1000000004", "1041C0700X"),
    MemberDetails("biller@demo.parity", "Blake Biller", Role.BILLER),
]


def demo_practice() -> Practice | None:
    return db.session.scalar(select(Practice).where(Practice.legal_name == DEMO_PRACTICE))


def seed_demo() -> bool:
    """Create whatever part of the demo is missing. True when anything was created."""
    created = False
    practice = demo_practice()
    if practice is None:
        practice = Practice(**DEMO_IDENTITY)
        db.session.add(practice)
        db.session.flush()
        created = True
    for details in DEMO_MEMBERS:
        if db.session.scalar(select(Member.id).where(Member.email == details.email)) is None:
            accounts.add_member(practice, details, DEMO_PASSWORD, welcome=False)
            created = True
    return created


def sign_in_help() -> str:
    lines = [f"Sign in with password '{DEMO_PASSWORD}' as:"]
    lines += [f"  {details.email:<26} {details.role}" for details in DEMO_MEMBERS]
    return "\n".join(lines)
