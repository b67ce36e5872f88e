"""Denials know who may be billed: CO amounts (and on a Medicaid claim every amount but PR) are never moved to
the client; PR amounts are. The queue offers only the right actions, the server refuses a forged "Bill the
client", and the queue's and the home page's counts follow each action."""
import json

from sqlalchemy import select

from app.billing import bills
from app.extensions import db
from app.models import Adjustment, AdjustmentKind, Bill, BillStatus, Claim, Payer
from tests.web.test_denials import HTMX, biller, denied, work, world  # noqa: F401  (biller and world: fixtures)


def medicaid(app, world) -> None:
    with app.app_context():
        db.session.get(Payer, world.payer.id).filing_indicator = "MC"
        db.session.commit()


def bill_of(app, claim_id: int):
    with app.app_context():
        bill = db.session.get(Bill, db.session.get(Claim, claim_id).bill_id)
        adjustments = [(a.kind, a.amount_cents) for a in
                       db.session.scalars(select(Adjustment).where(Adjustment.bill_id == bill.id))]
        return bill.status, bills.totals(bill).balance, adjustments, db.session.get(Claim, claim_id).denial_action


def row(client, claim_id: int) -> str:
    html = client.get("/claims/denials").get_data(as_text=True)
    start = html.index(f'<tr id="denial-{claim_id}"')
    return html[start:html.index("</tr>", start)]


def test_a_co_denial_is_never_offered_to_the_client_and_a_forged_post_is_refused(app, client, world, biller):
    claim_id = denied(app, world)  # CO-197 on a commercial plan
    html = row(client, claim_id)
    assert "/denial/bill_client" not in html
    assert "may not be billed for CO-197" in html and "contractual obligation" in html
    assert "/denial/resubmit" in html and "/denial/appeal" in html and "/denial/write_off" in html
    response = work(client, claim_id, "bill_client")
    assert response.status_code == 409
    assert "may not be billed for CO-197" in response.get_data(as_text=True)
    assert bill_of(app, claim_id) == (BillStatus.PENDED, 15000, [], None)


def test_a_medicaid_denial_with_nothing_on_the_client_is_not_the_clients(app, client, world, biller):
    medicaid(app, world)
    claim_id = denied(app, world, denial_group="OA", denial_reason="23")
    html = row(client, claim_id)
    assert "/denial/bill_client" not in html and "Medicaid clients may be billed only their share" in html
    assert work(client, claim_id, "bill_client", htmx=False).status_code == 409
    assert bill_of(app, claim_id) == (BillStatus.PENDED, 15000, [], None)


def test_pr_amounts_go_to_the_client(app, client, world, biller):
    claim_id = denied(app, world, denial_group="PR", denial_reason="96")
    assert "/denial/bill_client" in row(client, claim_id)
    assert work(client, claim_id, "bill_client").status_code == 200
    assert bill_of(app, claim_id) == (BillStatus.OPEN, 15000, [], "billed_client")


def test_on_medicaid_only_the_clients_share_is_billed_and_the_rest_written_off_as_contractual(
        app, client, world, biller):
    medicaid(app, world)
    claim_id = denied(app, world, denial_group="CO", denial_reason="45", denial_split=(("PR", "3", 500),))
    html = row(client, claim_id)
    assert "Bill the client $5.00" in html and "$145.00 (CO-45) is written off as contractual" in html
    response = work(client, claim_id, "bill_client")
    assert response.status_code == 200
    assert bill_of(app, claim_id) == (BillStatus.OPEN, 500, [(AdjustmentKind.CONTRACTUAL, 14500)], "billed_client")
    assert "$145.00 (CO-45) written off as contractual" in response.get_data(as_text=True)
    assert json.loads(response.headers["HX-Trigger"])["toast"]["message"].endswith("the client's to pay: $5.00.")


def test_the_queues_and_home_pages_counts_follow_each_action(app, client, world, biller):
    first, second = denied(app, world), denied(app, world)
    queue = client.get("/claims/denials").get_data(as_text=True)
    assert 'data-count-key="denials-to-work">2<' in queue and 'data-count-key="denials-worked">0<' in queue
    assert 'data-count-key="denials">2<' in client.get("/").get_data(as_text=True)
    response = work(client, first, "appeal", note="Portal appeal #A-77")
    assert json.loads(response.headers["HX-Trigger"])["counts:changed"] == {
        "denials-to-work": 1, "denials-worked": 1, "denials": 1}
    response = work(client, second, "write_off", reason="Small balance")
    assert json.loads(response.headers["HX-Trigger"])["counts:changed"]["denials-to-work"] == 0
    assert 'data-count-key="denials">0<' in client.get("/").get_data(as_text=True)
