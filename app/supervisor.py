"""`make run`: Parity on one machine — migrations, demo data, embedded Redis, one worker and the web server.

Ctrl-C (or SIGTERM) stops everything this started: the web server and the worker (each in its own
process group, so nothing they forked is left behind), then the embedded Redis server.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app import create_app
from app.redis_conn import start_embedded, stop_embedded
from app.seed import sign_in_help

ROOT = Path(__file__).resolve().parent.parent


def _say(message: str) -> None:
    print(f"parity | {message}", flush=True)


def _flask(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True)


def _start(name: str, command: list[str], env: dict) -> subprocess.Popen:
    # A new session per child: Ctrl-C reaches only this supervisor, which then stops each group in order.
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    process.name = name
    return process


def _stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything left in the group (forked job horses)
    except ProcessLookupError:
        pass
    process.wait()


def main() -> int:
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    # The demo's sandbox payer answers on every worker tick: every 10 s here, so the whole claim loop plays
    # out in about a minute (production's default tick is 30 s; a real payer takes days).
    env = {"CLEARINGHOUSE_TICK_SECONDS": "10", **os.environ, "FLASK_APP": "app", "PYTHONUNBUFFERED": "1"}
    env.setdefault("PUBLIC_URL", f"http://{host}:{port}")
    app = create_app()  # reads the environment, creates instance/ and the secret key once
    env["PARITY_INSTANCE_PATH"] = app.instance_path
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_embedded(app.instance_path)
        _say(f"embedded Redis on {env['REDIS_URL']}")

    children: list[subprocess.Popen] = []
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        _say("applying database migrations")
        _flask("db", "upgrade", env=env)
        _flask("seed-demo", "--if-empty", env=env)
        _flask("reports", "build", env=env)  # practices from before the reports' summaries get them once
        children.append(_start("worker", [sys.executable, "worker.py"], env))
        children.append(_start("web", [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
                                       "--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--access-logfile", "-",
                                       "app:create_app()"], env))
        _say(f"Parity is running at http://{host}:{port}/  (Ctrl-C stops it)")
        for line in sign_in_help().splitlines():
            _say(line)
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    _say(f"{child.name} exited with status {child.returncode}; stopping")
                    stopping = True
            time.sleep(0.3)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            _stop(child)
        stop_embedded()  # the children are gone, so this process is the last client: the server stops
        _say("stopped")
    return 0 if all(child.returncode in (0, -signal.SIGTERM) for child in children) else 1


if __name__ == "__main__":
    sys.exit(main())
