"""Migrations are the only way the schema changes: `flask db upgrade` on an empty database builds
exactly the schema the models describe, on SQLite and on PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column

from tests.conftest import make_app
from tests.support.days import local_today


@pytest.fixture
def empty_database(db_backend, request, tmp_path):
    if db_backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "empty.sqlite3")
    return request.getfixturevalue("postgres_server").create_database("parity_migrations")


def test_flask_db_upgrade_builds_the_models_schema(empty_database, db_backend, redis_url, tmp_path):
    from app.extensions import db

    app = make_app(empty_database, redis_url, str(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                    "compare_server_default": False})
            differences = compare_metadata(context, db.metadata)
            # SQLite's reflection skips expression indexes (clients in name order): check that one by hand.
            expression_indexes = {index.name for table in db.metadata.tables.values() for index in table.indexes
                                  if any(not isinstance(column, Column) for column in index.expressions)}
            found = {index["name"] for index in db.inspect(connection).get_indexes("clients")} \
                if db_backend == "postgresql" else \
                set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
        db.engine.dispose()
    assert differences == []
    assert expression_indexes == {"ix_clients_practice_id_name"} and expression_indexes <= found


def test_seed_demo_runs_twice_on_a_migrated_database(empty_database, redis_url, tmp_path):
    from app.extensions import db

    from app.models import Client, InsurancePolicy, Member, Payer, ServiceCode, SessionNote, TherapySession

    app = make_app(empty_database, redis_url, str(tmp_path / "instance"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert "Demo practice ready." in first.output and "already present" in second.output
    with app.app_context():
        emails = db.session.scalars(db.select(Member.email).order_by(Member.email)).all()
        services = {s.code: s for s in db.session.scalars(db.select(ServiceCode))}
        clients = db.session.scalars(db.select(Client)).all()
        payers = db.session.scalars(db.select(Payer.filing_indicator)).all()
        sessions = db.session.scalars(db.select(TherapySession)).all()
        notes = db.session.scalars(db.select(SessionNote)).all()
        policies = db.session.scalars(db.select(InsurancePolicy)).all()
        from app.billing import bills as bill_rules
        from app.models import Bill

        bill_statuses = {bill.status for bill in db.session.scalars(db.select(Bill))}
        partly_paid = any(0 < bill_rules.totals(b).paid < bill_rules.totals(b).charges
                          for b in db.session.scalars(db.select(Bill).where(Bill.status == "open")))
        with_credit = any(bill_rules.client_credit(c.id) > 0 for c in clients)
        demo = {
            "minor with guardian": any(c.billing_contact and c.age_on(local_today()) < 18 for c in clients),
            "spouse subscriber": any(p.relationship_to_subscriber == "01" for p in policies),
            "crisis with extension": any({"90839", "90840"} <= {l.code for l in s.lines} for s in sessions),
            "family": any("90847" in {l.code for l in s.lines} for s in sessions),
            "telehealth": any(s.modality != "in_person" and s.place_of_service in ("02", "10") for s in sessions),
            "no-show": any(s.status == "no_show" for s in sessions),
            "unsigned": any(not n.is_signed for n in notes),
            "signed": sum(n.is_signed for n in notes),
        }
        db.engine.dispose()
    assert emails == ["admin@demo.parity", "biller@demo.parity", "clinician2@demo.parity", "clinician@demo.parity"]
    assert {"90791", "90832", "90834", "90837", "90839", "90840", "90846", "90847", "90853", "90785", "96127",
            "H2019", "LATE-CANCEL"} <= set(services)
    assert services["H2019"].bill_in_units and services["H2019"].minutes_per_unit == 15
    assert services["LATE-CANCEL"].code_type == "Custom"
    assert [code for code, service in services.items() if not service.enabled] == ["90792"]
    assert len(clients) == 14 and sorted(payers) == ["CI", "CI", "MB", "MC"] and 60 <= len(sessions) <= 90
    assert all(demo.values()) and demo["signed"] >= 15, demo
    assert bill_statuses == {"pended", "open", "complete", "void"} and partly_paid and with_credit


def test_the_migration_encrypts_claimmd_keys_already_stored(empty_database, redis_url, tmp_path):
    """A practice saved a plain AccountKey before keys were encrypted: upgrading encrypts it with the app's
    key material, and downgrading gives it back."""
    from sqlalchemy import text

    from app import secrets_at_rest
    from app.config import encryption_key
    from app.extensions import db

    app = make_app(empty_database, redis_url, str(tmp_path / "instance"), ENCRYPTION_KEY="a separate key")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "9ba1f220d2c6"]).exit_code == 0
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO practices (legal_name, created_at, claimmd_account_key) "
                                    "VALUES ('Before', CURRENT_TIMESTAMP, 'ck_live_plain1234')"))
    result = runner.invoke(args=["db", "upgrade", "01f7fb87126e"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = db.session.scalar(text("SELECT claimmd_account_key FROM practices"))
        assert "plain1234" not in stored
        assert secrets_at_rest.decrypt(stored, encryption_key(app.config)) == "ck_live_plain1234"
        assert encryption_key(app.config) == "a separate key"
        db.session.remove()
    assert runner.invoke(args=["db", "downgrade", "9ba1f220d2c6"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(text("SELECT claimmd_account_key FROM practices")) == "ck_live_plain1234"
        db.session.remove()
        db.engine.dispose()
