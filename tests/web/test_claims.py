"""Claims: eligibility, building from a bill, the scrubber's rules, the status machine, and 837P files
that pyx12 accepts."""
import csv
import io
import re
from datetime import date, timedelta

import pytest

from app.billing import bills, claims
from app.billing.claims import ClaimError
from app.extensions import db
from app.models import (Bill, Claim, ClaimStatus, InsurancePolicy, Member, Practice, Role, SessionNote,
                        TherapySession, X12File)
from app.x12.validate import validate_x12
from tests.support.days import local_today


@pytest.fixture
def insured(make, app):
    """An insured client with a completed, signed 45-minute session and its Pended bill."""
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Clinician, LMHC")
    client = make.client(practice, primary_clinician_id=clinician.id)
    payer = make.payer(practice, name="Harborview Health Plan", telehealth_modifier="95")
    policy = make.policy(client, payer)
    services = {code: make.service(practice, code, price_cents=price) for code, price in
                (("90791", 20000), ("90834", 15000), ("90785", 2500), ("90839", 25000), ("90840", 12000),
                 ("90837", 19000), ("LATE", 5000), ("FREE", 0))}

    def bill_for(codes=(("90834", 1),), minutes=45, diagnoses=("F41.1",), signed=True, modality="in_person",
                 pos="11", modifiers=(), **session_values):
        session = make.session(client, clinician, minutes=minutes, status="completed", modality=modality,
                               place_of_service=pos, **session_values)
        for code, units in codes:
            make.line(session, services[code], units=units, modifiers=list(modifiers))
        make.note(session, diagnosis_codes=list(diagnoses),
                  signed_diagnoses=[{"code": code, "description": ""} for code in diagnoses] if signed else None,
                  signed_at=session.ends_at if signed else None)
        with app.app_context():
            bill = bills.create_from_sessions(db.session.get(Practice, practice.id),
                                              [db.session.get(TherapySession, session.id)])
            db.session.commit()
            return bill.id

    return type("Insured", (), {"practice": practice, "clinician": clinician, "client": client, "payer": payer,
                                "policy": policy, "services": services, "bill_for": staticmethod(bill_for)})


def claim_of(bill_id) -> Claim | None:
    return db.session.scalar(db.select(Claim).where(Claim.bill_id == bill_id))


def file_for(app, practice_id, bill_ids):
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        selected = [claim_of(bill_id) for bill_id in bill_ids]
        assert all(claim.status == ClaimStatus.QUEUED for claim in selected), [c.problems for c in selected]
        export = claims.write_batches(practice, selected, usage="T")
        db.session.commit()
        assert export.rejected == [], [c.problems for c in export.rejected]
        return export.files[0].content


def test_a_clean_claim_is_queued_and_its_file_passes_pyx12(app, insured):
    bill_id = insured.bill_for()
    content = file_for(app, insured.practice.id, [bill_id])
    assert validate_x12(content).ok
    assert "SV1*HC:90834*150*UN*1***1~" in content and "HI*ABK:F411~" in content
    assert "REF*6R*P" in content and "CLM*P" in content


def test_subscriber_not_the_patient_is_written_under_a_patient_loop(app, make, insured):
    with app.app_context():
        policy = db.session.get(InsurancePolicy, insured.policy.id)
        policy.relationship_to_subscriber = "01"
        policy.subscriber_first_name, policy.subscriber_last_name = "Arjun", "Natarajan"
        policy.subscriber_date_of_birth, policy.subscriber_sex = date(1980, 5, 1), "M"
        policy.subscriber_address_line1, policy.subscriber_city = "77 Beacon St", "Cambridge"
        policy.subscriber_state, policy.subscriber_zip_code = "MA", "021394307"
        db.session.commit()
    content = file_for(app, insured.practice.id, [insured.bill_for()])
    assert "PAT*01~" in content and "NM1*QC*1*" in content and "SBR*P**" in content
    assert validate_x12(content).ok


