"""Clients and their contacts: validation with 422 beside the field and nothing saved, who sees which
client, search and keyset pages, the billing contact, and the warning for a minor without one."""
import html
import re
from datetime import date, timedelta

import pytest

from app.billing.clients import practice_today
from app.extensions import db
from app.models import Client, Contact, Role
from tests.support.days import local_today
from tests.support.factories import PracticeRef
from tests.web.test_settings import events, fetch

GOOD_CLIENT = {"first_name": " Maya ", "middle_name": "", "last_name": "Okafor", "preferred_name": "May",
               "date_of_birth": "1989-03-14", "sex": "F", "phone": "(617) 555-0142", "email": "Maya@Example.org",
               "address_line1": "20 Beacon Street", "address_line2": "", "city": "Cambridge", "state": "ma",
               "zip_code": "02139", "primary_clinician_id": ""}
GUARDIAN = {"name": "Claudette Baptiste", "relation": "guardian", "is_billing_contact": "y",
            "email": "claudette@example.org", "phone": "", "address_line1": "", "address_line2": "", "city": "",
            "state": "", "zip_code": ""}


def problem_beside(response, field: str) -> str:
    """The message shown beside a field of a 422 form (the field points at it with aria-describedby)."""
    assert response.status_code == 422, response.status_code
    page = response.get_data(as_text=True)
    found = re.search(rf'<p class="error" id="{re.escape(field)}-error">([^<]*)</p>', page)
    assert found, f"no error beside {field}"
    assert re.search(rf'aria-describedby="[^"]*{re.escape(field)}-error"', page)
    return html.unescape(found.group(1))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(model.id)))


@pytest.fixture
def team(make):
    """A practice with an admin, a biller and two clinicians."""
    practice = make.practice()
    return type("Team", (), {"practice": practice, "admin": make.member(practice, Role.ADMIN),
                             "biller": make.member(practice, Role.BILLER),
                             "clinician": make.member(practice, Role.CLINICIAN, name="Casey Clinician"),
                             "other_clinician": make.member(practice, Role.CLINICIAN, name="Jordan Other")})


# ---------------------------------------------------------------- adding and editing clients


def test_admin_adds_a_client_who_is_saved_cleaned_and_audited(app, client, sign_in, team):
    sign_in(team.admin)
    response = client.post("/clients/new", data={**GOOD_CLIENT, "primary_clinician_id": str(team.clinician.id)})
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.scalar(db.select(Client))
        assert response.headers["Location"] == f"/clients/{saved.id}"
        assert (saved.first_name, saved.preferred_name, saved.middle_name, saved.phone, saved.email, saved.state,
                saved.zip_code, saved.primary_clinician_id, saved.practice_id) == (
            "Maya", "May", None, "6175550142", "maya@example.org", "MA", "02139", team.clinician.id, team.practice.id)
    [event] = events(app, "client.added")
    assert event.member_id == team.admin.id and event.details == {"primary_clinician_id": team.clinician.id}


def test_a_nine_digit_zip_is_kept_whole(app, client, sign_in, team):
    sign_in(team.biller)
    assert client.post("/clients/new", data={**GOOD_CLIENT, "zip_code": "02139-4307"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Client.zip_code)) == "021394307"


def test_clinician_who_adds_a_client_becomes_its_primary_clinician(app, client, sign_in, team):
    sign_in(team.clinician)
    form = client.get("/clients/new").get_data(as_text=True)
    assert 'name="primary_clinician_id"' not in form
    response = client.post("/clients/new", data={**GOOD_CLIENT, "primary_clinician_id": str(team.other_clinician.id)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Client.primary_clinician_id)) == team.clinician.id
    assert client.get(response.headers["Location"]).status_code == 200


