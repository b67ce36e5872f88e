"""Practice identity and members: validation with 422 and nothing saved, the last-admin rule, audit; the
navigation."""
import re

import pytest

from app import navigation
from app.extensions import db
from app.models import AuditEvent, Member, OutboundEmail, Practice, Role

GOOD_PRACTICE = {"legal_name": "Harbor Counseling LLC", "tax_id": "12-3456789", "group_npi": "2000000002",
                 "taxonomy": "261QM0801X", "address_line1": "1 Harbor Way", "address_line2": "", "city": "Boston",
                 "state": "ma", "zip_code": "02110-1234", "phone": "(617) 555-0199",
                 "timezone": "America/Chicago"}


def fetch(app, model, record_id):
    with app.app_context():
        record = db.session.get(model, record_id)
        db.session.expunge(record)
        return record


def events(app, action):
    with app.app_context():
        return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture
def admin(make, sign_in):
    member = make.member(role=Role.ADMIN)
    sign_in(member)
    return member


def test_admin_saves_practice_identity_and_it_is_audited(app, client, admin):
    response = client.post("/settings/practice", data=GOOD_PRACTICE)
    assert response.status_code == 303
    practice = fetch(app, Practice, admin.practice_id)
    assert (practice.tax_id, practice.zip_code, practice.state, practice.phone) == ("123456789", "021101234", "MA",
                                                                                   "6175550199")
    [event] = events(app, "practice.identity_changed")
    assert event.details["legal_name"][1] == "Harbor Counseling LLC"
    assert event.member_id == admin.id and event.ip_address


@pytest.mark.parametrize("field, value, message", [
    ("group_npi", "1234567890", "check digit is wrong"),
    ("group_npi", "1234567893", "organization (type 2) NPI"),
    ("group_npi", "12345", "10 digits"),
    ("taxonomy", "101YP2500", "ends in X"),
    ("taxonomy", "101YP25000", "ends in X"),
    ("tax_id", "12-345678", "9 digits"),
    ("zip_code", "02110", "ZIP+4"),
    ("state", "Mass", "two-letter"),
    ("phone", "555-0199", "10-digit"),
    ("legal_name", "", "This field is required"),
])
def test_bad_practice_identity_is_422_beside_the_field_and_nothing_is_saved(app, client, admin, field, value, message):
    before = fetch(app, Practice, admin.practice_id)
    response = client.post("/settings/practice", data={**GOOD_PRACTICE, field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert f'aria-describedby="{field}-hint {field}-error"' in html or f'aria-describedby="{field}-error"' in html
    assert 'aria-invalid="true"' in html
    after = fetch(app, Practice, admin.practice_id)
    assert (after.legal_name, after.group_npi, after.taxonomy, after.zip_code) == (
        before.legal_name, before.group_npi, before.taxonomy, before.zip_code)
    assert events(app, "practice.identity_changed") == []


def test_htmx_form_error_returns_only_the_form_block(client, admin):
    response = client.post("/settings/practice", data={**GOOD_PRACTICE, "group_npi": "1234567890"},
                           headers={"HX-Request": "true", "HX-Target": "practice-form"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="practice-form">') and "<html" not in html


def test_admin_adds_a_clinician_with_npi_and_a_welcome_email_is_queued(app, client, admin):
    response = client.post("/settings/members", data={
        "name": "Riley Therapist", "email": "Riley@Example.org", "role": "clinician", "npi": "1234567893",
        "taxonomy": "101yp2500x", "password": "long enough password"})
    assert response.status_code == 303
    with app.app_context():
        member = db.session.scalar(db.select(Member).where(Member.email == "riley@example.org"))
        assert (member.role, member.npi, member.taxonomy, member.practice_id) == (
            "clinician", "1234567893", "101YP2500X", admin.practice_id)
        email = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.to_address == "riley@example.org"))
        assert email.status == "queued" and "Riley Therapist" in email.body
    assert len(events(app, "member.added")) == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"npi": ""}, "npi", "needs an individual NPI"),
    ({"npi": "2000000002"}, "npi", "individual (type 1)"),
    ({"npi": "1234567890"}, "npi", "check digit"),
    ({"taxonomy": ""}, "taxonomy", "needs a taxonomy"),
    ({"email": "not-an-email"}, "email", "Invalid email"),
    ({"password": "short"}, "password", "at least 12"),
    ({"password": "password1234"}, "password", "too easy to guess"),
    ({"password": "riley@example.org"}, "password", "too easy to guess"),
])
def test_bad_member_is_422_and_nobody_is_added(app, client, admin, changes, field, message):
    data = {"name": "Riley", "email": "riley@example.org", "role": "clinician", "npi": "1234567893",
            "taxonomy": "101YP2500X", "password": "long enough password", **changes}
    response = client.post("/settings/members", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Member.id))) == 1
        assert db.session.scalar(db.select(db.func.count(OutboundEmail.id))) == 0


