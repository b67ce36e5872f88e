"""`flask diagnoses check`: the stored diagnosis codes the installed ICD-10-CM code set no longer bills."""
from datetime import datetime, timezone

from app.billing import diagnoses
from app.extensions import db
from app.models import NoteAddendum, Role


def store_diagnoses(make, practice, *, draft, signed, addendum, claim):
    """A draft note, a signed note with an addendum, and a claim of one practice, carrying these codes."""
    clinician = make.member(practice, role=Role.CLINICIAN)
    client = make.client(practice)
    make.note(make.session(client, clinician), diagnosis_codes=draft)
    signed_note = make.note(make.session(client, clinician), diagnosis_codes=signed,
                            signed_diagnoses=[{"code": code, "description": ""} for code in signed],
                            signed_at=datetime.now(timezone.utc), signed_by_id=clinician.id)
    make.save(NoteAddendum(practice_id=practice.id, note_id=signed_note.id, author_id=clinician.id,
                           body="Diagnosis revised.", diagnosis_codes=addendum))
    make.claim(make.bill(client, clinician), snapshot={"diagnoses": claim})


def test_are_unknown_codes_and_categories_reported_with_their_records_and_valid_codes_not(app, make):
    lakeside = make.practice(legal_name="Lakeside Therapy")
    # F43.8 is a category (F43.81, F43.89 under it); F32.Q is in no release.
    store_diagnoses(make, lakeside, draft=["F41.1", "F43.8"], signed=["F32.Q", "F41.1"], addendum=["F43.8"],
                    claim=["F41.1", "F43.8", "F32.Q"])
    store_diagnoses(make, make.practice(), draft=["F41.1"], signed=["F32.A"], addendum=["F43.10"],
                    claim=["F32.A"])

    with app.app_context():
        unbillable = diagnoses.unbillable_codes_in_use(db.session)
    assert [(use.practice_id, use.code, use.records_by_kind) for use in unbillable] == [
        (lakeside.id, "F32.Q", {"signed notes": 1, "claims": 1}),
        (lakeside.id, "F43.8", {"draft notes": 1, "addenda": 1, "claims": 1}),
    ]

    result = app.test_cli_runner().invoke(args=["diagnoses", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Lakeside Therapy (practice {lakeside.id})",
        f"  F32.Q\t1 signed notes, 1 claims\tF32.Q is not in the {diagnoses.RELEASE_NAME}",
        "  F43.8\t1 draft notes, 1 addenda, 1 claims\tF43.8 is a category, not a billable code: pick a more "
        "specific code such as F43.81 or F43.89",
        f"2 diagnosis codes in use are not billable in the {diagnoses.RELEASE_NAME}.",
    ]


def test_does_the_check_pass_when_every_code_in_use_is_billable(app, make):
    store_diagnoses(make, make.practice(), draft=["f41.1"], signed=["F32.A"], addendum=[], claim=["F41.1"])
    result = app.test_cli_runner().invoke(args=["diagnoses", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Every diagnosis code in use is billable in the {diagnoses.RELEASE_NAME}.\n"
