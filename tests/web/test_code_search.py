"""The code autocomplete's listbox and the time check behind /codes/validate."""
import re

import pytest

from app.models import Role


@pytest.fixture
def practice(make):
    return make.practice()


@pytest.fixture
def clinician(make, sign_in, practice):
    member = make.member(practice, Role.CLINICIAN)
    sign_in(member)
    return member


def options(html: str) -> list[str]:
    return re.findall(r'data-code="([^"]+)"', html)


def test_search_fragment_is_an_aria_listbox_of_options_with_data_code(client, clinician):
    response = client.get("/codes/search?q=9083&context=catalog&listbox=code-listbox")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    found = options(html)
    assert found[:7] == ["90832", "90833", "90834", "90836", "90837", "90838", "90839"]
    first = re.search(r"<li[^>]*data-code=\"90832\"[^>]*>", html, re.S).group(0)
    assert 'role="option"' in first and 'id="code-listbox-90832"' in first and 'aria-selected="false"' in first
    assert 'data-description="' in first and 'data-name="' in first
    assert re.search(r'data-count="\d+"', html)


def test_code_prefix_matches_come_before_word_matches(client, clinician):
    found = options(client.get("/codes/search?q=family&context=catalog").get_data(as_text=True))
    assert {"90846", "90847"} <= set(found)


def test_catalog_context_includes_the_practices_custom_codes(client, clinician, make, practice):
    make.service(practice, "LATE-CANCEL", code_type="Custom", name="Late cancellation fee")
    found = options(client.get("/codes/search?q=late&context=catalog").get_data(as_text=True))
    assert "LATE-CANCEL" in found


def test_practice_context_offers_only_enabled_services_with_their_prices(client, clinician, make, practice):
    make.service(practice, "90834", price_cents=15000)
    make.service(practice, "90837", price_cents=19000, enabled=False)
    html = client.get("/codes/search?q=9083&context=practice").get_data(as_text=True)
    assert options(html) == ["90834"]
    assert 'data-price="150.00"' in html


def test_with_minutes_fitting_codes_come_first_and_misfits_are_marked(client, clinician, make, practice):
    for code in ("90832", "90834", "90837"):
        make.service(practice, code)
    html = client.get("/codes/search?q=9083&context=practice&minutes=45").get_data(as_text=True)
    assert options(html)[0] == "90834"
    assert re.search(r'data-code="90837".*?does not fit 45 min', html, re.S)


def test_the_index_is_rebuilt_when_the_catalog_changes(app, client, clinician, make, practice):
    assert options(client.get("/codes/search?q=9083&context=practice").get_data(as_text=True)) == []
    admin = make.member(practice, Role.ADMIN)
    admin_client = app.test_client()
    from tests.support.factories import PASSWORD

    admin_client.post("/login", data={"email": admin.email, "password": PASSWORD})
    admin_client.post("/settings/services/new", data={"code": "90837", "code_type": "CPT", "name": "60",
                                                      "price": "190", "enabled": "y"})
    assert options(client.get("/codes/search?q=9083&context=practice").get_data(as_text=True)) == ["90837"]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_search(client, make, sign_in, practice, role):
    sign_in(make.member(practice, role))
    assert client.get("/codes/search?q=908&context=catalog").status_code == 200


@pytest.mark.parametrize("code, minutes, status, text", [
    ("90834", 45, 200, "fits"),
    ("90837", 45, 422, "45 minutes is 90834, not 90837"),
    ("90834", 53, 422, "53 minutes supports 90837; 90834 is lower"),
    ("90832", 10, 422, "too short"),
    ("99999", 30, 422, "not a code Parity knows"),
    ("90834", None, 422, "Enter the minutes"),
    ("H2019", 50, 200, "3 units"),
])
def test_validate_says_whether_a_code_fits_the_minutes(client, clinician, code, minutes, status, text):
    url = f"/codes/validate?code={code}" + (f"&minutes={minutes}" if minutes is not None else "")
    response = client.get(url)
    assert response.status_code == status
    assert text in response.get_data(as_text=True)


def test_validate_uses_the_practices_rounding_for_unit_codes(client, clinician, make, practice):
    make.service(practice, "H2019", bill_in_units=True, minutes_per_unit=15, unit_rounding="full_units_only")
    assert "2 units" in client.get("/codes/validate?code=H2019&minutes=40").get_data(as_text=True)


def test_at_53_minutes_lower_codes_are_never_marked_as_fitting(client, clinician, make, practice):
    for code in ("90832", "90834", "90837"):
        make.service(practice, code)
    html = client.get("/codes/search?q=9083&context=practice&minutes=53").get_data(as_text=True)
    assert options(html) == ["90837", "90832", "90834"]
    notes = dict(re.findall(r'data-code="(\d+)".*?<span class="option-note[^"]*">([^<]*)</span>', html, re.S))
    assert notes == {"90837": "fits 53 min", "90832": "lower than 53 min supports (90837)",
                     "90834": "lower than 53 min supports (90837)"}


@pytest.mark.parametrize("code", ["90832", "90834", "90837", "90839", "90840"])
def test_the_listbox_and_validate_give_the_same_answer(client, clinician, make, practice, code):
    make.service(practice, code)
    listbox = client.get(f"/codes/search?q={code}&context=practice&minutes=53").get_data(as_text=True)
    mark = re.search(r'<span class="option-note[^"]*">([^<:]*)', listbox).group(1)
    validated = client.get(f"/codes/validate?code={code}&minutes=53")
    assert (validated.status_code == 200) is (mark == "fits 53 min")
    assert ("lower than" in mark) is ("is lower" in validated.get_data(as_text=True))