def test_admin_chooses_among_active_clinicians_only(client, sign_in, team, make):
    gone = make.member(team.practice, Role.CLINICIAN, name="Former Clinician", active=False)
    sign_in(team.admin)
    form = client.get("/clients/new").get_data(as_text=True)
    assert "Casey Clinician" in form and "Jordan Other" in form and "Former Clinician" not in form
    assert team.biller.name not in form
    response = client.post("/clients/new", data={**GOOD_CLIENT, "primary_clinician_id": str(gone.id)})
    assert "active clinicians" in problem_beside(response, "primary_clinician_id")


@pytest.mark.parametrize("field, value, message", [
    ("first_name", "", "This field is required"),
    ("last_name", "  ", "This field is required"),
    ("date_of_birth", "", "This field is required"),
    ("date_of_birth", "14/03/1989", "Not a valid date"),
    ("date_of_birth", (local_today() + timedelta(days=2)).isoformat(), "cannot be in the future"),
    ("date_of_birth", "1899-12-31", "before 1900"),
    ("sex", "", "This field is required"),
    ("sex", "X", "Not a valid choice"),
    ("zip_code", "0213", "5-digit ZIP"),
    ("zip_code", "021394", "5-digit ZIP"),
    ("state", "Mass", "two-letter"),
    ("phone", "555-0142", "10-digit"),
    ("email", "not-an-email", "Invalid email"),
    ("city", "", "Enter the city: a mailing address needs"),
    ("address_line1", "", "Enter the street address"),
])
def test_bad_client_is_422_beside_the_field_and_nothing_is_saved(app, client, sign_in, team, field, value, message):
    sign_in(team.admin)
    response = client.post("/clients/new", data={**GOOD_CLIENT, field: value})
    assert message in problem_beside(response, field)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert count(app, Client) == 0
    assert events(app, "client.added") == []


def test_an_address_may_be_left_out_entirely(app, client, sign_in, team):
    sign_in(team.admin)
    empty = dict.fromkeys(("address_line1", "address_line2", "city", "state", "zip_code"), "")
    assert client.post("/clients/new", data={**GOOD_CLIENT, **empty}).status_code == 303
    assert count(app, Client) == 1


@pytest.mark.parametrize("role", ["admin", "biller"])
def test_primary_clinician_must_be_an_active_clinician_of_the_practice(client, sign_in, team, make, role):
    stranger = make.member(make.practice(), Role.CLINICIAN)
    sign_in(getattr(team, role))
    for member in (team.biller, stranger):
        response = client.post("/clients/new", data={**GOOD_CLIENT, "primary_clinician_id": str(member.id)})
        assert "active clinicians" in problem_beside(response, "primary_clinician_id")


