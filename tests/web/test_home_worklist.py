"""The home page's work list: for each role, what needs action now, each a count that links to its filtered
list; every count is the number of rows that list shows, a clinician counts only their own records, and the
failed-jobs page is for admins."""
import html as html_lib
import re
from datetime import datetime, timedelta, timezone

import pytest
import redis
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result

from app import jobs
from app.billing import era
from app.extensions import db
from app.models import AuditEvent, Bill, Claim, JobProblem, Practice, Role
from app.models.types import utcnow
from app.x12 import inbound
from tests.conftest import csrf_token_from
from tests.support.days import local_today
from tests.support.insurance import claim_payment, insured, remittance_text

#: The list each item links to, and how one of its rows starts.
ROW_MARKERS = {
    "needs_review": '<tr id="claim-row-',
    "denials": '<tr id="denial-',
    "unmatched": '<tr id="unmatched-row-',
    "overdue_bills": '<tr id="bill-row-',
    "sessions_not_complete": '<tr id="session-',
    "unsigned_notes": '<tr id="session-',
    "failed_jobs": ('<tr id="job-problem-', '<tr id="failed-job-'),
}
BILLER_KEYS = ["needs_review", "denials", "unmatched", "overdue_bills", "sessions_not_complete", "unsigned_notes"]
CLINICIAN_KEYS = ["needs_review", "sessions_not_complete", "unsigned_notes"]