def test_add_ons_units_and_twelve_diagnoses_pass_pyx12(app, insured):
    twelve = ["F41.1", "F32.A", "F43.10", "F90.2", "F33.1", "F43.21", "F40.10", "F42.2", "F51.01", "Z63.0",
              "Z56.0", "F10.10"]
    first = insured.bill_for(codes=(("90791", 1), ("90785", 1)), minutes=60, diagnoses=twelve)
    crisis = insured.bill_for(codes=(("90839", 1), ("90840", 2)), minutes=110)
    content = file_for(app, insured.practice.id, [first, crisis])
    assert "HI*ABK:F411*ABF:F32A" in content and "ABF:F1010~" in content
    assert "SV1*HC:90840*240*UN*2***1~" in content
    assert validate_x12(content).ok


def test_rendering_provider_is_written_when_the_group_bills(app, insured):
    content = file_for(app, insured.practice.id, [insured.bill_for()])
    assert "NM1*85*2*" in content and "NM1*82*1*CLINICIAN*CASEY" in content and "PRV*PE*PXC*101YP2500X" in content


def test_telehealth_with_modifier_95_and_pos_10_passes(app, insured):
    content = file_for(app, insured.practice.id, [insured.bill_for(modality="video", pos="10", modifiers=("95",))])
    assert "SV1*HC:90834:95*150" in content and "***10:B:1*" in content
    assert validate_x12(content).ok


def test_replacement_and_void_claims_carry_the_payers_claim_number(app, insured):
    bill_id = insured.bill_for()
    with app.app_context():
        original = claim_of(bill_id)
        original.payer_claim_number = "PCN-ORIG-778"
        bill = db.session.get(Bill, bill_id)
        replacement = claims.build_claim(bill, frequency_code="7", original=original)
        void = claims.build_claim(bill, frequency_code="8", original=original)
        export = claims.write_batches(db.session.get(Practice, insured.practice.id), [replacement, void], usage="T")
        db.session.commit()
        content = export.files[0].content
    assert "***11:B:7*" in content and "***11:B:8*" in content and content.count("REF*F8*PCN-ORIG-778~") == 2
    assert validate_x12(content).ok


@pytest.mark.parametrize("setup, message", [
    (dict(codes=(("LATE", 1),)), "has no CPT or HCPCS code"),
    (dict(codes=(("FREE", 1),)), "no rate above $0"),
    (dict(signed=False), "is not signed"),
])
def test_ineligible_bills_get_no_claim_and_say_why(app, insured, setup, message):
    if "codes" in setup and setup["codes"][0][0] in ("LATE", "FREE"):
        with app.app_context():
            from app.models import ServiceCode

            service = db.session.get(ServiceCode, insured.services[setup["codes"][0][0]].id)
            service.code_type = "Custom" if service.code == "LATE" else "CPT"
            db.session.commit()
    bill_id = insured.bill_for(**setup)
    with app.app_context():
        assert claim_of(bill_id) is None
        problems = claims.eligibility_problems(db.session.get(Bill, bill_id))
        assert any(message in problem.message for problem in problems), problems


def test_no_active_policy_means_no_claim(app, insured):
    with app.app_context():
        db.session.get(InsurancePolicy, insured.policy.id).end_date = local_today() - timedelta(days=30)
        db.session.commit()
    bill_id = insured.bill_for()
    with app.app_context():
        assert claim_of(bill_id) is None
        assert "no insurance policy active" in claims.eligibility_problems(db.session.get(Bill, bill_id))[0].message


def test_signing_a_note_claims_a_bill_that_was_waiting(app, insured):
    bill_id = insured.bill_for(signed=False)
    with app.app_context():
        assert claim_of(bill_id) is None
        note = db.session.scalar(db.select(SessionNote))
        from app.billing import sessions as rules

        rules.sign_note(db.session.get(TherapySession, note.session_id),
                        db.session.get(Member, insured.clinician.id))
        db.session.commit()
        assert claim_of(bill_id).status == ClaimStatus.QUEUED


