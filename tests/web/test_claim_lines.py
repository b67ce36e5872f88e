"""What each claim line sends: diagnosis pointers chosen per line (primary first, Z codes only when asked,
editable while the claim has not left), a line's own place of service (SV105), billing under an SSN, and
`flask claims export-837` per billing provider and by --claim. Every file written passes pyx12."""
import pytest
from sqlalchemy import select

from app.billing import bills, claims
from app.billing.claims import ClaimError
from app.extensions import db
from app.models import Claim, ClaimStatus, Practice, Role, TherapySession, X12Counter, X12File
from app.x12.validate import validate_x12
from tests.web.test_claims import biller_of, claim_of, file_for, insured  # noqa: F401 (insured is a fixture)

FIVE = ("F41.1", "F33.1", "Z63.0", "F90.0", "F43.10")


def _sv1(content: str) -> list[str]:
    return [segment for segment in content.split("~") if segment.startswith("SV1*")]


def test_lines_point_at_the_principal_first_and_leave_z_codes_out(app, insured):
    bill_id = insured.bill_for(diagnoses=FIVE)
    with app.app_context():
        claim = claim_of(bill_id)
        assert claim.lines[0].diagnosis_pointers == [1, 2, 4, 5]
    content = file_for(app, insured.practice.id, [bill_id])
    assert validate_x12(content).ok and _sv1(content)[0].endswith("*1:2:4:5")


def test_a_z_code_principal_is_still_pointed_at(app, insured):
    bill_id = insured.bill_for(diagnoses=("Z63.0", "F41.1"))
    with app.app_context():
        assert claim_of(bill_id).lines[0].diagnosis_pointers == [1, 2]


def test_a_biller_points_a_line_at_the_fifth_diagnosis_on_the_claim_page(app, client, make, sign_in, insured):
    bill_id = insured.bill_for(codes=(("90834", 1), ("90785", 1)), diagnoses=FIVE)
    with app.app_context():
        claim = claim_of(bill_id)
        claim_id, (first, second) = claim.id, [line.id for line in claim.lines]
    sign_in(biller_of(make, insured))
    page = client.get(f"/claims/{claim_id}").get_data(as_text=True)
    assert 'id="pointers-form"' in page and f'name="line_{first}"' in page
    answer = client.post(f"/claims/{claim_id}/pointers", data={f"line_{first}": "1, 5", f"line_{second}": "3"})
    assert answer.status_code == 303
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert [line.diagnosis_pointers for line in claim.lines] == [[1, 5], [3]]
        assert claim.status == ClaimStatus.QUEUED
    content = file_for(app, insured.practice.id, [bill_id])
    assert validate_x12(content).ok and [s.rsplit("*", 1)[-1] for s in _sv1(content)] == ["1:5", "3"]


@pytest.mark.parametrize("typed, message", [("1, 6", "carries 5"), ("1 2 3 4 5", "4 diagnoses at most"),
                                            ("", "one diagnosis at least"), ("one", "numbers only"),
                                            ("2, 2", "once per line")])
def test_pointers_a_claim_cannot_send_are_refused_beside_the_line_changing_nothing(app, client, make, sign_in,
                                                                                   insured, typed, message):
    bill_id = insured.bill_for(diagnoses=FIVE)
    with app.app_context():
        claim = claim_of(bill_id)
        claim_id, line_id = claim.id, claim.lines[0].id
    sign_in(biller_of(make, insured))
    answer = client.post(f"/claims/{claim_id}/pointers", data={f"line_{line_id}": typed})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert message in page.lower() and f'id="line_{line_id}-error"' in page
    with app.app_context():
        assert db.session.get(Claim, claim_id).lines[0].diagnosis_pointers == [1, 2, 4, 5]


def test_pointers_of_a_claim_that_left_do_not_change(app, insured):
    bill_id = insured.bill_for(diagnoses=FIVE)
    with app.app_context():
        claim = claim_of(bill_id)
        claims.transition(claim, ClaimStatus.SENT, "person")
        with pytest.raises(ClaimError):
            claims.set_pointers(claim, {claim.lines[0].id: [5]})


