"""Secondary and tertiary claims end to end through a real `python worker.py` on real Redis: against the sandbox
(which plays the secondary and tertiary payers too, and one crossover, CLP02 19) and against the local Claim.MD
server. The claim goes primary → secondary (→ tertiary) → client on its own."""
import dataclasses

import pytest
from sqlalchemy import func, select

from app.billing import bills, responsibility
from app.extensions import db
from app.models import Bill, BillStatus, Claim, ClaimStatus, SandboxClaim
from app.x12.validate import validate_x12
from tests.support.claimmd_server import ClaimMDServer
from tests.support.insurance import claim_payment, insured, remittance_text, stored_key
from tests.support.processes import running_worker, wait_for

pytestmark = pytest.mark.slow


def _two_policies(make, world, primary_member: str, secondary_member: str, supplement=None, third=None) -> int:
    supplement = supplement or make.payer(world.practice, name="Medigap Supplement", clearinghouse_payer_id="SUPP1")
    client = make.client(world.practice, primary_clinician_id=world.clinician.id)
    make.policy(client, supplement, member_id=secondary_member, priority=2)
    if third is not None:
        payer, member_id = third
        make.policy(client, payer, member_id=member_id, priority=3)
    return world.claim(client=client, member_id=primary_member)


def _chain(app, claim_id) -> list[Claim]:
    """The claim and the claims that follow it, in payer order, read fresh."""
    with app.app_context():
        db.session.expire_all()
        found = [db.session.get(Claim, claim_id)]
        while (following := db.session.scalar(select(Claim).where(Claim.prior_payer_claim_id == found[-1].id))):
            found.append(following)
        for claim in found:
            db.session.expunge(claim)
        return found


def _bill(app, claim_id) -> tuple[str, int]:
    with app.app_context():
        bill = db.session.get(Bill, db.session.get(Claim, claim_id).bill_id)
        return bill.status, bills.totals(bill).balance


def _settled(chain: list[Claim], payers: int = 2) -> bool:
    return len(chain) == payers and all(claim.status == ClaimStatus.PAID for claim in chain)


def test_the_sandbox_bills_the_secondary_and_then_the_client_on_its_own(app, make, database_url, redis_url,
                                                                        tmp_path):
    world = insured(make, app)
    supplement = make.payer(world.practice, name="Medigap Supplement", clearinghouse_payer_id="SUPP1")
    billed = _two_policies(make, world, "MEM4001", "S4001", supplement)
    crossover = _two_policies(make, world, "MEM4002C", "S4002", supplement)
    medicaid = make.payer(world.practice, name="State Medicaid", clearinghouse_payer_id="MCD01", filing_indicator="MC")
    three = _two_policies(make, world, "MEM4003", "S4003", supplement, third=(medicaid, "T4003"))
    with running_worker(database_url, redis_url, str(tmp_path / "worker"), CLEARINGHOUSE_TICK_SECONDS="1") as worker:
        wait_for(lambda: _settled(_chain(app, billed)) and _settled(_chain(app, crossover))
                 and _settled(_chain(app, three), 3), timeout=180,
                 what="the claims and the claims that follow them to be paid")
        assert worker.poll() is None
    primary, secondary = _chain(app, billed)
    assert (primary.paid_cents, secondary.paid_cents) == (10000, 1500)  # the secondary pays 75 % of the $20 left
    assert secondary.payer_order == 2 and not secondary.crossover
    assert [event.to_status for event in _events(app, secondary.id)] == ["queued", "sent", "received", "in_process",
                                                                        "paid"]
    # What the secondary left is the client's now, and only now do they owe anything.
    assert _bill(app, billed) == (BillStatus.OPEN, 500)
    # Three policies: the tertiary is billed for what the secondary left (75 % of $5), the client owes the rest.
    primary, secondary, tertiary = _chain(app, three)
    assert (secondary.paid_cents, tertiary.paid_cents, tertiary.payer_order) == (1500, 375, 3)
    assert _bill(app, three) == (BillStatus.OPEN, 125)
    primary, secondary = _chain(app, crossover)
    assert secondary.crossover and secondary.paid_cents == 1500
    assert [event.to_status for event in _events(app, secondary.id)] == ["sent", "paid"]
    assert _bill(app, crossover) == (BillStatus.OPEN, 500)
    with app.app_context():
        # Parity never sent the crossover's secondary claim: the primary payer forwarded it.
        assert db.session.scalar(select(func.count()).select_from(SandboxClaim).where(
            SandboxClaim.patient_control_number == secondary.patient_control_number)) == 0
        sent = db.session.scalar(select(SandboxClaim).where(
            SandboxClaim.patient_control_number == _chain(app, billed)[1].patient_control_number))
        assert sent is not None and sent.stage == "remitted"


