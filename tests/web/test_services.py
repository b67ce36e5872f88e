"""The service catalog: add, edit, import, enable/disable, delete; 422 with nothing saved."""
import pytest

from app.extensions import db
from app.models import AuditEvent, Practice, Role, ServiceCode

HX = {"HX-Request": "true"}
NEW_SERVICE = {"code": "90834", "code_type": "CPT", "name": "Psychotherapy, 45 min", "description": "Our words",
               "price": "150.00", "enabled": "y"}


@pytest.fixture
def admin(make, sign_in):
    member = make.member(role=Role.ADMIN)
    sign_in(member)
    return member


@pytest.fixture
def practice(app, admin):
    with app.app_context():
        practice = db.session.get(Practice, admin.practice_id)
        db.session.expunge(practice)
        return practice


def services(app, practice_id):
    with app.app_context():
        return {s.code: (s.price_cents, s.enabled, s.name) for s in db.session.scalars(
            db.select(ServiceCode).where(ServiceCode.practice_id == practice_id))}


def test_admin_adds_a_cpt_service_and_its_price_is_stored_in_cents(app, client, practice):
    response = client.post("/settings/services/new", data={**NEW_SERVICE, "price": "$1,150.5"})
    assert response.status_code == 303
    assert services(app, practice.id) == {"90834": (115050, True, "Psychotherapy, 45 min")}
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.action == "service.added"))


@pytest.mark.parametrize("changes, field, message", [
    ({"code": "9083"}, "code", "five characters"),
    ({"code": "ABCDE"}, "code", "five characters"),
    ({"code": ""}, "code", "required"),
    ({"name": ""}, "name", "required"),
    ({"price": "-5"}, "price", "cannot be negative"),
    ({"price": "12.345"}, "price", "two decimal places"),
    ({"price": "lots"}, "price", "dollars and cents"),
    ({"price": ""}, "price", "required"),
    ({"code": "90785"}, "code", "add-on code"),
    ({"bill_in_units": "y"}, "minutes_per_unit", "how many minutes one unit"),
])
def test_bad_service_is_422_beside_the_field_and_nothing_is_saved(app, client, practice, changes, field, message):
    response = client.post("/settings/services/new", data={**NEW_SERVICE, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert services(app, practice.id) == {}


def test_a_code_already_in_the_catalog_is_422(app, client, practice, make):
    make.service(practice, "90834")
    response = client.post("/settings/services/new", data=NEW_SERVICE)
    assert response.status_code == 422
    assert "90834 is already in your catalog." in response.get_data(as_text=True)


def test_custom_codes_need_no_cpt_format(app, client, practice):
    response = client.post("/settings/services/new", data={**NEW_SERVICE, "code": "late-cancel", "code_type": "Custom",
                                                           "name": "Late cancellation fee", "price": "50"})
    assert response.status_code == 303
    assert services(app, practice.id)["LATE-CANCEL"][0] == 5000


def test_an_add_on_can_be_added_once_its_parent_is_in_the_catalog(app, client, practice, make):
    make.service(practice, "90791")
    response = client.post("/settings/services/new", data={**NEW_SERVICE, "code": "90785", "name": "Interactive"})
    assert response.status_code == 303


def test_editing_a_service_saves_and_audits_the_change(app, client, practice, make):
    service = make.service(practice, "90837", price_cents=18000)
    page = client.get(f"/settings/services/{service.id}/edit").get_data(as_text=True)
    assert 'value="180.00"' in page
    response = client.post(f"/settings/services/{service.id}/edit", data={**NEW_SERVICE, "code": "90837",
                                                                          "price": "195"})
    assert response.status_code == 303
    assert services(app, practice.id)["90837"][0] == 19500
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "service.updated"))
        assert event.details["price_cents"] == [18000, 19500]


def test_enable_disable_swaps_only_that_row(app, client, practice, make):
    service = make.service(practice, "90834")
    response = client.post(f"/settings/services/{service.id}/toggle",
                           headers={**HX, "HX-Target": f"service-row-{service.id}"})
    assert response.status_code == 200
    html = response.get_data(as_text=True).strip()
    assert html.startswith(f'<tr id="service-row-{service.id}"') and html.endswith("</tr>")
    assert 'aria-checked="false"' in html and "<html" not in html
    assert "disabled" in response.headers["HX-Trigger"]
    assert services(app, practice.id)["90834"][1] is False
    client.post(f"/settings/services/{service.id}/toggle", headers=HX)
    assert services(app, practice.id)["90834"][1] is True


def test_list_marks_add_ons_and_shows_prices(client, practice, make):
    make.service(practice, "90791", price_cents=20000)
    make.service(practice, "90785", price_cents=2500)
    html = client.get("/settings/services").get_data(as_text=True)
    assert "↳ </span>90785" in html and "$200.00" in html and "$25.00" in html


def test_an_unused_service_can_be_deleted(app, client, practice, make):
    service = make.service(practice, "90834")
    response = client.post(f"/settings/services/{service.id}/delete", headers=HX)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert services(app, practice.id) == {}


def test_import_adds_codes_with_the_prices_typed(app, client, practice):
    page = client.get("/settings/services/import").get_data(as_text=True)
    assert 'name="price-90834" id="price-90834" value="113.90"' in page  # the 2026 Medicare figure, editable
    response = client.post("/settings/services/import", data={"code": ["90834", "90785"], "price-90834": "140",
                                                              "price-90785": "20.00"})
    assert response.status_code == 303
    assert services(app, practice.id) == {"90834": (14000, True, "Psychotherapy, about 45 min"),
                                          "90785": (2000, True, "Interactive complexity")}
    page = client.get("/settings/services/import").get_data(as_text=True)
    assert 'id="import-check-90834" disabled' in page and "in catalog" in page


def test_import_of_an_add_on_without_its_parent_is_422_and_imports_nothing(app, client, practice):
    response = client.post("/settings/services/import", data={"code": ["90785", "96127"], "price-90785": "20",
                                                              "price-96127": "10"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "90785 is an add-on" in html and "90791" in html and "Nothing was imported" in html
    assert services(app, practice.id) == {}


def test_import_with_a_bad_price_is_422_and_imports_nothing(app, client, practice):
    response = client.post("/settings/services/import", data={"code": ["90834", "90837"], "price-90834": "140",
                                                              "price-90837": "abc"})
    assert response.status_code == 422
    assert services(app, practice.id) == {}


def test_services_pages_are_admin_only(client, make, sign_in):
    sign_in(make.member(role=Role.BILLER))
    assert client.get("/settings/services").status_code == 403
    assert client.get("/settings/services/import").status_code == 403


def test_a_service_used_on_a_session_cannot_be_deleted_and_the_message_says_to_disable_it(app, client, practice,
                                                                                             make):
    service = make.service(practice, "90834")
    clinician = make.member(practice, Role.CLINICIAN)
    session = make.session(make.client(practice), clinician)
    make.line(session, service)
    response = client.post(f"/settings/services/{service.id}/delete", headers=HX)
    assert response.status_code == 422
    assert "disable it instead" in response.get_data(as_text=True)
    assert "90834" in services(app, practice.id)
