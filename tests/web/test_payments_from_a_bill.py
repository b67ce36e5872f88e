"""Record a payment from a bill's page: the bill's balance is filled in, the bill takes the money first,
the rest follows the client's usual rule (oldest open bills), and what is left is client credit."""
import re

import pytest

from app.billing import bills
from app.extensions import db
from app.models import Allocation, Bill, BillStatus, Role
from tests.support.days import local_today


@pytest.fixture
def world(make, sign_in):
    practice = make.practice()
    biller = make.member(practice, Role.BILLER)
    client = make.client(practice)
    older = make.bill(client, status="open", price_cents=15000)
    newer = make.bill(client, status="open", price_cents=19000)
    sign_in(biller)
    return type("World", (), {"practice": practice, "biller": biller, "client": client, "older": older,
                              "newer": newer})


def applied(app, bill_id):
    with app.app_context():
        return sum(db.session.scalars(db.select(Allocation.amount_cents).where(Allocation.bill_id == bill_id)))


def credit(app, client_id):
    with app.app_context():
        return bills.client_credit(client_id)


def pay(client, world, amount, **extra):
    return client.post("/payments/new", data={
        "client_id": world.client.id, "source": "client", "method": "card", "received_on": local_today().isoformat(),
        "amount": amount, "oldest_first": "y", "bill_id": world.newer.id, **extra})


def test_the_bill_page_links_to_a_payment_for_that_bill(client, world):
    html = client.get(f"/bills/{world.newer.id}").get_data(as_text=True)
    assert f'href="/payments/new?bill={world.newer.id}"' in html


def test_the_form_opens_with_the_bills_balance_and_client_filled_in(client, world):
    html = client.get(f"/payments/new?bill={world.newer.id}").get_data(as_text=True)
    assert re.search(r'name="amount"[^>]*value="190.00"', html)
    assert re.search(rf'<option selected value="{world.client.id}"|<option value="{world.client.id}" selected', html)
    assert re.search(rf'name="bill_id"[^>]*value="{world.newer.id}"', html)
    assert f"Bill {world.newer.number} takes this payment first" in html


def test_the_bill_it_came_from_is_paid_first_even_when_it_is_not_the_oldest(app, client, world):
    response = pay(client, world, "190.00")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/bills/{world.newer.id}")
    assert applied(app, world.newer.id) == 19000 and applied(app, world.older.id) == 0
    with app.app_context():
        assert db.session.get(Bill, world.newer.id).status == BillStatus.COMPLETE
        assert db.session.get(Bill, world.older.id).status == BillStatus.OPEN


def test_what_is_left_follows_the_usual_rule_then_shows_as_credit(app, client, world):
    pay(client, world, "400.00")
    assert applied(app, world.newer.id) == 19000 and applied(app, world.older.id) == 15000
    assert credit(app, world.client.id) == 6000
    assert "$60.00 stays as client credit" in client.get(f"/bills/{world.newer.id}").get_data(as_text=True)


def test_choosing_amounts_per_bill_still_overrides_the_order(app, client, world):
    pay(client, world, "100.00", oldest_first="", **{f"apply-{world.older.id}": "100.00"})
    assert applied(app, world.older.id) == 10000 and applied(app, world.newer.id) == 0


def test_a_bill_that_is_no_longer_open_refuses_the_payment_and_nothing_is_saved(app, client, world, make):
    pended = make.bill(world.client, status="pended")
    world.newer = pended
    response = pay(client, world, "50.00")
    assert response.status_code == 409
    assert applied(app, world.older.id) == 0 and credit(app, world.client.id) == 0


def test_another_practices_bill_is_404(client, world, make):
    other = make.bill(make.client(make.practice()), status="open")
    assert client.get(f"/payments/new?bill={other.id}").status_code == 404
