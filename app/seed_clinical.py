"""Demo clinical records: clients, payers, policies, six months of history (app/seed_history.py) and the
recent weeks of sessions with notes, bills and claims waiting for the worker.

Built through the same domain functions the pages use, so the demo obeys every rule the product
enforces. Part of `flask seed-demo`; added once, when the demo practice has no clients yet.
"""
import contextlib
import unicodedata
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app import clearinghouse
from app.billing import bills, dates, eligibility, estimates
from app.extensions import db
from app.memory import collector_paused
from app.models import (Bill, BillStatus, Claim, Client, Contact, InsurancePolicy, Member, Payer, Practice,
                        ServiceCode, SessionStatus)
from app.models.types import utcnow
from app.seed_history import Clock, recent_start, seed_history
from app.seed_sessions import record_session

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
    {"name": "Bay State Medigap Plan G", "clearinghouse_payer_id": "BSMG1", "filing_indicator": "CI",
     "telehealth_modifier": "95", "audio_only_modifier": "93", "address_line1": "PO Box 4100", "city": "Worcester",
     "state": "MA", "zip_code": "016154100"},
]
SUPPLEMENT = 3
#: Medicare clients with a supplement (secondary) policy: (key, its member id). The sandbox leaves Medicare's 20 %
#: coinsurance (PR-2) and the supplement pays most of it: Eleanor's claims go Medicare → supplement (billed by
#: Parity) → client; Robert's Medicare member ID ends in C, so Medicare forwards them itself (a crossover, CLP02 19).
SECONDARY = [("eleanor", "BSM2290145"), ("robert", "BSM2290388")]

# (key, first, last, preferred, born, sex, payer index or None, member id, clinician: 0 Casey, 1 Jordan)
CLIENTS = [
    ("maya", "Maya", "Okafor", None, date(1989, 3, 14), "F", 0, "HHP4481902", 0),
    # The sandbox clearinghouse rejects member IDs ending in R and denies those ending in D (app/clearinghouse/
    # sandbox.py), so the demo shows a rejection and a denial next to the paid claims.
    ("daniel", "Daniel", "Reyes", "Dan", date(1975, 11, 2), "M", 0, "HHP448190R", 1),
    ("eleanor", "Eleanor", "Whitfield", None, date(1954, 6, 21), "F", 1, "1EG4TE5MK73", 0),
    ("minor", "Jordan", "Baptiste", None, date(2012, 9, 5), "M", 2, "100298374", 1),
    ("priya", "Priya", "Natarajan", None, date(1992, 1, 30), "F", 0, "HHP771024D", 0),
    ("sam", "Sam", "Kowalski", None, date(1998, 7, 11), "U", None, None, 1),
    # Clients of the six months before (app/seed_history.py). Lucas's member ID was typed with an R at intake
    # (rejected, then corrected); Aisha's plan puts everything to the deductible (Y); Marcus's payer denies (D).
    ("lucas", "Lucas", "Ferreira", None, date(1986, 4, 9), "M", 0, "HHP552031R", 1),
    ("grace", "Grace", "Liu", None, date(2001, 10, 27), "F", 2, "10041295A", 0),
    ("robert", "Robert", "Chen", "Bob", date(1951, 2, 3), "M", 1, "2HT7YU3QW6C", 1),
    ("aisha", "Aisha", "Rahman", None, date(1994, 12, 18), "F", 0, "HHP662047Y", 0),
    ("tomas", "Tomás", "Herrera", None, date(1983, 8, 30), "M", None, None, 0),
    ("nora", "Nora", "Lindqvist", None, date(1979, 5, 6), "F", None, None, 1),
    ("marcus", "Marcus", "Bell", None, date(1990, 7, 22), "M", 2, "100688412D", 1),
    # Eligibility in the sandbox (app/clearinghouse/sandbox.py): Morgan's coverage has ended (X), Grace's plan wants
    # prior authorization (A); their claims are paid as any other.
    ("morgan", "Morgan", "Park", None, date(1988, 1, 15), "F", 0, "HHP509337X", 0),
]


def seed_clinical(practice: Practice) -> bool:
    """Add the demo's clinical records once, when the practice has no clients: its clients, six months of
    history (app/seed_history.py, which commits as it goes), then the recent weeks and their bills. True when
    anything was added."""
    if db.session.scalar(select(func.count(Client.id)).where(Client.practice_id == practice.id)):
        return False
    practice_id = practice.id
    with collector_paused():  # the ICD-10-CM reference the first note loads holds ~800,000 objects
        people = _add_people(practice)
        seed_history(practice_id, people)
        practice = db.session.get(Practice, practice_id)  # the history's jobs released the session
        _add_recent_weeks(practice, people)
        db.session.flush()
        seed_billing(practice)
        _check_eligibility(practice, people)
        _add_estimate(practice, people)
    return True


