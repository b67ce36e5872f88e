"""Real processes for tests: worker.py as Parity runs it."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from app import warm

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


#: The ICD-10-CM index the first worker built, copied into each later worker's fresh instance folder: otherwise
#: every worker started by a test spends seconds building it again before its first job.
_built_index: list[Path] = []


def _seed_index(instance_path: str) -> None:
    target = warm.cache_dir(instance_path)
    if _built_index and not target.exists():
        shutil.copytree(_built_index[0], target)


def _keep_index(instance_path: str) -> None:
    built = warm.cache_dir(instance_path)
    if not _built_index and built.is_dir() and any(built.iterdir()):
        _built_index.append(built)


@contextlib.contextmanager
def running_worker(database_url: str, redis_url: str, instance_path: str, **extra_env):
    """Start `python worker.py` against these servers; stop it with SIGTERM (a warm shutdown) at the end."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PARITY_INSTANCE_PATH": instance_path,
           "SECRET_KEY": "test-secret-key", "LOG_LEVEL": "WARNING", **extra_env}
    log_path = Path(instance_path) / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _seed_index(instance_path)
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    failed = None
    try:
        yield process
    except Exception as error:
        failed = error
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        process.log = log_path.read_text()
        _keep_index(instance_path)
        if failed is not None:  # what the worker was doing is most of what explains a wait that timed out
            failed.add_note("the worker's log ended with:\n" + "\n".join(process.log.splitlines()[-40:]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_gunicorn(env: dict, log_path: Path, *, workers: int = 2, config: str | None = None,
                     options: tuple[str, ...] = ()):
    """gunicorn serving Parity on a free loopback port with this environment; yields its base URL once /healthz
    answers, and stops it (a quick shutdown) at the end. Its output goes to log_path."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", *(["-c", config] if config else []), "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), *options, "app:create_app()"]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=10).status_code == 200
        except requests.RequestException:
            if server.poll() is not None:
                raise AssertionError(f"gunicorn exited: {log_path.read_text()[-2000:]}") from None
            return False

    try:
        wait_for(up, timeout=120, what="gunicorn to answer")
        yield base
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)  # gunicorn's quick shutdown
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
