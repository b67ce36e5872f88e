"""Eligibility speed: one round trip through the sandbox (270 written and gated, the sandbox payer's 271 read
and stored, audited, committed), and the nightly batch for 1,000 clients with a session in the next three days.

    .venv/bin/python bench/bench_eligibility.py [--checks 50] [--clients 1000] [--postgres]

The round trip is timed per check, as Check eligibility runs it in the worker (billing.eligibility.start_check
and run_check with the sandbox adapter, one transaction each). The batch is jobs.nightly_eligibility over
`--clients` insured clients, each with a scheduled session tomorrow and no check yet: one transaction per client.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._database import PRACTICE_IDENTITY, run_on_fresh_database, upgrade_schema  # noqa: E402 - after the path above


def load_clients(practice_id: int, payer_id: int, clinician_id: int, count: int, prefix: str) -> list[int]:
    """`count` insured clients, each with a scheduled session tomorrow, inserted in bulk; their policy ids."""
    from app.extensions import db
    from app.models import Client, InsurancePolicy, TherapySession
    from app.models.types import utcnow

    now = utcnow()
    tomorrow = now.replace(microsecond=0) + timedelta(days=1)
    client_ids = [row.id for row in db.session.execute(
        db.insert(Client).returning(Client.id, sort_by_parameter_order=True),
        [{"practice_id": practice_id, "first_name": f"First{n}", "last_name": f"{prefix}{n}",
          "date_of_birth": date(1980, 1, 1), "sex": "F", "created_at": now} for n in range(count)])]
    policy_ids = [row.id for row in db.session.execute(
        db.insert(InsurancePolicy).returning(InsurancePolicy.id, sort_by_parameter_order=True),
        [{"practice_id": practice_id, "client_id": cid, "payer_id": payer_id, "member_id": f"{prefix}M{cid}",
          "priority": 1, "copay_cents": 2500, "effective_date": date(2020, 1, 1), "created_at": now}
         for cid in client_ids])]
    db.session.execute(db.insert(TherapySession), [
        {"practice_id": practice_id, "client_id": cid, "clinician_id": clinician_id, "starts_at": tomorrow,
         "ends_at": tomorrow + timedelta(minutes=53), "place_of_service": "11", "modality": "in_person",
         "status": "scheduled", "created_at": now} for cid in client_ids])
    db.session.commit()
    return policy_ids


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=50, help="single round trips timed")
    parser.add_argument("--clients", type=int, default=1000, help="clients in the nightly batch")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server (Debian's binaries)")
    args = parser.parse_args()
    return run_on_fresh_database("parity_bench_eligibility", args.postgres, lambda: run(args))


def run(args) -> int:
    from app import create_app, jobs
    from app.billing import eligibility
    from app.clearinghouse.sandbox import Sandbox
    from app.extensions import db
    from app.models import EligibilityCheck, InsurancePolicy, Member, Payer, Practice

    with create_app().app_context():
        upgrade_schema()
        practice = Practice(**PRACTICE_IDENTITY, clearinghouse="sandbox")
        db.session.add(practice)
        db.session.flush()
        payer = Payer(practice_id=practice.id, name="Harborview Health Plan", clearinghouse_payer_id="HHP01",
                      filing_indicator="CI")
        clinician = Member(practice_id=practice.id, email="bench@example.org", name="Casey Clinician",
                           role="clinician", password_hash="x")
        db.session.add_all([payer, clinician])
        db.session.commit()
        practice_id, payer_id, clinician_id = practice.id, payer.id, clinician.id

        # One round trip at a time, as Check eligibility runs in the worker.
        policy_ids = load_clients(practice_id, payer_id, clinician_id, args.checks, "Single")
        adapter = Sandbox(practice_id)
        times = []
        for policy_id in policy_ids:
            started = time.perf_counter()
            check = eligibility.start_check(db.session.get(InsurancePolicy, policy_id), source="web")
            eligibility.run_check(check, adapter)
            db.session.commit()
            times.append(time.perf_counter() - started)
            assert check.status == "answered" and check.copay_cents == 2500
        times.sort()
        print(f"{db.engine.dialect.name}: eligibility round trip through the sandbox: median "
              f"{statistics.median(times) * 1000:.1f} ms, 95th percentile {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms "
              f"({args.checks} checks: 270 written and gated, the sandbox's 271 read, stored, audited, committed)")

        # The nightly batch.
        load_clients(practice_id, payer_id, clinician_id, args.clients, "Nightly")
        day = date.today().isoformat()
        started, started_cpu = time.perf_counter(), time.process_time()
        result = jobs.nightly_eligibility(practice_id, day)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        assert result == {"checked": args.clients, "failed": 0}, result
        stored = db.session.scalar(db.select(db.func.count()).select_from(EligibilityCheck)
                                   .where(EligibilityCheck.source == "nightly"))
        assert stored == args.clients
        print(f"{db.engine.dialect.name}: nightly batch for {args.clients} clients in {elapsed:.1f} s "
              f"({args.clients / elapsed:,.0f} checks/s; {cpu:.1f} s of this process's CPU)")
        again = time.perf_counter()
        assert jobs.nightly_eligibility(practice_id, day) == {"checked": 0, "failed": 0}
        print(f"{db.engine.dialect.name}: the same night's batch run again finds nobody due in "
              f"{time.perf_counter() - again:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
