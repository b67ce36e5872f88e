"""Remittances over HTTP: an 835 uploaded through the page posts payments, contractual write-offs and the
client's share onto real claims and bills; a file posted before, or one that does not balance, changes
nothing; claim payments that match no claim wait in the unmatched queue until a biller resolves or
dismisses them; and no mangled file ever gets a 500 or leaves half a posting behind."""
import io
import itertools
import re
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.billing import bills
from app.extensions import db
from app.models import (Adjustment, AdjustmentKind, Allocation, Bill, Claim, ClaimEvent, ClaimStatus, JobProblem,
                        Payment, PaymentSource, PostingOutcome, Practice, Remittance, RemittanceClaim, Role,
                        TherapySession, X12File)
from app.models.types import utcnow
from app.x12 import inbound
from app.x12.remittance import parse_835, write_835
from tests.conftest import csrf_token_from
from tests.support.days import local_today

_interchanges = itertools.count(1001)
_traces = itertools.count(1)

ALLOWED_CENTS = 11000  #: what the payer allows for a 90834 billed at $150
COPAY_CENTS = 2000  #: the policy's copay (the factory's default)


# ---------------------------------------------------------------- building real claims and their 835


@pytest.fixture
def insured(make, app):
    """An insured client with completed, signed sessions; `bill_for()` makes a bill and its claim."""
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Clinician, LMHC")
    client = make.client(practice, primary_clinician_id=clinician.id)
    payer = make.payer(practice, name="Harborview Health Plan", telehealth_modifier="95")
    policy = make.policy(client, payer)
    services = {code: make.service(practice, code, price_cents=price) for code, price in
                (("90791", 20000), ("90834", 15000), ("90785", 2500))}

    def bill_for(codes=(("90834", 1),), minutes=45, diagnoses=("F41.1",)):
        session = make.session(client, clinician, minutes=minutes, status="completed", modality="in_person",
                               place_of_service="11")
        for code, units in codes:
            make.line(session, services[code], units=units, modifiers=[])
        make.note(session, diagnosis_codes=list(diagnoses),
                  signed_diagnoses=[{"code": code, "description": ""} for code in diagnoses],
                  signed_at=session.ends_at)
        with app.app_context():
            bill = bills.create_from_sessions(db.session.get(Practice, practice.id),
                                              [db.session.get(TherapySession, session.id)])
            db.session.commit()
            return bill.id

    return type("Insured", (), {"practice": practice, "clinician": clinician, "client": client, "payer": payer,
                                "policy": policy, "services": services, "bill_for": staticmethod(bill_for)})


@pytest.fixture
def biller(make, insured):
    return make.member(insured.practice, Role.BILLER)


def claim_of(app, bill_id: int) -> dict:
    """The claim made for a bill, as plain values: id, control number, status and its lines."""
    with app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.bill_id == bill_id))
        assert claim is not None, "the bill got no claim"
        return {"id": claim.id, "bill_id": bill_id, "number": claim.patient_control_number, "status": claim.status,
                "lines": [(line.line_reference, line.code, line.charge_cents) for line in claim.lines]}


def claim_payment(claim: dict, *, number: str | None = None, allowed: int = ALLOWED_CENTS,
                  copay: int = COPAY_CENTS) -> inbound.ClaimPayment:
    """CLP for a one-line claim: CO-45 takes the charge down to the allowed amount, PR-3 is the copay, and the
    payer pays the rest (paid = charge − CO − PR)."""
    services = []
    for position, (reference, code, charge) in enumerate(claim["lines"], start=1):
        contractual = charge - allowed
        services.append(inbound.ServicePayment(
            procedure_code=code, charge_cents=charge, paid_cents=charge - contractual - copay, units=1,
            # A payment under another number echoes that number's line ids, none of ours.
            line_reference=f"{number}-{position}" if number else reference, allowed_cents=allowed,
            adjustments=(inbound.Adjustment(group="CO", reason="45", amount_cents=contractual),
                         inbound.Adjustment(group="PR", reason="3", amount_cents=copay))))
    return inbound.ClaimPayment(
        patient_control_number=number or claim["number"], status_code="1",
        charge_cents=sum(s.charge_cents for s in services), paid_cents=sum(s.paid_cents for s in services),
        patient_responsibility_cents=copay * len(services), filing_indicator="12", payer_claim_number="HHP-77821",
        services=tuple(services), remark_codes=("N54",) if number else (), patient_name="Person, Client")


