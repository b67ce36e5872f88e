"""The CMS-1500 paper claim: each box read back from the PDF (pypdf), for a primary claim, a secondary claim
(a client with two policies) and a corrected claim (frequency 7), in the full form and the data-only layout;
several claims in one PDF; who may print them."""
import io
from datetime import date

import pytest
from pypdf import PdfReader

from app.billing import claims as rules
from app.billing import cms1500
from app.extensions import db
from app.models import Bill, Claim, InsurancePolicy, Practice, Role
from tests.support.insurance import insured as insured_practice


@pytest.fixture
def insured(make, app):
    return insured_practice(make, app)


def pages_of(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


def positions(response, needle: str) -> list[tuple[float, float]]:
    """Where the text runs containing `needle` start on the first page, in points from the bottom left."""
    found = []

    def visit(text, cm, tm, font, size):
        if needle in text:
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    PdfReader(io.BytesIO(response.data)).pages[0].extract_text(visitor_text=visit)
    return found


def fields_of(app, claim_id: int, page: int = 0) -> dict[tuple[int, int], str]:
    """The values the form prints, by (line, column) of the form's grid."""
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        sheet = cms1500.sheets(claim, db.session.get(Practice, claim.practice_id), printed_on=date(2026, 12, 3))[page]
        return {(field.line, field.col): field.text for field in sheet.fields}


def biller_of(make, insured):
    return make.member(insured.practice, Role.BILLER)


def test_a_primary_claim_prints_every_box_on_the_full_form(app, client, make, sign_in, insured):
    claim_id = insured.claim(member_id="HHP987654")
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        patient = claim.client
        pcn, service_date = claim.patient_control_number, claim.service_date
        last, first = patient.last_name.upper(), patient.first_name.upper()
    sign_in(biller_of(make, insured))
    response = client.get(f"/claims/{claim_id}/cms1500.pdf")
    [text] = pages_of(response)
    assert "inline" in response.headers["Content-Disposition"]
    for label in ("HEALTH INSURANCE CLAIM FORM", "1a. INSURED'S I.D. NUMBER", "21. DIAGNOSIS OR NATURE OF ILLNESS",
                  "24. A. DATE(S) OF SERVICE", "33. BILLING PROVIDER INFO"):
        assert label in text
    for value in ("HARBORVIEW HEALTH PLAN", "HHP987654", f"{last}, {first}", "F411", "90834", "150 00",
                  "ZZ261QM0801X", "123456789", pcn, "SIGNATURE ON FILE", "CASEY CLINICIAN, LMHC", "2000000002",
                  "GRP1"):
        assert value in text, value
    fields = fields_of(app, claim_id)
    assert fields[(8, 31)] == "X"  # 1: group health plan (filing indicator CI)
    assert fields[(8, 50)] == "HHP987654"  # 1a
    assert fields[(10, 1)] == f"{last}, {first}" and fields[(10, 50)] == f"{last}, {first}"  # 2 and 4
    assert (fields[(10, 31)], fields[(10, 34)], fields[(10, 37)]) == ("04", "12", "1988")  # 3
    assert fields[(10, 47)] == "X"  # 3: F
    assert fields[(12, 33)] == "X"  # 6: self
    assert fields[(18, 50)] == "GRP1"  # 11
    assert fields[(24, 50)] == "HARBORVIEW HEALTH PLAN"  # 11c
    assert fields[(26, 57)] == "X" and (26, 52) not in fields  # 11d: no other plan
    assert not any(line in (18, 20, 26) and col == 1 for line, col in fields)  # 9, 9a, 9d empty
    assert fields[(37, 44)] == "0"  # 21: ICD-10 indicator
    assert fields[(38, 4)] == "F411"  # after the A the form prints
    assert (38, 50) not in fields and (38, 62) not in fields  # 22: an original claim
    assert fields[(44, 1)] == f"{service_date:%m}" and fields[(44, 7)] == f"{service_date:%y}"  # 24A
    assert fields[(44, 19)] == "11" and fields[(44, 25)] == "90834" and fields[(44, 45)] == "A"  # 24B, D, E
    assert fields[(44, 50)].strip() == "150 00" and fields[(44, 59)] == "1"  # 24F, G
    assert fields[(43, 65)] == "ZZ" and fields[(43, 68)] == "101YP2500X"  # 24I/J shaded: taxonomy
    assert fields[(44, 68)] in ("1234567893", "1000000004")  # 24J: rendering NPI
    assert fields[(56, 1)] == "123456789" and fields[(56, 19)] == "X"  # 25: EIN
    assert fields[(56, 23)] == pcn and fields[(56, 38)] == "X"  # 26, 27
    assert fields[(56, 50)].strip() == "150 00" and fields[(56, 62)].strip() == "0 00"  # 28, 29
    assert fields[(60, 1)] == "CASEY CLINICIAN, LMHC"  # 31
    assert fields[(61, 23)] == "2000000002"  # 32a
    assert fields[(61, 50)] == "2000000002" and fields[(61, 63)] == "ZZ261QM0801X"  # 33a, 33b
    assert fields[(57, 66)] == "617" and fields[(57, 70)] == "555-0100"  # 33 phone


def test_the_data_layout_prints_only_the_data_moved_by_the_practice_offset(app, client, make, sign_in, insured):
    claim_id = insured.claim(member_id="HHP987654")
    sign_in(biller_of(make, insured))
    plain = client.get(f"/claims/{claim_id}/cms1500.pdf?layout=data")
    [text] = pages_of(plain)
    assert "HHP987654" in text and "90834" in text and "F411" in text
    assert "HEALTH INSURANCE CLAIM FORM" not in text and "INSURED'S I.D. NUMBER" not in text
    [(x0, y0)] = positions(plain, "HHP987654")
    full = client.get(f"/claims/{claim_id}/cms1500.pdf")
    assert positions(full, "HHP987654") == [(x0, y0)]  # the same grid: the full form matches the red form
    with app.app_context():
        practice = db.session.get(Practice, insured.practice.id)
        practice.cms1500_offset_x, practice.cms1500_offset_y = 100, -25  # 10 mm right, 2.5 mm up
        db.session.commit()
    [(x1, y1)] = positions(client.get(f"/claims/{claim_id}/cms1500.pdf?layout=data"), "HHP987654")
    assert x1 - x0 == pytest.approx(10 * 72 / 25.4, abs=0.05)
    assert y1 - y0 == pytest.approx(2.5 * 72 / 25.4, abs=0.05)  # PDF y grows upwards
    [(x2, y2)] = positions(client.get(f"/claims/{claim_id}/cms1500.pdf"), "HHP987654")
    assert (x2, y2) == (x0, y0)  # the offset is for the pre-printed form only


def second_policy(make, insured, client_id, **values):
    payer = make.payer(insured.practice, name="Bayside Mutual", clearinghouse_payer_id="BAY01")
    return make.policy(type("Ref", (), {"id": client_id, "practice_id": insured.practice.id})(), payer, **{
        "member_id": "BAY555", "group_number": "BAYGRP", "priority": 2, "relationship_to_subscriber": "01",
        "subscriber_first_name": "Robin", "subscriber_last_name": "Natarajan", "subscriber_sex": "M",
        "subscriber_date_of_birth": date(1979, 2, 3), **values})


def test_a_client_with_two_policies_prints_the_other_insurance_on_both_claims(app, client, make, sign_in, insured):
    primary_id = insured.claim(member_id="HHP987654")
    with app.app_context():
        primary = db.session.get(Claim, primary_id)
        client_id, bill_id = primary.client_id, primary.bill_id
        last, first = primary.client.last_name.upper(), primary.client.first_name.upper()
    secondary_policy = second_policy(make, insured, client_id)
    fields = fields_of(app, primary_id)
    assert fields[(18, 1)] == "NATARAJAN, ROBIN"  # 9: the other insured
    assert fields[(20, 1)] == "BAYGRP"  # 9a
    assert fields[(26, 1)] == "BAYSIDE MUTUAL"  # 9d
    assert fields[(26, 52)] == "X" and (26, 57) not in fields  # 11d: yes

    # The primary paid $90.00; the secondary claim bills the secondary payer and prints that payment in 29.
    with app.app_context():
        db.session.get(Claim, primary_id).paid_cents = 9000
        primary_policy = db.session.get(InsurancePolicy, primary.policy_id)
        primary_policy.end_date = date(2025, 1, 1)  # for a moment, so the bill's claim goes to the secondary
        db.session.flush()
        secondary = rules.build_claim(db.session.get(Bill, bill_id))
        primary_policy.end_date = None
        db.session.commit()
        secondary_id = secondary.id
        assert secondary.policy_id == secondary_policy.id
    sign_in(biller_of(make, insured))
    [text] = pages_of(client.get(f"/claims/{secondary_id}/cms1500.pdf"))
    assert "BAY555" in text and "NATARAJAN, ROBIN" in text and "90 00" in text
    fields = fields_of(app, secondary_id)
    assert fields[(8, 50)] == "BAY555"  # 1a: the secondary's member
    assert fields[(10, 50)] == "NATARAJAN, ROBIN"  # 4: its insured
    assert fields[(12, 38)] == "X"  # 6: spouse
    assert fields[(10, 1)] == f"{last}, {first}"  # 2: the client is still the patient
    assert (fields[(20, 53)], fields[(20, 56)], fields[(20, 59)]) == ("02", "03", "1979") and fields[(20, 68)] == "X"
    assert fields[(18, 1)] == f"{last}, {first}"  # 9: the primary's insured (the client)
    assert fields[(20, 1)] == "GRP1" and fields[(26, 1)] == "HARBORVIEW HEALTH PLAN"  # 9a, 9d
    assert fields[(56, 62)].strip() == "90 00"  # 29: what the primary paid
    assert fields[(56, 50)].strip() == "150 00"  # 28: the charge stays the claim's


def test_a_corrected_claim_prints_resubmission_code_7_and_the_original_reference(app, client, make, sign_in,
                                                                                  insured):
    original_id = insured.claim()
    with app.app_context():
        original = db.session.get(Claim, original_id)
        original.payer_claim_number = "HHP-2026-000123"
        corrected = rules.build_claim(original.bill, frequency_code="7", original=original)
        db.session.commit()
        corrected_id = corrected.id
    sign_in(biller_of(make, insured))
    for layout in ("", "?layout=data"):
        [text] = pages_of(client.get(f"/claims/{corrected_id}/cms1500.pdf{layout}"))
        assert "HHP-2026-000123" in text
    fields = fields_of(app, corrected_id)
    assert fields[(38, 50)] == "7" and fields[(38, 62)] == "HHP-2026-000123"
    assert (38, 50) not in fields_of(app, original_id)


def test_several_claims_print_in_one_pdf_a_form_each_and_two_for_seven_lines(app, client, make, sign_in, insured):
    first = insured.claim(member_id="FIRST0001")
    second = insured.claim(member_id="SECOND002")
    long_claim = insured.claim(member_id="LONG00003", units=1)
    with app.app_context():
        claim = db.session.get(Claim, long_claim)
        line = claim.lines[0]
        for position in range(2, 8):  # seven lines: two forms
            claim.lines.append(type(line)(bill_line_id=None, position=position, line_reference=f"L{position}",
                                          service_date=line.service_date, code="90834", modifiers=[], units=1,
                                          charge_cents=15000 + position, diagnosis_pointers=[1]))
        claim.total_charge_cents = sum(each.charge_cents for each in claim.lines)
        db.session.commit()
    sign_in(biller_of(make, insured))
    pages = pages_of(client.get(f"/claims/cms1500.pdf?claim={first}&claim={second}&claim={long_claim}"))
    assert len(pages) == 4
    assert "FIRST0001" in pages[0] and "SECOND002" in pages[1]
    assert "LONG00003" in pages[2] and "LONG00003" in pages[3]
    assert "CONTINUED" in pages[2] and "1050 27" in pages[3]  # 28: the total on the last form only
    assert "150 07" in pages[3] and "150 07" not in pages[2]  # the seventh line on the second form
    data_pages = pages_of(client.get(f"/claims/cms1500.pdf?claim={first}&claim={second}&layout=data"))
    assert len(data_pages) == 2


def test_who_may_print_a_cms1500(app, client, make, sign_in, insured):
    claim_id = insured.claim()
    assert client.get(f"/claims/{claim_id}/cms1500.pdf").status_code == 302  # anonymous: sign in first
    sign_in(make.member(insured.practice, Role.CLINICIAN))
    assert client.get(f"/claims/{claim_id}/cms1500.pdf").status_code == 403
    assert client.get(f"/claims/cms1500.pdf?claim={claim_id}").status_code == 403
    sign_in(make.member(insured.practice, Role.ADMIN))
    assert client.get(f"/claims/{claim_id}/cms1500.pdf").status_code == 200
    sign_in(make.member(make.practice(), Role.BILLER))  # another practice's biller
    assert client.get(f"/claims/{claim_id}/cms1500.pdf").status_code == 404
    assert client.get(f"/claims/cms1500.pdf?claim={claim_id}").status_code == 404
    assert client.get("/claims/cms1500.pdf").status_code == 422



def test_the_claims_page_prints_the_ticked_claims_and_the_claim_page_links_its_form(app, client, make, sign_in,
                                                                                    insured):
    first, second = insured.claim(member_id="FIRST0001"), insured.claim(member_id="SECOND002")
    sign_in(biller_of(make, insured))
    page = client.get("/claims").get_data(as_text=True)
    assert 'id="bulk-cms1500"' in page and 'formaction="/claims/cms1500.pdf"' in page
    pages = pages_of(client.post("/claims/cms1500.pdf", data={
        "action": "recheck", "claim": [str(first), str(second)],
        "layout": "data"}))
    assert len(pages) == 2 and "FIRST0001" in pages[0] and "SECOND002" in pages[1]
    assert "HEALTH INSURANCE CLAIM FORM" not in pages[0]
    claim_page = client.get(f"/claims/{first}").get_data(as_text=True)
    assert f'href="/claims/{first}/cms1500.pdf"' in claim_page
    assert f'href="/claims/{first}/cms1500.pdf?layout=data"' in claim_page


def test_the_alignment_offset_is_set_in_millimetres_in_the_billing_settings(app, client, make, sign_in, insured):
    sign_in(make.member(insured.practice, Role.ADMIN))
    page = client.get("/settings/billing").get_data(as_text=True)
    assert 'id="cms1500_offset_x"' in page
    response = client.post("/settings/billing", data={"payment_terms_days": "30",
                                                      "cms1500_offset_x": "1.5", "cms1500_offset_y": "-2"})
    assert response.status_code == 303
    with app.app_context():
        practice = db.session.get(Practice, insured.practice.id)
        assert (practice.cms1500_offset_x, practice.cms1500_offset_y) == (15, -20)
    assert 'value="1.5"' in client.get("/settings/billing").get_data(as_text=True)
    refused = client.post("/settings/billing", data={"payment_terms_days": "30",
                                                     "cms1500_offset_x": "40", "cms1500_offset_y": "0"})
    assert refused.status_code == 422 and "Between -25 and 25 mm." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Practice, insured.practice.id).cms1500_offset_x == 15  # nothing half-saved


def test_modifiers_and_several_diagnoses_print_in_their_own_boxes(app, insured):
    claim_id = insured.claim()
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        claim.lines[0].modifiers = ["95", "HO"]
        claim.lines[0].diagnosis_pointers = [1, 2, 3, 4]
        claim.snapshot = {**claim.snapshot, "diagnoses": ["F41.1", "F32.A", "F43.10", "Z63.0", "F90.0"]}
        db.session.commit()
    fields = fields_of(app, claim_id)
    assert fields[(44, 33)] == "95" and fields[(44, 36)] == "HO"  # 24D modifiers, two characters each
    assert fields[(44, 45)] == "ABCD"  # 24E: letters, no spaces
    assert [fields[(38, col)] for col in (4, 17, 30, 43)] == ["F411", "F32A", "F4310", "Z630"]  # 21: after A-D
    assert fields[(39, 4)] == "F900"  # the second row starts at E
