"""Backups of a whole installation: create, verify, restore, and the daily rotation.

An archive (`parity-backup-YYYYMMDDTHHMMSSZ.tar.gz`) holds a consistent snapshot of the database taken while
Parity runs — SQLite through its online backup API, PostgreSQL through `pg_dump --format=custom` inside one
exported snapshot — the instance's secret key when it is kept on disk (X12 files, documents and email
attachments live in the database, so the snapshot has them), and `manifest.json`: Parity's version, the
migration head, the row count of every table (counted in the same snapshot) and the SHA-256 of every part.

An archive is written under a temporary name beside its final one, flushed to disk, and only then renamed, so
a failure never leaves a half-written archive under the final name. Restoring checks the whole archive first:
an archive that does not match its manifest is refused before anything is written.

No Flask: the CLI (app/cli.py) and the daily job (app/jobs.py) pass the database URL, the instance folder and
where archives go.
"""
from __future__ import annotations

import glob
import gzip
import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

FORMAT = 1
PREFIX, SUFFIX = "parity-backup-", ".tar.gz"
NAME = re.compile(r"^parity-backup-(\d{8}T\d{6}Z)\.tar\.gz$")
MANIFEST = "manifest.json"
SQLITE_PART, POSTGRES_PART, SECRET_KEY_PART = "database.sqlite3", "database.pgdump", "instance/secret_key"
#: Files of the instance folder that a restored installation needs (everything else lives in the database).
INSTANCE_FILES = {SECRET_KEY_PART: "secret_key"}
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup, a verification or a restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict
    seconds: float


def parity_version() -> str:
    try:
        return importlib.metadata.version("parity")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def archive_name(at: datetime) -> str:
    return f"{PREFIX}{at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}{SUFFIX}"


def archive_time(name: str) -> datetime | None:
    match = NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) if match else None


# ---------------------------------------------------------------- PostgreSQL's client programs

def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: the one named by PG_DUMP / PG_RESTORE, else the newest Debian installs under
    /usr/lib/postgresql (newer than the server is fine, older is not), else the one on PATH."""
    named = os.environ.get(name.upper())
    if named:
        return named
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda path: int(re.search(r"/(\d+)/bin/", path).group(1)), reverse=True)
    if found:
        return found[0]
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(f"{name} not found: install Debian's postgresql-client or set {name.upper()}")
    return on_path


def _libpq(url: URL) -> tuple[str, dict]:
    """A libpq connection string for pg_dump and pg_restore, with the password in the environment, not argv."""
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict | None = None) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    except OSError as error:
        raise BackupError(f"{command[0]} could not run: {error}") from error
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


# ---------------------------------------------------------------- snapshot

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_counts(path: Path) -> tuple[dict[str, int], str | None]:
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        head = connection.execute("SELECT version_num FROM alembic_version").fetchone() \
            if "alembic_version" in tables else None
        return counts, head[0] if head else None
    finally:
        connection.close()


def _snapshot_sqlite(url: URL, into: Path) -> tuple[dict[str, int], str | None]:
    """Copy the live database page by page with SQLite's online backup API (writers keep going; the copy is
    one consistent state) and count the copy's rows."""
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"no SQLite database at {source_path}")
    source, target = sqlite3.connect(source_path), sqlite3.connect(into)
    try:
        source.execute("PRAGMA busy_timeout=10000")
        source.backup(target)
    finally:
        target.close()
        source.close()
    return _sqlite_counts(into)


