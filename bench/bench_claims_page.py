"""The claims page with a large practice: status tab p50 < 100 ms with 200,000 claims on SQLite and
1,000,000 on PostgreSQL (issue: insurance claims). Measured over HTTP against gunicorn.

    .venv/bin/python bench/bench_claims_page.py                       # SQLite, 200,000 claims
    .venv/bin/python bench/bench_claims_page.py --postgres --claims 1000000
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _server import Client, demo_server, percentile, summary  # noqa: E402

URLS = [
    "/claims?status=Paid", "/claims?status=Needs+Review", "/claims?status=Queued+For+Submission",
    "/claims?status=Denied&payer={payer}", "/claims?status=Paid&clinician={clinician}",
    "/claims?status=Paid&date_from=2026-01-01&date_to=2026-03-31", "/claims",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server (Debian's binaries)")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    server = None
    database_url = None
    if args.postgres:
        from tests.support import postgres

        server = postgres.start()
        database_url = server.create_database("parity_bench")
    try:
        return run(args, database_url)
    finally:
        if server:
            server.stop()


def run(args, database_url) -> int:
    with demo_server(database_url=database_url) as host:
        env = {**os.environ, "PARITY_INSTANCE_PATH": os.environ.get("PARITY_BENCH_INSTANCE", ""),
               "DATABASE_URL": database_url or ""}
        started = time.perf_counter()
        # The demo admin's practice gets the claims, so the page is measured as that admin sees it.
        code = (f"from app import create_app; from app.extensions import db; from app.models import Practice;"
                f"import bench.generate as g; app = create_app();\n"
                f"with app.app_context():\n"
                f"    pid = g.generate({args.claims})\n"
                f"    print(pid)")
        instance = demo_server.instance  # set by demo_server
        env["PARITY_INSTANCE_PATH"] = instance
        if not database_url:
            env.pop("DATABASE_URL")
        output = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, env=env,
                                check=True, capture_output=True, text=True).stdout.split()
        practice_id = int(output[-1])
        print(f"generated {args.claims} claims in {time.perf_counter() - started:.1f} s")
        move = (f"from app import create_app; from app.extensions import db; from app.models import Member;"
                f"app = create_app();\n"
                f"with app.app_context():\n"
                f"    m = db.session.scalar(db.select(Member).where(Member.email == 'biller@demo.parity'))\n"
                f"    m.practice_id = {practice_id}; db.session.commit()")
        subprocess.run([sys.executable, "-c", move], cwd=Path(__file__).resolve().parent.parent, env=env, check=True)
        client = Client(host)
        client.sign_in("biller@demo.parity")
        import re

        page = client.request("GET", "/claims")[1]
        payer = re.search(r'<option value="(\d+)">Payer', page).group(1)
        clinician = re.search(r'<option value="(\d+)">Clinician', page).group(1)
        urls = [url.format(payer=payer, clinician=clinician) for url in URLS]
        for url in urls:
            client.time(url)
        samples = {url: [] for url in urls}
        for _ in range(args.rounds):
            for url in urls:
                samples[url].append(client.time(url))
    for url, values in samples.items():
        print(summary(url, values))
    # The target is for a status tab; tabs with further filters are reported beside it.
    tabs = {url: values for url, values in samples.items() if "&" not in url}
    worst_tab = max(percentile(values, .5) for values in tabs.values())
    worst_filtered = max(percentile(values, .5) for url, values in samples.items() if url not in tabs)
    verdict = "meets" if worst_tab < 100 else "MISSES"
    print(f"status tabs: worst p50 {worst_tab:.1f} ms (target < 100): {verdict}; "
          f"with payer/clinician/date filters: worst p50 {worst_filtered:.1f} ms")
    return 0 if worst_tab < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
