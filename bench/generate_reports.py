"""Data generator for the reports benchmark: one practice with N therapy sessions over the last two years and
everything money and claims make of them, inserted in bulk through SQLAlchemy Core (ids assigned here).

    python bench/generate_reports.py --sessions 200000     # into DATABASE_URL (default: SQLite in instance/)

Per session (93 % completed, the rest cancelled or no-show): its service lines (90834, 90837, 90832, 90791,
90847, 90839, sometimes with 90785) and one bill with the same lines. 80 % of clients are insured:
their bills get an original claim with its events (created → sent → received → in process → paid or
denied; about 6 % rejected by a 277CA first and sent again), and, once adjudicated, an 835 posting as
app/billing/era.py leaves it: a RemittanceClaim with CAS adjustments (CO-45 + PR-3, or the denial's CARC),
an insurance payment with its allocation, a contractual adjustment, and the bill opened; most clients then
pay the copay. Recent claims are still in flight (their bills Pended), denials are partly unworked, billed
to the client or written off. Self-pay bills are issued the next day and mostly paid; a few client payments
bounce (reversed, with negative allocations) and a few clients keep credit or get refunds. Bills and claims
carry identity snapshots of realistic size, so the tables are as wide as real ones.
"""
import argparse
import random
import sys
import time as clock
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20_000
ZONE = ZoneInfo("America/New_York")
SERVICES = {"90791": 20000, "90832": 10000, "90834": 15000, "90837": 20000, "90847": 16000, "90839": 25000,
            "90785": 3000}
MAIN_CODES = ["90834"] * 50 + ["90837"] * 25 + ["90832"] * 10 + ["90791"] * 5 + ["90847"] * 7 + ["90839"] * 3
DENIALS = ["197", "50", "16", "27", "96", "29", "18"]
IDENTITY = {"practice": {"legal_name": "Benchmark Practice", "tax_id": "123456789", "group_npi": "2000000002",
                         "taxonomy": "261QM0801X", "address": ["1 Main St", "Boston, MA 021101234"],
                         "phone": "6175550100"},
            "clinician": {"name": "Clinician", "npi": "1234567893", "taxonomy": "101YP2500X"},
            "client": {"name": "Client", "date_of_birth": "1980-01-01", "address": ["2 Elm St", "Somerville, MA"]},
            "bill_to": {"name": "Client", "email": "client@example.org", "address": ["2 Elm St", "Somerville, MA"],
                        "is_contact": False},
            "remit_to": ["1 Main St", "Boston, MA 021101234"], "message": "Thank you.", "terms_days": 30}
SNAPSHOT = {"diagnoses": ["F41.1", "F32.1"], "subscriber": {"first_name": "First", "last_name": "Last",
            "member_id": "M000000", "group_number": "GRP1", "date_of_birth": "1980-01-01", "sex": "F",
            "address": {"line1": "2 Elm St", "line2": "", "city": "Somerville", "state": "MA",
                        "zip_code": "021441234"}, "relationship": "18"},
            "patient": None, "payer": {"name": "Payer", "id": "P0001", "filing_indicator": "CI"},
            "billing_provider": {"name": "Benchmark Practice", "npi": "2000000002", "tax_id": "123456789",
                                 "taxonomy": "261QM0801X", "address": {"line1": "1 Main St", "line2": "",
                                                                       "city": "Boston", "state": "MA",
                                                                       "zip_code": "021101234"}},
            "rendering_provider": {"first_name": "Casey", "last_name": "Clinician", "npi": "1234567893",
                                   "taxonomy": "101YP2500X"}, "place_of_service": "11"}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time on `day`, as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(timezone.utc)