def test_htmx_form_error_returns_only_the_form_block(client, sign_in, team):
    sign_in(team.admin)
    response = client.post("/clients/new", data={**GOOD_CLIENT, "first_name": ""},
                           headers={"HX-Request": "true", "HX-Target": "client-form"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="client-form">') and "<html" not in page


def test_editing_a_client_is_audited_with_what_changed(app, client, sign_in, team, make):
    record = make.client(team.practice, primary_clinician_id=team.clinician.id, first_name="Dan", last_name="Reyes")
    sign_in(team.biller)
    form = client.get(f"/clients/{record.id}/edit").get_data(as_text=True)
    assert 'value="Dan"' in form and 'value="1988-04-12"' in form
    response = client.post(f"/clients/{record.id}/edit", data={
        **GOOD_CLIENT, "first_name": "Daniel", "last_name": "Reyes", "date_of_birth": "1975-11-02",
        "primary_clinician_id": str(team.other_clinician.id)})
    assert response.status_code == 303
    saved = fetch(app, Client, record.id)
    assert (saved.first_name, saved.date_of_birth, saved.primary_clinician_id) == (
        "Daniel", date(1975, 11, 2), team.other_clinician.id)
    [event] = events(app, "client.updated")
    assert event.details["first_name"] == ["Dan", "Daniel"]
    assert event.details["date_of_birth"] == ["1988-04-12", "1975-11-02"]
    assert event.details["primary_clinician_id"] == [team.clinician.id, team.other_clinician.id]


def test_a_clinician_cannot_move_their_client_to_another_clinician(app, client, sign_in, team, make):
    record = make.client(team.practice, primary_clinician_id=team.clinician.id)
    sign_in(team.clinician)
    response = client.post(f"/clients/{record.id}/edit", data={
        **GOOD_CLIENT, "primary_clinician_id": str(team.other_clinician.id)})
    assert response.status_code == 303
    assert fetch(app, Client, record.id).primary_clinician_id == team.clinician.id


def test_a_bad_edit_is_422_and_changes_nothing(app, client, sign_in, team, make):
    record = make.client(team.practice, first_name="Robin")
    sign_in(team.admin)
    response = client.post(f"/clients/{record.id}/edit", data={**GOOD_CLIENT, "first_name": "Rob",
                                                               "date_of_birth": "1850-01-01"})
    assert "before 1900" in problem_beside(response, "date_of_birth")
    assert fetch(app, Client, record.id).first_name == "Robin"
    assert events(app, "client.updated") == []


# ---------------------------------------------------------------- who sees which client


def test_clinician_sees_only_their_own_clients(client, sign_in, team, make):
    own = make.client(team.practice, primary_clinician_id=team.clinician.id, last_name="Ownclient")
    seen = make.client(team.practice, primary_clinician_id=team.other_clinician.id, last_name="Sessionclient")
    make.session(seen, team.clinician)
    other = make.client(team.practice, primary_clinician_id=team.other_clinician.id, last_name="Notmine")
    unassigned = make.client(team.practice, last_name="Unassigned")
    sign_in(team.clinician)
    listing = client.get("/clients").get_data(as_text=True)
    assert "Ownclient" in listing and "Sessionclient" in listing
    assert "Notmine" not in listing and "Unassigned" not in listing
    assert client.get(f"/clients/{own.id}").status_code == 200
    assert client.get(f"/clients/{seen.id}").status_code == 200
    for hidden in (other, unassigned):
        for url in (f"/clients/{hidden.id}", f"/clients/{hidden.id}/edit", f"/clients/{hidden.id}/contacts/new",
                    f"/clients/{hidden.id}/policies/new"):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/clients/{hidden.id}/edit", data=GOOD_CLIENT).status_code == 404


@pytest.mark.parametrize("role", ["admin", "biller"])
def test_admins_and_billers_see_every_client_of_the_practice(client, sign_in, team, make, role):
    records = [make.client(team.practice, primary_clinician_id=team.clinician.id, last_name="Alpha"),
               make.client(team.practice, last_name="Bravo")]
    elsewhere = make.client(make.practice(), last_name="Elsewhere")
    sign_in(getattr(team, role))
    listing = client.get("/clients").get_data(as_text=True)
    assert "Alpha" in listing and "Bravo" in listing and "Elsewhere" not in listing
    for record in records:
        assert client.get(f"/clients/{record.id}").status_code == 200
    assert client.get(f"/clients/{elsewhere.id}").status_code == 404


def test_client_page_lists_only_the_sessions_the_member_may_see(client, sign_in, team, make):
    record = make.client(team.practice, primary_clinician_id=team.clinician.id)
    own = make.session(record, team.clinician, minutes=45)
    theirs = make.session(record, team.other_clinician, minutes=53, status="cancelled")
    sign_in(team.clinician)
    sessions = section(client.get(f"/clients/{record.id}"), "client-sessions")
    assert f"client-session-{own.id}" in sessions and f"client-session-{theirs.id}" not in sessions
    assert "Casey Clinician" in sessions and ">45<" in sessions and "Scheduled" in sessions
    sign_in(team.biller)
    sessions = section(client.get(f"/clients/{record.id}"), "client-sessions")
    assert f"client-session-{own.id}" in sessions and f"client-session-{theirs.id}" in sessions
    assert "Jordan Other" in sessions and "Cancelled" in sessions


def section(response, element_id: str) -> str:
    """The HTML of the <section> with this id."""
    assert response.status_code == 200
    found = re.search(rf'<section[^>]* id="{element_id}".*?</section>', response.get_data(as_text=True), re.S)
    assert found, f"no section {element_id}"
    return found.group(0)


# ---------------------------------------------------------------- search and pages


@pytest.fixture
def roster(make, team):
    """Clients whose names exercise the search."""
    names = [("Maya", "Okafor", None), ("Daniel", "Reyes", "Dan"), ("Eleanor", "Whitfield", "Nell"),
             ("Danielle", "O'Brien", None), ("Sam", "Kowalski", None), ("Percy", "50%_Off", None)]
    return {first: make.client(team.practice, first_name=first, last_name=last, preferred_name=preferred)
            for first, last, preferred in names}


def listed(response) -> set[int]:
    return {int(found) for found in re.findall(r'id="client-row-(\d+)"', response.get_data(as_text=True))}


@pytest.mark.parametrize("query, expected", [
    ("okafor", {"Maya"}),
    ("DAN", {"Daniel", "Danielle"}),
    ("nell", {"Eleanor"}),
    ("dan reyes", {"Daniel"}),
    ("o'b", {"Danielle"}),
    ("%", {"Percy"}),
    ("_", {"Percy"}),
    ("nobody", set()),
    ("", {"Maya", "Daniel", "Eleanor", "Danielle", "Sam", "Percy"}),
])
def test_search_matches_first_last_and_preferred_names_ignoring_case(client, sign_in, team, roster, query, expected):
    sign_in(team.admin)
    response = client.get("/clients", query_string={"q": query})
    assert listed(response) == {roster[first].id for first in expected}
    if not expected:
        assert "No clients match" in response.get_data(as_text=True)


def test_htmx_search_answers_with_the_results_block_only(client, sign_in, team, roster):
    sign_in(team.admin)
    response = client.get("/clients?q=whit", headers={"HX-Request": "true", "HX-Target": "client-results"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="client-results">') and "<html" not in page and "<form" not in page
    assert listed(response) == {roster["Eleanor"].id}
    assert "HX-Request" in response.headers["Vary"]


def test_search_page_has_a_labelled_search_box_wired_to_the_results(client, sign_in, team):
    sign_in(team.admin)
    page = client.get("/clients").get_data(as_text=True)
    assert '<label for="q">Search clients</label>' in page
    assert 'hx-target="#client-results"' in page and 'type="search"' in page


@pytest.mark.parametrize("app_config", [{"CLIENTS_PAGE_SIZE": 2}])
def test_the_list_pages_by_name_with_a_more_link(client, sign_in, team, roster):
    sign_in(team.admin)
    by_name = sorted(roster.values(), key=lambda record: (record.last_name, record.first_name, record.id))
    seen, url, pages = [], "/clients", 0
    while url:
        response = client.get(url)
        page = response.get_data(as_text=True)
        rows = [int(found) for found in re.findall(r'id="client-row-(\d+)"', page)]
        assert len(rows) <= 2
        seen += rows
        more = re.search(r'id="more-clients" href="([^"]+)"', page)
        url = html.unescape(more.group(1)) if more else None
        pages += 1
    # The database orders the names itself (collations differ), so compare as sets, then check no repeats.
    assert set(seen) == {record.id for record in by_name} and len(seen) == len(by_name) and pages == 3
    searched = client.get("/clients?q=dan").get_data(as_text=True)
    assert 'id="more-clients"' not in searched


# ---------------------------------------------------------------- contacts and who receives the bills


def test_a_guardian_as_billing_contact_receives_the_bills_of_a_minor(app, client, sign_in, team, make):
    minor = make.client(team.practice, primary_clinician_id=team.clinician.id, first_name="Jordan",
                        date_of_birth=local_today() - timedelta(days=365 * 12))
    sign_in(team.clinician)
    billing = section(client.get(f"/clients/{minor.id}"), "client-billing")
    assert "Bills will go to the client; a minor usually needs a guardian as billing contact" in billing
    assert "Bills go to: <strong>Jordan" in billing
    response = client.post(f"/clients/{minor.id}/contacts/new", data=GUARDIAN)
    assert response.status_code == 303 and response.headers["Location"] == f"/clients/{minor.id}"
    page = client.get(f"/clients/{minor.id}")
    billing = section(page, "client-billing")
    assert "Bills go to: <strong>Claudette Baptiste</strong> (guardian)" in billing
    assert "a minor usually needs a guardian" not in billing
    assert "Claudette Baptiste (guardian)" in section(page, "client-overview")
    [event] = events(app, "contact.added")
    assert event.details == {"client_id": minor.id, "relation": "guardian", "is_billing_contact": True}


def test_an_adult_without_a_billing_contact_is_billed_without_a_warning(client, sign_in, team, make):
    adult = make.client(team.practice, first_name="Maya", last_name="Okafor")
    sign_in(team.biller)
    billing = section(client.get(f"/clients/{adult.id}"), "client-billing")
    assert "Bills go to: <strong>Maya Okafor</strong> (the client)" in billing
    assert "minor" not in billing


def test_a_client_turning_eighteen_today_is_no_longer_a_minor(app, client, sign_in, team, make):
    with app.app_context():
        today = practice_today(team.practice.id)  # the practice's date, which may not be the server's
    born = (today - timedelta(days=1) if (today.month, today.day) == (2, 29) else today).replace(year=today.year - 18)
    adult = make.client(team.practice, date_of_birth=born)
    sign_in(team.admin)
    assert "minor usually needs" not in section(client.get(f"/clients/{adult.id}"), "client-billing")


def test_a_minor_with_a_non_billing_guardian_still_gets_the_warning(client, sign_in, team, make):
    minor = make.client(team.practice, date_of_birth=local_today() - timedelta(days=365 * 10))
    make.contact(minor, is_billing_contact=False, relation="emergency")
    sign_in(team.admin)
    assert "minor usually needs a guardian" in section(client.get(f"/clients/{minor.id}"), "client-billing")


def test_only_one_contact_is_the_billing_contact(app, client, sign_in, team, make):
    record = make.client(team.practice)
    first = make.contact(record, name="Pat Parent", relation="parent", is_billing_contact=True)
    sign_in(team.admin)
    response = client.post(f"/clients/{record.id}/contacts/new", data={**GUARDIAN, "name": "Gale Guardian"})
    assert response.status_code == 303
    with app.app_context():
        billing = db.session.scalars(db.select(Contact.name).where(Contact.client_id == record.id,
                                                                   Contact.is_billing_contact.is_(True))).all()
    assert billing == ["Gale Guardian"]
    assert not fetch(app, Contact, first.id).is_billing_contact
    [cleared] = events(app, "contact.updated")
    assert cleared.object_id == first.id and cleared.details == {"is_billing_contact": [True, False]}
    # Editing the first back to billing contact moves it again.
    response = client.post(f"/clients/{record.id}/contacts/{first.id}", data={
        **GUARDIAN, "name": "Pat Parent", "relation": "parent"})
    assert response.status_code == 303
    assert "Bills go to: <strong>Pat Parent</strong> (parent)" in section(client.get(f"/clients/{record.id}"),
                                                                         "client-billing")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Contact.id)).where(
            Contact.client_id == record.id, Contact.is_billing_contact.is_(True))) == 1


def test_unticking_the_billing_contact_sends_bills_to_the_client_again(app, client, sign_in, team, make):
    record = make.client(team.practice, first_name="Sam", last_name="Kowalski")
    contact = make.contact(record)
    sign_in(team.admin)
    response = client.post(f"/clients/{record.id}/contacts/{contact.id}",
                           data={**GUARDIAN, "name": contact.name, "is_billing_contact": ""})
    assert response.status_code == 303
    assert "Bills go to: <strong>Sam Kowalski</strong> (the client)" in section(
        client.get(f"/clients/{record.id}"), "client-billing")


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "This field is required"),
    ({"relation": "boss"}, "relation", "Not a valid choice"),
    ({"email": "", "address_line1": ""}, "is_billing_contact", "enter an email or a mailing address"),
    ({"email": "nope"}, "email", "Invalid email"),
    ({"address_line1": "1 Main St", "city": "Boston", "state": "MA"}, "zip_code", "Enter the ZIP code"),
    ({"address_line1": "1 Main St", "city": "Boston", "state": "MA", "zip_code": "2110"}, "zip_code", "5-digit"),
    ({"phone": "12"}, "phone", "10-digit"),
])
def test_bad_contact_is_422_beside_the_field_and_nothing_is_saved(app, client, sign_in, team, make, changes, field,
                                                                  message):
    record = make.client(team.practice)
    sign_in(team.biller)
    response = client.post(f"/clients/{record.id}/contacts/new", data={**GUARDIAN, **changes})
    assert message in problem_beside(response, field)
    assert count(app, Contact) == 0 and events(app, "contact.added") == []