def remittance(payer, payments, *, trace: str | None = None, plb=()) -> inbound.Remittance:
    total = sum(p.paid_cents for p in payments) - sum(a.amount_cents for a in plb)
    return inbound.Remittance(
        total_paid_cents=total, payment_method="ACH", paid_on=local_today(),
        trace_number=trace or f"EFT{next(_traces):07d}", payer_identifier="1234567890", payer_name=payer.name,
        payer_id=payer.clearinghouse_payer_id, payee_name="Practice", payee_npi="2000000002",
        claims=tuple(payments), provider_adjustments=tuple(plb))


def x12(payment: inbound.Remittance) -> str:
    return write_835(payment, sender_id="HHP01", receiver_id="PARITY", interchange_control_number=next(_interchanges),
                     created_at=datetime.now(timezone.utc))


def upload(client, text: str | bytes, *, headers=None):
    data = text.encode() if isinstance(text, str) else text
    return client.post("/remittances", data={"file": (io.BytesIO(data), "era.835")},
                       content_type="multipart/form-data", headers=headers or {})


COUNTED = {"remittances": Remittance, "remittance_claims": RemittanceClaim, "payments": Payment,
           "allocations": Allocation, "adjustments": Adjustment, "claim_events": ClaimEvent, "x12_files": X12File}


def snapshot(app) -> dict:
    """Row counts of everything posting writes, and every claim's status and money."""
    with app.app_context():
        row = db.session.execute(select(*(select(func.count()).select_from(model).scalar_subquery().label(name)
                                          for name, model in COUNTED.items()))).one()
        counts = dict(row._mapping)
        counts["claims"] = sorted(db.session.execute(select(Claim.id, Claim.status, Claim.paid_cents,
                                                            Claim.payer_claim_number)).all())
        return counts


def bill_money(app, bill_id: int) -> dict:
    with app.app_context():
        bill = db.session.get(Bill, bill_id)
        payments = db.session.scalars(select(Payment).join(Allocation, Allocation.payment_id == Payment.id)
                                      .where(Allocation.bill_id == bill_id)).all()
        adjustments = db.session.scalars(select(Adjustment).where(Adjustment.bill_id == bill_id)).all()
        return {"balance": bills.totals(bill).balance, "status": bill.status,
                "insurance": sum(p.amount_cents for p in payments if p.source == PaymentSource.INSURANCE),
                "contractual": sum(a.amount_cents for a in adjustments if a.kind == AdjustmentKind.CONTRACTUAL)}


def status_of(app, claim_id: int) -> str:
    with app.app_context():
        return db.session.get(Claim, claim_id).status


def field_error(html: str, field_id: str) -> str:
    """The error shown beside a field, after checking the field points at it for screen readers."""
    match = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', html)
    assert match, f"no field {field_id}"
    assert 'aria-invalid="true"' in match.group(0) and f"{field_id}-error" in match.group(0), match.group(0)
    error = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    assert error, f"no error beside {field_id}"
    return error.group(1)


# ---------------------------------------------------------------- posting


def test_an_835_posts_the_payment_the_write_off_and_leaves_the_copay(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)

    response = upload(client, x12(remittance(insured.payer, [claim_payment(claim)])))

    assert response.status_code == 303
    with app.app_context():
        posted = db.session.scalar(select(Remittance))
    assert response.headers["Location"] == f"/remittances/{posted.id}"
    assert status_of(app, claim["id"]) == ClaimStatus.PAID
    assert bill_money(app, claim["bill_id"]) == {"balance": COPAY_CENTS, "status": "open",
                                                 "insurance": ALLOWED_CENTS - COPAY_CENTS,
                                                 "contractual": 15000 - ALLOWED_CENTS}
    page = client.get(response.headers["Location"])
    assert "Posted 1 claim payment." in page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert f'href="/claims/{claim["id"]}"' in html and f'href="/x12/{posted.file_id}"' in html
    assert "$90.00" in html and "$20.00" in html and "$150.00" in html
    assert "CO-45" in html and "allowed amount" in html and "copay" in html.lower()
    assert "Processed as primary" in html or "primary" in html.lower()


