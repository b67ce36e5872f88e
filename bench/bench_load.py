"""Mixed load with Locust, headless from Python: billers, clinicians and an admin at once, against gunicorn
(4 workers, deploy/gunicorn.conf.py) on PostgreSQL holding a practice of 100,000 claims, while 2 RQ workers send
the demo practice's claims through the sandbox.

    python bench/bench_load.py                         # 100,000 claims; 10, 25 and 50 users, 60 s each
    python bench/bench_load.py --claims 2000 --users 5 --seconds 20      # a quick check that it works
    python bench/bench_load.py --keep /var/tmp/parity-load --single      # generate once, keep it, run again

Billers (on the 100,000-claim practice) page and filter claims, open claims and bills, open the payment form
and record payments; clinicians (on the demo practice, which has the catalog and notes) open their sessions, type
codes and diagnoses into the autocompletes, a request per keystroke, and Mark Session Complete on a scheduled
session of their own and sign its note with a diagnosis (each session once: they are booked before the run); an
admin toggles services on and off. Each simulated user waits 1–3 s between actions. Prints requests per second,
p50 and p99 per endpoint and the errors, for each number of users; with --single, first each biller page's
single-user time (one request at a time).

Starts its own throwaway PostgreSQL (Debian's binaries) unless DATABASE_URL names one, and an embedded Redis.
With --keep DIR the PostgreSQL data and the instance folder stay in DIR: a later run with the same DIR (or a
DATABASE_URL where this benchmark already ran) skips migrations, the demo and the generation, and only books
new sessions for the clinicians.
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
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402 - patched by gevent above
from locust import between, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpUser  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "load-bench-password-42"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
#: Filled by main() before the users start: ids the users pick from. "sessions" are popped, so each scheduled
#: session is completed once however many clinicians run.
WORLD: dict = {}
#: The service the clinicians bill (60-minute sessions): the admin leaves it on.
CLINICIAN_CODE = "90837"
#: gunicorn's workers this run (set by main()).
WEB_WORKERS = [4]
SESSION_MINUTES = 60


class Member(FastHttpUser):
    """geventhttpclient rather than requests: the load runs on the 2 CPUs it measures, and Locust's requests-based
    client spent several times the CPU per request (Locust's own advice for load on one machine)."""
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


def _payment(token: str) -> dict:
    """A $10 card payment from one of the generated clients, applied to the oldest bills first."""
    return {"csrf_token": token, "client_id": random.choice(WORLD["clients"]), "source": "client", "method": "card",
            "received_on": WORLD["today"], "amount": "10.00", "oldest_first": "y"}


class Biller(Member):
    weight = 6
    email = "load-biller@bench.parity"

    @task(5)
    def page_claims(self):  # keyset pages: the next page starts before the last claim shown
        self.client.get(f"/claims?before={random.choice(WORLD['claims'])}", name="/claims?before=")

    @task(3)
    def filter_claims(self):
        status = random.choice(["Queued For Submission", "Sent", "Paid", "Denied", "Needs Review"])
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
        self.client.post("/payments/new", name="/payments/new POST", allow_redirects=False, data=_payment(token))


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

    @task(2)
    def complete_session(self):
        """Mark Session Complete as a clinician does it: the form, the code typed into its autocomplete, the
        post; then the note, a diagnosis typed and chosen, Save and sign (the bill, and for an insured client the
        claim the workers send)."""
        if not WORLD["sessions"]:  # every booked session is done: a run longer than planned reads instead
            self.client.get("/sessions", name="/sessions")
            return
        session_id = WORLD["sessions"].pop()
        token = self.token(f"/sessions/{session_id}/complete", "/sessions/<id>/complete")
        for prefix in ("9", "90", "908", "9083"):
            self.client.get(f"/codes/search?q={prefix}", name="/codes/search")
        self.client.post(f"/sessions/{session_id}/complete", name="/sessions/<id>/complete POST",
                         allow_redirects=False, data={
                             "csrf_token": token, "minutes": SESSION_MINUTES, "time_correction_note": "",
                             "lower_code_reason": "", "lines-0-code": CLINICIAN_CODE, "lines-0-description": "",
                             "lines-0-units": "1", "lines-0-price": "", "lines-0-modifiers": ""})
        token = self.token(f"/sessions/{session_id}/note", "/sessions/<id>/note")
        for prefix in ("F", "F4", "F41", "F41.1"):
            self.client.get(f"/diagnoses/search?q={prefix}", name="/diagnoses/search")
        self.client.post(f"/sessions/{session_id}/note", name="/sessions/<id>/note POST", allow_redirects=False,
                         data={"csrf_token": token, "body": "Reviewed the week; practiced the coping plan.",
                               "diagnoses": "F41.1", "action": "sign"})


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


def _prepare(claims: int, sessions: int, env: dict) -> None:
    """Migrations, the demo (the clinician's and admin's practice), the 100,000-claim practice and its biller,
    unless an earlier run left them in this database; then `sessions` scheduled sessions for the clinicians to
    complete, and the ids the users pick from."""
    from app import audit, create_app  # noqa: PLC0415 - after the environment is set for this run
    from app.billing import dates  # noqa: PLC0415
    from app.extensions import db  # noqa: PLC0415
    from app.models import Bill, Claim, Client, Member, Practice, ServiceCode, SessionStatus  # noqa: PLC0415
    from app.seed_sessions import record_session  # noqa: PLC0415
    from bench.generate import generate  # noqa: PLC0415

    for key in ("DATABASE_URL", "REDIS_URL", "PARITY_INSTANCE_PATH", "SECRET_KEY"):
        os.environ[key] = env[key]
    _flask(env, "db", "upgrade")
    app = create_app()
    audit.set_default(audit.Origin("cli"))
    with app.app_context():
        biller = db.session.scalar(db.select(Member).where(Member.email == Biller.email))
        if biller is None:
            _flask(env, "seed-demo")
            started = time.perf_counter()
            practice_id = generate(claims)
            print(f"generated {claims} claims in {time.perf_counter() - started:.0f} s", flush=True)
            started = time.perf_counter()
            # As after an upgrade: built now, or a worker would build them while the load is measured.
            _flask(env, "reports", "build")
            print(f"built its report summaries in {time.perf_counter() - started:.0f} s", flush=True)
            _flask(env, "users", "create", "--practice", str(practice_id), "--email", Biller.email, "--role",
                   "biller", "--name", "Load Biller", "--password", PASSWORD)
            for email in (Clinician.email, Admin.email):
                _flask(env, "users", "set-password", email, "--password", PASSWORD)
        else:
            practice_id = biller.practice_id
            found = db.session.scalar(db.select(db.func.count()).where(Claim.practice_id == practice_id))
            print(f"reusing the practice of {found} claims generated by an earlier run", flush=True)
        clinician = db.session.scalar(db.select(Member).where(Member.email == Clinician.email))
        demo = db.session.get(Practice, clinician.practice_id)
        sample = lambda model, pid: db.session.scalars(  # noqa: E731
            db.select(model.id).where(model.practice_id == pid).order_by(db.func.random()).limit(500)).all()
        WORLD.update(today=dates.practice_today(practice_id).isoformat(),  # a payment dated by the machine's
                     # clock is "in the future" in the evening where the practice is
                     claims=sample(Claim, practice_id), bills=sample(Bill, practice_id),
                     clients=sample(Client, practice_id),
                     services=db.session.scalars(db.select(ServiceCode.id).where(
                         ServiceCode.practice_id == demo.id, ServiceCode.code != CLINICIAN_CODE)
                         .order_by(db.func.random()).limit(5)).all(),
                     sessions=_book_sessions(demo, clinician, sessions, record_session, SessionStatus.SCHEDULED))
        db.session.remove()


def _book_sessions(practice, clinician, count: int, record_session, scheduled) -> list[int]:
    """`count` scheduled sessions of the clinician's own clients, all in the past (only a session that has
    started can be completed), booked through the same rules as the schedule; shuffled."""
    from app.extensions import db  # noqa: PLC0415 - after the environment is set for this run
    from app.billing import dates  # noqa: PLC0415
    from app.models import Client, InsurancePolicy  # noqa: PLC0415

    started = time.perf_counter()
    clients = db.session.scalars(db.select(Client).where(
        Client.practice_id == practice.id, Client.primary_clinician_id == clinician.id,
        Client.id.in_(db.select(InsurancePolicy.client_id))).order_by(Client.id)).all()
    today = dates.today(practice.timezone)
    ids = []
    for n in range(count):  # one an hour, 7:00 to 20:00, back from yesterday
        day, hour = today - timedelta(days=1 + n // 14), 7 + n % 14
        ids.append(record_session(practice, day, hour, clients[n % len(clients)], clinician, SESSION_MINUTES,
                                  None, [], [], status=scheduled).id)
    db.session.commit()
    random.shuffle(ids)
    print(f"booked {count} sessions for the clinicians in {time.perf_counter() - started:.0f} s", flush=True)
    return ids


def _single_user(host: str, rounds: int) -> list[str]:
    """Each biller page alone, one request at a time: what a request costs before any contention."""
    session = requests.Session()
    token = CSRF.search(session.get(f"{host}/login").text).group(1)
    answer = session.post(f"{host}/login", allow_redirects=False,
                          data={"email": Biller.email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.status_code
    statuses = ["Queued For Submission", "Sent", "Paid", "Denied", "Needs Review", "In process", "Received"]

    def payment():
        token = CSRF.search(session.get(f"{host}/payments/new").text).group(1)
        return session.post(f"{host}/payments/new", allow_redirects=False, data=_payment(token))

    pages = {
        "/claims": lambda: session.get(f"{host}/claims"),
        "/claims?before=": lambda: session.get(f"{host}/claims", params={"before": random.choice(WORLD["claims"])}),
        "/claims?status=": lambda: session.get(f"{host}/claims", params={"status": random.choice(statuses)}),
        "/claims/<id>": lambda: session.get(f"{host}/claims/{random.choice(WORLD['claims'])}"),
        "/bills/<id>": lambda: session.get(f"{host}/bills/{random.choice(WORLD['bills'])}"),
        "/payments/new": lambda: session.get(f"{host}/payments/new"),
        "/payments/new + POST": payment,
    }
    lines = [f"-- single user, {rounds} requests each (ms)"]
    for name, fetch in pages.items():
        for _ in range(2 * WEB_WORKERS[0]):  # the first in each gunicorn worker compiles templates: not counted
            fetch()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            answer = fetch()
            samples.append((time.perf_counter() - started) * 1000)
            if answer.status_code >= 400:
                raise RuntimeError(f"{name} answered {answer.status_code}")
        samples.sort()
        lines.append(f"   {name:<34} p50={samples[len(samples) // 2]:6.0f} ms "
                     f"p90={samples[int(len(samples) * .9)]:6.0f} ms max={samples[-1]:6.0f} ms")
    return lines


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
        if not entry.num_requests:  # signing in, done during the warm-up
            continue
        p50, p99 = entry.get_response_time_percentile(0.5), entry.get_response_time_percentile(0.99)
        lines.append(f"   {method:<4} {name:<34} n={entry.num_requests:<6} rps={entry.total_rps:6.2f} "
                     f"p50={p50:6.0f} ms p99={p99:6.0f} ms errors={entry.num_failures}")
    for error in stats.errors.values():
        lines.append(f"   error x{error.occurrences}: {error.method} {error.name}: {error.error}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--users", default="10,25,50", help="numbers of users, one run each; empty: none")
    parser.add_argument("--seconds", type=int, default=60, help="measured, per number of users")
    parser.add_argument("--warmup", type=int, default=20, help="spawning and signing in, not measured")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--keep", metavar="DIR", help="keep PostgreSQL's data and the instance folder in DIR "
                                                      "and reuse what an earlier run left there")
    parser.add_argument("--single", action="store_true", help="first time each biller page alone")
    parser.add_argument("--single-rounds", type=int, default=20)
    args = parser.parse_args()
    from app.redis_conn import start_embedded, stop_embedded  # noqa: PLC0415 - after gevent's patching
    from tests.support import postgres  # noqa: PLC0415

    users = [int(value) for value in args.users.split(",") if value.strip()]
    WEB_WORKERS[0] = args.web_workers
    # Enough for the clinicians' share of the users to complete one every few seconds for the whole run.
    sessions = max(20, sum(users) * (args.seconds + args.warmup) // 10)
    if args.keep:
        instance = os.path.join(os.path.abspath(args.keep), "instance")
        os.makedirs(instance, exist_ok=True)
    else:
        instance = tempfile.mkdtemp(prefix="parity-load-")
    server = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        server = postgres.start(base=os.path.join(os.path.abspath(args.keep), "postgres") if args.keep else None)
        database_url = server.ensure_database("parity_load")
    env = {**os.environ, "DATABASE_URL": database_url, "PARITY_INSTANCE_PATH": instance, "LOG_LEVEL": "WARNING",
           "SECRET_KEY": os.environ.get("SECRET_KEY", "load-bench-secret"), "REDIS_URL": start_embedded(instance),
           "CLEARINGHOUSE_TICK_SECONDS": "5"}
    processes = []
    try:
        _prepare(args.claims, sessions, env)
        port = postgres._free_port()
        processes.append(subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                           "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
                                           "app:create_app()"], cwd=ROOT, env=env, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # Niced, as deploy/systemd/parity-worker@.service runs them: claims can wait; a person at a page cannot.
        processes += [subprocess.Popen(["nice", "-n", "10", sys.executable, "worker.py"], cwd=ROOT, env=env, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(args.rq_workers)]
        host = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
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
              f"think time 1-3 s; {os.cpu_count()} CPUs; {len(WORLD['sessions'])} sessions to complete", flush=True)
        if args.single:
            print("\n".join(_single_user(host, args.single_rounds)), flush=True)
        for count in users:
            left = len(WORLD["sessions"])
            print("\n".join(_run(host, count, args.seconds, args.warmup)), flush=True)
            print(f"   sessions completed: {left - len(WORLD['sessions'])}", flush=True)
        if users and not WORLD["sessions"]:
            print("   every booked session was completed: the clinicians read /sessions for the rest", flush=True)
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
