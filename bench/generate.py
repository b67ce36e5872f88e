"""Data generator for benchmarks: a practice with many clients, bills and claims, inserted in bulk.

    python bench/generate.py --claims 200000            # into DATABASE_URL (default: SQLite in instance/)

Used by bench_claims_page.py; it writes through SQLAlchemy Core in chunks, so a million rows take minutes,
not hours. The rows are realistic enough for the indexes to matter: several payers, clinicians and
statuses, dates over two years, charges from $25 to $400.
"""
import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STATUSES = ["queued"] * 3 + ["sent"] * 4 + ["received"] * 3 + ["in_process"] * 6 + ["paid"] * 70 + \
           ["needs_review"] * 6 + ["denied"] * 8
CHUNK = 10_000


def generate(claims: int, seed: int = 7) -> int:
    """Add one practice with `claims` claims (and as many bills); return the practice id."""
    from app.extensions import db
    from app.models import Bill, Claim, Client, InsurancePolicy, Member, Payer, Practice
    from app.models.types import utcnow

    rng = random.Random(seed)
    practice = Practice(legal_name=f"Benchmark Practice {rng.randint(1, 10**9)}", tax_id="123456789",
                        group_npi="2000000002", taxonomy="261QM0801X", address_line1="1 Main St", city="Boston",
                        state="MA", zip_code="021101234",
                        # Its claims are made in bulk with no snapshot to send: the Queued ones wait for a biller
                        # rather than failing a worker's send every tick.
                        submit_claims_automatically=False)
    db.session.add(practice)
    db.session.flush()
    clinicians = [Member(practice_id=practice.id, email=f"bench{practice.id}-{n}@example.org", name=f"Clinician {n}",
                         role="clinician", password_hash="!", npi="1234567893", taxonomy="101YP2500X")
                  for n in range(12)]
    payers = [Payer(practice_id=practice.id, name=f"Payer {n}", clearinghouse_payer_id=f"P{n:04d}",
                    filing_indicator=rng.choice(["CI", "MB", "MC"])) for n in range(8)]
    db.session.add_all(clinicians + payers)
    db.session.flush()
    clients = [Client(practice_id=practice.id, first_name=f"First{n}", last_name=f"Last{n:05d}",
                      date_of_birth=date(1960, 1, 1) + timedelta(days=n * 7 % 15000), sex="F",
                      primary_clinician_id=clinicians[n % len(clinicians)].id) for n in range(max(50, claims // 40))]
    db.session.add_all(clients)
    db.session.flush()
    policies = [InsurancePolicy(practice_id=practice.id, client_id=client.id, payer_id=payers[i % len(payers)].id,
                                member_id=f"M{client.id}", effective_date=date(2020, 1, 1))
                for i, client in enumerate(clients)]
    db.session.add_all(policies)
    db.session.commit()
    start = date.today() - timedelta(days=730)
    now = utcnow()
    for offset in range(0, claims, CHUNK):
        count = min(CHUNK, claims - offset)
        picks = [rng.randrange(len(clients)) for _ in range(count)]
        days = [start + timedelta(days=rng.randrange(730)) for _ in range(count)]
        charges = [rng.randrange(2500, 40000, 100) for _ in range(count)]
        bill_rows = [{"practice_id": practice.id, "number": f"BB-{offset + n + 1}", "client_id": clients[p].id,
                      "clinician_id": clients[p].primary_clinician_id, "status": "open", "service_date": day,
                      "created_at": now} for n, (p, day) in enumerate(zip(picks, days))]
        bill_ids = [row.id for row in db.session.execute(
            db.insert(Bill).returning(Bill.id, sort_by_parameter_order=True), bill_rows)]
        claim_rows = []
        for n, (bill_id, p, day, charge) in enumerate(zip(bill_ids, picks, days, charges)):
            status = rng.choice(STATUSES)
            claim_rows.append({
                "practice_id": practice.id, "bill_id": bill_id, "policy_id": policies[p].id,
                "payer_id": policies[p].payer_id, "client_id": clients[p].id,
                "clinician_id": clients[p].primary_clinician_id, "status": status, "frequency_code": "1",
                "patient_control_number": f"B{practice.id}X{offset + n + 1}", "service_date": day,
                "place_of_service": "11", "total_charge_cents": charge,
                "paid_cents": charge * 7 // 10 if status == "paid" else 0, "patient_responsibility_cents": 0,
                "snapshot": {"diagnoses": ["F41.1"]}, "problems": [], "created_at": now, "updated_at": now})
        db.session.execute(db.insert(Claim), claim_rows)
        db.session.commit()
    # The maintained tab counts, as the status changes would have kept them.
    from app.models import ClaimCount

    for status, count in db.session.execute(db.select(Claim.status, db.func.count(Claim.id))
                                            .where(Claim.practice_id == practice.id).group_by(Claim.status)).all():
        db.session.add(ClaimCount(practice_id=practice.id, status=status, count=count))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    else:
        db.session.execute(db.text("ANALYZE"))
    return practice.id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=200_000)
    args = parser.parse_args()
    from app import create_app

    app = create_app()
    with app.app_context():
        practice_id = generate(args.claims)
    print(f"practice {practice_id}: {args.claims} claims")
    return 0


if __name__ == "__main__":
    sys.exit(main())