#: Clients whose eligibility the demo has checked (through the sandbox): active with a copay, inactive,
#: authorization required, the deductible not met.
ELIGIBILITY_CHECKED = ("maya", "morgan", "grace", "aisha")


def _check_eligibility(practice: Practice, people: dict) -> None:
    """A stored check or two: the sandbox payer answers each client's primary policy, as Check eligibility does."""
    adapter = clearinghouse.for_practice(practice, claimmd_account_key=None, claimmd_url="", claimmd_timeout=1.0)
    for key in ELIGIBILITY_CHECKED:
        client = db.session.get(Client, people["clients"][key])
        policy = eligibility.primary_policy(client, dates.today(practice.timezone))
        if policy is not None:
            eligibility.run_check(eligibility.start_check(policy, source="web"), adapter)


def _add_estimate(practice: Practice, people: dict) -> None:
    """Sam pays for themselves: a Good Faith Estimate for a year of sessions every two weeks after an intake."""
    sam = db.session.get(Client, people["clients"]["sam"])
    services = {service.code: service for service in db.session.scalars(select(ServiceCode).where(
        ServiceCode.practice_id == practice.id, ServiceCode.code.in_(("90791", "90834"))))}
    start = dates.today(practice.timezone) - timedelta(days=28)
    estimates.issue(practice, sam, sam.primary_clinician,
                    [estimates.Planned(services["90791"].id, 1, "once"),
                     estimates.Planned(services["90834"].id, 26, "every_two_weeks")],
                    ["F41.1"], start, 12, issued_on=start)


def _email(first: str, last: str) -> str:
    folded = unicodedata.normalize("NFKD", f"{first}.{last}".lower())
    return "".join(char for char in folded if char.isascii() and not unicodedata.combining(char)) + "@example.org"


def _add_people(practice: Practice) -> dict:
    """Payers, clients (a minor with a guardian who pays), policies. Returns their ids for the history."""
    members = {member.email: member for member in db.session.scalars(select(Member).where(
        Member.practice_id == practice.id))}
    casey, jordan = members["clinician@demo.parity"], members["clinician2@demo.parity"]
    payers = [Payer(practice_id=practice.id, **values) for values in PAYERS]
    db.session.add_all(payers)
    clients = {}
    for index, (key, first, last, preferred, born, sex, _, _, clinician) in enumerate(CLIENTS):
        client = Client(practice_id=practice.id, first_name=first, last_name=last, preferred_name=preferred,
                        date_of_birth=born, sex=sex, address_line1=f"{20 + index * 7} Beacon Street", city="Cambridge",
                        state="MA", zip_code="021394307", phone=f"61755501{index:02d}", email=_email(first, last),
                        primary_clinician_id=(casey, jordan)[clinician].id)
        db.session.add(client)
        clients[key] = client
    db.session.flush()
    minor, priya = clients["minor"], clients["priya"]
    db.session.add(Contact(practice_id=practice.id, client_id=minor.id, name="Claudette Baptiste",
                           relation="guardian", is_billing_contact=True, phone="6175550177",
                           email="claudette.baptiste@example.org", address_line1="41 Beacon Street",
                           city="Cambridge", state="MA", zip_code="021394307"))
    start = dates.today(practice.timezone) - timedelta(days=400)
    for key, *_, payer_index, member_id, _ in CLIENTS:
        if payer_index is None:
            continue
        client = clients[key]
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
    for key, member_id in SECONDARY:
        db.session.add(InsurancePolicy(practice_id=practice.id, client_id=clients[key].id,
                                       payer_id=payers[SUPPLEMENT].id, member_id=member_id, priority=2,
                                       copay_cents=0, effective_date=start))
    db.session.flush()
    return {"clients": {key: client.id for key, client in clients.items()},
            "members": {email: member.id for email, member in members.items()}}


