"""A real Parity server for benchmarks: a fresh instance folder, migrations, the demo practice,
embedded Redis and gunicorn on loopback; plus a keep-alive HTTP client that signs in."""
import contextlib
import http.client
import http.cookies
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def demo_server(workers: int = 1, database_url: str | None = None, config: str | None = "deploy/gunicorn.conf.py"):
    """Yield the base URL of a freshly seeded demo Parity served by gunicorn, with production's settings
    (`config`; None: gunicorn's defaults, without Parity's hooks)."""
    sys.path.insert(0, str(ROOT))
    from app.redis_conn import start_embedded, stop_embedded

    instance = tempfile.mkdtemp(prefix="parity-bench-")
    demo_server.instance = instance
    env = {**os.environ, "PARITY_INSTANCE_PATH": instance, "FLASK_APP": "app"}
    if database_url:
        env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = start_embedded(instance)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    demo_server.started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", *(["-c", config] if config else []), "--bind",
                               f"127.0.0.1:{port}", "--workers", str(workers), "app:create_app()"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        stop_embedded()


class Client:
    """Keep-alive HTTP/1.1 client with a cookie, like a browser tab making htmx requests."""

    def __init__(self, host: str):
        self.connection = http.client.HTTPConnection(host, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookie = header.split(";", 1)[0]
        return response.status, text

    def sign_in(self, email: str, password: str = "parity-demo-practice") -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login", {"email": email, "password": password, "csrf_token": token})
        assert status == 303, f"sign-in failed: {status}"

    def time(self, path: str) -> float:
        started = time.perf_counter()
        status, _ = self.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 200, f"{path} answered {status}"
        return elapsed


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(name: str, samples: list[float]) -> str:
    return (f"{name:<34} n={len(samples):<5} p50={percentile(samples, .5):7.2f} ms  "
            f"p99={percentile(samples, .99):7.2f} ms  mean={statistics.fmean(samples):7.2f} ms")
