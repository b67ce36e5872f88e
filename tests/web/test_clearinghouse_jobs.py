"""The clearinghouse jobs (submit_claims, poll_status, fetch_remittances) run as plain functions against the
sandbox and against a local server speaking the Claim.MD API: sending, idempotency after failures,
acknowledgements (999, 277CA), and 835s posted onto bills. tests/web/test_clearinghouse_worker.py runs the
same loop through real worker processes."""
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app import jobs
from app.billing import acknowledgements, bills, submissions
from app.clearinghouse.base import ClearinghouseUnavailable
from app.extensions import db
from app.models import (Bill, Claim, ClaimStatus, JobProblem, Practice, Remittance, Submission, SubmissionStatus)
from app.x12 import inbound
from app.x12.acknowledgements import write_277ca, write_999
from tests.support.claimmd_server import ClaimMDServer
from tests.support.insurance import claim_payment, insured, remittance_text, stored_key


def _statuses(app, claim_ids):
    with app.app_context():
        return {claim_id: db.session.get(Claim, claim_id).status for claim_id in claim_ids}


def _run(app, job, practice_id):
    with app.app_context():
        return job(practice_id)


def test_the_sandbox_moves_claims_to_paid_denied_and_needs_review_with_the_835_posted(app, make):
    world = insured(make, app)
    paid, rejected, denied, deductible = (world.claim(member_id=member) for member in
                                          ("MEM1001", "MEM1002R", "MEM1003D", "MEM1004Y"))
    ids = [paid, rejected, denied, deductible]
    assert _run(app, jobs.submit_claims, world.practice.id)["sent"] == 4
    assert set(_statuses(app, ids).values()) == {ClaimStatus.SENT}
    seen = []
    for _ in range(4):
        _run(app, jobs.poll_status, world.practice.id)
        _run(app, jobs.fetch_remittances, world.practice.id)
        seen.append(_statuses(app, ids))
    # Poll 1: 999 + 277CA A1/A7; poll 2: P1; poll 3: the 835.
    assert seen[0] == {paid: "received", rejected: "needs_review", denied: "received", deductible: "received"}
    assert seen[1][paid] == "in_process"
    assert seen[2] == {paid: "paid", rejected: "needs_review", denied: "denied", deductible: "paid"}
    assert seen[3] == seen[2]
    with app.app_context():
        claim = db.session.get(Claim, paid)
        totals = bills.totals(db.session.get(Bill, claim.bill_id))
        assert (totals.paid, totals.adjusted, totals.balance) == (10000, 3000, 2000)
        assert claim.payer_claim_number == f"SBX{claim.patient_control_number}"
        assert "not on file" in db.session.get(Claim, rejected).problems[0]["message"]
        assert bills.totals(db.session.get(Bill, db.session.get(Claim, deductible).bill_id)).balance == 12000
        assert db.session.scalar(select(func.count()).select_from(Remittance)) == 1
        submission = db.session.scalar(select(Submission))
        assert submission.status == SubmissionStatus.ACCEPTED and submission.acknowledged_at is not None


def test_submitting_twice_sends_each_claim_once(app, make):
    world = insured(make, app)
    world.claim()
    _run(app, jobs.submit_claims, world.practice.id)
    assert _run(app, jobs.submit_claims, world.practice.id) == {"sent": 0, "refused": 0}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


