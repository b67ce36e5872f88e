"""`make run` as a real process (`bash scripts/run.sh`, the one line `make run` runs: the locked packages installed
when they changed, then the supervisor): it migrates, seeds the demo, starts embedded Redis, a worker
and the web server; the console shows the banner once, last, and then nothing while all is well (the logs go
to instance/logs/); every demo role can sign in; the demo's claims wait for a person's click and then go round
the sandbox loop; Ctrl-C stops everything it started."""
import http.cookiejar
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.conftest import csrf_token_from
from tests.support.processes import ROOT, wait_for

pytestmark = pytest.mark.slow

DEMO_LOGINS = ["admin@demo.parity", "clinician@demo.parity", "clinician2@demo.parity", "biller@demo.parity"]


def parity_processes(instance_path) -> set[int]:
    """The processes of the Parity whose instance folder this is (others may be running tests on the machine):
    every process the supervisor starts inherits its PARITY_INSTANCE_PATH."""
    output = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    candidates = {int(line.split(None, 1)[0]) for line in output.splitlines()
                  if any(part in line for part in ("redis-server", "worker.py", "gunicorn", "app.supervisor"))}
    mark = f"PARITY_INSTANCE_PATH={instance_path}".encode()
    found = set()
    for pid in candidates:
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if mark in environ.read().split(b"\0"):
                    found.add(pid)
        except OSError:
            pass  # gone already
    return found


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def sign_in_over_http(base, email) -> tuple[int, str, urllib.request.OpenerDirector]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = csrf_token_from(opener.open(f"{base}/login", timeout=5).read().decode())
    body = urllib.parse.urlencode({"email": email, "password": "parity-demo-practice", "csrf_token": token}).encode()
    response = opener.open(f"{base}/login", data=body, timeout=10)
    return response.status, response.geturl(), opener


def click_send_queued_claims(base, opener) -> int:
    """What the home page's "Send queued claims now" button posts (without htmx: a redirect to the claims page)."""
    home = opener.open(f"{base}/", timeout=10).read().decode()
    assert "Send queued claims now" in home
    body = urllib.parse.urlencode({"csrf_token": csrf_token_from(home)}).encode()
    return opener.open(f"{base}/claims/submit", data=body, timeout=10).status


def demo_claims(database) -> tuple[set[int], int]:
    """(the ids of the claims Queued For Submission, remittances posted) in the demo's database."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        queued = {row[0] for row in connection.execute("SELECT id FROM claims WHERE status = 'queued'")}
        remittances = connection.execute("SELECT count(*) FROM remittances").fetchone()[0]
    return queued, remittances


BANNER = "Parity is running at"
QUIET_SECONDS = 30


def test_run_command_serves_the_demo_quietly_and_ctrl_c_leaves_no_process_behind(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = tmp_path / "instance"
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "LOG_LEVEL"}}
    env |= {"PARITY_INSTANCE_PATH": str(instance), "PORT": str(port), "WEB_CONCURRENCY": "1"}
    log = open(tmp_path / "run.log", "w")
    supervisor = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    console = tmp_path / "run.log"
    try:
        # First start migrates and seeds six months of history: minutes on a busy machine.
        wait_for(lambda: BANNER in console.read_text() or supervisor.poll() is not None, timeout=300, interval=0.5,
                 what="the banner")
        assert BANNER in console.read_text(), console.read_text()
        # The banner comes when the web server answers and the worker is up: nothing to wait for after it.
        health = get_json(f"{base}/healthz")
        assert health["status"] == "ok" and health["workers"] == 1
        banner_seen, lines_at_banner = time.monotonic(), console.read_text().splitlines()
        openers = {}
        for email in DEMO_LOGINS:
            status, final_url, openers[email] = sign_in_over_http(base, email)
            assert status == 200 and not final_url.endswith("/login"), email
        assert len(parity_processes(instance)) >= 4  # supervisor, redis-server, worker, gunicorn master and worker
        # Idle (the worker ticking every few seconds, sign-ins served): the console says nothing more.
        time.sleep(max(0.0, QUIET_SECONDS - (time.monotonic() - banner_seen)))
        assert console.read_text().splitlines() == lines_at_banner
        logs = tmp_path / "instance" / "logs"
        assert "clearinghouse_tick" in (logs / "worker.log").read_text()
        assert "POST /login" in (logs / "access.log").read_text()
        assert (tmp_path / "instance" / "gunicorn.ctl").exists()  # not in the shared ~/.gunicorn/
        # The demo practice sends on a person's click: after 30 s of ticks its claims are still queued.
        database = tmp_path / "instance" / "parity.sqlite3"
        queued_at_start, remittances_at_start = demo_claims(database)
        assert queued_at_start
        assert click_send_queued_claims(base, openers["biller@demo.parity"]) == 200
        # Then the sandbox takes them round the loop: the 835 comes three polls after sending. (A paid primary
        # may queue a secondary claim, which waits for the next click.)
        wait_for(lambda: not (demo_claims(database)[0] & queued_at_start)
                 and demo_claims(database)[1] > remittances_at_start,
                 timeout=120, interval=2, what="the worker to send the demo's claims and post the sandbox's 835")
    finally:
        supervisor.send_signal(signal.SIGINT)
        returncode = supervisor.wait(timeout=60)
        log.close()
    output = console.read_text()
    assert returncode == 0, output
    assert output.count(BANNER) == 1 and f"{BANNER} {base}/" in output, output
    assert output.count("admin@demo.parity") == 1, output  # the sign-ins printed once
    # Nothing before the banner but the one line saying what is starting; nothing after it but the stop.
    lines = output.splitlines()
    assert lines[0].startswith("parity | starting") and BANNER in lines[1], output
    assert lines[-1] == "parity | stopped", output
    assert "warning" not in output.lower() and "INFO" not in output, output
    wait_for(lambda: not parity_processes(instance), timeout=15, what="every started process to exit")
