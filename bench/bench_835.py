"""835 posting speed: claim payments posted per second, from the file text to the commit (reading and
balancing the 835, matching claims and lines, insurance payments, allocations, CO write-offs, claim events,
audit events). The issue asks for ≥ 500 claim payments per second on SQLite.

    .venv/bin/python bench/bench_835.py [--claims 2000] [--rounds 3] [--postgres]

Each round loads `--claims` fresh claims (Sent, each on its own Pended bill with one line), writes one 835
paying all of them at 80 % with a $20 copay, and posts it with era.import_835 in one transaction, as the
worker and the upload page do.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._database import run_on_fresh_database  # noqa: E402 - after the path above


def load_claims(practice_id: int, payer_id: int, count: int, round_number: int) -> list[int]:
    """`count` claims with bills, lines and policies, inserted in bulk."""
    from app.extensions import db
    from app.models import Bill, BillLine, Claim, ClaimCount, ClaimLine, Client, InsurancePolicy
    from app.models.types import utcnow

    now = utcnow()
    today = date.today()
    clients = [{"practice_id": practice_id, "first_name": f"First{n}", "last_name": f"Last{round_number}-{n}",
                "date_of_birth": date(1980, 1, 1), "sex": "F", "created_at": now} for n in range(count)]
    client_ids = [row.id for row in db.session.execute(db.insert(Client).returning(Client.id,
                                                                                   sort_by_parameter_order=True),
                                                       clients)]
    policy_ids = [row.id for row in db.session.execute(
        db.insert(InsurancePolicy).returning(InsurancePolicy.id, sort_by_parameter_order=True),
        [{"practice_id": practice_id, "client_id": cid, "payer_id": payer_id, "member_id": f"M{cid}",
          "priority": 1, "copay_cents": 2000, "effective_date": date(2020, 1, 1), "created_at": now}
         for cid in client_ids])]
    bill_ids = [row.id for row in db.session.execute(db.insert(Bill).returning(Bill.id, sort_by_parameter_order=True), [
        {"practice_id": practice_id, "number": f"R{round_number}-{n}", "client_id": cid, "status": "pended",
         "service_date": today, "created_at": now} for n, cid in enumerate(client_ids)])]
    line_ids = [row.id for row in db.session.execute(
        db.insert(BillLine).returning(BillLine.id, sort_by_parameter_order=True),
        [{"practice_id": practice_id, "bill_id": bid, "position": 1, "service_date": today, "place_of_service": "11",
          "code": "90834", "description": "Psychotherapy, 45 minutes", "units": 1, "price_cents": 15000,
          "modifiers": []} for bid in bill_ids])]
    claim_ids = [row.id for row in db.session.execute(db.insert(Claim).returning(Claim.id, sort_by_parameter_order=True), [
        {"practice_id": practice_id, "bill_id": bid, "policy_id": pid, "payer_id": payer_id, "client_id": cid,
         "status": "sent", "frequency_code": "1", "patient_control_number": f"B{round_number}X{n}",
         "service_date": today, "place_of_service": "11", "total_charge_cents": 15000, "snapshot": {},
         "problems": [], "created_at": now, "updated_at": now}
        for n, (bid, pid, cid) in enumerate(zip(bill_ids, policy_ids, client_ids))])]
    db.session.execute(db.insert(ClaimLine), [
        {"claim_id": claim_id, "bill_line_id": line_id, "position": 1, "line_reference": f"B{round_number}X{n}-1",
         "service_date": today, "code": "90834", "modifiers": [], "units": 1, "charge_cents": 15000,
         "diagnosis_pointers": [1], "paid_cents": 0}
        for n, (claim_id, line_id) in enumerate(zip(claim_ids, line_ids))])
    counts = db.session.get(ClaimCount, (practice_id, "sent"))
    if counts is None:
        db.session.add(ClaimCount(practice_id=practice_id, status="sent", count=count))
    else:
        counts.count += count
    db.session.commit()
    return claim_ids


def remittance_for(count: int, round_number: int) -> str:
    from app.x12 import inbound
    from app.x12.remittance import write_835

    payments = []
    for n in range(count):
        service = inbound.ServicePayment(
            procedure_code="90834", charge_cents=15000, paid_cents=10000, units=1,
            line_reference=f"B{round_number}X{n}-1", service_date=date.today(),
            adjustments=(inbound.Adjustment(group="CO", reason="45", amount_cents=3000),
                         inbound.Adjustment(group="PR", reason="3", amount_cents=2000)))
        payments.append(inbound.ClaimPayment(patient_control_number=f"B{round_number}X{n}", status_code="1",
                                             charge_cents=15000, paid_cents=10000, patient_responsibility_cents=2000,
                                             filing_indicator="CI", payer_claim_number=f"PCN{round_number}-{n}",
                                             services=(service,)))
    remittance = inbound.Remittance(total_paid_cents=10000 * count, payment_method="ACH", paid_on=date.today(),
                                    trace_number=f"BENCH{round_number:04d}", payer_identifier="1999999999",
                                    payer_name="Cascade Health Plan", payer_id="93221", claims=tuple(payments))
    return write_835(remittance, sender_id="93221", receiver_id="PARITY", interchange_control_number=round_number,
                     created_at=datetime.now(timezone.utc))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server (Debian's binaries)")
    args = parser.parse_args()
    return run_on_fresh_database("parity_bench_835", args.postgres, lambda: run(args))


def run(args) -> int:
    from flask_migrate import upgrade

    from app import create_app
    from app.billing import era
    from app.extensions import db
    from app.models import Payer, Practice

    app = create_app()
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        practice = Practice(legal_name="Benchmark Practice", tax_id="123456789", group_npi="2000000002",
                            taxonomy="261QM0801X", address_line1="1 Main St", city="Boston", state="MA",
                            zip_code="021101234")
        db.session.add(practice)
        db.session.flush()
        payer = Payer(practice_id=practice.id, name="Cascade Health Plan", clearinghouse_payer_id="93221",
                      filing_indicator="CI")
        db.session.add(payer)
        db.session.commit()
        rates, cpu_rates, parse_times = [], [], []
        for round_number in range(1, args.rounds + 1):
            load_claims(practice.id, payer.id, args.claims, round_number)
            text = remittance_for(args.claims, round_number)
            started = time.perf_counter()
            era.read(text)
            parse_times.append(time.perf_counter() - started)
            db.session.expire_all()
            started, started_cpu = time.perf_counter(), time.process_time()
            result = era.import_835(db.session.get(Practice, practice.id), text, source="benchmark")
            db.session.commit()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            assert result.claims_posted == args.claims and result.unmatched == 0
            rates.append(args.claims / elapsed)
            cpu_rates.append(args.claims / cpu)
            print(f"round {round_number}: {args.claims} claim payments posted in {elapsed:.2f} s "
                  f"({args.claims / elapsed:,.0f}/s; {cpu:.2f} s of this process's CPU, {args.claims / cpu:,.0f}/s; "
                  f"reading and balancing the 835 alone {parse_times[-1]:.3f} s)")
        # On a shared machine wall time depends on the neighbours; the CPU time this process spent does much less.
        print(f"{db.engine.dialect.name}: median {statistics.median(rates):,.0f} claim payments/s wall clock "
              f"(min {min(rates):,.0f}, max {max(rates):,.0f}); median {statistics.median(cpu_rates):,.0f}/s per "
              f"CPU second of the posting process; {args.rounds} rounds of {args.claims}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