def _snapshot_postgres(url: URL, into: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump inside a snapshot this function exports, whose rows it counts in the same transaction."""
    engine = create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            connection.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            tables = connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).scalars().all()
            counts = {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                      for table in tables}
            head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                if "alembic_version" in tables else None
            target, env = _libpq(url)
            _run([pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner", "--no-privileges",
                  f"--file={into}", f"--dbname={target}"], env)
            connection.rollback()
    except BackupError:
        raise
    except Exception as error:  # noqa: BLE001 - the database's own reason, told to the operator
        raise BackupError(f"could not read the database: {error}") from error
    finally:
        engine.dispose()
    return counts, head


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create(database_uri: str, instance_path: str, to_dir: str | Path, *, now: datetime | None = None) -> Backup:
    """Snapshot the database and the instance files into a new archive in `to_dir`; BackupError on failure,
    with no archive left under the final name."""
    started = time.perf_counter()
    url = make_url(database_uri)
    dialect = url.get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {dialect} database")
    to_dir = Path(to_dir)
    try:
        to_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create {to_dir}: {error}") from error
    now = now or datetime.now(timezone.utc)
    final = to_dir / archive_name(now)
    if final.exists():
        raise BackupError(f"{final} exists already")
    partial = to_dir / f".{final.name}.partial"
    try:
        with tempfile.TemporaryDirectory(dir=to_dir, prefix=".parity-backup-work-") as work:
            work = Path(work)
            part = SQLITE_PART if dialect == "sqlite" else POSTGRES_PART
            snapshot = _snapshot_sqlite if dialect == "sqlite" else _snapshot_postgres
            counts, head = snapshot(url, work / part)
            parts = {part: work / part}
            for name, relative in INSTANCE_FILES.items():
                if (Path(instance_path) / relative).is_file():
                    parts[name] = Path(instance_path) / relative
            manifest = {
                "format": FORMAT, "parity_version": parity_version(), "created_at": now.isoformat(),
                "database": dialect, "migration_head": head, "row_counts": counts,
                "files": {name: {"sha256": _sha256(path), "bytes": path.stat().st_size} for name, path in parts.items()},
            }
            with open(partial, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as zipped, \
                        tarfile.open(fileobj=zipped, mode="w") as archive:
                    _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
                    for name, path in parts.items():
                        archive.add(path, arcname=name, recursive=False)
                raw.flush()
                os.fsync(raw.fileno())
            os.chmod(partial, 0o600)  # it holds the secret key and every client's records
            os.replace(partial, final)
            _fsync_dir(to_dir)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as error:  # noqa: BLE001 - disk full, permissions …: the reason, and no archive
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup failed: {type(error).__name__}: {error}") from error
    return Backup(final, manifest, time.perf_counter() - started)


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(content), 0o600, int(time.time())
    archive.addfile(info, io.BytesIO(content))


# ---------------------------------------------------------------- verify

def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:gz")
    except (OSError, tarfile.TarError, EOFError) as error:
        raise BackupError(f"{path} is not a readable Parity backup: {error}") from error


def verify(path: str | Path, *, extract_to: Path | None = None) -> dict:
    """Check every part of the archive against its manifest (present, no others, same SHA-256) and that the
    database part opens and holds the counted rows (SQLite) or lists its contents (pg_restore --list).
    Returns the manifest; raises BackupError with the first problem. `extract_to` keeps the parts there."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    with tempfile.TemporaryDirectory(prefix="parity-verify-") as scratch:
        where = extract_to or Path(scratch)
        try:
            with _open(path) as archive:
                manifest = _read_manifest(archive, path)
                seen = set()
                for member in archive:
                    if member.name == MANIFEST:
                        continue
                    expected = manifest["files"].get(member.name)
                    if expected is None or not member.isfile() or member.name in seen:
                        raise BackupError(f"{path}: unexpected part {member.name!r}")
                    seen.add(member.name)
                    target = where / member.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with archive.extractfile(member) as source, open(target, "wb") as out:
                        while chunk := source.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                    if digest.hexdigest() != expected["sha256"]:
                        raise BackupError(f"{path}: {member.name} does not match its SHA-256 in the manifest")
        except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
            raise BackupError(f"{path} is damaged: {error}") from error
        missing = set(manifest["files"]) - seen
        if missing:
            raise BackupError(f"{path}: parts missing: {', '.join(sorted(missing))}")
        _check_database_part(manifest, where, path)
    return manifest


def _read_manifest(archive: tarfile.TarFile, path: Path) -> dict:
    try:
        member = archive.next()
        if member is None or member.name != MANIFEST:
            raise BackupError(f"{path}: the archive does not start with {MANIFEST}")
        manifest = json.loads(archive.extractfile(member).read())
    except (ValueError, KeyError) as error:
        raise BackupError(f"{path}: unreadable manifest: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "files" not in manifest:
        raise BackupError(f"{path}: not a Parity backup manifest (format {FORMAT})")
    return manifest


def _check_database_part(manifest: dict, where: Path, path: Path) -> None:
    if manifest["database"] == "sqlite":
        database = where / SQLITE_PART
        try:
            connection = sqlite3.connect(database)
            try:
                result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                connection.close()
            counts, _ = _sqlite_counts(database)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path}: the database does not open: {error}") from error
        if result != "ok":
            raise BackupError(f"{path}: the database fails SQLite's integrity check: {result}")
        if counts != manifest["row_counts"]:
            raise BackupError(f"{path}: the database's row counts differ from the manifest's")
    elif manifest["database"] == "postgresql":
        _run([pg_tool("pg_restore"), "--list", str(where / POSTGRES_PART)])
    else:
        raise BackupError(f"{path}: unknown database kind {manifest['database']!r}")


# ---------------------------------------------------------------- restore

def database_is_empty(database_uri: str) -> bool:
    """True when no table of the database has a row (a database just migrated counts as empty)."""
    engine = create_engine(database_uri)
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                if table == "alembic_version":
                    continue
                if connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
                    return False
        return True
    finally:
        engine.dispose()


_DROP_EVERYTHING = """
DO $$ DECLARE item record; BEGIN
  FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(item.tablename) || ' CASCADE';
  END LOOP;
  FOR item IN SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() LOOP
    EXECUTE 'DROP SEQUENCE IF EXISTS ' || quote_ident(item.sequence_name) || ' CASCADE';
  END LOOP;
  FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = current_schema() AND t.typtype = 'e' LOOP
    EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(item.typname) || ' CASCADE';
  END LOOP;
END $$;
"""


def restore(path: str | Path, database_uri: str, instance_path: str, *, force: bool = False) -> dict:
    """Put the archive's database in place of `database_uri`'s (empty, or anything with `force`) and its secret
    key in the instance folder. The whole archive is verified before anything is written. Returns the manifest;
    the caller then migrates forward and rebuilds the report summaries."""
    url = make_url(database_uri)
    dialect = url.get_backend_name()
    with tempfile.TemporaryDirectory(prefix="parity-restore-") as scratch:
        parts = Path(scratch)
        manifest = verify(path, extract_to=parts)
        if manifest["database"] != dialect:
            raise BackupError(f"the archive holds a {manifest['database']} database; this installation uses {dialect}")
        if not force and not database_is_empty(database_uri):
            raise BackupError("the database is not empty: restore into an empty database, or give --force to "
                              "replace everything in it")
        if dialect == "sqlite":
            target_path = _sqlite_path(url)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            source, target = sqlite3.connect(parts / SQLITE_PART), sqlite3.connect(target_path)
            try:
                source.backup(target)  # replaces every page of the target, in one step
            finally:
                target.close()
                source.close()
        else:
            engine = create_engine(url)
            try:
                with engine.begin() as connection:
                    connection.execute(text(_DROP_EVERYTHING))
            finally:
                engine.dispose()
            target, env = _libpq(url)
            _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--no-comments", "--single-transaction",
                  "--exit-on-error", f"--dbname={target}", str(parts / POSTGRES_PART)], env)
        _restore_instance_files(manifest, parts, Path(instance_path))
    return manifest