def _add_recent_weeks(practice: Practice, people: dict) -> None:
    """The last four weeks: three new clients and some of the history's, sessions still to bill, claims Queued
    For Submission for the worker to send on first start, one held in Needs Review, two upcoming sessions."""
    clients = {key: db.session.get(Client, client_id) for key, client_id in people["clients"].items()}
    members = {email: db.session.get(Member, member_id) for email, member_id in people["members"].items()}
    casey, jordan = members["clinician@demo.parity"], members["clinician2@demo.parity"]
    maya, daniel, eleanor, minor, priya, sam = (clients[key] for key in ("maya", "daniel", "eleanor", "minor",
                                                                          "priya", "sam"))
    lucas, robert, tomas = clients["lucas"], clients["robert"], clients["tomas"]
    today = dates.today(practice.timezone)
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
        (18, 10, tomas, casey, 45, "in_person", [("90834",)], ["F43.23"], True, None),
        (17, 10, minor, jordan, 55, "in_person", [("90847",)], ["F90.2"], True, None),  # family session
        (16, 10, lucas, jordan, 55, "in_person", [("90837",)], ["F43.12"], True, None),
        (15, 9, maya, casey, 53, "in_person", [("90837",)], ["F41.1"], True, None),
        (14, 12, eleanor, casey, 100, "in_person", [("90839",), ("90840", 1)], ["F43.0"], True, None),  # crisis
        (13, 14, daniel, jordan, 45, "video", [("90834",)], ["F33.1"], True, None),
        (12, 16, priya, casey, 40, "video", [("90834",)], ["F32.A"], True, None),
        (11, 9, robert, jordan, 30, "video", [("90832",)], ["F32.1"], True, None),
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
    clock = Clock(practice.id)
    for days_ago, hour, client, clinician, minutes, modality, lines, codes_, sign, status in plan:
        day = today - timedelta(days=days_ago)
        # A past session's records carry the evening of its day, as the history's do; an upcoming one was
        # booked now.
        with _when(clock, practice, day, 17) if days_ago > 0 else contextlib.nullcontext():
            record_session(practice, day, hour, client, clinician, minutes, modality, lines, codes_, sign=sign,
                           status=status)


def _when(clock: Clock, practice: Practice, day: date, hour: int, minute: int = 0):
    """`Clock.at` the practice's local time on `day`, never later than now."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=dates.zone(practice.timezone))
    return clock.at(min(moment, utcnow()))




def seed_billing(practice: Practice) -> bool:
    """Move the recent weeks' bills through every status: most older bills opened and paid, one paid in part,
    one self-pay client paying ahead and keeping credit, one bill voided; the newest stay Pended for
    clinicians to review. Called once by seed_clinical, after the history (whose bills are older)."""
    since = recent_start(dates.today(practice.timezone))
    pended = db.session.scalars(select(Bill).where(Bill.practice_id == practice.id, Bill.status == BillStatus.PENDED,
                                                   Bill.service_date >= since)
                                .order_by(Bill.service_date, Bill.id)).all()
    if len(pended) < 6:
        return False
    admin = db.session.scalar(select(Member).where(Member.practice_id == practice.id, Member.role == "admin"))
    older, newest = pended[:-4], pended[-4:]
    clock, today = Clock(practice.id), dates.today(practice.timezone)

    def paid_on(bill: Bill, days_after: int) -> date:
        """A payment some days after the visit, never before it and never later than yesterday."""
        return max(bill.service_date, min(bill.service_date + timedelta(days=days_after), today - timedelta(days=1)))

    for bill in older:
        with _when(clock, practice, bill.service_date, 17, 15):  # opened the evening of the visit
            bills.open_bill(bill, admin)
    # The voided bill is one no claim was made for: a claim already queued would still go to the payer.
    claimed = set(db.session.scalars(select(Claim.bill_id).where(Claim.bill_id.in_([bill.id for bill in older]))))
    void_me = next((bill for bill in older if bill.id not in claimed), older[0])
    first, partial, *paid = [bill for bill in older if bill is not void_me]
    paid = [first, *paid]
    with _when(clock, practice, void_me.service_date + timedelta(days=1), 10):
        bills.void_bill(void_me, "Entered twice by mistake", admin)
    day = paid_on(partial, 4)
    with _when(clock, practice, day, 12):
        bills.record_payment(partial.client, bills.totals(partial).balance // 2, "card", day, reference="VISA 4242",
                             allocate=[(partial, bills.totals(partial).balance // 2)], actor=admin)
    credit_given = False
    for index, bill in enumerate(paid):
        if index % 4 == 3:
            continue  # left Open: not paid yet
        owed = bills.totals(bill).balance
        policy = next((p for p in bill.client.policies if p.is_active_on(bill.service_date)), None)
        extra = 0
        if policy is not None:  # insured: the client pays the copay; the payer pays the rest through the claim
            owed = min(owed, policy.copay_cents)
        elif not credit_given:  # one self-pay client pays ahead and keeps credit
            extra, credit_given = 4000, True
        if owed > 0:
            day = paid_on(bill, index % 3)
            with _when(clock, practice, day, 12):
                bills.record_payment(bill.client, owed + extra, "check" if index % 2 else "card", day,
                                     reference=f"{1040 + index}", allocate=[(bill, owed)], actor=admin)
    del newest  # stay Pended
    return True
