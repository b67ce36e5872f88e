"""The clearinghouse loop through real `python worker.py` processes on real Redis: the scheduled tick, the
CLI, and a worker killed with SIGKILL in the middle of a 500-claim submission."""
import os
import signal
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Claim, ClaimCount, ClaimLine, ClaimStatus, Practice, Remittance, Submission
from tests.support.claimmd_server import ClaimMDServer
from tests.support.insurance import claim_payment, insured, remittance_text, stored_key
from tests.support.processes import running_worker, wait_for

pytestmark = pytest.mark.slow
SETTLED = {ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.NEEDS_REVIEW}


def _statuses(app, claim_ids):
    with app.app_context():
        db.session.expire_all()
        return [db.session.get(Claim, claim_id).status for claim_id in claim_ids]


def test_the_worker_sends_and_settles_sandbox_claims_on_its_own(app, make, database_url, redis_url, tmp_path):
    world = insured(make, app)
    claim_ids = [world.claim(member_id=member) for member in ("MEM2001", "MEM2002D", "MEM2003R")]
    with running_worker(database_url, redis_url, str(tmp_path / "worker"), CLEARINGHOUSE_TICK_SECONDS="1") as worker:
        wait_for(lambda: set(_statuses(app, claim_ids)) <= SETTLED, timeout=60, what="the claims to settle")
        assert worker.poll() is None
    assert _statuses(app, claim_ids) == ["paid", "denied", "needs_review"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Remittance)) == 1
        events = [e.to_status for e in db.session.get(Claim, claim_ids[0]).events]
        assert events == ["queued", "sent", "received", "in_process", "paid"]


def test_the_cli_queues_a_submission_and_a_poll_that_a_worker_runs(app, make, database_url, redis_url, tmp_path):
    world = insured(make, app, submit_claims_automatically=False, poll_every_minutes=1440)
    claim_id = world.claim()
    runner = app.test_cli_runner()
    with running_worker(database_url, redis_url, str(tmp_path / "worker"), CLEARINGHOUSE_TICK_SECONDS="3600"):
        result = runner.invoke(args=["claims", "submit", "--practice", str(world.practice.id)])
        assert result.exit_code == 0 and "1 claim queued for submission" in result.output, result.output
        wait_for(lambda: _statuses(app, [claim_id]) == ["sent"], what="the worker to send the claim")
        for expected in ("received", "in_process", "paid"):
            assert runner.invoke(args=["claims", "poll", "--practice", str(world.practice.id)]).exit_code == 0
            wait_for(lambda: _statuses(app, [claim_id]) == [expected], what=f"the claim to be {expected}")
    result = runner.invoke(args=["claims", "submit"])
    assert "nothing to send" in result.output


def test_remittances_import_posts_a_file_and_refuses_a_bad_one_changing_nothing(app, make, tmp_path):
    world = insured(make, app)
    claim_id = world.claim()
    with app.app_context():
        text = remittance_text([claim_payment(db.session.get(Claim, claim_id))])
    good, bad = tmp_path / "good.835", tmp_path / "bad.835"
    good.write_text(text)
    bad.write_text(text.replace("CLP*", "CLP*X", 1).replace("*100*", "*90*", 1))
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["remittances", "import", str(bad)])
    assert refused.exit_code != 0 and "not posted" in refused.output
    assert _statuses(app, [claim_id]) == ["queued"]
    posted = runner.invoke(args=["remittances", "import", str(good)])
    assert posted.exit_code == 0 and "1 claim payment(s) posted" in posted.output, posted.output
    assert _statuses(app, [claim_id]) == ["paid"]
    again = runner.invoke(args=["remittances", "import", str(good)])
    assert again.exit_code != 0 and "already posted" in again.output


def _clone_claims(app, claim_id: int, count: int) -> list[int]:
    """`count` copies of a real claim (own control numbers and line ids), made in one transaction: building 500
    claims through sessions and bills one by one would only slow the test down."""
    with app.app_context():
        original = db.session.get(Claim, claim_id)
        ids = []
        for _ in range(count):
            copy = Claim(**{column: getattr(original, column) for column in (
                "practice_id", "bill_id", "policy_id", "payer_id", "client_id", "clinician_id", "status",
                "frequency_code", "service_date", "place_of_service", "total_charge_cents", "snapshot")},
                problems=[], patient_control_number="pending")
            db.session.add(copy)
            db.session.flush()
            copy.patient_control_number = f"P{copy.practice_id}C{copy.id}"
            for line in original.lines:
                copy.lines.append(ClaimLine(**{column: getattr(line, column) for column in (
                    "bill_line_id", "position", "service_date", "code", "modifiers", "units", "charge_cents",
                    "diagnosis_pointers")}, line_reference=f"{copy.patient_control_number}-{line.position}"))
            ids.append(copy.id)
        db.session.execute(db.update(ClaimCount).where(ClaimCount.practice_id == original.practice_id,
                                                       ClaimCount.status == "queued")
                           .values(count=ClaimCount.count + count))
        db.session.commit()
        return ids


def test_a_worker_killed_mid_submission_sends_each_of_500_claims_exactly_once(app, make, database_url, redis_url,
                                                                              tmp_path):
    with ClaimMDServer(account_key="test-key") as server:
        world = insured(make, app, clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"),
                        submit_claims_automatically=False)
        first = world.claim()
        claim_ids = [first] + _clone_claims(app, first, 499)
        server.delay_next(10, seconds=0.7)  # slow uploads, so the kill lands in the middle
        env = {"CLAIMMD_URL": server.url, "CLAIMMD_TIMEOUT_SECONDS": "3", "SUBMISSION_LEASE_SECONDS": "2",
               "CLAIMS_PER_FILE": "100", "CLEARINGHOUSE_TICK_SECONDS": "1"}
        with running_worker(database_url, redis_url, str(tmp_path / "first"), **env) as worker:
            runner = app.test_cli_runner()
            assert runner.invoke(args=["claims", "submit", "--practice", str(world.practice.id)]).exit_code == 0
            wait_for(lambda: 200 <= sum(server.received_claims().values()) < 500, timeout=60, interval=0.02,
                     what="part of the submission to arrive")
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        received_at_kill = sum(server.received_claims().values())
        assert received_at_kill < 500
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Claim).where(
                Claim.practice_id == world.practice.id, Claim.status == "queued")) > 0
            db.session.get(Practice, world.practice.id).submit_claims_automatically = True  # the tick resumes it
            db.session.commit()
        with running_worker(database_url, redis_url, str(tmp_path / "second"), **env):
            wait_for(lambda: set(_statuses(app, claim_ids)) == {ClaimStatus.SENT}, timeout=90,
                     what="every claim to be Sent")
        received = server.received_claims()
        with app.app_context():
            numbers = {db.session.get(Claim, claim_id).patient_control_number for claim_id in claim_ids}
            submissions = db.session.scalars(select(Submission)).all()
        assert set(received) == numbers
        assert received == Counter({number: 1 for number in numbers}), "a claim was sent twice"
        assert [service for service, _ in server.requests].count("upload") == 5
        assert {s.status for s in submissions} == {"accepted"} and sum(s.claim_count for s in submissions) == 500
