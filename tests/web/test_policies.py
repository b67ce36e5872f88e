"""Insurance policies: the practice's payers only, dates in order, one policy per priority on any day,
and the subscriber's details when the client is not the subscriber. Every rule is a 422 beside its
field with nothing saved."""
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import InsurancePolicy, Role
from tests.support.days import local_today
from tests.web.test_clients import count, problem_beside, section
from tests.web.test_settings import events, fetch

SUBSCRIBER = {"subscriber_first_name": "Arjun", "subscriber_last_name": "Natarajan",
              "subscriber_date_of_birth": "1990-05-17", "subscriber_sex": "M",
              "subscriber_address_line1": "77 Beacon Street", "subscriber_address_line2": "",
              "subscriber_city": "Cambridge", "subscriber_state": "MA", "subscriber_zip_code": "02139"}


@pytest.fixture
def setting(make):
    """A practice with its staff, a payer, and a client of the clinician's."""
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    return type("Setting", (), {
        "practice": practice, "admin": make.member(practice, Role.ADMIN),
        "biller": make.member(practice, Role.BILLER), "clinician": clinician,
        "payer": make.payer(practice, name="Harborview Health Plan"),
        "client": make.client(practice, primary_clinician_id=clinician.id, first_name="Priya")})


def good_policy(setting, **changes) -> dict:
    return {"payer_id": str(setting.payer.id), "member_id": " HHP7710245 ", "group_number": "G-20931",
            "priority": "1", "copay": "$25.50", "effective_date": "2025-01-01", "end_date": "",
            "relationship_to_subscriber": "18", **dict.fromkeys(SUBSCRIBER, ""), **changes}


def policies(app, client_id: int) -> list[InsurancePolicy]:
    with app.app_context():
        found = db.session.scalars(db.select(InsurancePolicy).where(InsurancePolicy.client_id == client_id)
                                   .order_by(InsurancePolicy.id)).all()
        for policy in found:
            db.session.expunge(policy)
        return found


@pytest.mark.parametrize("role", ["admin", "biller", "clinician"])
def test_staff_and_the_clients_clinician_add_a_policy_with_the_client_as_subscriber(app, client, sign_in, setting,
                                                                                   role):
    sign_in(getattr(setting, role))
    url = f"/clients/{setting.client.id}/policies/new"
    assert "Harborview Health Plan" in client.get(url).get_data(as_text=True)
    response = client.post(url, data=good_policy(setting))
    assert response.status_code == 303 and response.headers["Location"] == f"/clients/{setting.client.id}"
    [policy] = policies(app, setting.client.id)
    assert (policy.payer_id, policy.member_id, policy.group_number, policy.priority, policy.copay_cents,
            policy.effective_date, policy.end_date, policy.relationship_to_subscriber, policy.practice_id) == (
        setting.payer.id, "HHP7710245", "G-20931", 1, 2550, date(2025, 1, 1), None, "18", setting.practice.id)
    [event] = events(app, "policy.added")
    assert event.details == {"client_id": setting.client.id, "payer_id": setting.payer.id, "priority": 1,
                             "effective_date": "2025-01-01", "end_date": None}


def test_a_policy_held_by_a_spouse_keeps_the_subscribers_details(app, client, sign_in, setting):
    sign_in(setting.biller)
    response = client.post(f"/clients/{setting.client.id}/policies/new",
                           data=good_policy(setting, relationship_to_subscriber="01", copay="", **SUBSCRIBER))
    assert response.status_code == 303
    [policy] = policies(app, setting.client.id)
    assert (policy.relationship_to_subscriber, policy.subscriber_first_name, policy.subscriber_date_of_birth,
            policy.subscriber_sex, policy.subscriber_zip_code, policy.copay_cents) == (
        "01", "Arjun", date(1990, 5, 17), "M", "02139", 0)
    insurance = section(client.get(f"/clients/{setting.client.id}"), "client-insurance")
    assert "Arjun Natarajan" in insurance and "Spouse of the subscriber" in insurance


