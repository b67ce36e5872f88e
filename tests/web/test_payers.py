"""Payers: admins and billers add and edit them; every rule is a 422 beside its field with nothing saved."""
import pytest

from app.extensions import db
from app.models import Payer, Role
from tests.web.test_clients import count, problem_beside
from tests.web.test_settings import admin, events, fetch  # noqa: F401  (admin is a fixture)

GOOD_PAYER = {"name": "Harborview Health Plan", "clearinghouse_payer_id": " hhp01 ", "filing_indicator": "CI",
              "telehealth_modifier": "95", "audio_only_modifier": "93", "address_line1": "PO Box 1200",
              "address_line2": "", "city": "Boston", "state": "ma", "zip_code": "02101-1200"}


def test_admin_adds_a_payer_which_is_listed_and_audited(app, client, admin):
    response = client.post("/settings/payers", data=GOOD_PAYER)
    assert response.status_code == 303 and response.headers["Location"] == "/settings/payers"
    with app.app_context():
        payer = db.session.scalar(db.select(Payer))
        assert (payer.practice_id, payer.clearinghouse_payer_id, payer.state, payer.zip_code) == (
            admin.practice_id, "HHP01", "MA", "021011200")
    page = client.get("/settings/payers").get_data(as_text=True)
    assert f'id="payer-row-{payer.id}"' in page and "Harborview Health Plan" in page and "CI · Commercial" in page
    [event] = events(app, "payer.added")
    assert event.details == {"name": "Harborview Health Plan", "payer_id": "HHP01", "filing_indicator": "CI"}
    assert event.member_id == admin.id


def test_a_payer_may_want_no_telehealth_modifier_and_needs_no_address(app, client, admin):
    empty_address = dict.fromkeys(("address_line1", "address_line2", "city", "state", "zip_code"), "")
    response = client.post("/settings/payers", data={**GOOD_PAYER, **empty_address, "telehealth_modifier": "",
                                                     "audio_only_modifier": "", "filing_indicator": "16"})
    assert response.status_code == 303
    with app.app_context():
        payer = db.session.scalar(db.select(Payer))
        assert (payer.telehealth_modifier, payer.audio_only_modifier, payer.filing_indicator, payer.city) == (
            "", "", "16", None)


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "This field is required"),
    ("clearinghouse_payer_id", "", "This field is required"),
    ("clearinghouse_payer_id", "A", "2 to 20 letters and digits"),
    ("clearinghouse_payer_id", "HHP-01", "2 to 20 letters and digits"),
    ("clearinghouse_payer_id", "A" * 21, "2 to 20 letters and digits"),
    ("filing_indicator", "XX", "Not a valid choice"),
    ("filing_indicator", "09", "Not a valid choice"),
    ("telehealth_modifier", "93", "Not a valid choice"),
    ("audio_only_modifier", "95", "Not a valid choice"),
    ("state", "Mass", "two-letter"),
    ("zip_code", "0210", "5-digit ZIP"),
    ("city", "", "Enter the city"),
])
def test_bad_payer_is_422_beside_the_field_and_nothing_is_saved(app, client, admin, field, value, message):
    response = client.post("/settings/payers", data={**GOOD_PAYER, field: value})
    assert message in problem_beside(response, field)
    assert count(app, Payer) == 0 and events(app, "payer.added") == []


def test_a_payer_name_is_unique_in_the_practice_whatever_its_case(app, client, admin, make):
    make.payer(make.practice_of(admin), name="Harborview Health Plan")
    make.payer(make.practice(), name="MassHealth")  # another practice's payer does not count
    response = client.post("/settings/payers", data={**GOOD_PAYER, "name": "HARBORVIEW health plan"})
    assert "already one of your payers" in problem_beside(response, "name")
    assert client.post("/settings/payers", data={**GOOD_PAYER, "name": "MassHealth"}).status_code == 303
    assert count(app, Payer) == 3


def test_htmx_add_error_returns_only_the_form_block(client, admin):
    response = client.post("/settings/payers", data={**GOOD_PAYER, "clearinghouse_payer_id": "?"},
                           headers={"HX-Request": "true", "HX-Target": "payer-form"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="payer-form">') and "<html" not in page


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLER])
def test_admins_and_billers_edit_a_payer_and_the_change_is_audited(app, client, make, sign_in, role):
    practice = make.practice()
    payer = make.payer(practice, name="Old Name", telehealth_modifier="95")
    sign_in(make.member(practice, role))
    page = client.get(f"/settings/payers/{payer.id}").get_data(as_text=True)
    assert 'value="Old Name"' in page and "<h1>Old Name</h1>" in page
    response = client.post(f"/settings/payers/{payer.id}", data={**GOOD_PAYER, "name": "New Name",
                                                                  "telehealth_modifier": "GT"})
    assert response.status_code == 303
    saved = fetch(app, Payer, payer.id)
    assert (saved.name, saved.telehealth_modifier) == ("New Name", "GT")
    [event] = events(app, "payer.updated")
    assert event.details["name"] == ["Old Name", "New Name"] and event.details["telehealth_modifier"] == ["95", "GT"]


def test_a_payer_keeps_its_own_name_but_cannot_take_another_payers(app, client, admin, make):
    practice = make.practice_of(admin)
    payer = make.payer(practice, name="Harborview Health Plan")
    make.payer(practice, name="MassHealth")
    assert client.post(f"/settings/payers/{payer.id}", data=GOOD_PAYER).status_code == 303
    response = client.post(f"/settings/payers/{payer.id}", data={**GOOD_PAYER, "name": "masshealth"})
    assert "already one of your payers" in problem_beside(response, "name")
    assert fetch(app, Payer, payer.id).name == "Harborview Health Plan"


def test_clinicians_cannot_open_payers(client, make, sign_in):
    practice = make.practice()
    payer = make.payer(practice)
    sign_in(make.member(practice, Role.CLINICIAN))
    assert client.get("/settings/payers").status_code == 403
    assert client.post(f"/settings/payers/{payer.id}", data=GOOD_PAYER).status_code == 403


def test_the_list_shows_only_this_practices_payers(client, admin, make):
    make.payer(make.practice_of(admin), name="Ours Health")
    theirs = make.payer(make.practice(), name="Theirs Health")
    page = client.get("/settings/payers").get_data(as_text=True)
    assert "Ours Health" in page and "Theirs Health" not in page
    assert client.get(f"/settings/payers/{theirs.id}").status_code == 404
