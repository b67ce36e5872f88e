"""Logs of a whole demo run with LOG_FORMAT=json: the demo seeded (`flask seed-demo`), gunicorn serving the pages
billers and admins open (a client searched by name among them), the worker sending every queued claim through the
sandbox. Every line is one JSON object; the request id of the request that queued the submission shows on the
job's lines in the worker's log; and no client name, member ID or diagnosis code is anywhere in them."""
import json
import os
import re
import subprocess
import sys

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Claim, ClaimStatus, Client, InsurancePolicy, SessionNote
from app.seed import DEMO_PASSWORD
from tests.conftest import csrf_token_from
from tests.support.processes import ROOT, running_gunicorn, running_worker, wait_for

pytestmark = pytest.mark.slow


def _env(database_url, redis_url, instance):
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "test-secret-key",
            "PARITY_INSTANCE_PATH": instance, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
            "CLEARINGHOUSE_TICK_SECONDS": "2"}


def _sign_in(base, email):
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30)
    answer = http.post(f"{base}/login", data={"email": email, "password": DEMO_PASSWORD,
                                              "csrf_token": csrf_token_from(page.text)}, timeout=60,
                       allow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    return http


def _phi(app) -> set[str]:
    """What must never be logged: clients' names, member IDs, diagnosis codes."""
    with app.app_context():
        found = set()
        for first, last in db.session.execute(select(Client.first_name, Client.last_name)):
            found |= {first, last}
        found |= set(db.session.scalars(select(InsurancePolicy.member_id)))
        for codes in db.session.scalars(select(SessionNote.diagnosis_codes)):
            found |= set(codes or [])
        db.session.remove()
    return {value for value in found if value and len(value) >= 3}


def test_a_demo_run_logs_json_lines_with_request_ids_and_no_phi(app, database_url, redis_url, tmp_path):
    instance = str(tmp_path / "instance")
    env = _env(database_url, redis_url, instance)
    seeded = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "seed-demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert seeded.returncode == 0, seeded.stderr
    logs = [seeded.stdout, seeded.stderr]
    web_log = tmp_path / "web.log"
    with running_gunicorn(env, web_log, workers=2, config="deploy/gunicorn.conf.py") as base, \
            running_worker(database_url, redis_url, str(tmp_path / "worker"), **{
                key: env[key] for key in ("LOG_FORMAT", "LOG_LEVEL", "CLEARINGHOUSE_TICK_SECONDS")}) as worker:
        names = sorted(_phi(app))
        assert len(names) > 20
        biller = _sign_in(base, "biller@demo.parity")
        last_name = next(name for name in names if name[0].isupper() and name.isalpha())
        for path in ("/", "/claims", "/claims?status=paid", "/claims/denials", "/bills", "/payments", "/clients",
                     f"/clients?q={last_name}", "/remittances", "/reports/revenue", "/reports/aging"):
            assert biller.get(f"{base}{path}", timeout=60).status_code == 200, path
        claims_page = biller.get(f"{base}/claims", timeout=60)
        submitted = biller.post(f"{base}/claims/submit", data={"csrf_token": csrf_token_from(claims_page.text)},
                                timeout=60, allow_redirects=False)
        assert submitted.status_code in (200, 303), submitted.text[:300]
        request_id = submitted.headers["X-Request-ID"]
        admin = _sign_in(base, "admin@demo.parity")
        for path in ("/", "/settings/practice", "/settings/members", "/settings/audit", "/settings/jobs"):
            assert admin.get(f"{base}{path}", timeout=60).status_code == 200, path

        def queued_claims():
            with app.app_context():
                count = db.session.scalar(select(func.count()).select_from(Claim).where(
                    Claim.status == ClaimStatus.QUEUED))
                db.session.remove()
                return count

        wait_for(lambda: queued_claims() == 0, timeout=240, interval=1, what="the worker to send every claim")
        wait_for(lambda: request_id in (tmp_path / "worker" / "worker.log").read_text(), timeout=120,
                 interval=1, what="the submission job's log line")
        assert worker.poll() is None
    web_lines = web_log.read_text().splitlines()
    worker_lines = worker.log.splitlines()
    parsed = {}
    for source, lines in (("web", web_lines), ("worker", worker_lines)):
        parsed[source] = []
        for line in lines:
            if line.strip():
                parsed[source].append(json.loads(line))  # every line is one JSON object
    assert any(entry.get("path") == "/claims/submit" and entry.get("request_id") == request_id
               for entry in parsed["web"])
    job_lines = [entry for entry in parsed["worker"] if entry.get("request_id") == request_id]
    assert any(entry.get("job") == "submit_claims" for entry in job_lines), job_lines
    assert [line for line in web_lines if f"q={last_name}" in line] == []
    everything = "\n".join([*logs, *web_lines, *worker_lines])
    leaked = sorted(name for name in names if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])",
                                                       everything))
    assert leaked == [], f"PHI in the logs: {leaked}"