def test_chosen_pointers_survive_a_recheck_while_the_diagnoses_stay(app, insured):
    bill_id = insured.bill_for(diagnoses=FIVE)
    with app.app_context():
        claim = claim_of(bill_id)
        claims.set_pointers(claim, {claim.lines[0].id: [5, 1]})
        claims.transition(claim, ClaimStatus.NEEDS_REVIEW, "person", "checking")
        assert claims.recheck(claim)
        assert claim.lines[0].diagnosis_pointers == [5, 1]


def test_a_line_whose_place_differs_from_the_claims_carries_sv105(app, make, insured):
    first = make.session(insured.client, insured.clinician, minutes=45, status="completed", place_of_service="11")
    second = make.session(insured.client, insured.clinician, minutes=45, status="completed", place_of_service="12")
    for session in (first, second):
        make.line(session, insured.services["90834"])
        make.note(session, diagnosis_codes=["F41.1"], signed_diagnoses=[{"code": "F41.1", "description": ""}],
                  signed_at=session.ends_at)
    with app.app_context():
        bill = bills.create_from_sessions(db.session.get(Practice, insured.practice.id),
                                          [db.session.get(TherapySession, first.id),
                                           db.session.get(TherapySession, second.id)])
        db.session.commit()
        bill_id = bill.id
        assert [line.place_of_service for line in claim_of(bill_id).lines] == ["11", "12"]
    content = file_for(app, insured.practice.id, [bill_id])
    assert validate_x12(content).ok
    assert [s.split("*")[5] if len(s.split("*")) > 5 else "" for s in _sv1(content)] == ["", "12"]


def _individual(app, practice_id, **values):
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        practice.billing_provider = "individual"
        for name, value in values.items():
            setattr(practice, name, value)
        db.session.commit()


def test_a_sole_provider_bills_under_an_ssn_as_ref_sy(app, insured):
    _individual(app, insured.practice.id, tax_id="123456789", tax_id_is_ssn=True)
    bill_id = insured.bill_for()
    content = file_for(app, insured.practice.id, [bill_id])
    assert validate_x12(content).ok and "REF*SY*123456789~" in content and "REF*EI" not in content


def test_an_ssn_under_group_billing_or_no_tax_id_is_a_scrubber_problem_never_invented(app, make, insured):
    with app.app_context():
        practice = db.session.get(Practice, insured.practice.id)
        practice.tax_id_is_ssn = True
        db.session.commit()
    with app.app_context():
        claim = claim_of(insured.bill_for())
        assert claim.status == ClaimStatus.NEEDS_REVIEW
        assert any("sole provider" in problem["message"] for problem in claim.problems)
    _individual(app, insured.practice.id, tax_id=None, tax_id_is_ssn=False)
    with app.app_context():
        claim = claim_of(insured.bill_for())
        assert claim.status == ClaimStatus.NEEDS_REVIEW and any("tax ID" in p["message"] for p in claim.problems)


def test_the_practice_settings_take_an_ssn_only_when_billing_under_one(app, client, make, sign_in, insured):
    sign_in(make.member(insured.practice, Role.ADMIN))
    form = {"legal_name": "Solo Counseling", "tax_id": "123-45-6789", "address_line1": "1 Main St",
            "city": "Cambridge", "state": "MA", "zip_code": "02139-4307", "phone": "617-555-0100",
            "timezone": "America/New_York"}
    refused = client.post("/settings/practice", data=form)
    assert refused.status_code == 422 and "An EIN has 9 digits" in refused.get_data(as_text=True)
    assert client.post("/settings/practice", data={**form, "tax_id_is_ssn": "y"}).status_code == 303
    with app.app_context():
        practice = db.session.get(Practice, insured.practice.id)
        assert (practice.tax_id, practice.tax_id_is_ssn) == ("123456789", True)


