"""`flask backup create / verify / restore` on both databases: the demo backed up, restored into a fresh
database, and compared table by table, with the ledger and aging totals; damaged archives refused with nothing
written; the daily rotation; a failed daily backup shown to admins."""
import json
import os
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import create_engine, func, inspect, select, text

from app import backups, seed
from app.billing import ledger, reports
from app.billing.reports_data import ReportFilter
from app.extensions import db
from app.models import Client, Practice, Role
from tests.conftest import make_app
from tests.support.days import local_today

#: Set by the restore itself: when the summaries were rebuilt.
REBUILT_COLUMNS = {("practices", "reports_built_at")}


@pytest.fixture
def target_url(db_backend, request, tmp_path):
    """A second, empty database of the same kind to restore into."""
    if db_backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "restored.sqlite3")
    return request.getfixturevalue("postgres_server").create_database("parity_restored")


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, in primary-key order, as plain tuples (the restore's own timestamps left out)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for table in db.metadata.sorted_tables:
                columns = [column for column in table.columns if (table.name, column.name) not in REBUILT_COLUMNS]
                query = select(*columns).order_by(*table.primary_key.columns)
                found[table.name] = [tuple(row) for row in connection.execute(query)]
            if inspect(connection).has_table("alembic_version"):
                found["alembic_version"] = [tuple(row) for row in connection.execute(text(
                    "SELECT version_num FROM alembic_version"))]
            return found
    finally:
        engine.dispose()


def _money_totals(app) -> dict:
    """The sum of every client's ledger balance, and the A/R aging totals of the demo practice."""
    with app.app_context():
        practice_id = seed.demo_practice().id
        balances = sum(ledger.balance(client_id) for client_id in db.session.scalars(
            select(Client.id).where(Client.practice_id == practice_id)))
        today = local_today()
        aging = reports.aging(ReportFilter(practice_id=practice_id, start=today - timedelta(days=364),
                                           end=today + timedelta(days=1)), as_of=today)
        totals = aging.totals
        db.session.remove()
        return {"ledger": balances, "aging": (totals.total, tuple(totals.client), tuple(totals.insurance))}


@pytest.fixture
def stamped(app):
    """The test schema is made by create_all; stamp it at the migration head as `db upgrade` would (and take
    the stamp away after, since the test database is shared)."""
    with app.app_context():
        stamp()
    yield
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


def test_the_demo_backed_up_and_restored_into_a_fresh_database_is_the_same(app, database_url, redis_url, target_url,
                                                                            tmp_path, stamped):
    with app.app_context():
        assert seed.seed_demo() is True
        db.session.commit()
    before_rows, before_money = _rows(database_url), _money_totals(app)
    assert before_money["ledger"] != 0 and before_money["aging"][0] > 0

    created = app.test_cli_runner().invoke(args=["backup", "create", "--to", str(tmp_path / "backups")])
    assert created.exit_code == 0, created.output
    [archive] = list((tmp_path / "backups").iterdir())
    assert backups.NAME.match(archive.name) and archive.name in created.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    with tarfile.open(archive) as opened:
        manifest = json.loads(opened.extractfile("manifest.json").read())
        assert sorted(opened.getnames()) == sorted(["manifest.json", *manifest["files"]])
    assert manifest["migration_head"] == before_rows["alembic_version"][0][0]
    assert manifest["parity_version"] == backups.parity_version()
    assert manifest["row_counts"]["claims"] == len(before_rows["claims"]) > 0
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())

    verified = app.test_cli_runner().invoke(args=["backup", "verify", str(archive)])
    assert verified.exit_code == 0 and "good" in verified.output, verified.output

    restored_app = make_app(target_url, redis_url, str(tmp_path / "restored-instance"))
    result = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "summaries rebuilt" in result.output
    assert _rows(target_url) == before_rows
    assert _money_totals(restored_app) == before_money
    # The instance's secret key came back with the database.
    assert (tmp_path / "restored-instance" / "secret_key").read_bytes() == \
        (Path(app.instance_path) / "secret_key").read_bytes()

    again = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert again.exit_code != 0 and "not empty" in again.output
    forced = restored_app.test_cli_runner().invoke(args=["backup", "restore", "--force", str(archive)])
    assert forced.exit_code == 0, forced.output
    assert _rows(target_url) == before_rows
    with restored_app.app_context():
        db.engine.dispose()


