"""`make run`'s supervisor as a real process: it migrates, seeds the demo, starts embedded Redis, a worker
and the web server; every demo role can sign in; Ctrl-C stops everything it started."""
import http.cookiejar
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from tests.conftest import csrf_token_from
from tests.support.processes import ROOT, wait_for

pytestmark = pytest.mark.slow

DEMO_LOGINS = ["admin@demo.parity", "clinician@demo.parity", "clinician2@demo.parity", "biller@demo.parity"]


def parity_processes() -> set[int]:
    output = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return {int(line.split(None, 1)[0]) for line in output.splitlines()
            if any(part in line for part in ("redis-server", "worker.py", "gunicorn", "app.supervisor"))}


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def sign_in_over_http(base, email) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = csrf_token_from(opener.open(f"{base}/login", timeout=5).read().decode())
    body = urllib.parse.urlencode({"email": email, "password": "parity-demo-practice", "csrf_token": token}).encode()
    response = opener.open(f"{base}/login", data=body, timeout=10)
    return response.status, response.geturl()


def demo_claims(database) -> tuple[int, int]:
    """(claims still Queued For Submission, remittances posted) in the demo's database."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        queued = connection.execute("SELECT count(*) FROM claims WHERE status = 'queued'").fetchone()[0]
        remittances = connection.execute("SELECT count(*) FROM remittances").fetchone()[0]
    return queued, remittances


def test_run_command_serves_the_demo_and_ctrl_c_leaves_no_process_behind(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = parity_processes()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"PARITY_INSTANCE_PATH": str(tmp_path / "instance"), "PORT": str(port), "WEB_CONCURRENCY": "1"}
    log = open(tmp_path / "run.log", "w")
    supervisor = subprocess.Popen([sys.executable, "-m", "app.supervisor"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for(lambda: (get_json(f"{base}/healthz") or {}).get("workers") == 1 and get_json(f"{base}/healthz"),
                          timeout=90, interval=0.5, what="Parity to start")
        assert health["status"] == "ok"
        for email in DEMO_LOGINS:
            status, final_url = sign_in_over_http(base, email)
            assert status == 200 and not final_url.endswith("/login"), email
        started = parity_processes() - before
        assert len(started) >= 4  # supervisor, redis-server, worker, gunicorn master and worker
        # The demo's claims go round the whole loop with the sandbox on their own, within a couple of minutes.
        database = tmp_path / "instance" / "parity.sqlite3"
        _, remittances_at_start = demo_claims(database)  # the sandbox's 835 comes three polls after sending
        wait_for(lambda: demo_claims(database)[0] == 0 and demo_claims(database)[1] > remittances_at_start,
                 timeout=150, interval=2, what="the worker to submit the demo's claims and post the sandbox's 835")
    finally:
        supervisor.send_signal(signal.SIGINT)
        returncode = supervisor.wait(timeout=60)
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert returncode == 0, output
    assert f"Parity is running at {base}/" in output and "admin@demo.parity" in output
    wait_for(lambda: not (parity_processes() - before), timeout=15, what="every started process to exit")