# ---------------------------------------------------------------- flask claims export-837


def test_export_writes_one_file_per_billing_provider_under_individual_billing(app, make, insured, tmp_path):
    _individual(app, insured.practice.id)
    insured.bill_for()
    npis = sorted({insured.clinician.npi, "1234567893", "1000000004"} - {insured.clinician.npi})[:1] \
        + [insured.clinician.npi]
    other = make.member(insured.practice, Role.CLINICIAN, name="Robin Other, LCSW", npi=npis[0])
    second_client = make.client(insured.practice, primary_clinician_id=other.id)
    make.policy(second_client, insured.payer)
    session = make.session(second_client, other, minutes=45, status="completed")
    make.line(session, insured.services["90834"])
    make.note(session, diagnosis_codes=["F41.1"], signed_diagnoses=[{"code": "F41.1", "description": ""}],
              signed_at=session.ends_at)
    with app.app_context():
        bills.create_from_sessions(db.session.get(Practice, insured.practice.id),
                                   [db.session.get(TherapySession, session.id)])
        db.session.commit()
    out = tmp_path / "claims.837"
    result = app.test_cli_runner().invoke(args=["claims", "export-837", "--practice", str(insured.practice.id),
                                                "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(tmp_path.glob("claims-*.837"))
    assert [path.name for path in written] == [f"claims-{npi}.837" for npi in sorted(npis)]
    assert all(validate_x12(path.read_text()).ok for path in written)
    with app.app_context():
        assert db.session.scalar(select(X12Counter.last_interchange)) == 2  # one number per file, none lost


def test_a_file_that_fails_validation_takes_no_interchange_number(app, insured):
    bill_id = insured.bill_for()
    with app.app_context():
        claim = claim_of(bill_id)
        claim.snapshot = {**claim.snapshot, "payer": {**claim.snapshot["payer"], "payer_id": ""}}
        export = claims.write_batches(db.session.get(Practice, insured.practice.id), [claim], usage="T")
        db.session.commit()
        assert export.rejected and db.session.scalar(select(X12Counter.last_interchange)) is None
        assert db.session.scalar(select(X12File.interchange_control_number)) is None
    file_for(app, insured.practice.id, [insured.bill_for()])
    with app.app_context():
        assert db.session.scalar(select(X12Counter.last_interchange)) == 1


def test_export_by_claim_writes_any_status_and_changes_nothing_unless_marked_sent(app, insured, tmp_path):
    paid_bill, queued_bill = insured.bill_for(), insured.bill_for()
    with app.app_context():
        paid = claim_of(paid_bill)
        claims.transition(paid, ClaimStatus.SENT, "person")
        claims.transition(paid, ClaimStatus.PAID, "remittance")
        db.session.commit()
        paid_number, queued_number = paid.patient_control_number, claim_of(queued_bill).patient_control_number
    runner, out = app.test_cli_runner(), tmp_path / "one.837"
    result = runner.invoke(args=["claims", "export-837", "--claim", paid_number, "--claim", queued_number,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    content = out.read_text()
    assert validate_x12(content).ok and f"CLM*{paid_number}*" in content and f"CLM*{queued_number}*" in content
    with app.app_context():
        assert [claim_of(b).status for b in (paid_bill, queued_bill)] == [ClaimStatus.PAID, ClaimStatus.QUEUED]
    refused = runner.invoke(args=["claims", "export-837", "--claim", paid_number, "-o", str(out), "--mark-sent"])
    assert refused.exit_code != 0 and "only Queued" in refused.output
    missing = runner.invoke(args=["claims", "export-837", "--claim", "P0C0", "-o", str(out)])
    assert missing.exit_code != 0 and "P0C0" in missing.output
    marked = runner.invoke(args=["claims", "export-837", "--claim", queued_number, "-o", str(out), "--mark-sent"])
    assert marked.exit_code == 0 and "marked Sent" in marked.output
    with app.app_context():
        assert claim_of(queued_bill).status == ClaimStatus.SENT