def _damage(archive: Path, how: str) -> Path:
    damaged = archive.with_name(f"damaged-{how}.tar.gz")
    content = bytearray(archive.read_bytes())
    if how == "truncated":
        content = content[: len(content) // 2]
    elif how == "flipped":
        content[len(content) // 2] ^= 0xFF
    damaged.write_bytes(bytes(content))
    return damaged


def _tampered(archive: Path, tmp_path: Path) -> Path:
    """A well-formed archive whose database part is not the one its manifest describes."""
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as opened:
        opened.extractall(unpacked, filter="data")
    manifest = json.loads((unpacked / "manifest.json").read_text())
    database_part = next(name for name in manifest["files"] if name.startswith("database"))
    with open(unpacked / database_part, "ab") as handle:
        handle.write(b"\0" * 4096)
    tampered = archive.with_name("tampered.tar.gz")
    with tarfile.open(tampered, "w:gz") as rebuilt:
        rebuilt.add(unpacked / "manifest.json", arcname="manifest.json")
        for name in manifest["files"]:
            rebuilt.add(unpacked / name, arcname=name)
    return tampered


def test_a_damaged_archive_is_refused_and_nothing_is_written(app, make, redis_url, target_url, tmp_path):
    make.practice()
    created = app.test_cli_runner().invoke(args=["backup", "create", "--to", str(tmp_path / "backups")])
    assert created.exit_code == 0, created.output
    [archive] = list((tmp_path / "backups").iterdir())
    restored_app = make_app(target_url, redis_url, str(tmp_path / "restored-instance"))
    with restored_app.app_context():
        db.create_all()
        db.engine.dispose()
    before = _rows(target_url)
    for damaged in (_damage(archive, "truncated"), _damage(archive, "flipped"), _tampered(archive, tmp_path)):
        verified = app.test_cli_runner().invoke(args=["backup", "verify", str(damaged)])
        assert verified.exit_code != 0, verified.output
        result = restored_app.test_cli_runner().invoke(args=["backup", "restore", "--force", str(damaged)])
        assert result.exit_code != 0 and "Error:" in result.output, result.output
        assert _rows(target_url) == before
        assert not (tmp_path / "restored-instance" / "secret_key.before-restore").exists()
    with restored_app.app_context():
        db.engine.dispose()


def test_a_backup_that_fails_exits_non_zero_and_leaves_no_archive(app, make, tmp_path):
    make.practice()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    result = app.test_cli_runner().invoke(args=["backup", "create", "--to", str(blocked / "backups")])
    assert result.exit_code == 1 and "cannot create" in result.output, result.output
    folder = tmp_path / "backups"
    folder.mkdir()
    # The database is gone from under it: pg_dump or SQLite refuses, and nothing named like an archive stays.
    real = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_DATABASE_URI"] = real.rsplit("/", 1)[0] + "/no-such-database" + \
        (".sqlite3" if real.startswith("sqlite") else "")
    result = app.test_cli_runner().invoke(args=["backup", "create", "--to", str(folder)])
    app.config["SQLALCHEMY_DATABASE_URI"] = real
    assert result.exit_code != 0 and "Error:" in result.output, result.output
    assert list(folder.iterdir()) == []


def test_the_rotation_keeps_seven_daily_and_four_weekly_archives(tmp_path):
    start = datetime(2026, 1, 1, 2, 0, tzinfo=timezone.utc)  # a Thursday; 60 days of two archives a day
    names = [backups.archive_name(start + timedelta(days=day, hours=hour)) for day in range(60) for hour in (0, 12)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not ours")
    deleted = backups.rotate(tmp_path)
    kept = sorted((backups.archive_time(path.name) for path in tmp_path.iterdir() if backups.NAME.match(path.name)),
                  reverse=True)
    at_14 = lambda month, day: datetime(2026, month, day, 14, 0, tzinfo=timezone.utc)  # noqa: E731
    # the newest of each of the last 7 days (Sunday March 1 back to February 23, one ISO week), and the newest
    # of each of the three weeks before it (their Sundays)
    assert kept == [at_14(3, 1), *(at_14(2, day) for day in range(28, 22, -1)), at_14(2, 22), at_14(2, 15),
                    at_14(2, 8)]
    assert (tmp_path / "notes.txt").exists()
    assert len(deleted) == len(names) - 10


def test_a_failed_daily_backup_shows_on_the_admins_home_page_and_in_failed_jobs(app, client, make, sign_in, tmp_path):
    from rq import SimpleWorker

    from app import jobs
    from app.redis_conn import get_redis

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    admin = make.member(role=Role.ADMIN)
    other_admin = make.member(make.practice(), Role.ADMIN)
    with app.app_context():
        app.config["BACKUP_DIR"] = str(blocked / "backups")
        jobs.queue().enqueue(jobs.daily_backup, job_id="daily_backup-test")
        SimpleWorker([jobs.queue()], connection=get_redis()).work(burst=True)
        app.config["BACKUP_DIR"] = None
    for member in (admin, other_admin):
        sign_in(member)
        home = client.get("/")
        assert 'id="backup-failed"' in home.text and "cannot create" in home.text
        failed = client.get("/settings/jobs")
        assert "Backing up the installation" in failed.text
    sign_in(make.member(make.practice(), Role.BILLER))
    assert 'id="backup-failed"' not in client.get("/").text


def test_a_daily_backup_writes_an_archive_rotates_and_clears_the_warning(app, client, make, sign_in, tmp_path):
    from rq import SimpleWorker

    from app import jobs
    from app.redis_conn import get_redis

    admin = make.member(role=Role.ADMIN)
    folder = tmp_path / "daily"
    folder.mkdir()
    old = [backups.archive_name(datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(days=day)) for day in range(40)]
    for name in old:
        (folder / name).write_bytes(b"old")
    with app.app_context():
        backups.record_outcome(get_redis(), ok=False, at=datetime.now(timezone.utc), detail="disk full")
        app.config["BACKUP_DIR"] = str(folder)
        job = jobs.queue().enqueue(jobs.daily_backup, job_id="daily_backup-test")
        SimpleWorker([jobs.queue()], connection=get_redis()).work(burst=True)
        result = job.return_value()
        assert result["archive"] in os.listdir(folder)
        # today and the six newest old days (Sunday February 9, 2020 back to the 4th); of the weeks, today's and
        # that one are among them, and the two weeks before add their Sundays (February 2, January 26)
        assert len([name for name in os.listdir(folder) if backups.NAME.match(name)]) == 7 + 2
        assert backups.last_success_timestamp(get_redis()) is not None
        # the next one is on the scheduler, once per slot
        assert any(job_id.startswith("daily_backup-") for job_id in jobs.queue().scheduled_job_registry.get_job_ids())
        app.config["BACKUP_DIR"] = None
        db.session.remove()
    sign_in(admin)
    assert 'id="backup-failed"' not in client.get("/").text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Practice)) == 1


@pytest.fixture
def older_database(db_backend, request, tmp_path):
    if db_backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "older.sqlite3")
    return request.getfixturevalue("postgres_server").create_database("parity_older")


