"""Mixed load with Locust, headless from Python: billers, clinicians and an admin at once, against gunicorn
(4 workers) on PostgreSQL holding a practice of 100,000 claims, while 2 RQ workers send the demo practice's
claims through the sandbox.

    python bench/bench_load.py                         # 100,000 claims; 10, 25 and 50 users, 60 s each
    python bench/bench_load.py --claims 2000 --users 5 --seconds 20      # a quick check that it works

Billers (on the 100,000-claim practice) page and filter claims, open claims and bills, open the payment form
and record payments; clinicians (on the demo practice, which has the catalog and notes) open their sessions and
type codes and diagnoses into the autocompletes, a request per keystroke; an admin toggles services on and off.
Each simulated user waits 1–3 s between actions. Prints requests per second, p50 and p99 per endpoint and the
errors, for each number of users. Starts its own throwaway PostgreSQL (Debian's binaries) unless DATABASE_URL
names one, and an embedded Redis.
"""
from gevent import monkey  # noqa: I001 - before anything imports ssl or socket: Locust runs on gevent

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "load-bench-password-42"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
#: Filled by main() before the users start: ids the users pick from.
WORLD: dict = {}


class Member(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    email = ""

    def on_start(self):
        page = self.client.get("/login", name="/login")
        token = CSRF.search(page.text).group(1)
        answer = self.client.post("/login", data={"email": self.email, "password": PASSWORD, "csrf_token": token},
                                  name="/login POST", allow_redirects=False)
        if answer.status_code != 303:
            raise RuntimeError(f"{self.email} could not sign in: {answer.status_code}")

    def token(self, path: str, name: str) -> str:
        return CSRF.search(self.client.get(path, name=name).text).group(1)


class Biller(Member):
    weight = 6
    email = "load-biller@bench.parity"

    @task(5)
    def page_claims(self):
        self.client.get(f"/claims?page={random.randint(1, 50)}", name="/claims?page=")

    @task(3)
    def filter_claims(self):
        status = random.choice(["queued", "sent", "paid", "denied", "needs_review"])
        self.client.get(f"/claims?status={status}", name="/claims?status=")

    @task(4)
    def open_claim(self):
        self.client.get(f"/claims/{random.choice(WORLD['claims'])}", name="/claims/<id>")

    @task(3)
    def open_bill(self):
        self.client.get(f"/bills/{random.choice(WORLD['bills'])}", name="/bills/<id>")

    @task(1)
    def record_payment(self):
        token = self.token("/payments/new", "/payments/new")
        self.client.post("/payments/new", name="/payments/new POST", allow_redirects=False, data={
            "csrf_token": token, "client_id": random.choice(WORLD["clients"]), "source": "client", "method": "card",
            "received_on": date.today().isoformat(), "amount": "10.00", "oldest_first": "y"})


class Clinician(Member):
    weight = 3
    email = "clinician@demo.parity"

    @task(2)
    def sessions(self):
        self.client.get("/sessions", name="/sessions")

    @task(4)
    def code_autocomplete(self):
        for prefix in ("9", "90", "908", "9083"):  # one request per keystroke, as the combobox sends them
            self.client.get(f"/codes/search?q={prefix}", name="/codes/search")

    @task(4)
    def diagnosis_autocomplete(self):
        for prefix in ("F", "F4", "F41", "anx"):
            self.client.get(f"/diagnoses/search?q={prefix}", name="/diagnoses/search")


class Admin(Member):
    weight = 1
    email = "admin@demo.parity"

    @task
    def toggle_service(self):
        service = random.choice(WORLD["services"])
        token = self.token("/settings/services", "/settings/services")
        self.client.post(f"/settings/services/{service}/toggle", data={"csrf_token": token},
                         name="/settings/services/<id>/toggle", allow_redirects=False)


def _flask(env, *args):
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def _prepare(claims: int, env: dict) -> None:
    """Migrations, the demo (the clinician's and admin's practice), the 100,000-claim practice and its biller."""
    from app import create_app  # noqa: PLC0415 - after the environment is set for this run
    from app.extensions import db  # noqa: PLC0415
    from app.models import Bill, Claim, Client, Practice, ServiceCode  # noqa: PLC0415
    from bench.generate import generate  # noqa: PLC0415

    _flask(env, "db", "upgrade")
    _flask(env, "seed-demo")
    for key in ("DATABASE_URL", "REDIS_URL", "PARITY_INSTANCE_PATH", "SECRET_KEY"):
        os.environ[key] = env[key]
    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        practice_id = generate(claims)
        print(f"generated {claims} claims in {time.perf_counter() - started:.0f} s")
        demo = db.session.scalar(db.select(Practice.id).where(Practice.id != practice_id).order_by(Practice.id))
        sample = lambda model, pid: db.session.scalars(  # noqa: E731
            db.select(model.id).where(model.practice_id == pid).order_by(db.func.random()).limit(500)).all()
        WORLD.update(claims=sample(Claim, practice_id), bills=sample(Bill, practice_id),
                     clients=sample(Client, practice_id), services=sample(ServiceCode, demo)[:5])
        db.session.remove()
    _flask(env, "users", "create", "--practice", str(practice_id), "--email", Biller.email, "--role", "biller",
           "--name", "Load Biller", "--password", PASSWORD)
    for email in (Clinician.email, Admin.email):
        _flask(env, "users", "set-password", email, "--password", PASSWORD)


def _run(host: str, users: int, seconds: int, warmup: int) -> list[str]:
    environment = Environment(user_classes=[Biller, Clinician, Admin], host=host)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=max(1, users / 5))
    gevent.sleep(warmup)  # every user spawned and signed in (argon2 is slow on purpose): not measured
    environment.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    stats = environment.stats
    lines = [f"-- {users} users, {seconds} s: {stats.total.num_requests} requests, "
             f"{stats.total.total_rps:.1f} req/s, {stats.total.num_failures} errors"]
    for (name, method), entry in sorted(stats.entries.items()):
        p50, p99 = entry.get_response_time_percentile(0.5), entry.get_response_time_percentile(0.99)
        lines.append(f"   {method:<4} {name:<34} n={entry.num_requests:<6} rps={entry.total_rps:6.2f} "
                     f"p50={p50:6.0f} ms p99={p99:6.0f} ms errors={entry.num_failures}")
    for error in stats.errors.values():
        lines.append(f"   error x{error.occurrences}: {error.method} {error.name}: {error.error}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--users", default="10,25,50")
    parser.add_argument("--seconds", type=int, default=60, help="measured, per number of users")
    parser.add_argument("--warmup", type=int, default=20, help="spawning and signing in, not measured")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--rq-workers", type=int, default=2)
    args = parser.parse_args()
    from app.redis_conn import start_embedded, stop_embedded  # noqa: PLC0415 - after gevent's patching
    from tests.support import postgres  # noqa: PLC0415

    instance = tempfile.mkdtemp(prefix="parity-load-")
    server = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        server = postgres.start()
        database_url = server.create_database("parity_load")
    env = {**os.environ, "DATABASE_URL": database_url, "PARITY_INSTANCE_PATH": instance, "LOG_LEVEL": "WARNING",
           "SECRET_KEY": os.environ.get("SECRET_KEY", "load-bench-secret"), "REDIS_URL": start_embedded(instance),
           "CLEARINGHOUSE_TICK_SECONDS": "5"}
    processes = []
    try:
        _prepare(args.claims, env)
        port = postgres._free_port()
        processes.append(subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                           "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
                                           "app:create_app()"], cwd=ROOT, env=env, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes += [subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(args.rq_workers)]
        host = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        import requests  # noqa: PLC0415 - patched by gevent above

        while True:
            try:
                if requests.get(f"{host}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer")
            time.sleep(0.5)
        print(f"{args.claims} claims, gunicorn x{args.web_workers}, {args.rq_workers} RQ workers, "
              f"think time 1-3 s; {os.cpu_count()} CPUs")
        for users in (int(value) for value in args.users.split(",")):
            print("\n".join(_run(host, users, args.seconds, args.warmup)), flush=True)
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, 15)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, 9)
        stop_embedded()
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
