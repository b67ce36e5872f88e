"""999 and 277CA files uploaded by hand (/claims/acknowledgements): a 277CA moves each claim it names as
far as its category says and keeps the payer's claim number; a rejection sends the claim to Needs Review
with the payer's words; a 999 that rejects a file we sent bounces its claims; and no mangled file gets a
500 or changes anything when refused."""
import io
import itertools
import re
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.billing import submissions
from app.clearinghouse.base import UploadReceipt
from app.extensions import db
from app.models import Claim, ClaimStatus, Practice, Submission
from app.x12.acknowledgements import SegmentError, parse_277ca, write_277ca, write_999
from app.x12.inbound import ClaimStatusReport
from tests.support.days import local_today
from tests.web.test_remittances import (  # noqa: F401  (insured and biller are fixtures)
    biller, claim_of, field_error, insured, mangled, snapshot, x12, claim_payment, remittance, _reads)

_interchanges = itertools.count(5001)


def sent(app, insured, count: int = 1) -> tuple[list[dict], int]:
    """`count` claims put in one 837P file that the clearinghouse accepted (so they are Sent); the claims
    and the file's control number (what a 999 names in AK102)."""
    bill_ids = [insured.bill_for() for _ in range(count)]
    with app.app_context():
        made = submissions.prepare(db.session.get(Practice, insured.practice.id), usage="T")
        assert len(made) == 1
        submissions.record_receipt(made[0], UploadReceipt(accepted=True, reference="BATCH-1"))
        db.session.commit()
        control_number = made[0].control_number
    claims = [claim_of(app, bill_id) for bill_id in bill_ids]
    assert all(claim["status"] == ClaimStatus.SENT for claim in claims)
    return claims, control_number


def report(claim: dict, category: str, **values) -> ClaimStatusReport:
    return ClaimStatusReport(patient_control_number=claim["number"], category=category,
                             charge_cents=15000, patient_name="Person, Client", member_id="MEM123456",
                             service_date=local_today(), **values)


def x277(*reports: ClaimStatusReport) -> str:
    return write_277ca(reports, payer_name="Harborview Health Plan", payer_id="HHP01", receiver_name="Parity",
                       receiver_id="PARITY", billing_provider_name="Practice", billing_provider_npi="2000000002",
                       sender_id="HHP01", receiver_isa_id="PARITY", interchange_control_number=next(_interchanges),
                       created_at=datetime.now(timezone.utc))


def upload(client, text: str | bytes, headers=None):
    data = text.encode() if isinstance(text, str) else text
    return client.post("/claims/acknowledgements", data={"file": (io.BytesIO(data), "ack.x12")},
                       content_type="multipart/form-data", headers=headers or {})


def claim_row(app, claim_id: int) -> Claim:
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        claim.events  # noqa: B018  (loaded before the context closes)
        db.session.expunge(claim)
        return claim


def result_value(html: str, element_id: str) -> str:
    return re.search(rf'<dd id="{element_id}">(.*?)</dd>', html, re.S).group(1)


def test_the_page_offers_the_upload(client, biller, sign_in):
    sign_in(biller)
    html = client.get("/claims/acknowledgements").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and 'id="file"' in html


def test_a1_with_a_payer_claim_number_moves_a_sent_claim_to_received(app, client, insured, biller, sign_in):
    (claim,), _ = sent(app, insured)
    sign_in(biller)

    response = upload(client, x277(report(claim, "A1", status_code="20", payer_claim_number="HHP-2026-0042")))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert result_value(html, "claims-moved") == "1" and result_value(html, "unknown") == "None"
    row = claim_row(app, claim["id"])
    assert row.status == ClaimStatus.RECEIVED and row.payer_claim_number == "HHP-2026-0042"

    again = upload(client, x277(report(claim, "A1", status_code="20", payer_claim_number="HHP-2026-0042")))
    assert again.status_code == 200
    assert result_value(again.get_data(as_text=True), "claims-unchanged") == "1"
    assert claim_row(app, claim["id"]).status == ClaimStatus.RECEIVED


def test_a7_sends_the_claim_to_needs_review_with_the_payers_words(app, client, insured, biller, sign_in):
    (claim,), _ = sent(app, insured)
    sign_in(biller)

    response = upload(client, x277(report(claim, "A7", status_code="33", entity="IL",
                                          message="Subscriber ID not on file for this date of service")))

    assert response.status_code == 200
    row = claim_row(app, claim["id"])
    assert row.status == ClaimStatus.NEEDS_REVIEW
    assert "Subscriber ID not on file" in row.problems[0]["message"]
    assert "Subscriber ID not on file" in row.events[-1].message
    page = client.get(f"/claims/{claim['id']}").get_data(as_text=True)
    assert "Subscriber ID not on file" in page
    # "Fix this" opens the policy, where the member ID and the subscriber are corrected, not the bill.
    policy_page = f"/clients/{row.client_id}/policies/{row.policy_id}"
    assert row.problems[0]["fix"] == policy_page and f'href="{policy_page}">Fix this' in page
    assert client.get(policy_page).status_code == 200


