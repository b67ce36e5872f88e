"""Demo clinical records: clients, payers, policies and a month of sessions with notes.

Built through the same domain functions the pages use, so the demo obeys every rule the product
enforces. Part of `flask seed-demo`; added once, when the demo practice has no clients yet.
"""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.billing import sessions as rules
from app.billing.sessions import Booking, LineInput
from app.extensions import db
from app.models import Client, Contact, InsurancePolicy, Member, Payer, Practice, SessionStatus, TherapySession

PAYERS = [
    {"name": "Harborview Health Plan", "clearinghouse_payer_id": "HHP01", "filing_indicator": "CI",
     "telehealth_modifier": "95", "audio_only_modifier": "93", "address_line1": "PO Box 1200", "city": "Boston",
     "state": "MA", "zip_code": "021011200"},
    {"name": "Medicare Part B (Jurisdiction K)", "clearinghouse_payer_id": "14212", "filing_indicator": "MB",
     "telehealth_modifier": "95", "audio_only_modifier": "93", "address_line1": "PO Box 3000", "city": "Hingham",
     "state": "MA", "zip_code": "020430000"},
    {"name": "MassHealth", "clearinghouse_payer_id": "DMA7384", "filing_indicator": "MC",
     "telehealth_modifier": "GT", "audio_only_modifier": "93", "address_line1": "PO Box 9118", "city": "Somerville",
     "state": "MA", "zip_code": "021459118"},
]

# (first, last, preferred, born, sex, payer index or None, member id)
CLIENTS = [
    ("Maya", "Okafor", None, date(1989, 3, 14), "F", 0, "HHP4481902"),
    # The sandbox clearinghouse rejects member IDs ending in R and denies those ending in D (app/clearinghouse/
    # sandbox.py), so the demo shows a rejection and a denial next to the paid claims.
    ("Daniel", "Reyes", "Dan", date(1975, 11, 2), "M", 0, "HHP448190R"),
    ("Eleanor", "Whitfield", None, date(1954, 6, 21), "F", 1, "1EG4TE5MK73"),
    ("Jordan", "Baptiste", None, date(2012, 9, 5), "M", 2, "100298374"),
    ("Priya", "Natarajan", None, date(1992, 1, 30), "F", 0, "HHP771024D"),
    ("Sam", "Kowalski", None, date(1998, 7, 11), "U", None, None),
]


def _zone(practice: Practice) -> ZoneInfo:
    return ZoneInfo(practice.timezone)


def _at(practice: Practice, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=_zone(practice))