def update(app, model, record_id: int, **values) -> None:
    with app.app_context():
        row = db.session.get(model, record_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def post_835(app, practice_id: int, payments) -> None:
    with app.app_context():
        era.import_835(db.session.get(Practice, practice_id), remittance_text(payments), source="upload")
        db.session.commit()


def fail_job(app, func, *args, error: str = "ClearinghouseUnavailable: the clearinghouse did not answer") -> str:
    """A job RQ gave up on, recorded as RQ's worker records one: in the FailedJobRegistry, with a failed Result."""
    with app.app_context():
        queue = jobs.queue()
        job = Job.create(func, args=args, connection=queue.connection, origin=queue.name)
        job.ended_at = utcnow()
        traceback = f"Traceback (most recent call last):\n  File \"app/jobs.py\", line 1, in run\n{error}\n"
        pipeline = queue.connection.pipeline()
        FailedJobRegistry(queue=queue).add(job, ttl=3600, exc_string=traceback, pipeline=pipeline)
        Result.create_failure(job, 3600, exc_string=traceback, pipeline=pipeline)
        pipeline.execute()
        return job.id


def work_list(client) -> dict[str, tuple[int | None, str]]:
    """The home page's items: key → (count, the URL it links to)."""
    response = client.get("/")
    assert response.status_code == 200
    found = re.findall(r'<a id="work-([a-z-]+)" href="([^"]+)"><strong class="work-count"[^>]*>([^<]+)</strong>',
                       response.get_data(as_text=True))
    return {key.replace("-", "_"): (int(count) if count.isdigit() else None, html_lib.unescape(url))
            for key, url, count in found}


def rows_listed(client, key: str, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, f"{key}: {url} answered {response.status_code}"
    page = response.get_data(as_text=True)
    markers = ROW_MARKERS[key]
    return sum(page.count(marker) for marker in (markers if isinstance(markers, tuple) else (markers,)))


def assert_lists_match(client, items: dict) -> None:
    for key, (count, url) in items.items():
        assert rows_listed(client, key, url) == count, f"{key}: the home page says {count}, {url} lists otherwise"


@pytest.fixture
def world(make, app):
    """A practice with two clinicians and something of every kind to do, and another practice with its own."""
    world = insured(make, app)
    practice, casey = world.practice, world.clinician
    robin = make.member(practice, Role.CLINICIAN, name="Robin Other, LCSW")
    mine = make.client(practice, first_name="Mina", primary_clinician_id=casey.id)
    theirs = make.client(practice, first_name="Theo", primary_clinician_id=robin.id)
    now = datetime.now(timezone.utc).replace(microsecond=0)

    # Claims in Needs Review: two of Casey's, one of Robin's.
    review = [make.claim(make.bill(mine, casey), status="needs_review").id for _ in range(2)]
    review.append(make.claim(make.bill(theirs, robin), status="needs_review").id)

    # Three claims denied by the payer's 835 (one of them already worked), and a claim payment that is not ours.
    denied = [world.claim() for _ in range(3)]
    with app.app_context():
        payments = [claim_payment(db.session.get(Claim, claim_id), status="4") for claim_id in denied]
        paid = claim_payment(db.session.get(Claim, denied[0]))
        stray = inbound.ClaimPayment(**{**{f: getattr(paid, f) for f in paid.__slots__},
                                        "patient_control_number": "NOT-OURS-1"})
    post_835(app, practice.id, [*payments, stray])
    update(app, Claim, denied[2], denial_action="appealed", denial_worked_at=utcnow())

    # Bills: two Open past their due date; Open due today, Open not yet due, Pended and Complete are not.
    yesterday, today = local_today() - timedelta(days=1), local_today()
    overdue = []
    for status, due in [("open", yesterday - timedelta(days=30)), ("open", yesterday), ("open", today),
                        ("open", today + timedelta(days=20)), ("pended", yesterday), ("complete", yesterday)]:
        bill = make.bill(mine, casey, status=status)
        update(app, Bill, bill.id, due_date=due)
        if status == "open" and due < today:
            overdue.append(bill.id)

    # Sessions: past and still Scheduled (two of Casey's, one of Robin's); a future one, one under way and a
    # cancelled one are not.
    not_complete = [make.session(mine, casey, starts_at=now - timedelta(days=days)).id for days in (1, 8)]
    not_complete.append(make.session(theirs, robin, starts_at=now - timedelta(days=2)).id)
    make.session(mine, casey, starts_at=now + timedelta(days=2))
    make.session(mine, casey, starts_at=now - timedelta(minutes=10))
    make.session(mine, casey, starts_at=now - timedelta(days=3), status="cancelled")

    # Completed sessions whose note is not signed: no note, a draft (Casey's); a draft (Robin's). The claims'
    # sessions above are completed and signed.
    unsigned = [make.session(mine, casey, starts_at=now - timedelta(days=4), status="completed").id]
    draft = make.session(mine, casey, starts_at=now - timedelta(days=5), status="completed")
    make.note(draft)
    unsigned.append(draft.id)
    robins_draft = make.session(theirs, robin, starts_at=now - timedelta(days=6), status="completed")
    make.note(robins_draft)
    unsigned.append(robins_draft.id)

    # Background jobs: two unresolved problems and one cleared; one job RQ gave up on.
    problems = [make.save(JobProblem(practice_id=practice.id, job="fetch_remittances", will_retry=True,
                                     message="Claim.MD did not answer (timeout)")).id,
                make.save(JobProblem(practice_id=practice.id, job="submit_claims", will_retry=False,
                                     message="Claim.MD refused the AccountKey")).id]
    make.save(JobProblem(practice_id=practice.id, job="poll_status", message="old", cleared_at=utcnow()))
    failed = fail_job(app, jobs.poll_status, practice.id)

    # Another practice's work counts for nobody here.
    elsewhere = make.practice()
    other_clinician = make.member(elsewhere, Role.CLINICIAN)
    other_client = make.client(elsewhere, primary_clinician_id=other_clinician.id)
    make.claim(make.bill(other_client, other_clinician), status="needs_review")
    make.remittance_claim(elsewhere.id)
    update(app, Bill, make.bill(other_client, other_clinician, status="open").id, due_date=yesterday)
    make.session(other_client, other_clinician)
    make.save(JobProblem(practice_id=elsewhere.id, job="poll_status", message="theirs"))
    fail_job(app, jobs.fetch_remittances, elsewhere.id, error="ValueError: another practice's secret")

    world.robin, world.elsewhere = robin, elsewhere
    world.ids = {"review": review, "denied": denied, "overdue": overdue, "not_complete": not_complete,
                 "unsigned": unsigned, "problems": problems, "failed": failed}
    return world


def test_admin_sees_every_count_and_each_list_shows_that_many_rows(app, client, make, sign_in, world):
    sign_in(make.member(world.practice, Role.ADMIN))
    items = work_list(client)
    assert {key: count for key, (count, _) in items.items()} == {
        "needs_review": 3, "denials": 2, "unmatched": 1, "overdue_bills": 2, "sessions_not_complete": 3,
        "unsigned_notes": 3, "failed_jobs": 3}
    assert items["overdue_bills"][1] == "/bills?status=Open&overdue=1"
    assert items["sessions_not_complete"][1] == "/sessions?status=scheduled&past=1"
    assert items["unsigned_notes"][1] == "/sessions?unsigned=1"
    assert items["failed_jobs"][1] == "/settings/jobs"
    assert_lists_match(client, items)
    bills = client.get(items["overdue_bills"][1]).get_data(as_text=True)
    assert all(f'id="bill-row-{bill_id}"' in bills for bill_id in world.ids["overdue"])
    sessions = client.get(items["sessions_not_complete"][1]).get_data(as_text=True)
    assert all(f'id="session-{session_id}"' in sessions for session_id in world.ids["not_complete"])
    notes = client.get(items["unsigned_notes"][1]).get_data(as_text=True)
    assert all(f'id="session-{session_id}"' in notes for session_id in world.ids["unsigned"])
    assert "Nothing needs your attention" not in client.get("/").get_data(as_text=True)


def test_biller_sees_the_money_and_the_practices_sessions_but_not_failed_jobs(app, client, make, sign_in, world):
    sign_in(make.member(world.practice, Role.BILLER))
    items = work_list(client)
    assert list(items) == BILLER_KEYS
    assert {key: count for key, (count, _) in items.items()} == {
        "needs_review": 3, "denials": 2, "unmatched": 1, "overdue_bills": 2, "sessions_not_complete": 3,
        "unsigned_notes": 3}
    assert_lists_match(client, items)


def test_each_clinician_counts_only_their_own_sessions_notes_and_claims(app, client, sign_in, world):
    sign_in(world.clinician)
    casey = work_list(client)
    assert list(casey) == CLINICIAN_KEYS
    assert {key: count for key, (count, _) in casey.items()} == {
        "needs_review": 2, "sessions_not_complete": 2, "unsigned_notes": 2}
    assert_lists_match(client, casey)
    page = client.get("/").get_data(as_text=True)
    assert "Your past sessions not marked complete" in page and "Denied claims" not in page
    listed = client.get(casey["sessions_not_complete"][1]).get_data(as_text=True)
    assert f'id="session-{world.ids["not_complete"][2]}"' not in listed  # Robin's
    listed = client.get(casey["needs_review"][1]).get_data(as_text=True)
    assert sorted(map(int, re.findall(r'id="claim-row-(\d+)"', listed))) == world.ids["review"][:2]  # not Robin's

    sign_in(world.robin)
    robin = work_list(client)
    assert {key: count for key, (count, _) in robin.items()} == {
        "needs_review": 1, "sessions_not_complete": 1, "unsigned_notes": 1}
    assert_lists_match(client, robin)
    listed = client.get(robin["unsigned_notes"][1]).get_data(as_text=True)
    assert f'id="session-{world.ids["unsigned"][2]}"' in listed
    assert f'id="session-{world.ids["unsigned"][0]}"' not in listed  # Casey's


def test_a_practice_with_nothing_to_do_is_told_so_and_zero_counts_stay_linked(app, client, make, sign_in):
    admin = make.member(make.practice(), Role.ADMIN)
    sign_in(admin)
    page = client.get("/").get_data(as_text=True)
    assert "Nothing needs your attention" in page
    items = work_list(client)
    assert len(items) == 7 and all(count == 0 for count, _ in items.values())
    assert_lists_match(client, items)


def test_failed_jobs_page_and_its_actions_are_for_admins_only(app, client, make, sign_in, world):
    for role in (Role.BILLER, Role.CLINICIAN):
        sign_in(make.member(world.practice, role))
        assert client.get("/settings/jobs").status_code == 403
        assert client.post("/settings/jobs/resolve", data={"problem": world.ids["problems"][0]}).status_code == 403
        assert client.post("/settings/jobs/dismiss", data={"job": world.ids["failed"]}).status_code == 403
        assert "/settings/jobs" not in client.get("/").get_data(as_text=True)
    sign_in(make.member(world.practice, Role.ADMIN))
    page = client.get("/settings/jobs").get_data(as_text=True)
    assert "Claim.MD did not answer (timeout)" in page and "Yes: the worker tries again on its own" in page
    assert "Reading acknowledgements from the clearinghouse" in page
    assert "ClearinghouseUnavailable: the clearinghouse did not answer" in page
    assert "another practice's secret" not in page and "theirs" not in page
    nav = re.findall(r'<nav class="subnav" aria-label="Settings">.*?</nav>', page, re.S)[0]
    assert '<a href="/settings/jobs" aria-current="page">Jobs</a>' in nav


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_an_admin_marks_a_problem_resolved_with_a_csrf_checked_post(app, client, make, sign_in, world):
    sign_in(make.member(world.practice, Role.ADMIN))
    problem = world.ids["problems"][0]
    assert client.post("/settings/jobs/resolve", data={"problem": problem}).status_code == 400
    token = csrf_token_from(client.get("/settings/jobs").get_data(as_text=True))
    response = client.post("/settings/jobs/resolve", data={"problem": problem, "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/settings/jobs"
    with app.app_context():
        assert db.session.get(JobProblem, problem).cleared_at is not None
        assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.object_id == problem,
                                                                    AuditEvent.object_type == "job_problems")) \
            == "job_problem.resolved"
    assert f'id="job-problem-{problem}"' not in client.get("/settings/jobs").get_data(as_text=True)
    items = work_list(client)
    assert items["failed_jobs"][0] == 2
    assert_lists_match(client, {"failed_jobs": items["failed_jobs"]})
    other = client.post("/settings/jobs/resolve", data={"problem": _problem_of(app, world.elsewhere.id),
                                                        "csrf_token": token})
    assert other.status_code == 404


def _problem_of(app, practice_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(JobProblem.id).where(JobProblem.practice_id == practice_id))


def test_an_admin_dismisses_a_failed_job_but_not_another_practices(app, client, make, sign_in, world):
    sign_in(make.member(world.practice, Role.ADMIN))
    with app.app_context():
        ids = FailedJobRegistry(queue=jobs.queue()).get_job_ids()
    theirs = next(job_id for job_id in ids if job_id != world.ids["failed"])
    assert client.post("/settings/jobs/dismiss", data={"job": theirs}).status_code == 404
    response = client.post("/settings/jobs/dismiss", data={"job": world.ids["failed"]})
    assert response.status_code == 303
    with app.app_context():
        assert FailedJobRegistry(queue=jobs.queue()).get_job_ids() == [theirs]
    assert work_list(client)["failed_jobs"][0] == 2


def test_jobs_of_the_whole_installation_show_only_when_it_has_one_practice(app, client, make, sign_in):
    practice = make.practice()
    sign_in(make.member(practice, Role.ADMIN))
    fail_job(app, jobs.clearinghouse_tick, error="RuntimeError: the scheduler lost its connection")
    assert work_list(client)["failed_jobs"][0] == 1
    assert "the scheduler lost its connection" in client.get("/settings/jobs").get_data(as_text=True)
    make.practice()
    assert work_list(client)["failed_jobs"][0] == 0
    assert "the scheduler lost its connection" not in client.get("/settings/jobs").get_data(as_text=True)


def test_failed_email_and_bill_jobs_belong_to_the_practice_of_their_record(app, client, make, sign_in):
    ours, theirs = make.practice(), make.practice()
    sign_in(make.member(ours, Role.ADMIN))
    fail_job(app, jobs.send_bill, make.bill(make.client(ours)).id, "send-key-1", error="OSError: SMTP refused")
    fail_job(app, jobs.deliver_email, make.email(theirs).id, error="OSError: their mail server")
    items = work_list(client)
    assert items["failed_jobs"][0] == 1
    assert_lists_match(client, {"failed_jobs": items["failed_jobs"]})
    page = client.get("/settings/jobs").get_data(as_text=True)
    assert "Emailing a bill" in page and "OSError: SMTP refused" in page and "their mail server" not in page


def test_home_still_renders_when_redis_does_not_answer(app, client, make, sign_in, monkeypatch):
    sign_in(make.member(make.practice(), Role.ADMIN))
    # A real Redis client for an address where nothing listens: every command is refused.
    monkeypatch.setitem(app.extensions, "parity_redis", redis.Redis.from_url("redis://127.0.0.1:1",
                                                                             socket_connect_timeout=1))
    items = work_list(client)
    assert items["failed_jobs"][0] is None and items["needs_review"][0] == 0
    page = client.get("/settings/jobs")
    assert page.status_code == 200 and "Redis did not answer" in page.get_data(as_text=True)


def test_the_new_filters_leave_the_lists_as_they_were(app, client, make, sign_in, world):
    sign_in(make.member(world.practice, Role.BILLER))
    assert rows_listed(client, "overdue_bills", "/bills?status=Open") == 4  # overdue or not
    assert rows_listed(client, "overdue_bills", "/bills?status=Open&overdue=0") == 4
    overdue = client.get("/bills?status=Open&overdue=1").get_data(as_text=True)
    assert '<input type="hidden" name="overdue" value="1">' in overdue and "Show every bill" in overdue
    assert "← Earlier" in client.get("/sessions").get_data(as_text=True)
    assert "← Earlier" in client.get("/sessions?status=nonsense").get_data(as_text=True)  # unknown: the day view
    filtered = client.get("/sessions?status=scheduled&past=1").get_data(as_text=True)
    assert "Past sessions not marked complete" in filtered and '<input type="hidden" name="past" value="1">' in filtered
