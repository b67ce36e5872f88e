"""A throwaway PostgreSQL server for the test session, from Debian's postgresql binaries.

PostgreSQL refuses to run as root, and CI runs as root: there the server runs as the `postgres`
system user (created by Debian's package), in a temporary folder it owns.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass


def find_bin_dir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return os.path.dirname(candidates[0])
    found = shutil.which("pg_ctl")
    return os.path.dirname(found) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: str
    base: str
    port: int
    run_as: str | None
    keep: bool = False  #: stop() leaves the data folder, for a later start(base) (benchmarks)

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", self.run_as, "--"] if self.run_as else []) + list(args)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}",
                             autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        """The database, created when it does not exist yet (kept from an earlier start otherwise)."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres") as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        # A kept server stops cleanly ("fast"), so its next start needs no recovery.
        mode = "fast" if self.keep else "immediate"
        subprocess.run(self._cmd(f"{self.bin_dir}/pg_ctl", "-D", f"{self.base}/data", "-m", mode, "stop"),
                       capture_output=True, timeout=120)
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)


def start(base: str | None = None) -> PostgresServer:
    """A server in a new temporary folder; with `base`, in that folder, kept when it stops and started again
    on its existing data by a later call."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL server binaries not found (install Debian's postgresql package)")
    run_as = "postgres" if os.geteuid() == 0 else None
    keep = base is not None
    kept = keep and os.path.exists(os.path.join(base, "data", "PG_VERSION"))
    if base is None:
        base = tempfile.mkdtemp(prefix="parity-pg-")
    else:
        os.makedirs(base, exist_ok=True)
    if run_as:
        user = pwd.getpwnam(run_as)
        os.chown(base, user.pw_uid, user.pw_gid)
    server = PostgresServer(bin_dir, base, _free_port(), run_as, keep=keep)
    if not kept:
        subprocess.run(server._cmd(f"{bin_dir}/initdb", "-D", f"{base}/data", "-U", "postgres", "-A", "trust",
                                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
                       check=True, capture_output=True, timeout=120)
    # Durability off: a test database that is thrown away needs no fsync, and the suite runs faster.
    options = (f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    subprocess.run(server._cmd(f"{bin_dir}/pg_ctl", "-D", f"{base}/data", "-o", options, "-l", f"{base}/log",
                               "-w", "-t", "60", "start"), check=True, capture_output=True, timeout=90)
    deadline = time.monotonic() + 30
    while True:
        try:
            server.psql("SELECT 1")
            return server
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