def seed_clinical(practice: Practice) -> bool:
    """Add the demo's clinical records once. True when anything was added."""
    if db.session.scalar(select(func.count(Client.id)).where(Client.practice_id == practice.id)):
        return False
    clinicians = db.session.scalars(select(Member).where(Member.practice_id == practice.id,
                                                         Member.role == "clinician").order_by(Member.email)).all()
    casey, jordan = clinicians[1], clinicians[0]  # clinician@… and clinician2@…
    payers = [Payer(practice_id=practice.id, **values) for values in PAYERS]
    db.session.add_all(payers)
    clients = []
    for index, (first, last, preferred, born, sex, payer_index, member_id) in enumerate(CLIENTS):
        client = Client(practice_id=practice.id, first_name=first, last_name=last, preferred_name=preferred,
                        date_of_birth=born, sex=sex, address_line1=f"{20 + index * 7} Beacon Street", city="Cambridge",
                        state="MA", zip_code="021394307", phone=f"61755501{index:02d}",
                        email=f"{first.lower()}.{last.lower()}@example.org",
                        primary_clinician_id=(casey if index % 2 == 0 else jordan).id)
        db.session.add(client)
        clients.append(client)
    db.session.flush()
    maya, daniel, eleanor, minor, priya, sam = clients
    db.session.add(Contact(practice_id=practice.id, client_id=minor.id, name="Claudette Baptiste",
                           relation="guardian", is_billing_contact=True, phone="6175550177",
                           email="claudette.baptiste@example.org", address_line1="41 Beacon Street",
                           city="Cambridge", state="MA", zip_code="021394307"))
    start = date.today() - timedelta(days=400)
    for client, (*_, payer_index, member_id) in zip(clients, CLIENTS):
        if payer_index is None:
            continue
        policy = InsurancePolicy(practice_id=practice.id, client_id=client.id, payer_id=payers[payer_index].id,
                                 member_id=member_id, group_number="G-20931" if payer_index == 0 else None,
                                 priority=1, copay_cents=2500 if payer_index == 0 else 0, effective_date=start)
        if client is priya:  # covered as a spouse under her husband's employer plan
            policy.relationship_to_subscriber = "01"
            policy.subscriber_first_name, policy.subscriber_last_name = "Arjun", "Natarajan"
            policy.subscriber_date_of_birth, policy.subscriber_sex = date(1990, 5, 17), "M"
            policy.subscriber_address_line1, policy.subscriber_city = "77 Beacon Street", "Cambridge"
            policy.subscriber_state, policy.subscriber_zip_code = "MA", "021394307"
        if client is minor:
            policy.relationship_to_subscriber = "19"
            policy.subscriber_first_name, policy.subscriber_last_name = "Claudette", "Baptiste"
            policy.subscriber_date_of_birth, policy.subscriber_sex = date(1980, 2, 8), "F"
            policy.subscriber_address_line1, policy.subscriber_city = "41 Beacon Street", "Cambridge"
            policy.subscriber_state, policy.subscriber_zip_code = "MA", "021394307"
        db.session.add(policy)
    db.session.flush()

    today = date.today()
    # (days ago, hour, client, clinician, minutes, modality, lines, diagnoses, sign?, status)
    plan = [
        (29, 9, maya, casey, 60, "in_person", [("90791",)], ["F41.1"], True, None),
        (27, 10, daniel, jordan, 55, "in_person", [("90791",)], ["F33.1"], True, None),
        (26, 14, eleanor, casey, 45, "video", [("90834",)], ["F43.21"], True, None),
        (24, 16, minor, jordan, 50, "in_person", [("90791",), ("90785",)], ["F90.2"], True, None),
        (22, 9, maya, casey, 53, "in_person", [("90837",)], ["F41.1"], True, None),
        (21, 11, priya, casey, 45, "video", [("90834",), ("96127", 2)], ["F32.A"], True, None),
        # Audio-only, but coded with the video modifier: the scrubber holds its claim in Needs Review.
        (20, 13, daniel, jordan, 45, "audio", [("90834", 1, "95")], ["F33.1"], True, None),
        (19, 15, sam, jordan, 50, "in_person", [("90834",)], ["F43.10"], True, None),
        (17, 10, minor, jordan, 55, "in_person", [("90847",)], ["F90.2"], True, None),  # family session
        (15, 9, maya, casey, 53, "in_person", [("90837",)], ["F41.1"], True, None),
        (14, 12, eleanor, casey, 100, "in_person", [("90839",), ("90840", 1)], ["F43.0"], True, None),  # crisis
        (13, 14, daniel, jordan, 45, "video", [("90834",)], ["F33.1"], True, None),
        (12, 16, priya, casey, 40, "video", [("90834",)], ["F32.A"], True, None),
        (10, 10, sam, jordan, 0, None, [], [], False, SessionStatus.NO_SHOW),
        (8, 9, maya, casey, 53, "in_person", [("90837",)], ["F41.1"], True, None),
        (7, 11, minor, jordan, 30, "in_person", [("90832",), ("90785",)], ["F90.2"], True, None),
        (6, 15, eleanor, casey, 45, "video", [("90834",)], ["F43.21"], True, None),
        (5, 13, daniel, jordan, 55, "in_person", [("90837",)], ["F33.1"], True, None),
        (3, 10, priya, casey, 45, "video", [("90834",)], ["F32.A"], False, None),  # note left unsigned
        (2, 14, sam, jordan, 40, "in_person", [("H2019", 3)], ["F43.10"], True, None),
        (-2, 10, maya, casey, 53, "in_person", [], [], False, SessionStatus.SCHEDULED),
        (-3, 15, daniel, jordan, 45, "video", [], [], False, SessionStatus.SCHEDULED),
    ]
    for days_ago, hour, client, clinician, minutes, modality, lines, codes_, sign, status in plan:
        day = today - timedelta(days=days_ago)
        modality = modality or "in_person"
        starts = _at(practice, day, hour)
        booking = Booking(client_id=client.id, clinician_id=clinician.id, starts_at=starts,
                          ends_at=starts + timedelta(minutes=minutes or 50), modality=modality,
                          place_of_service="10" if modality != "in_person" else "11")
        session = rules.book_session(practice.id, booking)
        if status is not None:
            if status != SessionStatus.SCHEDULED:
                rules.set_status(session, status)
            continue
        db.session.refresh(session, ["client"])
        modifier = rules.suggested_modifier(session)
        inputs = [LineInput(code=line[0], units=line[1] if len(line) > 1 else 1,
                            modifiers=(line[2],) if len(line) > 2 else (modifier,) if modifier else ())
                  for line in lines]
        rules.complete_session(session, inputs, minutes, None, clinician)
        rules.save_note(session, _note_text(client, codes_), codes_)
        if sign:
            rules.sign_note(session, clinician)
    return True