def test_the_list_shows_the_payment_and_links_to_both_queues(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    text = x12(remittance(insured.payer, [claim_payment(claim), claim_payment(claim, number="NOT-OURS-1")],
                          trace="EFT-LIST-1"))
    assert upload(client, text).status_code == 303

    html = client.get("/remittances").get_data(as_text=True)
    assert "EFT-LIST-1" in html and "Harborview Health Plan" in html and "EFT (ACH)" in html
    assert "$180.00" in html  # two claim payments of $90
    assert re.search(r'id="unmatched-count">1<', html)
    assert 'href="/claims/acknowledgements"' in html and "Upload 999/277CA" in html
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html


def test_a_provider_adjustment_is_shown_with_its_words(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    interest = inbound.ProviderAdjustment(provider_id="2000000002", fiscal_period_date=date(2026, 12, 31),
                                          reason="L6", reference="INT", amount_cents=-125)
    response = upload(client, x12(remittance(insured.payer, [claim_payment(claim)], plb=[interest])))
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="provider-adjustments"' in html and "-$1.25" in html and "$91.25" in html
    assert "nterest" in html  # L6 in words


def test_a_file_with_several_payments_goes_back_to_the_list(app, client, insured, biller, sign_in):
    first, second = claim_of(app, insured.bill_for()), claim_of(app, insured.bill_for())
    sign_in(biller)
    text = x12(remittance(insured.payer, [claim_payment(first)])) + x12(remittance(insured.payer,
                                                                                   [claim_payment(second)]))
    response = upload(client, text)
    assert response.status_code == 303 and response.headers["Location"] == "/remittances"
    assert "Posted 2 claim payments." in client.get("/remittances").get_data(as_text=True)
    assert status_of(app, first["id"]) == status_of(app, second["id"]) == ClaimStatus.PAID


def test_uploading_the_same_file_again_is_refused_and_changes_nothing(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    text = x12(remittance(insured.payer, [claim_payment(claim)]))
    assert upload(client, text).status_code == 303
    before = snapshot(app)

    response = upload(client, text)

    assert response.status_code == 422
    assert "already posted" in field_error(response.get_data(as_text=True), "file")
    assert snapshot(app) == before
    assert bill_money(app, claim["bill_id"])["insurance"] == ALLOWED_CENTS - COPAY_CENTS


def test_a_file_that_does_not_balance_is_refused_with_the_reason(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    payment = claim_payment(claim)
    text = x12(remittance(insured.payer, [replace(payment, paid_cents=payment.paid_cents + 100)]))
    before = snapshot(app)

    response = upload(client, text)

    assert response.status_code == 422
    assert "does not balance" in field_error(response.get_data(as_text=True), "file")
    assert snapshot(app) == before
    assert status_of(app, claim["id"]) == ClaimStatus.QUEUED


def test_an_amount_too_large_for_the_database_is_never_a_500(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    big = 3_000_000_000  # $30,000,000.00: more cents than PostgreSQL's integer columns hold
    payment = inbound.ClaimPayment(patient_control_number=claim["number"], status_code="1", charge_cents=big,
                                   paid_cents=big)
    before = snapshot(app)
    response = upload(client, x12(remittance(insured.payer, [payment])))
    assert response.status_code in (303, 422)  # SQLite keeps it; PostgreSQL cannot
    if response.status_code == 422:
        assert "too large" in field_error(response.get_data(as_text=True), "file")
        assert snapshot(app) == before


def test_an_htmx_upload_answers_with_the_form_or_a_redirect(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    headers = {"HX-Request": "true", "HX-Target": "upload-form"}
    refused = upload(client, "ISA*garbage~", headers=headers)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="upload-form">') and "<table" not in html
    assert field_error(html, "file")

    posted = upload(client, x12(remittance(insured.payer, [claim_payment(claim)])), headers=headers)
    assert posted.status_code == 200 and posted.headers["HX-Redirect"].startswith("/remittances/")


@pytest.mark.parametrize("content, message", [
    (b"", "Choose the 835 file"),
    (b"   \n", "empty"),
    (b"ISA" + b"*" * (10 * 1024 * 1024), "larger than 10 MB"),
    (b"ISA*00*\x00~", "NUL"),
    ("ISA*\u00e9\u00e8 not x12".encode("latin-1"), "835 was not posted"),
])
def test_files_that_are_not_835s_are_refused_beside_the_field(app, client, insured, biller, sign_in, content,
                                                               message):
    sign_in(biller)
    before = snapshot(app)
    if content:
        response = upload(client, content)
    else:
        response = client.post("/remittances", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "file")
    assert snapshot(app) == before


def test_the_list_pages_fifty_at_a_time(app, client, make, insured, biller, sign_in):
    for _ in range(52):
        make.remittance(insured.practice.id)
    sign_in(biller)
    first = client.get("/remittances").get_data(as_text=True)
    assert first.count('id="remittance-row-') == 50
    older = re.search(r'href="(/remittances\?before=\d+)" id="next-page"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert second.count('id="remittance-row-') == 2 and 'id="next-page"' not in second


def test_job_problems_are_shown_until_cleared(app, client, make, insured, biller, sign_in):
    practice_id = insured.practice.id
    make.save(JobProblem(practice_id=practice_id, job="fetch_remittances", message="Claim.MD did not answer.",
                         will_retry=True))
    make.save(JobProblem(practice_id=practice_id, job="poll_status", message="The key was refused.",
                         will_retry=False))
    make.save(JobProblem(practice_id=practice_id, job="poll_status", message="Old news.", cleared_at=utcnow()))
    make.save(JobProblem(practice_id=practice_id, job="submit_claims", message="Not for this page."))
    sign_in(biller)
    html = client.get("/remittances").get_data(as_text=True)
    banner = re.search(r'<div class="alert alert--warning"[^>]*id="job-problems">(.*?)</div>', html, re.S).group(1)
    assert "Claim.MD did not answer. (will retry)" in banner
    assert "The key was refused." in banner and "The key was refused. (will retry)" not in banner
    assert "Old news" not in banner and "Not for this page" not in banner


def test_clinicians_may_not_see_remittances(app, client, make, insured, sign_in):
    sign_in(insured.clinician)
    assert client.get("/remittances").status_code == 403
    assert client.get("/remittances/unmatched").status_code == 403
    assert client.get("/claims/acknowledgements").status_code == 403
    labels = re.findall(r'<nav aria-label="Main">.*?</nav>', client.get("/").get_data(as_text=True), re.S)[0]
    assert "Remittances" not in labels


def test_navigation_shows_remittances_after_claims_for_billers(app, client, biller, sign_in):
    sign_in(biller)
    nav = re.findall(r'<nav aria-label="Main">.*?</nav>', client.get("/remittances").get_data(as_text=True), re.S)[0]
    assert nav.index(">Claims<") < nav.index(">Remittances<")
    assert '<a href="/remittances" aria-current="page">Remittances</a>' in nav


# ---------------------------------------------------------------- the unmatched queue


def unmatched_line(app, client, insured, claim) -> int:
    """Upload an 835 whose only claim payment names a control number no claim has; the line's id."""
    response = upload(client, x12(remittance(insured.payer, [claim_payment(claim, number="ZZ-UNKNOWN-9")])))
    assert response.status_code == 303
    with app.app_context():
        line = db.session.scalar(select(RemittanceClaim).where(RemittanceClaim.outcome == PostingOutcome.UNMATCHED))
        return line.id


def test_an_unknown_control_number_waits_in_the_queue_until_resolved(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    line_id = unmatched_line(app, client, insured, claim)
    assert status_of(app, claim["id"]) == ClaimStatus.QUEUED
    assert "1 could not be matched" in client.get("/remittances").get_data(as_text=True)

    queue = client.get("/remittances/unmatched").get_data(as_text=True)
    assert f'id="unmatched-row-{line_id}"' in queue and "ZZ-UNKNOWN-9" in queue and "Person, Client" in queue
    assert "No claim of this practice has patient control number ZZ-UNKNOWN-9" in queue

    wrong = client.post(f"/remittances/claims/{line_id}/resolve", data={f"resolve-{line_id}-control_number": "P0C0"})
    assert wrong.status_code == 422
    assert "No claim of this practice" in field_error(wrong.get_data(as_text=True), f"resolve-{line_id}-control_number")
    assert status_of(app, claim["id"]) == ClaimStatus.QUEUED

    right = client.post(f"/remittances/claims/{line_id}/resolve",
                        data={f"resolve-{line_id}-control_number": f" {claim['number']} "})
    assert right.status_code == 303 and right.headers["Location"] == "/remittances/unmatched"
    assert status_of(app, claim["id"]) == ClaimStatus.PAID
    assert bill_money(app, claim["bill_id"])["balance"] == COPAY_CENTS
    queue = client.get("/remittances/unmatched").get_data(as_text=True)
    assert f'id="unmatched-row-{line_id}"' not in queue and f"Posted to claim {claim['number']}" in queue
    with app.app_context():
        line = db.session.get(RemittanceClaim, line_id)
        assert line.outcome == PostingOutcome.PAID and line.claim_id == claim["id"]
        assert db.session.get(Remittance, line.remittance_id).unmatched_count == 0

    again = client.post(f"/remittances/claims/{line_id}/resolve",
                        data={f"resolve-{line_id}-control_number": claim["number"]})
    assert again.status_code == 422
    assert "not waiting in the unmatched queue" in again.get_data(as_text=True)


def test_resolving_over_htmx_swaps_the_row(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    line_id = unmatched_line(app, client, insured, claim)
    headers = {"HX-Request": "true", "HX-Target": f"unmatched-row-{line_id}"}

    wrong = client.post(f"/remittances/claims/{line_id}/resolve", headers=headers,
                        data={f"resolve-{line_id}-control_number": "NOPE"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and html.lstrip().startswith(f'<tr id="unmatched-row-{line_id}"')
    assert "<table" not in html and field_error(html, f"resolve-{line_id}-control_number")

    right = client.post(f"/remittances/claims/{line_id}/resolve", headers=headers,
                        data={f"resolve-{line_id}-control_number": claim["number"]})
    html = right.get_data(as_text=True)
    assert right.status_code == 200 and html.lstrip().startswith(f'<tr id="unmatched-row-{line_id}"')
    assert "Paid" in html and "<form" not in html
    assert "toast" in right.headers["HX-Trigger"]
    assert status_of(app, claim["id"]) == ClaimStatus.PAID


def test_dismissing_needs_a_note(app, client, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    line_id = unmatched_line(app, client, insured, claim)
    before = snapshot(app)

    blank = client.post(f"/remittances/claims/{line_id}/dismiss", data={f"dismiss-{line_id}-note": "  "})
    assert blank.status_code == 422
    assert "Say why" in field_error(blank.get_data(as_text=True), f"dismiss-{line_id}-note")
    assert snapshot(app) == before

    done = client.post(f"/remittances/claims/{line_id}/dismiss",
                       data={f"dismiss-{line_id}-note": "Not our patient: another practice's claim."})
    assert done.status_code == 303
    with app.app_context():
        line = db.session.get(RemittanceClaim, line_id)
        assert line.outcome == PostingOutcome.DISMISSED and line.resolution_note.startswith("Not our patient")
    assert f'id="unmatched-row-{line_id}"' not in client.get("/remittances/unmatched").get_data(as_text=True)
    assert status_of(app, claim["id"]) == ClaimStatus.QUEUED


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_the_forms_carry_their_csrf_tokens(app, client, insured, biller, sign_in, app_config):
    claim = claim_of(app, insured.bill_for())
    sign_in(biller)
    text = x12(remittance(insured.payer, [claim_payment(claim, number="ZZ-CSRF")]))
    assert upload(client, text).status_code == 400  # no token: refused before anything is read
    token = csrf_token_from(client.get("/remittances").get_data(as_text=True))
    response = client.post("/remittances", data={"csrf_token": token, "file": (io.BytesIO(text.encode()), "era.835")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        line_id = db.session.scalar(select(RemittanceClaim.id))
    queue = client.get("/remittances/unmatched").get_data(as_text=True)
    row_token = re.search(rf'name="resolve-{line_id}-csrf_token" type="hidden" value="([^"]+)"', queue).group(1)
    response = client.post(f"/remittances/claims/{line_id}/resolve",
                           data={f"resolve-{line_id}-csrf_token": row_token,
                                 f"resolve-{line_id}-control_number": claim["number"]})
    assert response.status_code == 303 and status_of(app, claim["id"]) == ClaimStatus.PAID


def test_another_practices_claim_cannot_be_named(app, client, make, insured, biller, sign_in):
    claim = claim_of(app, insured.bill_for())
    other = make.claim(make.bill(make.client(make.practice())))
    sign_in(biller)
    line_id = unmatched_line(app, client, insured, claim)
    response = client.post(f"/remittances/claims/{line_id}/resolve",
                           data={f"resolve-{line_id}-control_number": other.patient_control_number})
    assert response.status_code == 422
    assert "No claim of this practice" in response.get_data(as_text=True)


# ---------------------------------------------------------------- fuzzing over HTTP


def _segments(text: str) -> list[str]:
    return [part for part in text.split("~") if part.strip()]


@st.composite
def mangled(draw, text: str) -> bytes:
    """A valid file, damaged the ways files get damaged: cut short, segments lost, repeated or swapped,
    characters flipped, amounts changed; or something else altogether."""
    kind = draw(st.sampled_from(["truncate", "segments", "characters", "amounts", "mixed", "noise", "bytes"]))
    if kind == "noise":
        return draw(st.text(max_size=400)).encode("utf-8", errors="replace")
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "truncate":
        return text[:draw(st.integers(0, len(text) - 1))].encode()
    segments = _segments(text)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "duplicate", "swap"] if kind == "segments" else
                                      ["flip"] if kind == "characters" else
                                      ["amount"] if kind == "amounts" else
                                      ["drop", "duplicate", "swap", "flip", "amount"]))
        index = draw(st.integers(0, len(segments) - 1))
        if action == "drop":
            del segments[index]
        elif action == "duplicate":
            segments.insert(index, segments[index])
        elif action == "swap":
            other = draw(st.integers(0, len(segments) - 1))
            segments[index], segments[other] = segments[other], segments[index]
        elif action == "flip" and segments[index]:
            position = draw(st.integers(0, len(segments[index]) - 1))
            character = draw(st.sampled_from(["*", ":", "^", "~", "0", "9", "-", ".", " ", "", "A", "\u00e9"])
                             | st.characters(codec="utf-8", exclude_characters="\x00"))
            segments[index] = segments[index][:position] + character + segments[index][position + 1:]
        elif action == "amount":
            amounts = list(re.finditer(r"(?<=\*)-?\d+(?:\.\d+)?(?=\*|$)", segments[index]))
            if amounts:
                found = amounts[draw(st.integers(0, len(amounts) - 1))]
                value = draw(st.sampled_from(["0", "-1", "90.01", "1e3", "99999999999", "", "1.234", "+5"])
                             | st.decimals(-10**6, 10**6, places=2, allow_nan=False).map(str))
                segments[index] = segments[index][:found.start()] + value + segments[index][found.end():]
        if not segments:
            break
    return "~".join(segments).encode() + (b"~" if segments else b"")


def _reads(content: bytes, reader) -> bool:
    try:
        reader(content.decode("utf-8", errors="replace"))
    except inbound.X12ReadError:
        return False
    return True


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_835s_are_refused_whole_or_posted_never_a_500(app, client, insured, biller, sign_in, data):
    if not getattr(insured, "claims", None):  # once per test, not per example
        insured.claims = [claim_of(app, insured.bill_for()) for _ in range(2)]
        sign_in(biller)
    payments = [claim_payment(claim) for claim in insured.claims]
    interest = inbound.ProviderAdjustment(provider_id="2000000002", fiscal_period_date=date(2026, 12, 31),
                                          reason="L6", reference="INT", amount_cents=-125)
    text = x12(remittance(insured.payer, payments, plb=[interest]))  # a new trace number every time
    content = data.draw(mangled(text))
    before = snapshot(app)

    response = upload(client, content)

    event(f"HTTP {response.status_code}")
    assert response.status_code in (303, 422), (response.status_code, content)
    if response.status_code == 422:
        assert snapshot(app) == before, content
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    else:
        assert _reads(content, parse_835), content
    if not _reads(content, parse_835):
        assert response.status_code == 422