def test_a_bad_contact_edit_keeps_the_other_billing_contact(app, client, sign_in, team, make):
    record = make.client(team.practice)
    billing = make.contact(record, name="Pat Parent", relation="parent")
    other = make.contact(record, name="Emery", relation="emergency", is_billing_contact=False)
    sign_in(team.admin)
    response = client.post(f"/clients/{record.id}/contacts/{other.id}", data={**GUARDIAN, "name": "", })
    assert response.status_code == 422
    assert fetch(app, Contact, billing.id).is_billing_contact and not fetch(app, Contact, other.id).is_billing_contact


def test_a_contact_named_under_another_client_is_not_edited_there(app, client, sign_in, team, make):
    record, elsewhere = make.client(team.practice), make.client(team.practice)
    contact = make.contact(elsewhere)
    sign_in(team.admin)
    response = client.get(f"/clients/{record.id}/contacts/{contact.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/clients/{elsewhere.id}/contacts/{contact.id}"
    assert client.post(f"/clients/{record.id}/contacts/{contact.id}", data=GUARDIAN).status_code == 404


def test_a_clinician_cannot_reach_a_contact_of_a_client_not_theirs_through_their_own(client, sign_in, team, make):
    own = make.client(team.practice, primary_clinician_id=team.clinician.id)
    hidden = make.client(team.practice, primary_clinician_id=team.other_clinician.id)
    contact = make.contact(hidden)
    sign_in(team.clinician)
    assert client.get(f"/clients/{own.id}/contacts/{contact.id}").status_code == 404
    assert client.get(f"/clients/{hidden.id}/contacts/{contact.id}").status_code == 404


def test_client_pages_are_accessible_and_script_free(client, sign_in, team, make):
    record = make.client(team.practice, primary_clinician_id=team.clinician.id)
    make.contact(record)
    make.policy(record, make.payer(PracticeRef(team.practice.id)))
    sign_in(team.admin)
    for url in ("/clients", "/clients/new", f"/clients/{record.id}", f"/clients/{record.id}/edit",
                f"/clients/{record.id}/contacts/new", f"/clients/{record.id}/policies/new"):
        page = client.get(url).get_data(as_text=True)
        assert "<h1" in page, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert not re.search(r"\son[a-z]+=", page), url
        assert not re.search(r'<th(?=[\s>])(?![^>]*scope=)', page), url
        for input_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', page):
            if input_id != "csrf_token":
                wrapped = re.search(rf'<label[^>]*>\s*<input[^>]*id="{input_id}"', page)
                assert f'for="{input_id}"' in page or wrapped, f"{url}: #{input_id} has no label"