def _events(app, claim_id):
    with app.app_context():
        events = db.session.get(Claim, claim_id).events
        for event in events:
            db.session.expunge(event)
        return events


def test_claimmd_sends_the_secondary_claim_after_the_primarys_835(app, make, database_url, redis_url, tmp_path):
    with ClaimMDServer(account_key="test-key") as server:
        world = insured(make, app, clearinghouse="claimmd", claimmd_account_key=stored_key(app, "test-key"),
                        poll_every_minutes=1440)
        claim_id = _two_policies(make, world, "MEM5001", "S5001")
        env = {"CLAIMMD_URL": server.url, "CLEARINGHOUSE_TICK_SECONDS": "1"}
        runner = app.test_cli_runner()
        with running_worker(database_url, redis_url, str(tmp_path / "worker"), **env):
            wait_for(lambda: _chain(app, claim_id)[0].status == ClaimStatus.SENT, timeout=120,
                     what="the primary claim to be sent")
            with app.app_context():
                primary = db.session.get(Claim, claim_id)
                text = remittance_text([claim_payment(primary)], payer_id="HHP01", trace_number="EFT5001")
            server.add_era(text, payer_name="Harborview Health Plan", payer_id="HHP01", check_number="EFT5001",
                           paid_amount="100.00")
            assert runner.invoke(args=["claims", "poll", "--practice", str(world.practice.id)]).exit_code == 0
            wait_for(lambda: len(_chain(app, claim_id)) == 2 and _chain(app, claim_id)[1].status == ClaimStatus.SENT,
                     timeout=60, what="the secondary claim to be built and sent")
            secondary = _chain(app, claim_id)[1]
            [uploaded] = [file for file in server.uploaded_files()
                          if secondary.patient_control_number in file.patient_control_numbers]
            assert validate_x12(uploaded.text).errors == []
            assert "SBR*S*18*" in uploaded.text and "AMT*D*100~" in uploaded.text
            assert "SVD*HHP01*100*HC:90834**1~" in uploaded.text
            with app.app_context():  # open, but the $20 left is the secondary's to pay: the client owes nothing yet
                bill = db.session.get(Bill, db.session.get(Claim, claim_id).bill_id)
                assert bill.status == BillStatus.OPEN
                assert responsibility.side_of(bill) == responsibility.Side.INSURANCE
            with app.app_context():
                payment = claim_payment(db.session.get(Claim, secondary.id))
                line = payment.services[0]
                adjustments = (dataclasses.replace(line.adjustments[0], group="OA", reason="23",
                                                   amount_cents=13000),
                               dataclasses.replace(line.adjustments[0], group="PR", reason="2", amount_cents=500))
                payment = dataclasses.replace(
                    payment, status_code="2", paid_cents=1500, patient_responsibility_cents=500,
                    services=(dataclasses.replace(line, paid_cents=1500, adjustments=adjustments),))
                text = remittance_text([payment], payer_name="Medigap Supplement", payer_id="SUPP1",
                                       trace_number="EFT5002")
            server.add_era(text, payer_name="Medigap Supplement", payer_id="SUPP1", check_number="EFT5002",
                           paid_amount="15.00")
            assert runner.invoke(args=["claims", "poll", "--practice", str(world.practice.id)]).exit_code == 0
            wait_for(lambda: _chain(app, claim_id)[1].status == ClaimStatus.PAID, timeout=60,
                     what="the secondary's 835 to post")
        assert _bill(app, claim_id) == (BillStatus.OPEN, 500)
