"""The payments page: filters by date received, method and client, the CSV of the filtered list, and each
payment's own page, where (and only where) it is reversed, with a reason."""
import csv
import io
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Payment, Role
from tests.support.days import local_today


@pytest.fixture
def payments(make, sign_in):
    practice = make.practice()
    ada = make.client(practice, first_name="Ada", last_name="Lovelace")
    bo = make.client(practice, first_name="Bo", last_name="Diddley")
    today = local_today()
    rows = {
        "ada_card_old": make.payment(ada, 1000, method="card", received_on=today - timedelta(days=40)),
        "ada_check": make.payment(ada, 2000, method="check", received_on=today - timedelta(days=3), reference="1042"),
        "bo_cash": make.payment(bo, 3000, method="cash", received_on=today),
    }
    other = make.client(make.practice(), first_name="Not", last_name="Ours")
    make.payment(other, 9900, method="check")
    sign_in(make.member(practice, Role.BILLER))
    return type("Payments", (), {"ada": ada, "bo": bo, "today": today, **rows})


def listed(html: str, payments, *names) -> bool:
    return all(f'id="payment-{getattr(payments, name).id}"' in html for name in names)


def test_the_payments_page_filters_by_date_method_and_client(client, payments):
    everything = client.get("/payments").get_data(as_text=True)
    assert listed(everything, payments, "ada_card_old", "ada_check", "bo_cash") and "99.00" not in everything
    since = (payments.today - timedelta(days=7)).isoformat()
    recent = client.get(f"/payments?date_from={since}").get_data(as_text=True)
    assert listed(recent, payments, "ada_check", "bo_cash") and not listed(recent, payments, "ada_card_old")
    checks = client.get("/payments?method=check").get_data(as_text=True)
    assert listed(checks, payments, "ada_check") and not listed(checks, payments, "bo_cash")
    ada = client.get(f"/payments?client={payments.ada.id}&date_to={since}").get_data(as_text=True)
    assert listed(ada, payments, "ada_card_old") and not listed(ada, payments, "ada_check", "bo_cash")
    none = client.get("/payments?method=ach").get_data(as_text=True)
    assert "No payments match these filters." in none


def test_a_bad_date_is_answered_beside_its_field_with_422(client, payments):
    response = client.get("/payments?date_from=yesterday")
    assert response.status_code == 422
    assert 'id="date_from-error"' in response.get_data(as_text=True)


def test_the_csv_holds_the_filtered_payments_with_amounts_as_numbers(client, payments):
    response = client.get(f"/payments?client={payments.ada.id}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["client"], row["method"], row["amount"], row["reference"]) for row in rows] == [
        ("Ada Lovelace", "check", "20.00", "1042"), ("Ada Lovelace", "card", "10.00", "")]


def test_rows_link_to_the_payment_page_which_alone_reverses_it(client, payments):
    listing = client.get("/payments").get_data(as_text=True)
    assert f'href="/payments/{payments.ada_check.id}"' in listing
    assert "/reverse" not in listing and "Reverse" not in listing
    page = client.get(f"/payments/{payments.ada_check.id}").get_data(as_text=True)
    assert "Payment of $20.00" in page and "1042" in page
    assert f'action="/payments/{payments.ada_check.id}/reverse"' in page and "hx-confirm=" in page


def test_reversing_without_a_reason_is_422_beside_the_field_and_changes_nothing(app, client, payments):
    response = client.post(f"/payments/{payments.bo_cash.id}/reverse", data={"reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Payment, payments.bo_cash.id).reversed_at is None
    response = client.post(f"/payments/{payments.bo_cash.id}/reverse", data={"reason": "Counterfeit bill"})
    assert response.status_code == 303 and response.headers["Location"] == f"/payments/{payments.bo_cash.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Counterfeit bill" in page and "Reverse this payment" not in page


def test_a_payment_for_another_practices_client_is_422_and_lists_our_clients_again(app, client, payments):
    with app.app_context():
        theirs = db.session.scalar(db.select(Payment.client_id).where(Payment.amount_cents == 9900))
        before = db.session.scalar(db.select(db.func.count(Payment.id)))
    answer = client.post("/payments/new", data={
        "client_id": theirs, "source": "client", "method": "card", "received_on": payments.today.isoformat(),
        "amount": "10.00", "oldest_first": "y"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Not a valid choice" in page
    assert "Lovelace, Ada" in page and "Diddley, Bo" in page and "Ours, Not" not in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Payment.id))) == before
