"""The reports with a large practice: every report p50 < 500 ms over a one-year range with 200,000 sessions on
SQLite and 1,000,000 on PostgreSQL (issue #9). Measured in-process: each report function of
app/billing/reports.py called on a migrated database (`flask db upgrade`, so the migrations' indexes are the
ones measured) loaded by bench/generate_reports.py; the pages add only rendering on top.

    .venv/bin/python bench/bench_reports.py                                 # SQLite, 200,000 sessions
    .venv/bin/python bench/bench_reports.py --postgres --sessions 1000000
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 500


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server (Debian's binaries)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database-url", help="an existing, already loaded database (skips generating)")
    parser.add_argument("--practice", type=int, help="with --database-url: the practice to measure")
    parser.add_argument("--keep", action="store_true", help="keep the generated SQLite database (its path is printed)")
    parser.add_argument("--sqlite-cache-mb", type=int, default=0,
                        help="SQLite page cache per connection (PRAGMA cache_size); 0 keeps the app's default (2 MB)")
    args = parser.parse_args()
    server = None
    instance = tempfile.mkdtemp(prefix="parity-bench-reports-")
    database_url = args.database_url or f"sqlite:///{instance}/reports.sqlite3"
    if args.postgres and not args.database_url:
        from tests.support import postgres

        server = postgres.start()
        database_url = server.create_database("parity_bench_reports")
    try:
        return run(args, database_url, instance)
    finally:
        if server:
            server.stop()
        if args.keep and not args.database_url:
            print(f"kept {database_url}")
        else:
            shutil.rmtree(instance, ignore_errors=True)


def run(args, database_url: str, instance: str) -> int:
    os.environ["PARITY_INSTANCE_PATH"] = instance
    os.environ["DATABASE_URL"] = database_url
    from flask_migrate import upgrade

    from app import create_app
    from app.billing import reports
    from app.billing.reports_data import ReportFilter
    from app.extensions import db
    from app.models import Member, Payer

    from bench import generate_reports

    app = create_app()
    with app.app_context():
        if args.sqlite_cache_mb and db.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(db.engine, "connect")
            def _cache(dbapi_connection, _record):
                dbapi_connection.execute(f"PRAGMA cache_size=-{args.sqlite_cache_mb * 1024}")

            db.engine.dispose()
        practice_id = args.practice
        if practice_id is None:
            upgrade(directory=str(ROOT / "migrations"))
            started = time.perf_counter()
            practice_id = generate_reports.generate(args.sessions)
            print(f"generated {args.sessions:,} sessions in {time.perf_counter() - started:.0f} s "
                  f"({db.engine.dialect.name}); practice {practice_id}")
        counts = {table: db.session.scalar(db.text(f"SELECT count(*) FROM {table}"))
                  for table in ("sessions", "bills", "bill_lines", "claims", "claim_events", "payments", "allocations",
                                "adjustments", "remittance_claims")}
        print("rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
        clinician = db.session.scalar(db.select(Member.id).where(Member.practice_id == practice_id,
                                                                 Member.role == "clinician").order_by(Member.id))
        payer = db.session.scalar(db.select(Payer.id).where(Payer.practice_id == practice_id).order_by(Payer.id))
        end = date.today()
        start = end - timedelta(days=364)
        year = ReportFilter(practice_id=practice_id, start=start, end=end)
        by_clinician = ReportFilter(practice_id=practice_id, start=start, end=end, clinician_id=clinician)
        by_payer = ReportFilter(practice_id=practice_id, start=start, end=end, payer_id=payer)
        later = reports.aging(year).clients_next_after  # the second page of clients who owe (keyset)
        cases = {
            "service_trends": lambda: reports.service_trends(year),
            "revenue": lambda: reports.revenue(year),
            "aging": lambda: reports.aging(year),
            "claim_outcomes": lambda: reports.claim_outcomes(year),
            "service_trends clinician": lambda: reports.service_trends(by_clinician),
            "revenue clinician": lambda: reports.revenue(by_clinician),
            "aging clinician": lambda: reports.aging(by_clinician),
            "claim_outcomes clinician": lambda: reports.claim_outcomes(by_clinician),
            "service_trends payer": lambda: reports.service_trends(by_payer),
            "revenue payer": lambda: reports.revenue(by_payer),
            "aging payer": lambda: reports.aging(by_payer),
            "claim_outcomes payer": lambda: reports.claim_outcomes(by_payer),
            "aging, second page of clients": lambda: reports.aging(year, clients_after=later),
        }
        #: Not a report page: the by-client CSV download, every client who owes (measured, not held to the target).
        exports = {"aging CSV, every client": lambda: reports.aging(year, clients_per_page=None)}
        samples = {name: [] for name in {**cases, **exports}}
        for name, call in {**cases, **exports}.items():  # warm the caches once
            call()
            db.session.remove()
        for _ in range(args.rounds):
            for name, call in {**cases, **exports}.items():
                began = time.perf_counter()
                call()
                samples[name].append((time.perf_counter() - began) * 1000)
                db.session.remove()
    print(f"{'report (one-year range)':32} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, values in samples.items():
        values.sort()
        p50 = statistics.median(values)
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        if name in cases:
            worst = max(worst, p50)
        print(f"{name:32} {p50:8.1f} {p90:8.1f} {values[-1]:8.1f}{'  (export)' if name in exports else ''}")
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"worst p50 {worst:.1f} ms (target < {TARGET_MS}): {verdict}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