def _note_text(client: Client, codes_: list[str]) -> str:
    return (f"Session with {client.first_name}. Reviewed the week, practiced the coping plan, and agreed on "
            f"goals for next time. Working diagnosis {', '.join(codes_) or 'deferred'}.")


def session_count(practice_id: int) -> int:
    return db.session.scalar(select(func.count(TherapySession.id)).where(TherapySession.practice_id == practice_id))


def seed_billing(practice: Practice) -> bool:
    """Move the demo's bills through every status: most older bills opened and paid, one paid in part,
    one client left with credit, one bill voided; the newest stay Pended for clinicians to review."""
    from app.billing import bills
    from app.models import Bill, BillStatus, Payment

    if db.session.scalar(select(func.count(Payment.id)).where(Payment.practice_id == practice.id)):
        return False
    pended = db.session.scalars(select(Bill).where(Bill.practice_id == practice.id, Bill.status == BillStatus.PENDED)
                                .order_by(Bill.service_date, Bill.id)).all()
    if len(pended) < 6:
        return False
    admin = db.session.scalar(select(Member).where(Member.practice_id == practice.id, Member.role == "admin"))
    older, newest = pended[:-4], pended[-4:]
    for bill in older:
        bills.open_bill(bill, admin)
    void_me, partial, *paid = older
    bills.void_bill(void_me, "Entered twice by mistake", admin)
    bills.record_payment(partial.client, bills.totals(partial).balance // 2, "card", date.today() - timedelta(days=3),
                         reference="VISA 4242", allocate=[(partial, bills.totals(partial).balance // 2)], actor=admin)
    for index, bill in enumerate(paid):
        if index % 4 == 3:
            continue  # left Open: not paid yet
        owed = bills.totals(bill).balance
        extra = 4000 if index == 0 else 0  # one client pays ahead and keeps credit
        policy = next((p for p in bill.client.policies if p.is_active_on(bill.service_date)), None)
        if policy is not None:  # insured: the client pays the copay; the payer pays the rest through the claim
            owed, extra = min(owed, policy.copay_cents), 0
        if owed > 0:
            bills.record_payment(bill.client, owed + extra, "check" if index % 2 else "card",
                                 date.today() - timedelta(days=max(1, 20 - index)), reference=f"{1040 + index}",
                                 allocate=[(bill, owed)], actor=admin)
    del newest  # stay Pended
    return True