SCRUB_CASES = [
    ("practice", {"group_npi": "1234567890"}, "billing provider NPI 1234567890 is not a valid NPI"),
    ("practice", {"taxonomy": None}, "needs a taxonomy code"),
    ("practice", {"tax_id": None}, "tax ID (EIN) is missing"),
    ("practice", {"zip_code": "02139"}, "9-digit ZIP"),
    ("practice", {"phone": None}, "The practice needs a phone number"),
    ("clinician", {"npi": "1234567890"}, "needs a valid individual NPI"),
    ("clinician", {"taxonomy": None}, "needs a taxonomy code"),
    ("policy", {"member_id": ""}, "no member ID"),
    ("policy", {"relationship_to_subscriber": "01"}, "subscriber's date of birth and address are missing"),
    ("payer", {"telehealth_modifier": "GT"}, "wants modifier GT"),
]


@pytest.mark.parametrize("record, changes, message", SCRUB_CASES)
def test_each_scrub_rule_sends_the_claim_to_needs_review_with_its_message(app, insured, record, changes, message):
    from app.models import Payer

    model, record_id = {"practice": (Practice, insured.practice.id), "clinician": (Member, insured.clinician.id),
                        "policy": (InsurancePolicy, insured.policy.id), "payer": (Payer, insured.payer.id)}[record]
    with app.app_context():
        row = db.session.get(model, record_id)
        for field, value in changes.items():
            setattr(row, field, value)
        if record == "policy" and "relationship_to_subscriber" in changes:
            row.subscriber_first_name, row.subscriber_last_name = "Arjun", "Natarajan"
        db.session.commit()
    bill_id = insured.bill_for(modality="video", pos="10", modifiers=("95",)) if record == "payer" else \
        insured.bill_for()
    with app.app_context():
        claim = claim_of(bill_id)
        assert claim.status == ClaimStatus.NEEDS_REVIEW
        assert any(message in problem["message"] for problem in claim.problems), claim.problems
        assert claim.events[-1].source == "scrubber"


@pytest.mark.parametrize("build, message", [
    (dict(codes=(("90840", 1),), minutes=80), "is an add-on"),
    (dict(codes=(("90837", 1),), minutes=45), "45 minutes is 90834, not 90837"),
    (dict(modifiers=("95",)), "telehealth modifier 95 but place of service 11"),
    (dict(diagnoses=("F43.8",)), "category, not a billable code"),
    (dict(starts_at_days=-3), "in the future"),
])
def test_claim_level_scrub_rules(app, insured, build, message):
    from datetime import datetime, timezone

    days = build.pop("starts_at_days", None)
    if days is not None:
        build["starts_at"] = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days)
    bill_id = insured.bill_for(**build)
    with app.app_context():
        claim = claim_of(bill_id)
        assert claim.status == ClaimStatus.NEEDS_REVIEW
        assert any(message in problem["message"] for problem in claim.problems), claim.problems


def test_fixing_the_problem_and_rechecking_queues_the_claim(app, insured):
    with app.app_context():
        db.session.get(Practice, insured.practice.id).group_npi = "1234567890"
        db.session.commit()
    bill_id = insured.bill_for()
    with app.app_context():
        claim = claim_of(bill_id)
        assert claims.recheck(claim) is False and claim.status == ClaimStatus.NEEDS_REVIEW
        db.session.get(Practice, insured.practice.id).group_npi = "2000000002"
        assert claims.recheck(claim) is True and claim.status == ClaimStatus.QUEUED
        assert [event.to_status for event in claim.events][-2:] == ["needs_review", "queued"]


