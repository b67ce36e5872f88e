"""A throwaway database for benchmarks that run in-process: SQLite in a temporary instance folder, or with
`postgres` a throwaway PostgreSQL server (Debian's binaries, as the tests start it)."""
import os
import tempfile
from collections.abc import Callable


def run_on_fresh_database(name: str, postgres: bool, run: Callable[[], int]) -> int:
    """Point DATABASE_URL and the instance path at a fresh database named `name`, call `run`, clean up."""
    server = None
    with tempfile.TemporaryDirectory() as instance:
        if postgres:
            from tests.support import postgres as postgres_support  # only benchmarks asked to use PostgreSQL

            server = postgres_support.start()
            os.environ["DATABASE_URL"] = server.create_database(name)
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{instance}/bench.sqlite3"
        os.environ["PARITY_INSTANCE_PATH"] = instance
        try:
            return run()
        finally:
            if server:
                server.stop()


#: The identity of the practice a benchmark works in: complete, so claims and inquiries pass their checks.
PRACTICE_IDENTITY = {"legal_name": "Benchmark Practice", "tax_id": "123456789", "group_npi": "2000000002",
                     "taxonomy": "261QM0801X", "address_line1": "1 Main St", "city": "Boston", "state": "MA",
                     "zip_code": "021101234"}


def upgrade_schema() -> None:
    """Apply the migrations to the fresh database (inside the app context)."""
    from pathlib import Path

    from flask_migrate import upgrade  # imported with the app, after DATABASE_URL is set

    upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
