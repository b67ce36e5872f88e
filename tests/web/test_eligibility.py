"""Eligibility checks end to end: the 270 written from a client's policy, sent through the sandbox and the local
Claim.MD server, the 271 read, stored and audited; the client page (roles, the files clearinghouse's download and
upload, 422 on a bad 271); `flask eligibility check`; the nightly batch."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import jobs
from app.billing import eligibility
from app.extensions import db
from app.models import AuditEvent, EligibilityCheck, InsurancePolicy, Role
from app.x12.eligibility import parse_271
from tests.conftest import csrf_token_from
from tests.support.claimmd_server import ClaimMDServer
from tests.support.days import local_today
from tests.support.insurance import stored_key

FILES = Path(__file__).parent.parent / "x12" / "eligibility"


def _policy(make, practice=None, member_id="W123456789", **values):
    practice = practice or make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=clinician.id)
    payer = make.payer(practice)
    return make.policy(client, payer, member_id=member_id, copay_cents=values.pop("copay_cents", 3000), **values)


def _check(app, policy, source="web") -> int:
    """Start a check and run the job that sends it, as the worker would."""
    with app.app_context():
        check = eligibility.start_check(db.session.get(InsurancePolicy, policy.id), source=source)
        db.session.commit()
        check_id = check.id
        jobs.check_eligibility(check_id)
    return check_id


def _load(app, check_id) -> dict:
    with app.app_context():
        check = db.session.get(EligibilityCheck, check_id)
        return {column: getattr(check, column) for column in check.__table__.columns.keys()} | \
            {"summary": eligibility.summary(check)}


# ---------------------------------------------------------------- the sandbox


def test_the_sandbox_answers_an_active_plan_with_copay_deductible_and_coinsurance(app, make):
    check = _load(app, _check(app, _policy(make)))
    assert check["status"] == "answered" and check["active"] is True
    assert (check["copay_cents"], check["coinsurance_percent"], check["deductible_cents"],
            check["deductible_remaining_cents"], check["in_network"], check["authorization_required"]) == \
        (3000, 20, 150000, 40000, True, False)
    assert (check["visit_limit"], check["visits_remaining"]) == (30, 22)
    assert check["summary"] == "copay $30, coinsurance 20%, deductible $400 of $1,500 left, in network"
    assert check["request_270"].startswith("ISA") and parse_271(check["response_271"])[0].active
    assert check["plan_name"] == "SANDBOX PPO"
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "eligibility_checks")))
    assert actions == {"eligibility.requested", "eligibility.answered"}


@pytest.mark.parametrize("member_id, status, active, authorization, words", [
    ("W1000X", "answered", False, None, "coverage inactive"),
    ("W1000A", "answered", True, True, "prior authorization required"),
    ("W1000R", "rejected", None, None, "The subscriber is not found"),
    ("W1000U", "rejected", None, None, "cannot answer right now"),
])
def test_the_sandbox_follows_its_member_id_rules(app, make, member_id, status, active, authorization, words):
    check = _load(app, _check(app, _policy(make, member_id=member_id)))
    assert (check["status"], check["active"], check["authorization_required"]) == (status, active, authorization)
    assert words in check["summary"]


def test_a_dependants_policy_asks_about_the_client_under_the_subscriber(app, make):
    policy = _policy(make, relationship_to_subscriber="19", subscriber_first_name="Dana",
                     subscriber_last_name="Morgan", subscriber_date_of_birth=date(1980, 1, 1), subscriber_sex="F")
    check = _load(app, _check(app, policy))
    assert "NM1*03*1*" in check["request_270"] and "NM1*IL*1*MORGAN*DANA" in check["request_270"]
    assert check["status"] == "answered"


def test_a_check_runs_once_even_if_its_job_runs_twice(app, make):
    check_id = _check(app, _policy(make))
    with app.app_context():
        assert jobs.check_eligibility(check_id) == "not pending"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "eligibility.answered")) == 1


# ---------------------------------------------------------------- Claim.MD


def test_claimmd_checks_eligibility_through_elig_and_reads_the_271(app, make):
    with ClaimMDServer(account_key="test-key") as server:
        app.config["CLAIMMD_URL"] = server.url
        practice = make.practice(clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"))
        server.answer_eligibility("W555R", rejection=("72", "C"))
        active = _load(app, _check(app, _policy(make, practice)))
        rejected = _load(app, _check(app, _policy(make, practice, member_id="W555R")))
        assert [service for service, _ in server.requests] == ["elig", "elig"]
        assert server.inquiries()[0] == active["request_270"]
    assert (active["status"], active["copay_cents"], active["coinsurance_percent"]) == ("answered", 2500, 20)
    assert rejected["status"] == "rejected" and "member ID is not valid" in rejected["problem"]


def test_claimmd_unavailable_leaves_the_check_failed_with_the_reason(app, make):
    with ClaimMDServer(account_key="test-key") as server:
        app.config["CLAIMMD_URL"] = server.url
        practice = make.practice(clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"))
        server.fail_next(1, status=503)
        check = _load(app, _check(app, _policy(make, practice)))
    assert check["status"] == "failed" and "HTTP 503" in check["problem"]


# ---------------------------------------------------------------- the client page


def _client_page(client, client_id) -> str:
    return client.get(f"/clients/{client_id}").get_data(as_text=True)


def test_a_biller_checks_eligibility_from_the_client_page_and_sees_the_result(app, make, client, sign_in):
    policy = _policy(make)
    biller = make.member(_practice(app, policy), Role.BILLER)
    sign_in(biller)
    page = _client_page(client, policy.client_id)
    assert 'id="check-eligibility"' in page and "Not checked yet" in page
    response = client.post(f"/clients/{policy.client_id}/policies/{policy.id}/eligibility",
                           data={"csrf_token": csrf_token_from(page)}, headers={"HX-Request": "true",
                                                                              "HX-Target": "client-eligibility"})
    assert response.status_code == 200 and "Checking with the payer" in response.get_data(as_text=True)
    with app.app_context():
        check_id = db.session.scalar(select(EligibilityCheck.id))
        jobs.check_eligibility(check_id)
    block = client.get(f"/clients/{policy.client_id}/eligibility").get_data(as_text=True)
    assert "Coverage active" in block and "Copay $30" in block and "deductible $400 of $1,500 left" in block
    assert "eligibility-waiting" not in block  # done: the block stops polling


def _practice(app, policy):
    from app.models import Practice
    with app.app_context():
        return db.session.get(Practice, policy.practice_id)


def test_a_clinician_sees_their_clients_result_but_cannot_check(app, make, client, sign_in):
    policy = _policy(make)
    _check(app, policy)
    with app.app_context():
        clinician_id = db.session.get(InsurancePolicy, policy.id).client.primary_clinician_id
    from app.models import Member
    with app.app_context():
        clinician = db.session.get(Member, clinician_id)
    sign_in(clinician)
    page = _client_page(client, policy.client_id)
    assert "Coverage active" in page and 'id="check-eligibility"' not in page
    token = csrf_token_from(page)
    assert client.post(f"/clients/{policy.client_id}/policies/{policy.id}/eligibility",
                       data={"csrf_token": token}).status_code == 403


def test_the_files_clearinghouse_offers_the_270_and_reads_an_uploaded_271(app, make, client, sign_in):
    practice = make.practice(clearinghouse="files")
    policy = _policy(make, practice)
    sign_in(make.member(practice, Role.BILLER))
    page = _client_page(client, policy.client_id)
    client.post(f"/clients/{policy.client_id}/policies/{policy.id}/eligibility",
                data={"csrf_token": csrf_token_from(page)})
    with app.app_context():
        check = db.session.scalar(select(EligibilityCheck))
        check_id, trace, inquiry = check.id, check.trace_number, check.request_270
    page = _client_page(client, policy.client_id)
    assert 'id="download-270"' in page
    download = client.get(f"/clients/{policy.client_id}/eligibility/{check_id}/270")
    assert download.get_data(as_text=True) == inquiry and f"{trace}.270" in download.headers["Content-Disposition"]
    token = csrf_token_from(page)
    url = f"/clients/{policy.client_id}/eligibility/{check_id}/271"
    broken = client.post(url, data={"csrf_token": token, "file": (BytesIO((FILES / "truncated.271").read_bytes()),
                                                                   "answer.271")})
    assert broken.status_code == 422 and "cut short" in broken.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(EligibilityCheck, check_id).status == "pending"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "eligibility.answered")) == 0
    other = (FILES / "inactive.271").read_text()  # answers another trace number
    refused = client.post(url, data={"csrf_token": token, "file": (BytesIO(other.encode()), "answer.271")})
    assert refused.status_code == 422 and "does not answer this check" in refused.get_data(as_text=True)
    answer = other.replace("E1A1B2C3D4E5", trace)
    accepted = client.post(url, data={"csrf_token": token, "file": (BytesIO(answer.encode()), "answer.271")})
    assert accepted.status_code == 303
    page = _client_page(client, policy.client_id)
    assert "Coverage inactive" in page and "COVERAGE TERMINATED" in page
    again = client.post(url, data={"csrf_token": token, "file": (BytesIO(answer.encode()), "answer.271")})
    assert again.status_code == 422 and "already has its answer" in again.get_data(as_text=True)


def test_another_practices_check_is_not_found(app, make, client, sign_in):
    policy = _policy(make)
    check_id = _check(app, policy)
    outsider = make.member(make.practice(), Role.BILLER)
    sign_in(outsider)
    assert client.get(f"/clients/{policy.client_id}/eligibility/{check_id}/270").status_code == 404


# ---------------------------------------------------------------- the command line


def test_the_cli_checks_now_prints_the_result_and_writes_the_x12(app, make, tmp_path):
    policy = _policy(make)
    result = app.test_cli_runner().invoke(args=["eligibility", "check", str(policy.client_id),
                                                "--x12-dir", str(tmp_path / "x12")])
    assert result.exit_code == 0, result.output
    assert "coverage: active" in result.output and "copay: $30" in result.output
    assert "deductible: $1,500, $400 left" in result.output and "coinsurance: 20%" in result.output
    assert "prior authorization: not required" in result.output
    written = sorted(path.suffix for path in (tmp_path / "x12").iterdir())
    assert written == [".270", ".271"]


def test_the_cli_exits_non_zero_with_the_payers_reason_when_rejected(app, make):
    policy = _policy(make, member_id="W77R")
    result = app.test_cli_runner().invoke(args=["eligibility", "check", str(policy.client_id),
                                                "--practice", str(policy.practice_id)])
    assert result.exit_code != 0 and "subscriber is not found" in result.output


def test_the_cli_refuses_a_client_of_another_practice(app, make):
    policy = _policy(make)
    other = make.practice()
    result = app.test_cli_runner().invoke(args=["eligibility", "check", str(policy.client_id),
                                                "--practice", str(other.id)])
    assert result.exit_code != 0 and "no client" in result.output


# ---------------------------------------------------------------- the nightly batch


def test_the_nightly_batch_checks_clients_seen_soon_whose_last_check_is_stale(app, make):
    practice = make.practice()
    soon, later, fresh, stale = (_policy(make, practice, member_id=f"W{n}") for n in range(4))
    clinician = make.member(practice, Role.CLINICIAN)
    now = datetime.now(timezone.utc)
    from app.models import Client
    with app.app_context():
        clients = {policy.id: db.session.get(Client, policy.client_id) for policy in (soon, later, fresh, stale)}
    make.session(clients[soon.id], clinician, starts_at=now + timedelta(days=2), status="scheduled")
    make.session(clients[later.id], clinician, starts_at=now + timedelta(days=9), status="scheduled")
    make.session(clients[fresh.id], clinician, starts_at=now + timedelta(days=1), status="scheduled")
    make.session(clients[stale.id], clinician, starts_at=now + timedelta(days=1), status="scheduled")
    _check(app, fresh)
    old = _check(app, stale)
    with app.app_context():
        db.session.get(EligibilityCheck, old).created_at = now - timedelta(days=31)
        db.session.commit()
        result = jobs.nightly_eligibility(practice.id, local_today().isoformat())
        assert result == {"checked": 2, "failed": 0}
        nightly = db.session.scalars(select(EligibilityCheck.policy_id).where(EligibilityCheck.source == "nightly"))
        assert sorted(nightly) == sorted([soon.id, stale.id])
        assert jobs.nightly_eligibility(practice.id, local_today().isoformat()) == {"checked": 0, "failed": 0}


# ---------------------------------------------------------------- the expected share


def test_the_session_mark_complete_and_the_pended_bill_show_the_latest_answer_and_the_expected_share(
        app, make, client, sign_in):
    from app.billing import bills
    from app.models import Bill, Member, Practice, TherapySession
    policy = _policy(make, member_id="W42Y")  # the sandbox: no copay, the whole $1,500 deductible left, 20 %
    _check(app, policy)
    with app.app_context():
        client_record = db.session.get(InsurancePolicy, policy.id).client
        clinician = db.session.get(Member, client_record.primary_clinician_id)
        practice = db.session.get(Practice, policy.practice_id)
    service = make.service(practice, "90834", price_cents=15000)
    booked = make.session(client_record, clinician, starts_at=datetime.now(timezone.utc) + timedelta(hours=2))
    make.line(booked, service)
    sign_in(make.member(practice, Role.ADMIN))
    page = client.get(f"/sessions/{booked.id}").get_data(as_text=True)
    assert 'id="session-eligibility"' in page and "expected from client: $150.00" in page
    complete = client.get(f"/sessions/{booked.id}/complete").get_data(as_text=True)
    assert "expected from client: $150.00" in complete and "deductible $1,500 of $1,500 left" in complete
    done = make.session(client_record, clinician, status="completed")
    make.line(done, service)
    with app.app_context():
        bill = bills.create_from_sessions(db.session.get(Practice, practice.id),
                                          [db.session.get(TherapySession, done.id)])
        db.session.commit()
        bill_id = bill.id
        assert db.session.get(Bill, bill_id).status == "pended"
    page = client.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert 'id="bill-eligibility-expected"' in page and "expected from client: $150.00" in page


def test_the_expected_share_is_the_copay_else_the_deductible_then_coinsurance():
    check = EligibilityCheck(status="answered", active=True, copay_cents=3000, coinsurance_percent=20,
                             deductible_remaining_cents=10000)
    assert eligibility.expected_share(check, 15000) == 3000
    check.copay_cents = None
    assert eligibility.expected_share(check, 15000) == 10000 + 1000  # $100 to the deductible, 20 % of the $50 left
    check.deductible_remaining_cents = 0
    assert eligibility.expected_share(check, 15000) == 3000
    check.active = False
    assert eligibility.expected_share(check, 15000) is None


def test_the_home_page_lists_inactive_coverage_and_authorizations_required(app, make, client, sign_in):
    practice = make.practice()
    inactive, authorization, fine = (_policy(make, practice, member_id=member) for member in ("W1X", "W2A", "W3"))
    for policy in (inactive, authorization, fine):
        _check(app, policy)
    sign_in(make.member(practice, Role.BILLER))
    page = client.get("/").get_data(as_text=True)
    assert f'id="coverage-{inactive.client_id}"' in page and f'id="coverage-{authorization.client_id}"' in page
    assert f'id="coverage-{fine.client_id}"' not in page
    assert "coverage inactive" in page and "prior authorization required" in page
    sign_in(make.member(practice, Role.CLINICIAN))  # no clients of their own
    assert 'id="coverage-problems"' not in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- real worker processes


def _zone_past_the_nightly_hour() -> str:
    """A time zone where it is now between the nightly hour and the end of the day (there always is one)."""
    from zoneinfo import ZoneInfo
    for zone in ("UTC", "America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Tokyo",
                 "Pacific/Kiritimati", "Pacific/Honolulu"):
        if datetime.now(ZoneInfo(zone)).hour >= jobs.NIGHTLY_HOUR:
            return zone
    raise AssertionError("no zone past the nightly hour")


def _status(app, check_id):
    with app.app_context():
        db.session.expire_all()
        return db.session.get(EligibilityCheck, check_id).status


def test_a_real_worker_sends_a_requested_check_and_the_tick_runs_the_nightly_batch(app, make, database_url,
                                                                                    redis_url, tmp_path):
    from tests.support.processes import running_worker, wait_for
    practice = make.practice(timezone=_zone_past_the_nightly_hour(), submit_claims_automatically=False)
    asked, booked = _policy(make, practice, member_id="W1A"), _policy(make, practice, member_id="W2")
    clinician = make.member(practice, Role.CLINICIAN)
    from app.models import Client
    with app.app_context():
        booked_client = db.session.get(Client, booked.client_id)
        make.session(booked_client, clinician, starts_at=datetime.now(timezone.utc) + timedelta(days=1),
                     status="scheduled")
        check = eligibility.request_check(db.session.get(InsurancePolicy, asked.id), actor=None)
        db.session.commit()  # the job reaches Redis now
        check_id = check.id
    with running_worker(database_url, redis_url, str(tmp_path / "worker"), CLEARINGHOUSE_TICK_SECONDS="1") as worker:
        wait_for(lambda: _status(app, check_id) != "pending", timeout=60, what="the worker to send the check")
        wait_for(lambda: _nightly_count(app, booked.id) == 1, timeout=60, what="the nightly batch")
        assert worker.poll() is None
    with app.app_context():
        check = db.session.get(EligibilityCheck, check_id)
        assert (check.status, check.authorization_required) == ("answered", True)
    assert _nightly_count(app, booked.id) == 1  # once per night, however many ticks


def _nightly_count(app, policy_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(EligibilityCheck)
                                 .where(EligibilityCheck.policy_id == policy_id, EligibilityCheck.source == "nightly"))