def test_illegal_transitions_are_refused(app, insured):
    bill_id = insured.bill_for()
    with app.app_context():
        claim = claim_of(bill_id)
        with pytest.raises(ClaimError):
            claims.transition(claim, ClaimStatus.PAID, "person")
        with pytest.raises(ClaimError):
            claims.transition(claim, ClaimStatus.RECEIVED, "person")  # people never pick what a payer says
        claims.transition(claim, ClaimStatus.PAID, "remittance", "835 posted")  # a queued claim paid by ERA
        assert claim.status == ClaimStatus.PAID
        with pytest.raises(ClaimError):
            claims.transition(claim, ClaimStatus.QUEUED, "person")


def test_control_numbers_increase_with_every_file(app, insured):
    first, second = insured.bill_for(), insured.bill_for()
    file_for(app, insured.practice.id, [first])
    file_for(app, insured.practice.id, [second])
    with app.app_context():
        numbers = db.session.scalars(db.select(X12File.interchange_control_number).order_by(X12File.id)).all()
    assert numbers == [1, 2]


def test_cli_exports_a_validated_file_and_marks_sent_only_when_asked(app, insured, tmp_path):
    insured.bill_for()
    runner = app.test_cli_runner()
    out = tmp_path / "claims.837"
    result = runner.invoke(args=["claims", "export-837", "--status", "Queued For Submission", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert validate_x12(out.read_text()).ok
    listed = runner.invoke(args=["claims", "list", "--format", "csv"])
    assert "Queued For Submission" in listed.output and "150.00" in listed.output
    result = runner.invoke(args=["claims", "export-837", "-o", str(out), "--mark-sent"])
    assert result.exit_code == 0 and "marked Sent" in result.output
    assert ",Sent," in runner.invoke(args=["claims", "list", "--format", "csv"]).output
    empty = runner.invoke(args=["claims", "export-837", "-o", str(out)])
    assert empty.exit_code != 0 and "no claims" in empty.output


# ---------------------------------------------------------------- the claims page


def biller_of(make, insured):
    return make.member(insured.practice, Role.BILLER)


def test_claims_page_tabs_are_urls_with_live_counts(app, client, make, sign_in, insured):
    with app.app_context():
        db.session.get(Practice, insured.practice.id).group_npi = "1234567890"
        db.session.commit()
    insured.bill_for()
    with app.app_context():
        db.session.get(Practice, insured.practice.id).group_npi = "2000000002"
        db.session.commit()
    insured.bill_for()
    sign_in(biller_of(make, insured))
    page = client.get("/claims?status=Needs Review").get_data(as_text=True)
    assert 'id="tab-needs_review"' in page and page.count('id="claim-row-') == 1
    assert '<span class="count">1</span>' in page
    queued = client.get("/claims?status=Queued For Submission").get_data(as_text=True)
    assert queued.count('id="claim-row-') == 1


def test_claims_csv_matches_the_filter(app, client, make, sign_in, insured):
    insured.bill_for()
    insured.bill_for(codes=(("90837", 1),), minutes=55)
    sign_in(biller_of(make, insured))
    rows = list(csv.reader(io.StringIO(client.get("/claims?amount_min=160&format=csv").get_data(as_text=True))))
    assert len(rows) == 2 and rows[1][5] == "190.00"
    page = client.get("/claims?amount_min=160").get_data(as_text=True)
    assert page.count('id="claim-row-') == 1


def risky_claim(app, make, practice) -> Claim:
    """A claim whose client, payer and clinician names start like spreadsheet formulas, with a reversal that
    leaves insurance paid negative."""
    clinician = make.member(practice, Role.CLINICIAN, name="@Casey Clinician")
    client = make.client(practice, first_name='=HYPERLINK("http://x","y")', last_name="Doe")
    claim = make.claim(make.bill(client, clinician, status="open"), status="paid", paid_cents=-500,
                       patient_responsibility_cents=2000)
    with app.app_context():
        db.session.get(Claim, claim.id).payer.name = "+Harborview"
        db.session.commit()
    return claim


def test_claims_csv_defuses_formulas_and_keeps_amounts_numbers(app, client, make, sign_in, insured):
    risky_claim(app, make, insured.practice)
    sign_in(biller_of(make, insured))
    response = client.get("/claims?format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="claims.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["patient_control_number", "client", "payer", "clinician", "date_of_service", "charge",
                       "status", "insurance_paid", "patient_responsibility", "payer_claim_number", "payer_order",
                       "frequency", "follows"]
    assert rows[1][1:4] == ["'=HYPERLINK(\"http://x\",\"y\") Doe", "'+Harborview", "'@Casey Clinician"]
    assert rows[1][5:] == ["150.00", "Paid", "-5.00", "20.00", "", "primary", "1", ""]


def test_claims_csv_names_the_claim_a_secondary_follows_as_the_cli_does(app, client, make, sign_in, insured):
    bill = make.bill(make.client(insured.practice), insured.clinician)
    primary = make.claim(bill, status="paid")
    secondary = make.claim(bill, payer_order=2, prior_payer_claim_id=primary.id)
    with app.app_context():
        db.session.get(Claim, secondary.id).patient_control_number = "=SECONDARY1"
        db.session.commit()
    number = primary.patient_control_number
    sign_in(biller_of(make, insured))
    web = list(csv.reader(io.StringIO(client.get("/claims?format=csv").get_data(as_text=True))))
    cli = list(csv.reader(io.StringIO(app.test_cli_runner().invoke(
        args=["claims", "list", "--practice", str(insured.practice.id), "--format", "csv"]).output)))
    for rows in (web, cli):
        lineage = {row[0]: row[-3:] for row in rows[1:]}
        # The control number is defused like every text cell; the followed claim named by its own.
        assert lineage == {"'=SECONDARY1": ["secondary", "1", number], number: ["primary", "1", ""]}


def test_cli_claims_csv_defuses_formulas_and_keeps_amounts_numbers(app, make, insured):
    risky_claim(app, make, insured.practice)
    result = app.test_cli_runner().invoke(args=["claims", "list", "--practice", str(insured.practice.id),
                                                "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["patient_control_number", "client", "payer", "date_of_service", "charge", "status",
                       "insurance_paid", "patient_responsibility", "payer_order", "frequency", "follows"]
    assert rows[1][1:3] == ["'=HYPERLINK(\"http://x\",\"y\") Doe", "'+Harborview"]
    assert rows[1][4:] == ["150.00", "Paid", "-5.00", "20.00", "primary", "1", ""]


def test_keyset_pages_stay_stable_when_claims_arrive(app, client, make, sign_in, insured, monkeypatch):
    from app.blueprints.claims import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first_ids = [insured.bill_for() for _ in range(3)]
    sign_in(biller_of(make, insured))
    page_one = client.get("/claims").get_data(as_text=True)
    cursor = re.search(r'before=(\d+)', page_one).group(1)
    insured.bill_for()  # a new claim arrives between the two pages
    page_two = client.get(f"/claims?before={cursor}").get_data(as_text=True)
    seen_one = re.findall(r'id="claim-row-(\d+)"', page_one)
    seen_two = re.findall(r'id="claim-row-(\d+)"', page_two)
    assert len(seen_one) == 2 and len(seen_two) == 1 and not set(seen_one) & set(seen_two)
    assert len(first_ids) == 3


def test_clinicians_see_only_their_own_claims(app, client, make, sign_in, insured):
    bill_id = insured.bill_for()
    with app.app_context():
        claim_id = claim_of(bill_id).id
    sign_in(insured.clinician)
    assert client.get(f"/claims/{claim_id}").status_code == 200
    sign_in(make.member(insured.practice, Role.CLINICIAN))
    assert client.get(f"/claims/{claim_id}").status_code == 404
    assert 'id="claim-row-' not in client.get("/claims").get_data(as_text=True)


def test_a_clinicians_list_tabs_and_csv_hold_their_claims_and_no_others(app, client, make, sign_in, insured):
    robin = make.member(insured.practice, Role.CLINICIAN, name="Robin Other, LCSW")
    robins_client = make.client(insured.practice, primary_clinician_id=robin.id)
    robins = make.claim(make.bill(robins_client, robin), status="needs_review")
    with app.app_context():
        caseys = claim_of(insured.bill_for()).id
    sign_in(insured.clinician)
    page = client.get("/claims").get_data(as_text=True)
    assert re.findall(r'id="claim-row-(\d+)"', page) == [str(caseys)]
    assert 'All <span class="count">1</span>' in page  # Robin's claim is in Needs Review: not counted here
    assert 'id="tab-needs_review">Needs Review <span class="count">0</span>' in page
    rows = list(csv.reader(io.StringIO(client.get("/claims?format=csv").get_data(as_text=True))))
    assert [row[3] for row in rows[1:]] == ["Casey Clinician, LMHC"]
    assert client.get(f"/claims/{robins.id}").status_code == 404
    sign_in(robin)
    assert re.findall(r'id="claim-row-(\d+)"', client.get("/claims").get_data(as_text=True)) == [str(robins.id)]
    assert client.get(f"/claims/{caseys}").status_code == 404


def test_recheck_from_the_claim_page_queues_a_fixed_claim(app, client, make, sign_in, insured):
    with app.app_context():
        db.session.get(Practice, insured.practice.id).tax_id = None
        db.session.commit()
    bill_id = insured.bill_for()
    with app.app_context():
        claim_id = claim_of(bill_id).id
    sign_in(biller_of(make, insured))
    page = client.get(f"/claims/{claim_id}").get_data(as_text=True)
    assert "tax ID (EIN) is missing" in page and 'href="/settings/practice"' in page
    with app.app_context():
        db.session.get(Practice, insured.practice.id).tax_id = "123456789"
        db.session.commit()
    assert client.post(f"/claims/{claim_id}/recheck").status_code == 303
    with app.app_context():
        assert db.session.get(Claim, claim_id).status == ClaimStatus.QUEUED


def test_bulk_recheck_counts_each_outcome_as_it_happened(app, client, make, sign_in, insured):
    with app.app_context():
        db.session.get(Practice, insured.practice.id).tax_id = None
        db.session.commit()
    fixed = [insured.bill_for(), insured.bill_for()]
    still = insured.bill_for(modality="video", pos="10")  # the payer also wants modifier 95: not fixed
    with app.app_context():
        db.session.get(Practice, insured.practice.id).tax_id = "123456789"
        db.session.commit()
    already = insured.bill_for()
    with app.app_context():
        claims_by_bill = {bill_id: claim_of(bill_id) for bill_id in [*fixed, still, already]}
        assert [claims_by_bill[b].status for b in fixed + [still]] == [ClaimStatus.NEEDS_REVIEW] * 3
        assert claims_by_bill[already].status == ClaimStatus.QUEUED
    sign_in(biller_of(make, insured))
    response = client.post("/claims/bulk", data={"action": "recheck",
                                                  "claim": [claim.id for claim in claims_by_bill.values()]})
    assert response.status_code == 303
    page = client.get("/claims").get_data(as_text=True)
    already_number = claims_by_bill[already].patient_control_number
    assert (f"2 claims back in the queue; 1 claim still needs review. Not changed (1): {already_number}: "
            "Only a claim in Needs Review is rechecked.") in page
    with app.app_context():
        assert db.session.get(Claim, claims_by_bill[still].id).status == ClaimStatus.NEEDS_REVIEW
    client.post("/claims/bulk", data={"action": "queue", "claim": [claims_by_bill[still].id]})
    assert "No claim changed" not in (page := client.get("/claims").get_data(as_text=True))
    assert "1 claim still needs review." in page and "back in the queue" not in page


def test_a_claim_links_to_its_client_and_policy_and_the_client_lists_their_claims(app, client, make, sign_in,
                                                                                   insured):
    with app.app_context():
        claim = claim_of(insured.bill_for())
        claim_id, number = claim.id, claim.patient_control_number
    sign_in(biller_of(make, insured))
    page = client.get(f"/claims/{claim_id}").get_data(as_text=True)
    client_page = f"/clients/{insured.client.id}"
    policy_page = f"{client_page}/policies/{insured.policy.id}"
    assert f'href="{client_page}" id="claim-client"' in page and f'href="{policy_page}" id="claim-policy"' in page
    listed = client.get(client_page).get_data(as_text=True)
    assert f'id="client-claim-{claim_id}"' in listed and f'href="/claims/{claim_id}">{number}</a>' in listed
    # Another clinician who also saw the client sees the client, but not this claim.
    other = make.member(insured.practice, Role.CLINICIAN, npi="1000000004")
    make.session(insured.client, other, status="completed")
    sign_in(other)
    seen = client.get(client_page)
    assert seen.status_code == 200 and f"client-claim-{claim_id}" not in seen.get_data(as_text=True)


def test_the_bill_page_says_why_an_insured_clients_bill_has_no_claim(app, client, make, sign_in, insured):
    bill_id = insured.bill_for(signed=False)
    sign_in(biller_of(make, insured))
    page = client.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert "No claim was made for this bill" in page and "is not signed" in page
    claimed = insured.bill_for()
    assert "Claim P" in client.get(f"/bills/{claimed}").get_data(as_text=True)


def test_maintained_tab_counts_match_the_claims(app, client, make, sign_in, insured):
    with app.app_context():
        db.session.get(Practice, insured.practice.id).tax_id = None
        db.session.commit()
    held = insured.bill_for()
    with app.app_context():
        db.session.get(Practice, insured.practice.id).tax_id = "123456789"
        db.session.commit()
    insured.bill_for()
    insured.bill_for()
    with app.app_context():
        claims.recheck(claim_of(held))
        db.session.commit()
        counted = claims.status_counts(insured.practice.id)
        actual = dict(db.session.execute(db.select(Claim.status, db.func.count(Claim.id))
                                         .group_by(Claim.status)).all())
    assert {k: v for k, v in counted.items() if v} == actual == {"queued": 3}


def test_insurance_settings_are_saved_and_switch_off_automatic_claims(app, client, make, sign_in, insured):
    sign_in(make.member(insured.practice, Role.ADMIN))
    response = client.post("/settings/insurance", data={"clearinghouse": "files", "submitter_name": "Harbor",
                                                        "submitter_id": "SUB123", "receiver_id": "RCV9",
                                                        "billing_provider": "group"})
    assert response.status_code == 303
    assert client.post("/settings/insurance", data={"clearinghouse": "files", "submitter_id": "SUB 1!",
                                                    "billing_provider": "group"}).status_code == 422
    with app.app_context():
        practice = db.session.get(Practice, insured.practice.id)
        assert (practice.clearinghouse, practice.submitter_id, practice.create_claims_automatically) == (
            "files", "SUB123", False)
    bill_id = insured.bill_for()
    with app.app_context():
        assert claim_of(bill_id) is None


def test_the_bill_page_lists_only_the_claims_the_member_may_open(app, client, make, sign_in, insured):
    """Robin sees the client (they had a session together), so Casey's bill too, but not Casey's claim."""
    bill_id = insured.bill_for()
    with app.app_context():
        control_number = claim_of(bill_id).patient_control_number
    robin = make.member(insured.practice, Role.CLINICIAN)
    make.session(insured.client, robin)
    sign_in(insured.clinician)
    assert f"Claim {control_number}" in client.get(f"/bills/{bill_id}").get_data(as_text=True)
    sign_in(robin)
    page = client.get(f"/bills/{bill_id}").get_data(as_text=True)
    assert f"Claim {control_number}" not in page and "No claim was made" not in page