class _Ids:
    """Ids handed out here, past whatever the tables already hold."""

    def __init__(self, db, models):
        self.next = {model: (db.session.scalar(db.select(db.func.max(model.id))) or 0) + 1 for model in models}

    def __call__(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


def generate(sessions: int, seed: int = 11) -> int:
    """Add one practice with `sessions` sessions and what they lead to; return the practice id."""
    from app.extensions import db
    from app.models import (Adjustment, Allocation, Bill, BillLine, Claim, ClaimEvent, Client, InsurancePolicy,
                            Member, Payer, Payment, Practice, Refund, Remittance, RemittanceClaim, ServiceCode,
                            SessionService, TherapySession, X12File)
    from app.x12 import reasons

    rng = random.Random(seed)
    practice = Practice(legal_name=f"Reports Benchmark {rng.randint(1, 10**9)}", tax_id="123456789",
                        group_npi="2000000002", taxonomy="261QM0801X", address_line1="1 Main St", city="Boston",
                        state="MA", zip_code="021101234", timezone="America/New_York")
    db.session.add(practice)
    db.session.flush()
    clinicians = [Member(practice_id=practice.id, email=f"reports{practice.id}-{n}@example.org",
                         name=f"Clinician {n:02d}", role="clinician", password_hash="!", npi="1234567893",
                         taxonomy="101YP2500X") for n in range(12)]
    payers = [Payer(practice_id=practice.id, name=f"Payer {n}", clearinghouse_payer_id=f"P{n:04d}",
                    filing_indicator=rng.choice(["CI", "MB", "MC"])) for n in range(8)]
    services = {code: ServiceCode(practice_id=practice.id, code=code, code_type="CPT", name=f"Service {code}",
                                  price_cents=price) for code, price in SERVICES.items()}
    db.session.add_all(clinicians + payers + list(services.values()))
    db.session.flush()
    clients = [Client(practice_id=practice.id, first_name=f"First{n}", last_name=f"Last{n:06d}",
                      date_of_birth=date(1960, 1, 1) + timedelta(days=n * 7 % 15000), sex="F",
                      primary_clinician_id=clinicians[n % len(clinicians)].id)
               for n in range(max(50, sessions // 40))]
    db.session.add_all(clients)
    db.session.flush()
    insured = {}
    for client in clients:
        if rng.random() < 0.8:
            payer = rng.choice(payers)
            insured[client.id] = (payer.id, InsurancePolicy(practice_id=practice.id, client_id=client.id,
                                                            payer_id=payer.id, member_id=f"M{client.id}",
                                                            effective_date=date(2020, 1, 1)))
    db.session.add_all(policy for _, policy in insured.values())
    file = X12File(practice_id=practice.id, kind="835", content="ISA*00~", claim_count=0)
    db.session.add(file)
    db.session.commit()
    policy_ids = {client_id: (payer_id, policy.id) for client_id, (payer_id, policy) in insured.items()}
    client_rows = [(client.id, client.primary_clinician_id) for client in clients]
    clinician_ids = [clinician.id for clinician in clinicians]
    payer_names = {payer.id: payer.name for payer in payers}
    tables = (TherapySession, SessionService, Bill, BillLine, Claim, ClaimEvent, Remittance, RemittanceClaim,
              Payment, Allocation, Adjustment, Refund)
    ids = _Ids(db, tables)
    today = date.today()
    now = datetime.now(timezone.utc)
    remittances: dict[tuple[int, date], int] = {}
    pid = practice.id
    # Oldest first, as a practice's rows are written: ids grow with time, as they do in real use.
    days = sorted(today - timedelta(days=rng.randrange(730)) for _ in range(sessions))

    for offset in range(0, sessions, CHUNK):
        rows = {model: [] for model in tables}

        def add(model, **values):
            values.setdefault("id", ids(model))
            rows[model].append(values)
            return values["id"]

        for n in range(offset, min(sessions, offset + CHUNK)):
            client_id, usual = rng.choice(client_rows)
            clinician_id = usual if rng.random() < 0.9 else rng.choice(clinician_ids)
            day = days[n]
            starts = _at(day, rng.randrange(8, 20), rng.choice((0, 30)))
            roll = rng.random()
            status = "completed" if roll < 0.93 else "cancelled" if roll < 0.97 else "no_show"
            session_id = add(TherapySession, practice_id=pid, client_id=client_id, clinician_id=clinician_id,
                             starts_at=starts, ends_at=starts + timedelta(minutes=53), minutes=53,
                             place_of_service="11", modality="in_person", status=status,
                             completed_at=starts + timedelta(minutes=53) if status == "completed" else None,
                             created_at=starts - timedelta(days=7))
            if status != "completed":
                continue
            main = rng.choice(MAIN_CODES)
            codes = [main] + (["90785"] if main in ("90832", "90834", "90837") and rng.random() < 0.1 else [])
            for position, code in enumerate(codes, start=1):
                add(SessionService, practice_id=pid, session_id=session_id, service_id=services[code].id,
                    position=position, code=code, description=f"Service {code}", units=1,
                    price_cents=SERVICES[code], modifiers=[])
            charge = sum(SERVICES[code] for code in codes)
            age = (today - day).days
            bill_id = ids(Bill)
            bill = dict(id=bill_id, practice_id=pid, number=f"R{pid}-{bill_id}", client_id=client_id,
                        clinician_id=clinician_id, status="pended", service_date=day, issued_at=None,
                        due_date=None, completed_at=None, voided_at=None, void_reason=None, issued_identity=None,
                        created_at=starts + timedelta(hours=1))
            rows[Bill].append(bill)
            for position, code in enumerate(codes, start=1):
                add(BillLine, practice_id=pid, bill_id=bill_id, session_id=session_id,
                    service_id=services[code].id, position=position, service_date=day, place_of_service="11",
                    code=code, description=f"Service {code}", units=1, price_cents=SERVICES[code], modifiers=[])
            balance = charge

            def issue(at: datetime):
                bill.update(status="open", issued_at=at, due_date=at.date() + timedelta(days=30),
                            issued_identity=IDENTITY)

            def pay(source: str, amount: int, received_on: date, at: datetime, reference: str = "") -> int:
                nonlocal balance
                payment_id = add(Payment, practice_id=pid, client_id=client_id, source=source,
                                 method="ach" if source == "insurance" else rng.choice(["card", "cash", "check"]),
                                 received_on=min(received_on, today), amount_cents=amount, reference=reference or None,
                                 reversed_at=None, reversal_reason=None, created_at=at)
                applied = min(amount, balance)
                if applied > 0:
                    add(Allocation, practice_id=pid, payment_id=payment_id, bill_id=bill_id, amount_cents=applied,
                        created_at=at)
                    balance -= applied
                return payment_id

            def settle(at: datetime):
                if bill["status"] == "open" and balance == 0:
                    bill.update(status="complete", completed_at=at)

            def client_pays(after: date, share: float = 1.0):
                if balance <= 0:
                    return
                received = min(after + timedelta(days=rng.randrange(0, 25)), today)
                at = _at(received, 17)
                if at > now:
                    return
                amount = max(1, int(balance * share))
                payment_id = pay("client", amount, received, at)
                settle(at)
                if rng.random() < 0.004:  # the check bounced
                    reversed_at = min(at + timedelta(days=3), now)
                    rows[Payment][-1].update(reversed_at=reversed_at, reversal_reason="Check bounced")
                    for allocation in [a for a in rows[Allocation] if a["payment_id"] == payment_id]:
                        add(Allocation, practice_id=pid, payment_id=payment_id, bill_id=bill_id,
                            amount_cents=-allocation["amount_cents"], created_at=reversed_at)
                        reopen(allocation["amount_cents"])

            def reopen(amount: int):
                nonlocal balance
                balance += amount
                if bill["status"] == "complete":
                    bill.update(status="open", completed_at=None)

            if client_id in policy_ids:
                payer_id, policy_id = policy_ids[client_id]
                claim_id = ids(Claim)
                created = starts + timedelta(hours=2)
                if age < 3:
                    path = rng.choice(["queued", "queued", "sent"])
                elif age < 10:
                    path = rng.choice(["sent", "received", "in_process"])
                elif age < 30:
                    path = rng.choices(["in_process", "paid", "denied"], [40, 50, 10])[0]
                else:
                    path = rng.choices(["paid", "denied", "needs_review", "in_process"], [86, 8, 2, 4])[0]
                rejected_first = path != "queued" and rng.random() < 0.06
                events = [(None, "queued", "scrubber", created)]
                sent_at = created + timedelta(hours=6)
                if path != "queued":
                    events.append(("queued", "sent", "clearinghouse", sent_at))
                    if rejected_first:
                        events += [("sent", "needs_review", "clearinghouse", sent_at + timedelta(days=1)),
                                   ("needs_review", "queued", "person", sent_at + timedelta(days=2)),
                                   ("queued", "sent", "clearinghouse", sent_at + timedelta(days=2, hours=6))]
                        sent_at += timedelta(days=2, hours=6)
                        if path == "needs_review":
                            path = "in_process"
                chain = {"sent": [], "received": ["received"], "in_process": ["received", "in_process"],
                         "paid": ["received", "in_process", "paid"], "denied": ["received", "in_process", "denied"],
                         "needs_review": ["received", "needs_review"], "queued": []}[path]
                previous, at = events[-1][1], sent_at
                for step in chain:
                    at += timedelta(days=1 if step != chain[-1] or path not in ("paid", "denied") else 0)
                    events.append((previous, step, "remittance" if step in ("paid", "denied") else "clearinghouse", at))
                    previous = step
                paid_cents = responsibility = 0
                denial_action = None
                if path in ("paid", "denied"):
                    paid_on = min(day + timedelta(days=rng.randrange(12, 40)), today)
                    posted = min(_at(paid_on + timedelta(days=1), 10), now)
                    events[-1] = events[-1][:3] + (posted,)
                    key = (payer_id, paid_on - timedelta(days=paid_on.weekday()))
                    if key not in remittances:
                        remittances[key] = add(Remittance, practice_id=pid, payer_id=payer_id,
                                               payer_name=payer_names[payer_id], payer_key=f"P{payer_id}",
                                               trace_number=f"EFT{pid}-{payer_id}-{key[1].isoformat()}",
                                               payment_method="ACH", total_paid_cents=0, paid_on=key[1],
                                               file_id=file.id, source="clearinghouse", claim_count=0,
                                               unmatched_count=0, created_at=posted)
                    remittance_id = remittances[key]
                    posting_id = ids(RemittanceClaim)
                    if path == "paid":
                        allowed = charge * rng.randrange(60, 86) // 100
                        copay = min(2000, allowed)
                        paid_cents, responsibility = allowed - copay, copay
                        adjustments = [{"group": "CO", "reason": "45", "amount_cents": charge - allowed, "line": "",
                                        "text": reasons.describe_adjustment("CO", "45")},
                                       {"group": "PR", "reason": "3", "amount_cents": copay, "line": "",
                                        "text": reasons.describe_adjustment("PR", "3")}]
                        payment_id = None
                        issue(posted)
                        if paid_cents:
                            payment_id = pay("insurance", paid_cents, paid_on, posted, f"{payer_names[payer_id]} EFT")
                        add(Adjustment, practice_id=pid, bill_id=bill_id, kind="contractual",
                            remittance_claim_id=posting_id, amount_cents=charge - allowed,
                            reason=reasons.describe_adjustment("CO", "45"), created_at=posted)
                        balance -= charge - allowed
                        settle(posted)
                        outcome = "paid"
                        if rng.random() < 0.9:
                            client_pays(paid_on)
                    else:
                        reason = rng.choice(DENIALS)
                        adjustments = [{"group": "CO", "reason": reason, "amount_cents": charge, "line": "",
                                        "text": reasons.describe_adjustment("CO", reason)}]
                        payment_id, outcome = None, "denied"
                        if age > 45:
                            denial_action = rng.choices([None, "billed_client", "written_off", "appealed"],
                                                        [40, 30, 20, 10])[0]
                        if denial_action == "billed_client":
                            issue(posted + timedelta(days=3))
                            client_pays(paid_on + timedelta(days=5), rng.choice([1.0, 1.0, 0.5]))
                        elif denial_action == "written_off":
                            at = posted + timedelta(days=4)
                            issue(at)
                            add(Adjustment, practice_id=pid, bill_id=bill_id, kind="write_off",
                                remittance_claim_id=None, amount_cents=balance, reason="Denied: past the limit",
                                created_at=at)
                            balance = 0
                            settle(at)
                    add(RemittanceClaim, id=posting_id, practice_id=pid, remittance_id=remittance_id,
                        claim_id=claim_id, patient_control_number=f"P{pid}C{claim_id}",
                        status_code="1" if outcome == "paid" else "4", charge_cents=charge, paid_cents=paid_cents,
                        patient_responsibility_cents=responsibility, payer_claim_number=f"PCN{claim_id}",
                        patient_name=None, adjustments=adjustments, remarks=[], services=[], outcome=outcome,
                        message="", payment_id=payment_id, reversed_at=None, created_at=posted)
                add(Claim, id=claim_id, practice_id=pid, bill_id=bill_id, policy_id=policy_id, payer_id=payer_id,
                    client_id=client_id, clinician_id=clinician_id, status=events[-1][1], frequency_code="1",
                    original_claim_id=None, patient_control_number=f"P{pid}C{claim_id}",
                    payer_claim_number=f"PCN{claim_id}" if path in ("paid", "denied") else None,
                    service_date=day, place_of_service="11", total_charge_cents=charge, paid_cents=paid_cents,
                    patient_responsibility_cents=responsibility, snapshot=SNAPSHOT, denial_action=denial_action,
                    problems=[], created_at=created, updated_at=events[-1][3])
                for from_status, to_status, source, at in events:
                    add(ClaimEvent, claim_id=claim_id, from_status=from_status, to_status=to_status, source=source,
                        message="", created_at=at)
            else:
                issued = _at(min(day + timedelta(days=1), today), 9)
                if issued <= now:
                    if rng.random() < 0.005:
                        bill.update(status="void", voided_at=issued, void_reason="Entered in error")
                    else:
                        issue(issued)
                        share = rng.random()
                        if share < 0.85:
                            client_pays(day)
                        elif share < 0.9:
                            client_pays(day, 0.5)
                        if rng.random() < 0.01:  # paid ahead: credit, sometimes refunded
                            received = min(day + timedelta(days=2), today)
                            pay("client", 5000, received, _at(received, 12))
                            if rng.random() < 0.3:
                                add(Refund, practice_id=pid, client_id=client_id, method="check",
                                    refunded_on=min(received + timedelta(days=10), today), amount_cents=5000,
                                    reference=None, created_at=_at(received, 13))
        order = {table: position for position, table in enumerate(db.metadata.sorted_tables)}
        for model in sorted(tables, key=lambda model: order[model.__table__]):  # parents before children
            if rows[model]:
                db.session.execute(db.insert(model.__table__), rows[model])
        db.session.commit()
    _finish(db, tables)
    # The rows above went in through Core, past the summaries' bookkeeping: build them from the entries, as
    # a practice that existed before them gets them (timed, since it is what such a practice waits once).
    from app.billing import summaries

    started = clock.perf_counter()
    summaries.rebuild(db.session, pid)
    db.session.commit()
    print(f"report summaries built in {clock.perf_counter() - started:.0f} s")
    _finish(db, ())
    return pid


def _finish(db, tables) -> None:
    """Sequences past the ids used here, and statistics for the planner, as after any bulk load."""
    if db.engine.dialect.name == "postgresql":
        for model in tables:
            name = model.__tablename__
            db.session.execute(db.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                       f"(SELECT coalesce(max(id), 1) FROM {name}))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200_000)
    args = parser.parse_args()
    from app import create_app

    app = create_app()
    with app.app_context():
        practice_id = generate(args.sessions)
    print(f"practice {practice_id}: {args.sessions} sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