def test_an_archive_from_an_older_parity_is_migrated_forward_on_restore(older_database, target_url, redis_url,
                                                                       tmp_path):
    """An archive taken before the latest migration: the restore brings it to the head, data kept."""
    older_app = make_app(older_database, redis_url, str(tmp_path / "older-instance"))
    assert older_app.test_cli_runner().invoke(args=["db", "upgrade", "01f7fb87126e"]).exit_code == 0
    with older_app.app_context():  # that release's practices table, written as it was (today's model has more)
        db.session.execute(text("INSERT INTO practices (legal_name, created_at) VALUES ('Older Practice', :now)"),
                           {"now": datetime.now(timezone.utc).replace(tzinfo=None)})
        db.session.commit()
    backed_up = older_app.test_cli_runner().invoke(args=["backup", "create", "--to", str(tmp_path / "backups")])
    assert backed_up.exit_code == 0, backed_up.output
    [archive] = list((tmp_path / "backups").iterdir())
    assert backups.verify(archive)["migration_head"] == "01f7fb87126e"
    with older_app.app_context():
        db.engine.dispose()

    restored_app = make_app(target_url, redis_url, str(tmp_path / "restored-instance"))
    result = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    rows = _rows(target_url)
    with restored_app.app_context():
        head = ScriptDirectory.from_config(restored_app.extensions["migrate"].migrate.get_config()).get_current_head()
    assert rows["alembic_version"] == [(head,)] != [("01f7fb87126e",)]
    assert [row[1] for row in rows["practices"]] == ["Older Practice"]
    with restored_app.app_context():
        assert db.session.scalar(select(Practice.reports_built_at)) is not None
        db.engine.dispose()
