"""A client two clinicians share: each clinician reaches only the bills (and claims) of their own sessions;
billers and admins reach all. Others' bills answer 404, like another practice's."""
from datetime import date

import pytest

from app.extensions import db
from app.models import Bill, Role
from tests.support.days import local_today


@pytest.fixture
def shared(make):
    """Clinician A's Open bill (with a claim) and clinician B's Pended bill for one client both see."""
    practice = make.practice()
    first, second = make.member(practice, Role.CLINICIAN), make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=first.id)
    service = make.service(practice, "90837", price_cents=19000)
    a_bill = make.billed_session(client, first, service)
    b_bill = make.billed_session(client, second, service, open_now=False)
    claim = make.claim(a_bill, status="needs_review")
    return type("Shared", (), {"practice": practice, "first": first, "second": second, "client": client,
                               "a_bill": (a_bill.id, a_bill.number), "b_bill": (b_bill.id, b_bill.number),
                               "claim": claim})


def a_line_id(app, bill_id):
    with app.app_context():
        return db.session.get(Bill, bill_id).lines[0].id


def test_clinician_b_cannot_reach_clinician_a_bills_of_a_shared_client(app, client, sign_in, shared):
    a_bill_id, a_number = shared.a_bill
    line_id = a_line_id(app, a_bill_id)
    sign_in(shared.second)
    assert client.get(f"/clients/{shared.client.id}").status_code == 200  # the client is B's too
    assert client.get(f"/bills/{a_bill_id}").status_code == 404
    assert client.post(f"/bills/{a_bill_id}/lines/{line_id}", data={f"line-{line_id}-code": "90834",
                       f"line-{line_id}-units": "1", f"line-{line_id}-price": "1"}).status_code == 404
    assert client.post(f"/bills/{a_bill_id}/lines/{line_id}/delete").status_code == 404
    assert client.post(f"/bills/{a_bill_id}/lines", data={"new-line-code": "90834"}).status_code == 404
    assert client.get(f"/bills/{a_bill_id}/bill.pdf").status_code == 404
    assert client.get(f"/bills/{a_bill_id}/superbill.pdf").status_code == 404
    assert client.get(f"/claims/{shared.claim.id}").status_code == 404
    # The account holds A's bill, so the ledger and statement are for billers: 404, and not linked.
    assert client.get(f"/clients/{shared.client.id}/ledger").status_code == 404
    assert client.get(f"/clients/{shared.client.id}/statement.pdf").status_code == 404
    assert "Ledger and statements" not in client.get(f"/clients/{shared.client.id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Bill, a_bill_id).lines[0].price_cents == 19000  # nothing changed


def test_each_clinician_lists_and_counts_only_their_own_bills(client, sign_in, shared):
    a_bill_id, a_number = shared.a_bill
    b_bill_id, b_number = shared.b_bill
    sign_in(shared.second)
    listed = client.get("/bills").get_data(as_text=True)
    assert b_number in listed and a_number not in listed
    csv_text = client.get("/bills?format=csv").get_data(as_text=True)
    assert b_number in csv_text and a_number not in csv_text
    assert client.get(f"/bills/{b_bill_id}").status_code == 200
    sign_in(shared.first)
    listed = client.get("/bills").get_data(as_text=True)
    assert a_number in listed and b_number not in listed
    assert client.get(f"/bills/{a_bill_id}").status_code == 200
    assert client.get(f"/bills/{a_bill_id}/bill.pdf").status_code == 200
    assert client.get(f"/bills/{a_bill_id}/superbill.pdf").status_code == 200
    assert client.get(f"/claims/{shared.claim.id}").status_code == 200
    assert client.get(f"/bills/{b_bill_id}").status_code == 404


def test_overdue_bill_counts_follow_the_same_rule(app, make, shared):
    from app.billing import worklist
    from app.models import Member

    with app.app_context():
        bill = db.session.get(Bill, shared.a_bill[0])
        bill.due_date = date(2020, 1, 1)
        db.session.commit()
        overdue = worklist.overdue_bill(local_today())
        counts = {member.id: worklist._count(Bill, worklist.access.bill_filter(db.session.get(Member, member.id)),
                                             overdue)
                  for member in (shared.first, shared.second)}
    assert counts == {shared.first.id: 1, shared.second.id: 0}


@pytest.mark.parametrize("role", [Role.BILLER, Role.ADMIN])
def test_billers_and_admins_reach_every_bill_and_the_whole_account(client, make, sign_in, shared, role):
    sign_in(make.member(shared.practice, role))
    listed = client.get("/bills").get_data(as_text=True)
    for bill_id, number in (shared.a_bill, shared.b_bill):
        assert number in listed
        assert client.get(f"/bills/{bill_id}").status_code == 200
        assert client.get(f"/bills/{bill_id}/bill.pdf").status_code == 200
    assert client.get(f"/clients/{shared.client.id}/ledger").status_code == 200
    assert client.get(f"/clients/{shared.client.id}/statement.pdf").status_code == 200


def test_a_clinician_sees_the_account_while_every_bill_on_it_is_theirs(make, client, sign_in):
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    own_client = make.client(practice, primary_clinician_id=clinician.id)
    make.bill(own_client, clinician)
    sign_in(clinician)
    assert client.get(f"/clients/{own_client.id}/ledger").status_code == 200
    assert "Ledger and statements" in client.get(f"/clients/{own_client.id}").get_data(as_text=True)
