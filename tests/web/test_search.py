"""The header's search (app/billing/search.py, /search): clients by name or member ID, bills by number, claims by
control or payer claim number; only what the member may see; a fragment for htmx and a whole page without."""
from app.extensions import db
from app.models import Claim, Role


def world(make):
    practice = make.practice()
    casey = make.member(practice, Role.CLINICIAN, name="Casey")
    jordan = make.member(practice, Role.CLINICIAN, name="Jordan", npi="1000000004")
    dan = make.client(practice, primary_clinician_id=casey.id, first_name="Daniel", last_name="Reyes")
    other = make.client(practice, primary_clinician_id=jordan.id, first_name="Dana", last_name="Reynolds")
    dans_claim = make.claim(make.bill(dan, casey, status="open"), status="paid", payer_claim_number="PCN-77")
    others_claim = make.claim(make.bill(other, jordan, status="open"))
    return practice, casey, dan, other, dans_claim, others_claim


def test_search_finds_clients_bills_and_claims_by_their_numbers(app, client, make, sign_in):
    practice, casey, dan, other, dans_claim, others_claim = world(make)
    make.policy(dan, member_id="HHP448190R")
    sign_in(make.member(practice, Role.BILLER))
    with app.app_context():
        dans_bill = db.session.get(Claim, dans_claim.id).bill.number

    def found(query: str) -> str:
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert f'href="/clients/{dan.id}"' in found("rey") and f'href="/clients/{other.id}"' in found("rey")
    assert f'href="/clients/{other.id}"' not in found("dan reye")
    assert f'href="/clients/{dan.id}"' in found("hhp448190r")  # a member ID, as typed in lower case
    assert f'href="/bills/{dans_claim.bill_id}"' in found(dans_bill)
    assert f'href="/claims/{dans_claim.id}"' in found(dans_claim.patient_control_number)
    assert f'href="/claims/{dans_claim.id}"' in found("pcn-77")  # the payer's claim number
    assert "Nothing found" in found("zzz")


def test_a_clinician_finds_only_their_own_clients_and_claims(app, client, make, sign_in):
    practice, casey, dan, other, dans_claim, others_claim = world(make)
    sign_in(casey)
    page = client.get("/search?q=rey").get_data(as_text=True)
    assert f'href="/clients/{dan.id}"' in page and f'href="/clients/{other.id}"' not in page
    page = client.get("/search", query_string={"q": others_claim.patient_control_number}).get_data(as_text=True)
    assert f'href="/claims/{others_claim.id}"' not in page and "Nothing found" in page


def test_htmx_gets_only_the_suggestions_and_the_count_for_the_live_region(app, client, make, sign_in):
    practice, casey, dan, *_ = world(make)
    sign_in(make.member(practice, Role.ADMIN))
    response = client.get("/search?q=reyes", headers={"HX-Request": "true", "HX-Target": "search-suggestions"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>" not in html
    assert html.lstrip().startswith('<div id="search-suggestions"') and f'href="/clients/{dan.id}"' in html
    assert 'id="search-status"' in html and "1 found for “reyes”." in html
    everything = client.get("/search?q=reyes").get_data(as_text=True)
    assert "<h1>Search</h1>" in everything and f'href="/clients/{dan.id}"' in everything