def _restore_instance_files(manifest: dict, parts: Path, instance: Path) -> None:
    """The archive's secret key replaces the instance's (secrets stored in the database were encrypted with it
    unless ENCRYPTION_KEY is set); a different key found there is kept beside it as secret_key.before-restore."""
    instance.mkdir(parents=True, exist_ok=True)
    for name, relative in INSTANCE_FILES.items():
        if name not in manifest["files"]:
            continue
        target = instance / relative
        content = (parts / name).read_bytes()
        if target.exists() and target.read_bytes() != content:
            os.replace(target, instance / f"{relative}.before-restore")
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)


# ---------------------------------------------------------------- rotation

def to_keep(names: list[str], *, daily: int = 7, weekly: int = 4) -> set[str]:
    """Which archives a rotation keeps: the newest of each of the `daily` latest days that have one, and the
    newest of each of the `weekly` latest ISO weeks that have one."""
    dated = sorted(((archive_time(name), name) for name in names if archive_time(name)), reverse=True)
    keep: set[str] = set()
    days: set = set()
    weeks: set = set()
    for at, name in dated:
        day, week = at.date(), at.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(name)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            keep.add(name)
    return keep


def rotate(directory: str | Path, *, daily: int = 7, weekly: int = 4) -> list[str]:
    """Delete the archives in `directory` that the rotation does not keep (only files named like Parity's
    archives are touched). Returns the names deleted."""
    directory = Path(directory)
    names = [entry.name for entry in directory.iterdir() if NAME.match(entry.name)]
    keep = to_keep(names, daily=daily, weekly=weekly)
    deleted = sorted(set(names) - keep)
    for name in deleted:
        (directory / name).unlink(missing_ok=True)
    return deleted


# ---------------------------------------------------------------- the last outcome, for the pages and /metrics

LAST_OUTCOME_KEY = "parity:backup:last"
LAST_SUCCESS_KEY = "parity:backup:last-success"


def record_outcome(redis, *, ok: bool, at: datetime, detail: str) -> None:
    """Remember how the latest backup ended (Redis, shared by every machine)."""
    outcome = json.dumps({"ok": ok, "at": at.isoformat(), "detail": detail[:1000]})
    pipeline = redis.pipeline()
    pipeline.set(LAST_OUTCOME_KEY, outcome)
    if ok:
        pipeline.set(LAST_SUCCESS_KEY, str(at.timestamp()))
    pipeline.execute()


def last_outcome(redis) -> dict | None:
    raw = redis.get(LAST_OUTCOME_KEY)
    return json.loads(raw) if raw else None


def last_success_timestamp(redis) -> float | None:
    raw = redis.get(LAST_SUCCESS_KEY)
    return float(raw) if raw else None