@pytest.fixture
def claimmd(app, make):
    with ClaimMDServer(account_key="test-key") as server:
        app.config["CLAIMMD_URL"] = server.url
        app.config["CLAIMMD_TIMEOUT_SECONDS"] = 2.0
        world = insured(make, app, clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"))
        yield server, world


def test_claimmd_sends_polls_and_posts_the_era(app, claimmd):
    server, world = claimmd
    claim_ids = [world.claim(), world.claim()]
    with app.app_context():
        numbers = [db.session.get(Claim, claim_id).patient_control_number for claim_id in claim_ids]
    server.reject_claims([numbers[1]], "Subscriber ID is invalid")
    _run(app, jobs.submit_claims, world.practice.id)
    assert _statuses(app, claim_ids) == {claim_ids[0]: "sent", claim_ids[1]: "needs_review"}
    assert server.received_claims() == Counter(numbers)
    server.add_response(numbers[0], "A", "Accepted by payer", remote_claimid="PAYER-77")
    _run(app, jobs.poll_status, world.practice.id)
    with app.app_context():
        claim = db.session.get(Claim, claim_ids[0])
        assert claim.status == ClaimStatus.RECEIVED and claim.payer_claim_number == "PAYER-77"
        cursor = db.session.get(Practice, world.practice.id).clearinghouse_response_cursor
        assert cursor not in ("", "0")
        text = remittance_text([claim_payment(claim)], payer_id="HHP01")
    server.add_era(text, payer_name="Harborview Health Plan", payer_id="HHP01", check_number="EFT1",
                   paid_amount="100.00", paid_date="2026-11-20")
    assert _run(app, jobs.fetch_remittances, world.practice.id) == {"posted": 1}
    assert _statuses(app, claim_ids)[claim_ids[0]] == ClaimStatus.PAID
    # The cursor moved past it: fetching again posts nothing twice.
    assert _run(app, jobs.fetch_remittances, world.practice.id) == {"posted": 0}


def test_a_network_failure_is_retried_without_sending_anything_twice(app, claimmd):
    server, world = claimmd
    claim_id = world.claim()
    server.drop_after_receiving_next_upload()
    with pytest.raises(ClearinghouseUnavailable):
        _run(app, jobs.submit_claims, world.practice.id)
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert submission.status == SubmissionStatus.PENDING and submission.attempts == 1
        problem = db.session.scalar(select(JobProblem))
        assert problem.job == "submit_claims" and problem.will_retry and problem.cleared_at is None
        assert db.session.get(Claim, claim_id).status == ClaimStatus.QUEUED
    # The retry asks the clearinghouse first: the file is there, so it is not uploaded again.
    _run(app, jobs.submit_claims, world.practice.id)
    assert sum(server.received_claims().values()) == 1
    assert [service for service, _ in server.requests].count("upload") == 1
    with app.app_context():
        assert db.session.get(Claim, claim_id).status == ClaimStatus.SENT
        assert db.session.scalar(select(JobProblem)).cleared_at is not None


def test_a_refused_file_sends_its_claims_to_needs_review(app, claimmd):
    server, world = claimmd
    claim_id = world.claim()
    server.reject_next_file("Invalid ISA segment")
    _run(app, jobs.submit_claims, world.practice.id)
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert claim.status == ClaimStatus.NEEDS_REVIEW and "Invalid ISA" in claim.problems[0]["message"]
        assert db.session.scalar(select(Submission)).status == SubmissionStatus.REJECTED


def test_a_wrong_account_key_is_shown_and_not_retried(app, claimmd):
    server, world = claimmd
    world.claim()
    with app.app_context():
        db.session.get(Practice, world.practice.id).claimmd_account_key = stored_key(app, "wrong")
        db.session.commit()
    result = _run(app, jobs.submit_claims, world.practice.id)
    assert "error" in result
    with app.app_context():
        problem = db.session.scalar(select(JobProblem))
        assert not problem.will_retry and "AccountKey" in problem.message
        assert db.session.scalar(select(Submission)).status == SubmissionStatus.PENDING


def _sent_claim(app, world):
    claim_id = world.claim()
    _run(app, jobs.submit_claims, world.practice.id)
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        submission = db.session.scalar(select(Submission).order_by(Submission.id.desc()))
        return claim_id, claim.patient_control_number, submission.control_number


def test_a_999_rejection_sends_the_files_claims_to_needs_review(app, make):
    world = insured(make, app, clearinghouse="files")
    with app.app_context():
        practice = db.session.get(Practice, world.practice.id)
        claim_id = world.claim()
        from app.models import Member
        biller = db.session.get(Member, make.member(world.practice, "biller").id)
        [file] = submissions.download(practice, biller)
        number = file.interchange_control_number
        db.session.commit()
        text = write_999(group_control_number=number,
                         transactions=[(str(number), "R", ())], sender_id="CLAIMMD", receiver_id="PARITY1",
                         interchange_control_number=5, created_at=datetime.now(timezone.utc))
        result = acknowledgements.import_file(db.session.get(Practice, world.practice.id), text, source="upload")
        db.session.commit()
        assert result.claims_moved == 1
        assert db.session.get(Claim, claim_id).status == ClaimStatus.NEEDS_REVIEW
        # The same 999 again changes nothing.
        again = acknowledgements.import_file(db.session.get(Practice, world.practice.id), text, source="upload")
        assert again.claims_moved == 0


@pytest.mark.parametrize("category, expected", [("A1", "received"), ("A2", "received"), ("A7", "needs_review"),
                                                ("P1", "in_process"), ("E0", "sent"), ("F2", "denied")])
def test_277ca_categories_move_claims_as_domain_md_says(app, make, category, expected):
    world = insured(make, app)
    claim_id, number, _ = _sent_claim(app, world)
    report = inbound.ClaimStatusReport(patient_control_number=number, category=category, status_code="21",
                                       message="Payer says so" if category == "A7" else "",
                                       payer_claim_number="PCN-9")
    text = write_277ca([report], payer_name="Harborview Health Plan", payer_id="HHP01", receiver_name="Practice",
                       receiver_id="PARITY1", billing_provider_name="Practice", billing_provider_npi="2000000002",
                       sender_id="HHP01", receiver_isa_id="PARITY1", interchange_control_number=7,
                       created_at=datetime.now(timezone.utc))
    with app.app_context():
        acknowledgements.import_file(db.session.get(Practice, world.practice.id), text, source="upload")
        db.session.commit()
        claim = db.session.get(Claim, claim_id)
        assert claim.status == expected
        if category == "A7":
            assert "Payer says so" in claim.problems[0]["message"]
        if category in ("A1", "P1"):
            assert claim.payer_claim_number == "PCN-9"


def test_claimmd_without_an_account_key_is_a_visible_problem_not_a_crash(app, make):
    world = insured(make, app, clearinghouse="claimmd")
    result = _run(app, jobs.poll_status, world.practice.id)
    assert "AccountKey" in result["error"]
    with app.app_context():
        problem = db.session.scalar(select(JobProblem))
        assert problem.job == "poll_status" and not problem.will_retry