@pytest.mark.parametrize("relationship", ["01", "19", "G8"])
@pytest.mark.parametrize("field, message", [
    ("subscriber_first_name", "Enter the subscriber's first name"),
    ("subscriber_last_name", "Enter the subscriber's last name"),
    ("subscriber_date_of_birth", "Enter the subscriber's date of birth"),
    ("subscriber_sex", "Choose the subscriber's sex"),
    ("subscriber_address_line1", "Enter the subscriber's street address"),
    ("subscriber_city", "Enter the subscriber's city"),
    ("subscriber_state", "Enter the subscriber's state"),
    ("subscriber_zip_code", "Enter the subscriber's ZIP code"),
])
def test_each_missing_subscriber_detail_is_422_beside_it(app, client, sign_in, setting, relationship, field, message):
    sign_in(setting.admin)
    response = client.post(f"/clients/{setting.client.id}/policies/new", data=good_policy(
        setting, relationship_to_subscriber=relationship, **{**SUBSCRIBER, field: ""}))
    assert problem_beside(response, field) == message + "."
    assert count(app, InsurancePolicy) == 0 and events(app, "policy.added") == []


def test_every_missing_subscriber_detail_is_shown_at_once(client, sign_in, setting):
    sign_in(setting.admin)
    response = client.post(f"/clients/{setting.client.id}/policies/new",
                           data=good_policy(setting, relationship_to_subscriber="19"))
    for field in SUBSCRIBER:
        if field != "subscriber_address_line2":
            assert "subscriber" in problem_beside(response, field)


@pytest.mark.parametrize("changes, field, message", [
    ({"payer_id": ""}, "payer_id", "Choose the payer"),
    ({"payer_id": "abc"}, "payer_id", "Choose the payer"),
    ({"member_id": ""}, "member_id", "This field is required"),
    ({"priority": "4"}, "priority", "Not a valid choice"),
    ({"copay": "-5"}, "copay", "cannot be negative"),
    ({"copay": "12.345"}, "copay", "two decimal places"),
    ({"copay": "a lot"}, "copay", "dollars and cents"),
    ({"effective_date": ""}, "effective_date", "This field is required"),
    ({"effective_date": "01/02/2025"}, "effective_date", "Not a valid date"),
    ({"end_date": "2024-12-31"}, "end_date", "cannot be before the effective date"),
    ({"relationship_to_subscriber": "02"}, "relationship_to_subscriber", "Not a valid choice"),
    ({"relationship_to_subscriber": "01", **SUBSCRIBER, "subscriber_date_of_birth": "2999-01-01"},
     "subscriber_date_of_birth", "cannot be in the future"),
    ({"relationship_to_subscriber": "01", **SUBSCRIBER, "subscriber_zip_code": "021"},
     "subscriber_zip_code", "5-digit ZIP"),
])
def test_bad_policy_is_422_beside_the_field_and_nothing_is_saved(app, client, sign_in, setting, changes, field,
                                                                 message):
    sign_in(setting.biller)
    response = client.post(f"/clients/{setting.client.id}/policies/new", data=good_policy(setting, **changes))
    assert message in problem_beside(response, field)
    assert count(app, InsurancePolicy) == 0 and events(app, "policy.added") == []


def test_another_practices_payer_is_refused(app, client, sign_in, setting, make):
    theirs = make.payer(make.practice(), name="Theirs Health")
    sign_in(setting.admin)
    page = client.get(f"/clients/{setting.client.id}/policies/new").get_data(as_text=True)
    assert "Theirs Health" not in page
    response = client.post(f"/clients/{setting.client.id}/policies/new",
                           data=good_policy(setting, payer_id=str(theirs.id)))
    assert "Choose one of the practice's payers" in problem_beside(response, "payer_id")
    assert count(app, InsurancePolicy) == 0


