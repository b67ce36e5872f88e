"""Sending claims from the claims page: the insurance settings that govern it (clearinghouse, the Claim.MD key
never shown back, automation, polling), "Send queued claims now" queueing the real submit_claims job after the
commit and its progress fragment (polling itself until it answers 286), the 837 batch download of the files
clearinghouse, and the banner of failed clearinghouse jobs."""
import re

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import select

from app import jobs, secrets_at_rest
from app.config import encryption_key
from app.extensions import db
from app.models import AuditEvent, Claim, ClaimFile, ClaimStatus, JobProblem, Practice, Role
from app.models.types import utcnow
from app.redis_conn import get_redis
from tests.support.insurance import insured

HTMX = {"HX-Request": "true"}
SETTINGS = {"clearinghouse": "sandbox", "billing_provider": "group", "submit_claims_automatically": "y",
            "poll_every_minutes": "15"}


def _practice(app, practice_id: int) -> Practice:
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        db.session.expunge(practice)
        return practice


def _queue(app) -> Queue:
    return Queue(app.config["RQ_QUEUE"], connection=get_redis(app))


# ---------------------------------------------------------------- settings


@pytest.fixture
def admin(make, sign_in):
    practice = make.practice()
    sign_in(make.member(practice, Role.ADMIN))
    return practice


def plain_key(app, admin_id):
    return secrets_at_rest.decrypt(_practice(app, admin_id).claimmd_account_key, encryption_key(app.config))


def test_the_claimmd_key_is_stored_encrypted_never_shown_and_a_blank_field_keeps_it(app, client, admin):
    form = SETTINGS | {"clearinghouse": "claimmd", "claimmd_account_key": "ck_live_0042secret9876"}
    assert client.post("/settings/insurance", data=form).status_code == 303
    stored = _practice(app, admin.id).claimmd_account_key
    assert "ck_live" not in stored and "9876" not in stored
    assert plain_key(app, admin.id) == "ck_live_0042secret9876"
    page = client.get("/settings/insurance").get_data(as_text=True)
    assert "A key is stored." in page and "9876" not in page and stored not in page
    assert re.search(r'<input[^>]*name="claimmd_account_key"[^>]*type="password" value=""', page)
    assert client.post("/settings/insurance", data=form | {"claimmd_account_key": ""}).status_code == 303
    assert _practice(app, admin.id).claimmd_account_key == stored
    assert client.post("/settings/insurance", data=form | {"claimmd_account_key": "ck_new_1111"}).status_code == 303
    assert plain_key(app, admin.id) == "ck_new_1111"
    with app.app_context():
        details = [event.details for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "practice.insurance_settings_changed"))]
    assert details and "secret" not in repr(details) and "ck_new" not in repr(details)


def test_claimmd_needs_a_key(app, client, admin):
    response = client.post("/settings/insurance", data=SETTINGS | {"clearinghouse": "claimmd"})
    assert response.status_code == 422
    assert 'id="claimmd_account_key-error"' in response.get_data(as_text=True)
    assert _practice(app, admin.id).clearinghouse == "sandbox"


