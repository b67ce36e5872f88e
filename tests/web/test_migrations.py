"""Migrations are the only way the schema changes: `flask db upgrade` on an empty database builds
exactly the schema the models describe, on SQLite and on PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import make_app


@pytest.fixture
def empty_database(db_backend, request, tmp_path):
    if db_backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "empty.sqlite3")
    return request.getfixturevalue("postgres_server").create_database("parity_migrations")


def test_flask_db_upgrade_builds_the_models_schema(empty_database, redis_url, tmp_path):
    from app.extensions import db

    app = make_app(empty_database, redis_url, str(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                    "compare_server_default": False})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_seed_demo_runs_twice_on_a_migrated_database(empty_database, redis_url, tmp_path):
    from app.extensions import db
    from app.models import Member, ServiceCode

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
        db.engine.dispose()
    assert emails == ["admin@demo.parity", "biller@demo.parity", "clinician2@demo.parity", "clinician@demo.parity"]
    assert {"90791", "90832", "90834", "90837", "90839", "90840", "90846", "90847", "90853", "90785", "96127",
            "H2019", "LATE-CANCEL"} <= set(services)
    assert services["H2019"].bill_in_units and services["H2019"].minutes_per_unit == 15
    assert services["LATE-CANCEL"].code_type == "Custom"
    assert [code for code, service in services.items() if not service.enabled] == ["90792"]