def test_an_email_already_in_use_is_422(client, admin, make):
    other = make.member()
    response = client.post("/settings/members", data={"name": "Dup", "email": other.email, "role": "biller",
                                                      "password": "long enough password"})
    assert response.status_code == 422
    assert "already signs in with this email" in response.get_data(as_text=True)


def test_last_active_admin_cannot_be_demoted(app, client, admin):
    response = client.post(f"/settings/members/{admin.id}/role", data={"role": "biller"},
                           headers={"HX-Request": "true", "HX-Target": f"member-row-{admin.id}"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="member-row-{admin.id}"')
    assert "at least one active admin" in html
    assert fetch(app, Member, admin.id).role == "admin"


def test_the_add_member_form_starts_at_clinician_and_deactivating_asks_first(app, client, admin, make):
    other = make.member(fetch(app, Practice, admin.practice_id), Role.BILLER, name="Blake Biller")
    html = client.get("/settings/members").get_data(as_text=True)
    form = html[html.index('id="member-form"'):]
    assert re.search(r'<select[^>]*name="role"[^>]*>\s*<option value="admin">Admin</option>\s*'
                     r'<option selected value="clinician">', form)
    row = html[html.index(f'id="member-row-{other.id}"'):html.index("</tr>", html.index(f'id="member-row-{other.id}"'))]
    assert 'hx-confirm="Deactivate Blake Biller? They are signed out everywhere' in row
    client.post(f"/settings/members/{other.id}/deactivate")
    html = client.get("/settings/members").get_data(as_text=True)
    row = html[html.index(f'id="member-row-{other.id}"'):html.index("</tr>", html.index(f'id="member-row-{other.id}"'))]
    assert "Reactivate" in row and "hx-confirm" not in row  # nothing to lose by reactivating


def test_last_active_admin_cannot_be_deactivated(app, client, admin):
    response = client.post(f"/settings/members/{admin.id}/deactivate", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert fetch(app, Member, admin.id).active


def test_with_two_admins_one_may_be_demoted_and_the_row_is_swapped(app, client, admin, make):
    second = make.member(fetch(app, Practice, admin.practice_id), Role.ADMIN)
    response = client.post(f"/settings/members/{second.id}/role", data={"role": "biller"},
                           headers={"HX-Request": "true", "HX-Target": f"member-row-{second.id}"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith(f'<tr id="member-row-{second.id}"')
    assert "toast" in response.headers["HX-Trigger"]
    assert fetch(app, Member, second.id).role == "biller"
    [event] = events(app, "member.role_changed")
    assert event.details == {"role": ["admin", "biller"]}


def test_deactivated_member_is_signed_out_at_once(app, client, admin, make, sign_in):
    practice = fetch(app, Practice, admin.practice_id)
    biller = make.member(practice, Role.BILLER)
    other_client = sign_in(biller, on=app.test_client())
    assert other_client.get("/").status_code == 200
    assert client.post(f"/settings/members/{biller.id}/deactivate").status_code == 303
    assert other_client.get("/").status_code == 302
    assert len(events(app, "member.deactivated")) == 1
    assert client.post(f"/settings/members/{biller.id}/reactivate").status_code == 303
    assert fetch(app, Member, biller.id).active


def test_editing_a_member_to_clinician_without_npi_is_422(app, client, admin, make):
    practice = fetch(app, Practice, admin.practice_id)
    biller = make.member(practice, Role.BILLER)
    response = client.post(f"/settings/members/{biller.id}", data={"name": biller.name, "email": biller.email,
                                                                   "role": "clinician"})
    assert response.status_code == 422
    assert fetch(app, Member, biller.id).role == "biller"


def test_audit_log_lists_events_and_filters_them(app, client, admin, make):
    practice = fetch(app, Practice, admin.practice_id)
    second = make.member(practice, Role.ADMIN)
    client.post(f"/settings/members/{second.id}/role", data={"role": "biller"})
    client.post("/settings/practice", data=GOOD_PRACTICE)
    page = client.get("/settings/audit").get_data(as_text=True)
    assert "member.role_changed" in page and "practice.identity_changed" in page
    filtered = client.get("/settings/audit?action=member.").get_data(as_text=True)
    assert "member.role_changed" in filtered and "practice.identity_changed" not in filtered


def test_audit_log_pages_with_a_keyset_cursor(app, client, admin):
    from app import audit

    with app.app_context():
        practice = db.session.get(Practice, admin.practice_id)
        for number in range(60):
            audit.record("test.event", practice, number=number)
        db.session.commit()
    first = client.get("/settings/audit").get_data(as_text=True)
    assert "number: 59" in first and "number: 9<" not in first and "Older events" in first
    import re

    cursor = re.search(r'before=(\d+)', first).group(1)
    second = client.get(f"/settings/audit?before={cursor}").get_data(as_text=True)
    assert "number: 0" in second and "number: 59" not in second


def test_audit_log_never_shows_another_practices_events(app, client, admin, make):
    other_admin = make.member()
    other_client = app.test_client()
    from tests.support.factories import PASSWORD

    other_client.post("/login", data={"email": other_admin.email, "password": PASSWORD})
    assert other_admin.email not in client.get("/settings/audit").get_data(as_text=True)


def current_links(html: str) -> list[str]:
    """The labels of the navigation links marked as the page shown."""
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', html)


def test_navigation_marks_the_item_the_page_belongs_to(app, client, admin, make):
    """Each page marks its item, in the main navigation and under Settings (app/navigation.py)."""
    practice = make.practice_of(admin)
    email = make.email(practice)
    member = make.member(practice, Role.BILLER)
    client_record = make.client(practice)
    assert current_links(client.get("/settings/billing").get_data(as_text=True)) == ["Settings", "Billing"]
    assert current_links(client.get(f"/settings/outbox/{email.id}").get_data(as_text=True)) == ["Settings", "Outbox"]
    assert current_links(client.get(f"/settings/members/{member.id}").get_data(as_text=True)) == ["Settings",
                                                                                                  "Members"]
    assert current_links(client.get("/settings/services/new").get_data(as_text=True)) == ["Settings", "Services"]
    assert current_links(client.get(f"/clients/{client_record.id}/ledger").get_data(as_text=True)) == ["Bills"]
    assert current_links(client.get("/claims/acknowledgements").get_data(as_text=True)) == ["Remittances"]
    assert current_links(client.get("/").get_data(as_text=True)) == ["Home"]


@pytest.mark.parametrize("role, main, settings", [
    (Role.ADMIN, ["Home", "Sessions", "Clients", "Bills", "Claims", "Remittances", "Payments", "Reports", "Settings"],
     ["Practice", "Services", "Payers", "Billing", "Insurance", "Members", "Outbox", "Jobs", "Audit log"]),
    (Role.BILLER, ["Home", "Sessions", "Clients", "Bills", "Claims", "Remittances", "Payments", "Reports", "Settings"],
     ["Payers"]),
    (Role.CLINICIAN, ["Home", "Sessions", "Clients", "Bills", "Claims", "Reports"], []),
])
def test_each_role_sees_the_pages_it_may_open(app, make, role, main, settings):
    with app.test_request_context():
        member = db.session.get(Member, make.member(role=role).id)
        assert [link.label for link in navigation.items_for(member)] == main
        assert [link.label for link in navigation.items_for(member, navigation.SETTINGS_NAVIGATION)] == settings