@pytest.mark.parametrize("minutes", ["0", "1441", "-5", "often"])
def test_a_poll_interval_outside_1_to_1440_minutes_is_refused_beside_the_field(app, client, admin, minutes):
    response = client.post("/settings/insurance", data=SETTINGS | {"poll_every_minutes": minutes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="poll_every_minutes-error"' in html and 'aria-invalid="true"' in html
    assert _practice(app, admin.id).poll_every_minutes == 15


def test_automation_and_the_poll_interval_are_saved(app, client, admin):
    data = SETTINGS | {"clearinghouse": "files", "poll_every_minutes": "1440"}
    del data["submit_claims_automatically"]  # an unticked box is not sent
    assert client.post("/settings/insurance", data=data).status_code == 303
    practice = _practice(app, admin.id)
    assert (practice.clearinghouse, practice.poll_every_minutes, practice.submit_claims_automatically) == (
        "files", 1440, False)
    page = client.get("/settings/insurance").get_data(as_text=True)
    assert "Files (download 837s, upload 999, 277CA and 835 files)" in page and "Claim.MD" in page


# ---------------------------------------------------------------- sending through an automated clearinghouse


@pytest.fixture
def world(make, app):
    return insured(make, app)


@pytest.fixture
def biller(world, make, sign_in):
    return sign_in(make.member(world.practice, Role.BILLER))


def _run_queued_jobs(app) -> None:
    """What worker.py does, in this process: run every queued job in the app context."""
    with app.app_context():
        SimpleWorker([_queue(app)], connection=get_redis(app)).work(burst=True, with_scheduler=False)


def test_send_now_queues_the_submission_job_after_the_commit(app, client, world, biller):
    claim_id = world.claim()
    html = client.get("/claims").get_data(as_text=True)
    assert "Send queued claims now" in html and "1 claim ready to send" in html
    response = client.post("/claims/submit", headers=HTMX | {"HX-Target": "submission-progress"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="submission-progress"')
    assert 'hx-get="/claims/submission"' in fragment and 'hx-trigger="load delay:1s"' in fragment
    assert "<progress" in fragment
    with app.app_context():
        job_id = jobs.submission_job_id(world.practice.id)
        assert job_id.startswith(f"submit_claims-{world.practice.id}-web-")
        assert job_id in _queue(app).job_ids
        job = Job.fetch(job_id, connection=get_redis())
        assert job.meta["practice_id"] == world.practice.id and job.args == (world.practice.id,)
        assert db.session.get(Claim, claim_id).status == ClaimStatus.QUEUED  # the worker sends, not the request
    page = client.get("/claims").get_data(as_text=True)
    assert 'id="submission-progress"' in page and "<progress" in page and "Waiting for the worker" in page
    polled = client.get("/claims/submission", headers=HTMX)
    assert polled.status_code == 200 and 'hx-trigger="load delay:1s"' in polled.get_data(as_text=True)


def test_the_progress_fragment_follows_the_sandbox_payer_and_answers_286_once_it_has_answered(app, client, world,
                                                                                             biller):
    claim_ids = [world.claim(), world.claim()]
    client.post("/claims/submit", headers=HTMX)
    _run_queued_jobs(app)
    with app.app_context():
        assert {db.session.get(Claim, claim_id).status for claim_id in claim_ids} == {ClaimStatus.SENT}
        job = Job.fetch(jobs.submission_job_id(world.practice.id), connection=get_redis())
        assert (job.meta["stage"], job.meta["total"], job.meta["sent"]) == ("done", 2, 2)
    # Sent: the fragment keeps asking while the sandbox payer works through its steps.
    response = client.get("/claims/submission", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "hx-trigger" in html
    assert "Sent 2 claims" in html and "answered 0" in html and "Sent 2 · Received 0 · In process 0" in html
    assert '<progress id="submission-bar" max="2" value="0"' in html
    assert "<progress" in client.get("/claims").get_data(as_text=True)
    seen = []
    for _ in range(4):  # 999 and 277CA (Received), 277CA P1 (In process), then the 835
        with app.app_context():
            jobs.poll_status(world.practice.id)
            jobs.fetch_remittances(world.practice.id)
        response = client.get("/claims/submission", headers=HTMX)
        seen.append((response.status_code, response.get_data(as_text=True)))
    assert "Received 2" in seen[0][1] and "In process 2" in seen[1][1]
    status, html = seen[-1]
    assert status == 286 and "answered all 2 claims" in html and "hx-trigger" not in html and "<progress" not in html
    page = client.get("/claims").get_data(as_text=True)
    assert "<progress" not in page and "load delay" not in page


def test_the_progress_fragment_stops_when_the_file_is_sent_to_a_real_clearinghouse(app, client, world, biller):
    world.claim()
    client.post("/claims/submit", headers=HTMX)
    _run_queued_jobs(app)
    with app.app_context():
        db.session.get(Practice, world.practice.id).clearinghouse = "claimmd"  # a real payer answers in days
        db.session.commit()
    response = client.get("/claims/submission", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 286 and "1 claim accepted" in html and "hx-trigger" not in html


def test_without_javascript_send_now_goes_back_to_the_claims_page_showing_the_progress(app, client, world, biller):
    world.claim()
    response = client.post("/claims/submit")
    assert response.status_code == 303 and response.headers["Location"] == "/claims"
    assert "<progress" in client.get("/claims").get_data(as_text=True)


def test_a_running_automatic_submission_shows_its_progress_and_a_failed_one_says_so(app, client, world, biller):
    world.claim()
    with app.app_context():
        job_id = jobs.enqueue_submission(world.practice.id, job_id="submit_claims-tick", after_commit=False)
        job = Job.fetch(job_id, connection=get_redis())
        job.meta.update(stage="sending", total=4, sent=1)
        job.save_meta()
        job.set_status(JobStatus.STARTED)
    html = client.get("/claims").get_data(as_text=True)
    assert '<progress id="submission-bar" max="4" value="1"' in html and "1 of 4 claims" in html
    with app.app_context():
        Job.fetch(job_id, connection=get_redis()).set_status(JobStatus.SCHEDULED)  # RQ waiting to retry
    assert "try again shortly" in client.get("/claims/submission", headers=HTMX).get_data(as_text=True)
    with app.app_context():
        Job.fetch(job_id, connection=get_redis()).set_status(JobStatus.FAILED)
    response = client.get("/claims/submission", headers=HTMX)
    assert response.status_code == 286 and "Sending stopped with an error" in response.get_data(as_text=True)


def test_with_no_submission_job_the_fragment_stops_polling(app, client, world, biller):
    response = client.get("/claims/submission", headers=HTMX)
    assert response.status_code == 286 and "hx-trigger" not in response.get_data(as_text=True)
    assert client.get("/claims/submission").status_code == 200  # opened as a page: nothing to stop


def test_failed_clearinghouse_jobs_are_shown_until_cleared(app, client, make, world, biller):
    with app.app_context():
        db.session.add_all([
            JobProblem(practice_id=world.practice.id, job="submit_claims", message="Claim.MD refused the AccountKey",
                       will_retry=False),
            JobProblem(practice_id=world.practice.id, job="poll_status", message="Claim.MD did not answer",
                       will_retry=True),
            JobProblem(practice_id=world.practice.id, job="submit_claims", message="An old, fixed problem",
                       cleared_at=utcnow())])
        db.session.commit()
    html = client.get("/claims").get_data(as_text=True)
    assert 'id="job-problems"' in html
    assert "Claim.MD refused the AccountKey" in html and "Claim.MD did not answer" in html
    assert "An old, fixed problem" not in html


def test_clinicians_neither_send_nor_see_sending(app, client, world, sign_in):
    world.claim()
    sign_in(world.clinician)
    assert client.post("/claims/submit").status_code == 403
    assert client.get("/claims/submission").status_code == 403
    assert client.post("/claims/download").status_code == 403
    html = client.get("/claims").get_data(as_text=True)
    assert "Send queued claims now" not in html and 'id="submission-progress"' not in html


# ---------------------------------------------------------------- the files clearinghouse


def test_a_files_practice_downloads_its_837_batch_and_the_claims_are_sent(app, client, make, sign_in):
    files_world = insured(make, app, clearinghouse="files")
    sign_in(make.member(files_world.practice, Role.BILLER))
    claim_ids = [files_world.claim(), files_world.claim()]
    html = client.get("/claims").get_data(as_text=True)
    assert "Download 837 batch" in html and "Send queued claims now" not in html
    assert client.post("/claims/submit").status_code == 409
    response = client.post("/claims/download")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 claims written into 1 file" in page
    with app.app_context():
        assert {db.session.get(Claim, claim_id).status for claim_id in claim_ids} == {ClaimStatus.SENT}
        file_id = db.session.scalar(select(ClaimFile.file_id).where(ClaimFile.claim_id == claim_ids[0]))
    assert f'href="/x12/{file_id}?download=1"' in page
    download = client.get(f"/x12/{file_id}?download=1")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'parity-{files_world.practice.id}-' in disposition
    body = download.get_data(as_text=True)
    assert body.startswith("ISA*") and "CLM*" in body and "~\n" not in body
    # Nothing is waiting any more: a second download writes no file.
    assert "No claims were waiting" in client.post("/claims/download").get_data(as_text=True)


def test_an_automated_practice_does_not_download_batches(app, client, world, biller):
    world.claim()
    assert client.post("/claims/download").status_code == 409