@pytest.mark.parametrize("existing, new, refused", [
    ((date(2025, 1, 1), None), ("2026-01-01", ""), True),  # an open-ended policy covers every later day
    ((date(2025, 1, 1), date(2025, 12, 31)), ("2025-12-31", ""), True),  # one shared day is enough
    ((date(2025, 6, 1), None), ("2025-01-01", "2025-06-01"), True),
    ((date(2025, 1, 1), date(2025, 12, 31)), ("2026-01-01", ""), False),  # the next plan year
    ((date(2026, 1, 1), None), ("2025-01-01", "2025-12-31"), False),
])
def test_two_policies_of_one_priority_may_not_cover_the_same_day(app, client, sign_in, setting, make, existing, new,
                                                                 refused):
    other = make.payer(setting.practice, name="MassHealth")
    make.policy(setting.client, other, priority=1, effective_date=existing[0], end_date=existing[1])
    sign_in(setting.biller)
    response = client.post(f"/clients/{setting.client.id}/policies/new",
                           data=good_policy(setting, effective_date=new[0], end_date=new[1]))
    if refused:
        message = problem_beside(response, "priority")
        assert "MassHealth is already the primary policy" in message and "end date" in message
        assert len(policies(app, setting.client.id)) == 1
    else:
        assert response.status_code == 303
        assert len(policies(app, setting.client.id)) == 2


def test_a_secondary_policy_may_overlap_the_primary(app, client, sign_in, setting, make):
    make.policy(setting.client, make.payer(setting.practice), priority=1, effective_date=date(2025, 1, 1))
    sign_in(setting.admin)
    response = client.post(f"/clients/{setting.client.id}/policies/new", data=good_policy(setting, priority="2"))
    assert response.status_code == 303
    assert sorted(policy.priority for policy in policies(app, setting.client.id)) == [1, 2]


def test_editing_a_policy_does_not_conflict_with_itself_and_is_audited(app, client, sign_in, setting, make):
    policy = make.policy(setting.client, setting.payer, member_id="OLD1", copay_cents=2000,
                         effective_date=date(2025, 1, 1))
    sign_in(setting.clinician)
    url = f"/clients/{setting.client.id}/policies/{policy.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="OLD1"' in page and 'value="20.00"' in page
    response = client.post(url, data=good_policy(setting, member_id="NEW2", copay="30", end_date="2025-12-31"))
    assert response.status_code == 303
    saved = fetch(app, InsurancePolicy, policy.id)
    assert (saved.member_id, saved.copay_cents, saved.end_date) == ("NEW2", 3000, date(2025, 12, 31))
    [event] = events(app, "policy.updated")
    assert event.details["member_id"] == ["OLD1", "NEW2"] and event.details["copay_cents"] == [2000, 3000]
    assert event.details["end_date"] == [None, "2025-12-31"]


def test_making_the_client_the_subscriber_clears_the_other_persons_details(app, client, sign_in, setting, make):
    policy = make.policy(setting.client, setting.payer, relationship_to_subscriber="01",
                         subscriber_first_name="Arjun", subscriber_last_name="Natarajan",
                         subscriber_date_of_birth=date(1990, 5, 17), subscriber_sex="M",
                         subscriber_address_line1="77 Beacon Street", subscriber_city="Cambridge",
                         subscriber_state="MA", subscriber_zip_code="02139")
    sign_in(setting.admin)
    response = client.post(f"/clients/{setting.client.id}/policies/{policy.id}",
                           data=good_policy(setting, **SUBSCRIBER))  # still typed in, but the client is the subscriber
    assert response.status_code == 303
    saved = fetch(app, InsurancePolicy, policy.id)
    assert saved.relationship_to_subscriber == "18"
    assert saved.subscriber_first_name is saved.subscriber_date_of_birth is saved.subscriber_zip_code is None


