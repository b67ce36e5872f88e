"""A biller filters the claims page by status, opens a claim in Needs Review, fixes it and rechecks it."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_biller_fixes_a_needs_review_claims_bill_and_the_claim_follows_it_into_the_queue(page, live_server):
    from app.billing import bills
    from app.extensions import db
    from app.models import Practice, TherapySession

    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    biller = make.member(practice, Role.BILLER)
    client = make.client(practice, primary_clinician_id=clinician.id, first_name="Quinn")
    payer = make.payer(practice, name="MassHealth", telehealth_modifier="GT", filing_indicator="MC")
    make.policy(client, payer)
    service = make.service(practice, "90834", price_cents=15000)
    session = make.session(client, clinician, minutes=45, status="completed", modality="video",
                           place_of_service="10")
    make.line(session, service, modifiers=["95"])  # MassHealth wants GT: the scrubber will object
    make.note(session, signed_diagnoses=[{"code": "F41.1", "description": "Generalized anxiety disorder"}],
              signed_at=session.ends_at)
    with live_server.app_context():
        bills.create_from_sessions(db.session.get(Practice, practice.id),
                                   [db.session.get(TherapySession, session.id)])
        db.session.commit()

    sign_in(page, biller.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Claims").click()
    page.get_by_role("navigation", name="Claim status").get_by_role("link", name=re.compile("Needs Review")).click()
    expect(page).to_have_url(re.compile(r"status=Needs(\+|%20)Review"))
    page.get_by_role("link", name=re.compile(r"^P\d+C\d+$")).click()
    problems = page.locator("#claim-problems")
    expect(problems).to_contain_text("MassHealth wants modifier GT")
    claim_url = page.url
    problems.get_by_role("link", name="Fix this").first.click()
    expect(page).to_have_url(re.compile(r"/bills/\d+$"))
    modifiers = page.get_by_label("Modifiers").first
    modifiers.fill("GT")
    page.get_by_role("button", name="Save line").first.click()
    expect(page.locator("input[value='GT']")).to_have_count(1)
    # A claim still here (Needs Review) follows its bill: saving the line scrubbed it again, and it is clean now.
    page.goto(claim_url)
    expect(page.locator("h1 .status-badge")).to_have_text("Queued For Submission")
    expect(page.get_by_role("button", name="Recheck")).to_have_count(0)


def test_bulk_recheck_says_how_many_were_queued_and_how_many_still_need_review(page, live_server):
    from app.billing import bills
    from app.extensions import db
    from app.models import Practice, TherapySession

    make = Factory(live_server)
    practice = make.practice(tax_id=None)  # every claim goes to Needs Review until the EIN is entered
    clinician = make.member(practice, Role.CLINICIAN)
    biller = make.member(practice, Role.BILLER)
    client = make.client(practice, primary_clinician_id=clinician.id)
    payer = make.payer(practice, name="MassHealth", telehealth_modifier="GT", filing_indicator="MC")
    make.policy(client, payer)
    service = make.service(practice, "90834", price_cents=15000)
    sessions = []
    for modality, place, modifiers in (("in_person", "11", []), ("in_person", "11", []), ("video", "10", ["95"])):
        session = make.session(client, clinician, minutes=45, status="completed", modality=modality,
                               place_of_service=place)
        make.line(session, service, modifiers=modifiers)  # the video one lacks GT: still wrong after the EIN
        make.note(session, signed_diagnoses=[{"code": "F41.1", "description": "Generalized anxiety disorder"}],
                  signed_at=session.ends_at)
        sessions.append(session.id)
    with live_server.app_context():
        for each in sessions:  # a bill, and a claim, for each session
            bills.create_from_sessions(db.session.get(Practice, practice.id), [db.session.get(TherapySession, each)])
        db.session.get(Practice, practice.id).tax_id = "123456789"
        db.session.commit()

    sign_in(page, biller.email)
    page.goto("/claims?status=Needs+Review")
    boxes = page.get_by_role("checkbox", name=re.compile(r"^Select claim"))
    expect(boxes).to_have_count(3)
    for index in range(3):
        boxes.nth(index).check()
    page.get_by_label("With the ticked claims").select_option("recheck")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#toasts")).to_contain_text("2 claims back in the queue; 1 claim still needs review.")
    expect(page.get_by_role("checkbox", name=re.compile(r"^Select claim"))).to_have_count(1)


def test_a_subscriber_not_found_rejection_leads_to_the_policy_and_the_claim_to_its_client(page, live_server):
    from app.billing import acknowledgements
    from app.extensions import db
    from app.models import Claim
    from app.x12 import inbound

    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    biller = make.member(practice, Role.BILLER)
    client = make.client(practice, primary_clinician_id=clinician.id, first_name="Quinn", last_name="Avery")
    claim = make.claim(make.bill(client, clinician, status="open"), status="sent")
    with live_server.app_context():
        row = db.session.get(Claim, claim.id)
        acknowledgements.apply_report(row, inbound.ClaimStatusReport(
            patient_control_number=row.patient_control_number, category="A7", status_code="33", entity="IL",
            message="Subscriber not found: member ID is not on file"))
        db.session.commit()

    sign_in(page, biller.email)
    page.goto(f"/claims/{claim.id}")
    problems = page.locator("#claim-problems")
    expect(problems).to_contain_text("Subscriber not found")
    problems.get_by_role("link", name="Fix this").click()
    expect(page).to_have_url(re.compile(rf"/clients/{client.id}/policies/{claim.policy_id}$"))
    expect(page.get_by_label("Member ID")).to_be_visible()
    page.go_back()
    page.locator("#claim-client").click()
    expect(page).to_have_url(re.compile(rf"/clients/{client.id}$"))
    page.locator("#client-claims").get_by_role("link", name=claim.patient_control_number).click()
    expect(page).to_have_url(re.compile(rf"/claims/{claim.id}$"))
    page.locator("#claim-policy").click()
    expect(page).to_have_url(re.compile(rf"/clients/{client.id}/policies/{claim.policy_id}$"))