def test_unknown_control_numbers_are_listed(app, client, insured, biller, sign_in):
    (claim,), _ = sent(app, insured)
    sign_in(biller)
    stranger = dict(claim, number="SOMEONE-ELSES-1")
    html = upload(client, x277(report(claim, "A1"), report(stranger, "A1"))).get_data(as_text=True)
    assert result_value(html, "claims-moved") == "1" and "SOMEONE-ELSES-1" in result_value(html, "unknown")


def test_a_999_that_rejects_the_file_sends_its_claims_to_needs_review(app, client, insured, biller, sign_in):
    claims, control_number = sent(app, insured, count=2)
    sign_in(biller)
    bad_npi = SegmentError(segment_id="NM1", position=12, loop_id="2010AA", code="8", element_position=9,
                           element_reference="67", element_code="7", bad_value="1234567890")
    text = write_999(group_control_number=control_number, transactions=[("0001", "R", [bad_npi])],
                     sender_id="CLEARHOUSE", receiver_id="PARITY", interchange_control_number=next(_interchanges),
                     created_at=datetime.now(timezone.utc))

    response = upload(client, text)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert result_value(html, "claims-moved") == "2" and f"File {control_number} rejected" in html
    for claim in claims:
        row = claim_row(app, claim["id"])
        assert row.status == ClaimStatus.NEEDS_REVIEW and "999" in row.problems[0]["message"]
    with app.app_context():
        assert db.session.get(Submission, db.session.scalar(db.select(Submission.id))).acknowledged_at is not None


@pytest.mark.parametrize("content, message", [
    (b"", "Choose the 999 or 277CA file"),
    (b"this is not X12 at all", "The file was not read"),
    (b"ISA*00*\x00~", "NUL"),
])
def test_unreadable_files_are_refused_beside_the_field(app, client, insured, biller, sign_in, content, message):
    sent(app, insured)
    sign_in(biller)
    before = snapshot(app)
    response = upload(client, content) if content else client.post("/claims/acknowledgements", data={},
                                                                   content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "file")
    assert snapshot(app) == before


def test_an_835_is_sent_to_the_remittances_page(app, client, insured, biller, sign_in):
    (claim,), _ = sent(app, insured)
    sign_in(biller)
    before = snapshot(app)
    response = upload(client, x12(remittance(insured.payer, [claim_payment(claim)])))
    assert response.status_code == 422
    assert "Remittances page" in field_error(response.get_data(as_text=True), "file")
    assert snapshot(app) == before


def test_an_htmx_upload_answers_with_its_block(app, client, insured, biller, sign_in):
    (claim,), _ = sent(app, insured)
    sign_in(biller)
    headers = {"HX-Request": "true", "HX-Target": "acknowledgement-upload"}
    refused = upload(client, "garbage", headers=headers)
    assert refused.status_code == 422
    assert refused.get_data(as_text=True).lstrip().startswith('<div id="acknowledgement-upload">')
    applied = upload(client, x277(report(claim, "A1")), headers=headers)
    html = applied.get_data(as_text=True)
    assert applied.status_code == 200 and html.lstrip().startswith('<div id="acknowledgement-upload">')
    assert 'id="acknowledgement-result"' in html and "<nav" not in html


# ---------------------------------------------------------------- fuzzing over HTTP


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_277cas_are_refused_whole_or_applied_never_a_500(app, client, insured, biller, sign_in, data):
    if not getattr(insured, "sent", None):  # once per test, not per example
        insured.sent, _ = sent(app, insured, count=2)
        sign_in(biller)
    first, second = insured.sent
    text = x277(report(first, "A1", status_code="20", payer_claim_number="HHP-1"),
                report(second, "A7", status_code="33", message="Subscriber ID not on file"),
                report(dict(first, number="NOT-OURS"), "P1"))
    content = data.draw(mangled(text))
    before = snapshot(app)

    response = upload(client, content)

    event(f"HTTP {response.status_code}")
    assert response.status_code in (200, 422), (response.status_code, content)
    if response.status_code == 422:
        assert snapshot(app) == before, content
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert (response.status_code == 200) == _reads(content, parse_277ca), content