def test_a_bad_edit_changes_nothing(app, client, sign_in, setting, make):
    policy = make.policy(setting.client, setting.payer, member_id="KEEP1")
    sign_in(setting.admin)
    response = client.post(f"/clients/{setting.client.id}/policies/{policy.id}",
                           data=good_policy(setting, member_id="LOST", end_date="2000-01-01"))
    assert "before the effective date" in problem_beside(response, "end_date")
    assert fetch(app, InsurancePolicy, policy.id).member_id == "KEEP1"
    assert events(app, "policy.updated") == []


def test_client_page_lists_policies_with_an_active_badge(client, sign_in, setting, make):
    today = local_today()
    current = make.policy(setting.client, setting.payer, member_id="NOW1", effective_date=today - timedelta(days=30))
    ended = make.policy(setting.client, make.payer(setting.practice, name="Old Plan"), member_id="OLD1", priority=2,
                        effective_date=date(2020, 1, 1), end_date=date(2020, 12, 31))
    sign_in(setting.biller)
    insurance = section(client.get(f"/clients/{setting.client.id}"), "client-insurance")
    current_row = insurance.split(f'id="policy-row-{current.id}"')[1].split("</tr>")[0]
    ended_row = insurance.split(f'id="policy-row-{ended.id}"')[1].split("</tr>")[0]
    assert "NOW1" in current_row and "Primary" in current_row and ">Active<" in current_row
    assert "The client" in current_row and "$20.00" in current_row
    assert "OLD1" in ended_row and "Secondary" in ended_row and ">Ended<" in ended_row and "Active" not in ended_row
    assert f"/clients/{setting.client.id}/policies/{current.id}" in current_row
    assert f"/clients/{setting.client.id}/policies/new" in insurance


def test_clinicians_reach_only_their_own_clients_policies(client, sign_in, setting, make):
    theirs = make.client(setting.practice, primary_clinician_id=make.member(setting.practice, Role.CLINICIAN).id)
    policy = make.policy(theirs, setting.payer)
    sign_in(setting.clinician)
    assert client.get(f"/clients/{theirs.id}/policies/new").status_code == 404
    assert client.get(f"/clients/{theirs.id}/policies/{policy.id}").status_code == 404
    assert client.get(f"/clients/{setting.client.id}/policies/{policy.id}").status_code == 404
    assert client.post(f"/clients/{theirs.id}/policies/new", data=good_policy(setting)).status_code == 404


def test_a_policy_named_under_another_client_is_not_edited_there(client, sign_in, setting, make):
    elsewhere = make.client(setting.practice)
    policy = make.policy(elsewhere, setting.payer)
    sign_in(setting.admin)
    response = client.get(f"/clients/{setting.client.id}/policies/{policy.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/clients/{elsewhere.id}/policies/{policy.id}"
    assert client.post(f"/clients/{setting.client.id}/policies/{policy.id}",
                       data=good_policy(setting)).status_code == 404


@pytest.mark.parametrize("role, advice", [("biller", "Add the payer first"), ("clinician", "Ask an admin or biller")])
def test_without_payers_the_form_says_what_to_do(client, sign_in, make, role, advice):
    practice = make.practice()
    member = make.member(practice, Role(role))
    record = make.client(practice, primary_clinician_id=member.id if role == "clinician" else None)
    sign_in(member)
    page = client.get(f"/clients/{record.id}/policies/new").get_data(as_text=True)
    assert "no payers yet" in page and advice in page


def test_htmx_policy_error_returns_only_the_form_block(client, sign_in, setting):
    sign_in(setting.admin)
    response = client.post(f"/clients/{setting.client.id}/policies/new",
                           data=good_policy(setting, member_id=""),
                           headers={"HX-Request": "true", "HX-Target": "policy-form"})
    assert response.status_code == 422
    assert response.get_data(as_text=True).lstrip().startswith('<div id="policy-form">')
