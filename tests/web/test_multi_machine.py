"""Parity on several machines: two web servers (gunicorn, different ports) and two workers against one PostgreSQL
and one Redis. A sign-in on one server works on the other; sign-in throttling counts across both; the
clearinghouse tick runs once per time slot; 300 queued claims are each sent exactly once, though one worker is
killed in the middle of the submission."""
import os
import re
import signal
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Claim, ClaimStatus, Practice, Role
from tests.conftest import _ensure_schema, _reset, csrf_token_from, make_app
from tests.support.claimmd_server import ClaimMDServer
from tests.support.factories import PASSWORD, Factory
from tests.support.insurance import insured, stored_key
from tests.support.processes import running_gunicorn, running_worker, wait_for
from tests.web.test_clearinghouse_worker import _clone_claims

pytestmark = pytest.mark.slow


@pytest.fixture
def shared(postgres_server, redis_url, tmp_path):
    """One PostgreSQL database and one Redis server, as several machines would share them."""
    url = postgres_server.create_database("parity_machines")
    app = make_app(url, redis_url, str(tmp_path / "instance"))
    _ensure_schema(app, url)
    yield app, url
    _reset(app)


def _login_page(http, base):
    return csrf_token_from(http.get(f"{base}/login", timeout=30).text)


def _sign_in(http, base, email, password):
    return http.post(f"{base}/login", data={"email": email, "password": password,
                                            "csrf_token": _login_page(http, base)}, timeout=60, allow_redirects=False)


def _statuses(app, claim_ids):
    with app.app_context():
        found = Counter(db.session.scalars(select(Claim.status).where(Claim.id.in_(claim_ids))))
        db.session.remove()
        return found


def _ticks_run(tmp_path) -> Counter:
    """How many times each clearinghouse tick slot ran, over both workers' logs. With a 1-second tick the slot is
    the Unix time it was due."""
    lines = [line for path in ("worker-1", "worker-2") for line in (tmp_path / path / "worker.log").read_text()
             .splitlines() if "Job OK" in line and "clearinghouse_tick-" in line]
    return Counter(int(re.search(r"clearinghouse_tick-(\d+)", line).group(1)) for line in lines)


def test_two_web_servers_and_two_workers_share_one_database_and_one_redis(shared, redis_url, tmp_path):
    app, url = shared
    make = Factory(app)
    biller = make.member(role=Role.BILLER)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "one-key-for-every-machine",
           "PARITY_INSTANCE_PATH": str(tmp_path / "web"), "LOG_LEVEL": "WARNING"}
    with running_gunicorn({**env, "PARITY_INSTANCE_PATH": str(tmp_path / "web-a")}, tmp_path / "a.log") as a, \
            running_gunicorn({**env, "PARITY_INSTANCE_PATH": str(tmp_path / "web-b")}, tmp_path / "b.log") as b:
        # A session signed in through one server works on the other.
        http = requests.Session()
        assert _sign_in(http, a, biller.email, PASSWORD).status_code == 303
        assert http.get(f"{b}/claims", timeout=30, allow_redirects=False).status_code == 200
        # Sign-in throttling is shared: five failures through A pause the account at this address on B too.
        other = make.member(role=Role.BILLER)
        stranger = requests.Session()
        for server in (a, b, a, b, a):
            assert _sign_in(stranger, server, other.email, "wrong password here").status_code == 422
        assert _sign_in(stranger, b, other.email, PASSWORD).status_code == 429

    with ClaimMDServer(account_key="test-key") as clearinghouse:
        world = insured(make, app, clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"))
        first = world.claim()
        claim_ids = [first] + _clone_claims(app, first, 299)
        clearinghouse.delay_next(4, seconds=1.0)  # slow uploads, so the kill lands in the middle
        worker_env = {"CLAIMMD_URL": clearinghouse.url, "CLAIMMD_TIMEOUT_SECONDS": "5", "SUBMISSION_LEASE_SECONDS": "2",
                      "CLAIMS_PER_FILE": "50", "CLEARINGHOUSE_TICK_SECONDS": "1", "SECRET_KEY": "test-secret-key",
                      "LOG_LEVEL": "INFO"}
        with running_worker(url, redis_url, str(tmp_path / "worker-1"), **worker_env) as one, \
                running_worker(url, redis_url, str(tmp_path / "worker-2"), **worker_env) as two:
            wait_for(lambda: 50 <= sum(clearinghouse.received_claims().values()) < 300, timeout=120, interval=0.02,
                     what="part of the submission to arrive")
            os.killpg(one.pid, signal.SIGKILL)  # the machine running worker 1 dies mid-job
            one.wait()
            killed_at = time.time()
            wait_for(lambda: _statuses(app, claim_ids) == Counter({ClaimStatus.SENT: 300}), timeout=240, interval=0.5,
                     what="every claim to be Sent by the surviving worker")
            # The clock outlives the machine: ticks go on after the kill. If worker 1 held RQ's scheduler, worker 2
            # takes it over at its next upkeep once the dead scheduler's lock expires (about a minute).
            wait_for(lambda: any(slot > killed_at for slot in _ticks_run(tmp_path)), timeout=180, interval=1,
                     what="a clearinghouse tick after the kill")
            assert two.poll() is None
        received = clearinghouse.received_claims()
    with app.app_context():
        numbers = set(db.session.scalars(select(Claim.patient_control_number).where(Claim.id.in_(claim_ids))))
        assert db.session.scalar(select(func.count()).select_from(Practice)) >= 1
        db.session.remove()
    assert received == Counter({number: 1 for number in numbers}), "a claim was sent twice, or not at all"
    # The clearinghouse tick: one job per time slot, run by whichever worker took it, never by both.
    ran = _ticks_run(tmp_path)
    assert len(ran) >= 2 and all(count == 1 for count in ran.values()), ran
