"""Backup and restore times and archive sizes: `flask backup create`, `verify` and `restore` (into a fresh,
empty database and instance folder) for the demo, then for the demo plus a generated practice of N claims, on
SQLite and on PostgreSQL (pg_dump and pg_restore from Debian's PostgreSQL client; a throwaway server).

    .venv/bin/python bench/bench_backup.py                      # 100,000 claims, SQLite and PostgreSQL
    .venv/bin/python bench/bench_backup.py --claims 5000 --databases sqlite

Each command runs as an operator runs it, in its own process, so its time includes starting Flask (about a
second); restore includes migrating forward and rebuilding every practice's report summaries.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _command(env: dict, *args: str) -> float:
    """Run one command; its wall-clock seconds. Its output only when it fails."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started


def _flask(env: dict, *args: str) -> float:
    return _command(env, "-m", "flask", "--app", "app", *args)


#: Rebuilt by a restore from the entries (the generator writes none for its practice), so not compared.
REBUILT = ("report_facts", "report_totals", "receivables")


def _rows(env: dict) -> tuple[int, int]:
    """(claims, rows in every table but the report summaries) of the database `env` names."""
    code = ("from app import create_app; from app.extensions import db\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            f"    tables = [t for t in db.metadata.sorted_tables if t.name not in {REBUILT!r}]\n"
            "    counts = {t.name: db.session.scalar(db.select(db.func.count()).select_from(t)) for t in tables}\n"
            "    print(counts['claims'], sum(counts.values()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    claims, rows = done.stdout.split()[-2:]
    return int(claims), int(rows)


def _measure(label: str, env: dict, scratch: Path, fresh_database) -> str:
    """Back up the database `env` names, verify the archive, restore it into a fresh one: one line."""
    claims, rows = _rows(env)
    archives = Path(tempfile.mkdtemp(prefix="archives-", dir=scratch))
    created = _flask(env, "backup", "create", "--to", str(archives))
    [archive] = archives.glob("*.tar.gz")
    verified = _flask(env, "backup", "verify", str(archive))
    instance = tempfile.mkdtemp(prefix="restore-", dir=scratch)
    target = {**env, "PARITY_INSTANCE_PATH": instance, "DATABASE_URL": fresh_database(label, instance)}
    restored = _flask(target, "backup", "restore", str(archive))
    if _rows(target) != (claims, rows):
        raise RuntimeError(f"{label}: the restored database differs: {_rows(target)} != {(claims, rows)}")
    return (f"   {label:<28} {claims:>8} claims {rows:>9} rows  archive {archive.stat().st_size / 1e6:7.1f} MB  "
            f"create {created:6.1f} s  verify {verified:6.1f} s  restore {restored:6.1f} s")


def _run(database: str, claims: int, scratch: Path, server) -> list[str]:
    instance = tempfile.mkdtemp(prefix="source-", dir=scratch)
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "SECRET_KEY")}
    env |= {"PARITY_INSTANCE_PATH": instance, "LOG_LEVEL": "WARNING", "FLASK_APP": "app"}
    if database == "postgres":
        env["DATABASE_URL"] = server.create_database("parity_backup_source")
        fresh = lambda label, _instance: server.create_database(f"restore_{label.replace('+', '_')}")  # noqa: E731
    else:
        fresh = lambda _label, instance: f"sqlite:///{instance}/parity.sqlite3"  # noqa: E731
    _flask(env, "db", "upgrade")
    _flask(env, "seed-demo")
    lines = [f"-- {database}", _measure("demo", env, scratch, fresh)]
    generated = _command(env, "bench/generate.py", "--claims", str(claims))
    lines.append(_measure(f"demo+{claims}", env, scratch, fresh))
    lines.append(f"   (the {claims}-claim practice was generated in {generated:.0f} s)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    from tests.support import postgres  # noqa: PLC0415 - only when PostgreSQL is asked for

    print(f"flask backup create / verify / restore (into an empty database); {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="parity-backup-bench-") as scratch:
        for database in args.databases.split(","):
            server = postgres.start() if database == "postgres" else None
            try:
                print("\n".join(_run(database, args.claims, Path(scratch), server)), flush=True)
            finally:
                if server:
                    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
