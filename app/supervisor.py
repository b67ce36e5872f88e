"""`make run`: Parity on one machine — migrations, demo data, embedded Redis, one worker and the web server.

Ctrl-C (or SIGTERM) stops everything this started: the web server and the worker (each in its own
process group, so nothing they forked is left behind), then the embedded Redis server.

The console stays quiet: the setup steps' output is shown only when one fails, the banner (address and demo
sign-ins) comes once, last, when the web server answers and the worker is up, and after it only problems
appear (app/logs.py; the rest is in instance/logs/). `--verbose` or LOG_LEVEL=INFO shows everything.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app import create_app, logs
from app.redis_conn import start_embedded, stop_embedded
from app.seed import sign_in_help

ROOT = Path(__file__).resolve().parent.parent


def _say(message: str) -> None:
    print(f"parity | {message}", flush=True)


def _flask(*args: str, env: dict, verbose: bool) -> None:
    """One setup command; its output is shown only with --verbose, or when it fails."""
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    if verbose:
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        return
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        print(done.stdout, end="", flush=True)
        raise subprocess.CalledProcessError(done.returncode, command)


def _ready(base: str) -> bool:
    """The web server answers and a worker has registered with Redis (the health check says both)."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return json.load(response).get("workers", 0) >= 1
    except (OSError, ValueError):
        return False


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


def main(argv: list[str] | None = None) -> int:
    verbose = "--verbose" in (sys.argv[1:] if argv is None else argv) or logs.console_level() in ("INFO", "DEBUG")
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    # The demo's sandbox payer answers on every worker tick: every 5 s here, so claims sent with a click move a
    # step every few seconds (production's default tick is 30 s; a real payer takes days).
    env = {"CLEARINGHOUSE_TICK_SECONDS": "5", **os.environ, "FLASK_APP": "app", "PYTHONUNBUFFERED": "1"}
    if verbose:
        env["LOG_LEVEL"] = "INFO"
    env.setdefault("PUBLIC_URL", f"http://{host}:{port}")
    app = create_app()  # reads the environment, creates instance/ and the secret key once
    # Its own lines (the embedded Redis starting and stopping) as the children's: problems on the console only.
    logs.configure(app.instance_path, "supervisor", level="INFO" if verbose else None)
    env["PARITY_INSTANCE_PATH"] = app.instance_path
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_embedded(app.instance_path)
    log_dir = logs.log_dir(app.instance_path)

    children: list[subprocess.Popen] = []
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        _say("starting: database migrations, demo data, Redis, the worker and the web server")
        _flask("db", "upgrade", env=env, verbose=verbose)
        _flask("seed-demo", "--if-empty", env=env, verbose=verbose)
        _flask("reports", "build", env=env, verbose=verbose)  # practices from before the summaries get them once
        # Built once here (seconds, only after an install or upgrade): the web server and the worker then load it.
        _flask("diagnoses", "index", env=env, verbose=verbose)
        children.append(_start("worker", [sys.executable, "worker.py"], env))
        children.append(_start("web", [sys.executable, "-m", "gunicorn", "--config", "python:app.gunicorn_config",
                                       "--bind", f"{host}:{port}", "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
                                       "app:create_app()"], env))
        base = f"http://{host}:{port}"
        banner = False
        while not stopping:
            if not banner and _ready(base):
                banner = True
                _say(f"Parity is running at {base}/  (Ctrl-C stops it)")
                for line in sign_in_help().splitlines():
                    _say(line)
                _say(f"Only problems are shown here from now on; the logs are in {log_dir}/")
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
