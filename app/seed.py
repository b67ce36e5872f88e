"""The demo practice. One module that grows with the product; every step is idempotent."""
from sqlalchemy import select

from app import accounts
from app.accounts import MemberDetails
from app.billing import catalog, summaries
from app.billing.catalog import ServiceDetails
from app.extensions import db
from app.models import CodeType, Member, Practice, Role, ServiceCode
from app.seed_clinical import seed_clinical

DEMO_PRACTICE = "Demo Counseling Group"
DEMO_PASSWORD = "parity-demo-practice"

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
    # The demo sends its queued claims when someone clicks "Send queued claims now", so a new user sees the
    # sandbox move them through Sent, Received and In process (the history is sent by the seed's own jobs).
    "submit_claims_automatically": False,
}

DEMO_MEMBERS = [
    MemberDetails("admin@demo.parity", "Avery Admin", Role.ADMIN),
    MemberDetails("clinician@demo.parity", "Casey Clinician, LMHC", Role.CLINICIAN, "1234567893", "101YM0800X"),
    MemberDetails("clinician2@demo.parity", "Jordan Rivera, LICSW", Role.CLINICIAN, "1000000004", "1041C0700X"),
    MemberDetails("biller@demo.parity", "Blake Biller", Role.BILLER),
]


#: The demo catalog: common codes at the practice's own prices (dollars as typed in the import page).
DEMO_PRICES = {
    "90791": "200.00", "90832": "110.00", "90834": "150.00", "90837": "190.00", "90839": "250.00",
    "90840": "120.00", "90846": "150.00", "90847": "160.00", "90853": "60.00", "90785": "25.00",
    "96127": "15.00", "H2019": "22.00", "90792": "240.00",
}
DEMO_DISABLED = {"90792"}  # kept for old records, no longer offered
DEMO_CUSTOM = ServiceDetails(code="LATE-CANCEL", code_type=CodeType.CUSTOM, name="Late cancellation fee",
                             description="Session cancelled with less than 24 hours' notice.", price_cents=5000)


def _seed_catalog(practice: Practice) -> bool:
    present = catalog.catalog_codes(practice.id)
    missing = [(code, price) for code, price in DEMO_PRICES.items() if code not in present]
    if missing:
        catalog.import_reference_codes(practice, missing)
        for service in db.session.scalars(select(ServiceCode).where(ServiceCode.practice_id == practice.id,
                                                                    ServiceCode.code.in_(DEMO_DISABLED))):
            catalog.set_enabled(service, False)
    if DEMO_CUSTOM.code not in present:
        catalog.add_service(practice, DEMO_CUSTOM)
    return bool(missing) or DEMO_CUSTOM.code not in present


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
    created |= _seed_catalog(practice)
    db.session.flush()
    practice_id = practice.id
    # Clients, six months of history sent through the sandbox (committed as it goes, by the worker's own jobs)
    # and the recent weeks with their bills: added once, when the practice has no clients.
    created |= seed_clinical(practice)
    if created:  # the history was backdated under the summaries' feet: work them out from the entries
        summaries.rebuild(db.session, practice_id)
    return created


def sign_in_help() -> str:
    lines = [f"Sign in with password '{DEMO_PASSWORD}' as:"]
    lines += [f"  {details.email:<26} {details.role}" for details in DEMO_MEMBERS]
    return "\n".join(lines)
