"""Bills: created from completed sessions, opened, edited while Pended or Open (409 after), paid in
parts with credit, voided, and listed with filters and CSV."""
import csv
import io

import pytest

from app.billing import dates
from app.extensions import db
from app.models import AuditEvent, Bill, BillStatus, Client, Practice, Role, TherapySession
from tests.support.days import local_today


@pytest.fixture
def world(make, app):
    practice = make.practice()
    with app.app_context():
        row = db.session.get(Practice, practice.id)
        row.bill_on_complete = True
        db.session.commit()
    clinician = make.member(practice, Role.CLINICIAN)
    biller = make.member(practice, Role.BILLER)
    client = make.client(practice, primary_clinician_id=clinician.id)
    services = {code: make.service(practice, code, price_cents=price, name=f"Psychotherapy {code}",
                                   description=f"{code} described") for code, price in
                (("90834", 15000), ("90837", 19000), ("90791", 20000))}
    return type("World", (), {"practice": practice, "clinician": clinician, "biller": biller, "client": client,
                              "services": services})


def complete_session(client, session, code="90834", minutes=45, lower_code_reason=""):
    return client.post(f"/sessions/{session.id}/complete", data={"minutes": str(minutes), "lines-0-code": code,
                                                                 "lines-0-units": "1",
                                                                 "lower_code_reason": lower_code_reason})


def the_bill(app, **where):
    with app.app_context():
        bill = db.session.scalar(db.select(Bill).filter_by(**where).order_by(Bill.id.desc()))
        if bill is None:
            return None
        from app.billing import bills

        totals = bills.totals(bill)
        lines = [(line.code, line.description, line.price_cents) for line in bill.lines]
        db.session.expunge(bill)
        bill.test_totals, bill.test_lines = totals, lines
        return bill


def test_completing_a_session_creates_a_pended_bill_with_its_lines(app, client, make, sign_in, world):
    session = make.session(world.client, world.clinician, minutes=45)
    sign_in(world.clinician)
    assert complete_session(client, session).status_code == 303
    bill = the_bill(app, client_id=world.client.id)
    assert bill.status == BillStatus.PENDED and bill.number.startswith("B-")
    assert bill.test_lines == [("90834", "90834 described", 15000)]
    assert bill.test_totals.balance == 15000


def test_bill_numbers_are_sequential_per_practice(app, client, make, sign_in, world):
    sign_in(world.clinician)
    for _ in range(3):
        complete_session(client, make.session(world.client, world.clinician, minutes=45))
    with app.app_context():
        numbers = db.session.scalars(db.select(Bill.number).order_by(Bill.id)).all()
    assert numbers == ["B-1", "B-2", "B-3"]


def pended_bill(app, client, make, sign_in, world, minutes=45):
    """A Pended bill for 90834; at more than 52 minutes, a lower code the clinician gave a reason for."""
    session = make.session(world.client, world.clinician, minutes=minutes)
    sign_in(world.clinician)
    complete_session(client, session, minutes=minutes,
                     lower_code_reason="Payer authorized 45 minutes" if minutes > 52 else "")
    return the_bill(app, client_id=world.client.id)


def test_editing_a_line_through_htmx_returns_the_row_and_new_totals(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world, minutes=53)
    line_id = db_line_id(app, bill.id)
    response = client.post(f"/bills/{bill.id}/lines/{line_id}", data={f"line-{line_id}-code": "90837",
                                                                      f"line-{line_id}-units": "1"},
                           headers={"HX-Request": "true", "HX-Target": f"bill-line-{line_id}"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="bill-line-{line_id}"') and 'hx-swap-oob="true"' in html
    assert 'id="bill-balance">$190.00<' in html
    assert the_bill(app, id=bill.id).test_lines == [("90837", "90837 described", 19000)]


def db_line_id(app, bill_id):
    with app.app_context():
        return db.session.get(Bill, bill_id).lines[0].id


def test_an_unknown_code_on_a_line_is_422_beside_the_code(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    line_id = db_line_id(app, bill.id)
    response = client.post(f"/bills/{bill.id}/lines/{line_id}", data={f"line-{line_id}-code": "99999",
                                                                      f"line-{line_id}-units": "1"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert f'id="line-{line_id}-code-error"' in response.get_data(as_text=True)
    assert the_bill(app, id=bill.id).test_lines[0][0] == "90834"


def test_complete_and_void_bills_refuse_edits_with_409(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    line_id = db_line_id(app, bill.id)
    sign_in(world.biller)
    assert client.post(f"/bills/{bill.id}/open").status_code == 303
    client.post("/payments/new", data={"client_id": world.client.id, "source": "client", "method": "card",
                                       "received_on": local_today().isoformat(), "amount": "150", "oldest_first": "y"})
    assert the_bill(app, id=bill.id).status == BillStatus.COMPLETE
    edit = {f"line-{line_id}-code": "90837", f"line-{line_id}-units": "1"}
    response = client.post(f"/bills/{bill.id}/lines/{line_id}", data=edit)
    assert response.status_code == 409 and "can no longer be edited" in response.get_data(as_text=True)
    other = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    assert client.post(f"/bills/{other.id}/void", data={"reason": "Duplicate"}).status_code == 303
    other_line = db_line_id(app, other.id)
    assert client.post(f"/bills/{other.id}/lines/{other_line}", data={
        f"line-{other_line}-code": "90837", f"line-{other_line}-units": "1"}).status_code == 409


def test_a_code_the_sessions_minutes_do_not_support_is_refused_on_the_bill_as_on_the_session(
        app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    line_id = db_line_id(app, bill.id)
    response = client.post(f"/bills/{bill.id}/lines/{line_id}", data={f"line-{line_id}-code": "90837",
                                                                      f"line-{line_id}-units": "1"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "45 minutes is 90834, not 90837" in html and f'id="line-{line_id}-code-error"' in html
    assert the_bill(app, id=bill.id).test_lines[0][0] == "90834"


def test_editing_an_open_bill_is_audited(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world, minutes=53)
    line_id = db_line_id(app, bill.id)
    client.post(f"/bills/{bill.id}/open")
    client.post(f"/bills/{bill.id}/lines/{line_id}", data={f"line-{line_id}-code": "90837",
                                                          f"line-{line_id}-units": "1"})
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "bill.line_changed"))
    assert event.details["before"][0] == "90834" and event.details["after"][0] == "90837"


def test_opening_copies_the_identity_the_bill_prints(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    client.post(f"/bills/{bill.id}/open")
    with app.app_context():
        db.session.get(Client, world.client.id).last_name = "Renamed"
        db.session.get(Practice, world.practice.id).legal_name = "New Name LLC"
        db.session.commit()
    identity = the_bill(app, id=bill.id).issued_identity
    assert identity["client"]["name"].endswith(world.client.last_name)
    assert identity["practice"]["legal_name"] == world.practice.legal_name


def test_partial_payment_then_overpayment_becomes_credit_used_on_a_later_bill(app, client, make, sign_in, world):
    first = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{first.id}/open")
    pay = {"client_id": world.client.id, "source": "client", "method": "check", "oldest_first": "y",
           "received_on": local_today().isoformat()}
    client.post("/payments/new", data={**pay, "amount": "100.00", "reference": "1001"})
    assert the_bill(app, id=first.id).test_totals.balance == 5000
    client.post("/payments/new", data={**pay, "amount": "80.00", "reference": "1002"})
    assert the_bill(app, id=first.id).status == BillStatus.COMPLETE
    ledger_page = client.get(f"/clients/{world.client.id}/ledger").get_data(as_text=True)
    assert 'id="client-credit">$30.00<' in ledger_page
    second = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{second.id}/open")
    client.post(f"/bills/{second.id}/apply-credit")
    assert the_bill(app, id=second.id).test_totals.balance == 12000


def test_a_payment_in_the_future_or_of_zero_is_422_and_nothing_is_saved(app, client, make, sign_in, world):
    sign_in(world.biller)
    base = {"client_id": world.client.id, "source": "client", "method": "card", "oldest_first": "y",
            "received_on": local_today().isoformat(), "amount": "10"}
    for changes, field in (({"amount": "0"}, "amount"), ({"received_on": "2099-01-01"}, "received_on"),
                           ({"amount": "ten"}, "amount")):
        response = client.post("/payments/new", data={**base, **changes})
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        from app.models import Payment

        assert db.session.scalar(db.select(db.func.count(Payment.id))) == 0


def test_reversing_a_payment_reopens_a_complete_bill(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{bill.id}/open")
    client.post("/payments/new", data={"client_id": world.client.id, "source": "client", "method": "check",
                                       "received_on": local_today().isoformat(), "amount": "150", "oldest_first": "y"})
    assert the_bill(app, id=bill.id).status == BillStatus.COMPLETE
    with app.app_context():
        from app.models import Payment

        payment_id = db.session.scalar(db.select(Payment.id))
    assert client.post(f"/payments/{payment_id}/reverse", data={"reason": "Check returned"}).status_code == 303
    assert the_bill(app, id=bill.id).status == BillStatus.OPEN


def test_write_off_with_a_reason_completes_the_bill(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{bill.id}/open")
    too_much = client.post(f"/bills/{bill.id}/adjustments", data={"kind": "write_off", "amount": "151",
                                                                  "reason": "Hardship"})
    assert too_much.status_code == 422 and 'id="amount-error"' in too_much.get_data(as_text=True)
    assert client.post(f"/bills/{bill.id}/adjustments", data={"kind": "write_off", "amount": "150",
                                                              "reason": "Hardship"}).status_code == 303
    assert the_bill(app, id=bill.id).status == BillStatus.COMPLETE


def test_charges_cannot_be_lowered_below_what_is_written_off(app, client, make, sign_in, world):
    """A write-off has nowhere to go when charges drop under it: the edit is refused beside the price, with the
    way forward, and nothing changes."""
    bill = pended_bill(app, client, make, sign_in, world)
    line_id = db_line_id(app, bill.id)
    sign_in(world.biller)
    client.post(f"/bills/{bill.id}/open")
    client.post(f"/bills/{bill.id}/adjustments", data={"kind": "write_off", "amount": "50", "reason": "Hardship"})
    response = client.post(f"/bills/{bill.id}/lines/{line_id}", data={
        f"line-{line_id}-code": "90834", f"line-{line_id}-units": "1", f"line-{line_id}-price": "49.99"},
        headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="line-{line_id}-price-error"' in html and "$50.00 is written off" in html and "Void the bill" in html
    after = the_bill(app, id=bill.id)
    assert after.test_lines[0][2] == 15000 and after.test_totals.balance == 10000
    assert client.post(f"/bills/{bill.id}/lines/{line_id}", data={
        f"line-{line_id}-code": "90834", f"line-{line_id}-units": "1", f"line-{line_id}-price": "50.00"},
        headers={"HX-Request": "true"}).status_code == 200
    done = the_bill(app, id=bill.id)
    assert (done.test_lines[0][2], done.test_totals.balance, done.status) == (5000, 0, BillStatus.COMPLETE)


def test_voiding_an_open_bill_keeps_it_and_returns_payments_to_credit(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{bill.id}/open")
    client.post("/payments/new", data={"client_id": world.client.id, "source": "client", "method": "card",
                                       "received_on": local_today().isoformat(), "amount": "50", "oldest_first": "y"})
    assert client.post(f"/bills/{bill.id}/void", data={"reason": ""}).status_code == 422
    assert client.post(f"/bills/{bill.id}/void", data={"reason": "Billed the wrong client"}).status_code == 303
    voided = the_bill(app, id=bill.id)
    assert voided.status == BillStatus.VOID and voided.void_reason == "Billed the wrong client"
    assert voided.test_totals.paid == 0
    from app.billing import bills

    with app.app_context():
        assert bills.client_credit(world.client.id) == 5000


def test_sending_queues_the_email_after_commit(app, client, make, sign_in, world):
    from app.jobs import queue

    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    assert client.post(f"/bills/{bill.id}/send").status_code == 409  # a Pended bill is not visible to the client
    with app.app_context():
        assert queue().count == 0
    client.post(f"/bills/{bill.id}/open")
    assert client.post(f"/bills/{bill.id}/send").status_code == 303
    with app.app_context():
        assert queue().count == 1
        assert the_bill(app, id=bill.id).last_sent_at is not None


def test_bills_list_filters_by_status_and_exports_the_same_rows_as_csv(app, client, make, sign_in, world):
    first = pended_bill(app, client, make, sign_in, world)
    pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{first.id}/open")
    page = client.get("/bills?status=Open").get_data(as_text=True)
    assert first.number in page and "B-2" not in page
    rows = list(csv.reader(io.StringIO(client.get("/bills?status=Open&format=csv").get_data(as_text=True))))
    assert rows[0][:3] == ["number", "status", "client"] and [row[0] for row in rows[1:]] == [first.number]
    assert rows[1][-1] == "150.00"


def test_bills_csv_defuses_formulas_and_keeps_amounts_numbers(app, client, make, sign_in, world):
    risky = make.client(world.practice, first_name='=HYPERLINK("http://x","y")', last_name="Doe")
    make.bill(risky, make.member(world.practice, Role.CLINICIAN, name="@Casey Clinician"), status="open")
    sign_in(world.biller)
    rows = list(csv.reader(io.StringIO(client.get("/bills?format=csv").get_data(as_text=True))))
    assert rows[0] == ["number", "status", "client", "clinician", "service_date", "charges", "paid", "adjustments",
                       "balance"]
    assert rows[1][2:4] == ["'=HYPERLINK(\"http://x\",\"y\") Doe", "'@Casey Clinician"]
    assert rows[1][5:] == ["150.00", "0.00", "0.00", "150.00"]


def test_ledger_csv_keeps_a_credit_balance_a_negative_number(app, client, make, sign_in, world):
    sign_in(world.biller)
    client.post("/payments/new", data={"client_id": world.client.id, "source": "client", "method": "cash",
                                       "received_on": local_today().isoformat(), "amount": "40",
                                       "reference": "-1+2"})
    response = client.get(f"/clients/{world.client.id}/ledger?format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ledger-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [["date", "description", "charge", "credit", "balance"],
                    [local_today().isoformat(), "Payment (cash), ref -1+2", "", "40.00", "-40.00"]]


def test_ledger_csv_has_a_running_balance(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    client.post(f"/bills/{bill.id}/open")
    client.post("/payments/new", data={"client_id": world.client.id, "source": "client", "method": "cash",
                                       "received_on": local_today().isoformat(), "amount": "40", "oldest_first": "y"})
    rows = list(csv.reader(io.StringIO(client.get(f"/clients/{world.client.id}/ledger?format=csv")
                                       .get_data(as_text=True))))
    assert [row[-1] for row in rows[1:]] == ["150.00", "110.00"]


def test_clinicians_only_reach_their_own_clients_bills(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(make.member(world.practice, Role.CLINICIAN))
    assert client.get(f"/bills/{bill.id}").status_code == 404
    assert bill.number not in client.get("/bills").get_data(as_text=True)


def test_paid_in_advance_booking_opens_a_bill(app, client, make, sign_in, world):
    make.service(world.practice, "96130", price_cents=30000, requires_advance_payment=True)
    sign_in(world.clinician)
    response = client.post("/sessions/new", data={
        "client_id": world.client.id, "clinician_id": world.clinician.id, "day": "2026-12-02",
        "start_time": "09:00", "end_time": "10:00", "modality": "in_person", "place_of_service": "11",
        "service": "96130", "confirm": "1", "lines-0-code": "96130", "lines-0-units": "1", "lines-0-price": "300"})
    assert response.status_code == 303
    bill = the_bill(app, client_id=world.client.id)
    assert bill.status == BillStatus.OPEN and bill.booked_session_id is not None
    assert bill.test_totals.balance == 30000


def test_sessions_already_billed_are_not_billed_twice(app, client, make, sign_in, world):
    bill = pended_bill(app, client, make, sign_in, world)
    sign_in(world.biller)
    page = client.get(f"/bills/new?client={world.client.id}").get_data(as_text=True)
    assert "Every completed session of this client is billed" in page
    assert bill.number


def test_pdfs_read_back_with_what_they_must_contain(app, client, make, sign_in, world):
    import io as io_module

    from pypdf import PdfReader

    bill = pended_bill(app, client, make, sign_in, world)
    with app.app_context():
        from app.models import SessionNote

        note = db.session.scalar(db.select(SessionNote)) or None
        if note is None:
            session_id = db.session.get(Bill, bill.id).lines[0].session_id
            make.note(db.session.get(TherapySession, session_id),
                      signed_diagnoses=[{"code": "F41.1", "description": "Generalized anxiety disorder"}])
    sign_in(world.biller)
    pended = client.get(f"/bills/{bill.id}/superbill.pdf")
    assert pended.status_code == 409 and "open the bill first" in pended.get_data(as_text=True)
    client.post(f"/bills/{bill.id}/open")

    def text(url):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
        return "\n".join(page.extract_text() for page in PdfReader(io_module.BytesIO(response.data)).pages)

    superbill = text(f"/bills/{bill.id}/superbill.pdf")
    for expected in (world.practice.legal_name, "2000000002", "12-3456789", "261QM0801X", world.clinician.npi,
                     world.client.last_name, "Apr 12, 1988", "90834", "F41.1", "$150.00", "Signature"):
        assert expected in superbill, expected
    bill_text = text(f"/bills/{bill.id}/bill.pdf")
    assert bill.number in bill_text and "$150.00" in bill_text
    statement = text(f"/clients/{world.client.id}/statement.pdf?from=2020-01-01&to=2099-12-31")
    assert f"Bill {bill.number}" in statement and "$150.00" in statement


def test_billing_settings_are_saved_audited_and_drive_the_automation(app, client, make, sign_in, world):
    admin = make.member(world.practice, Role.ADMIN)
    sign_in(admin)
    response = client.post("/settings/billing", data={"bill_on_complete": "y", "open_bills_automatically": "y",
                                                      "bill_prefix": "INV-", "payment_terms_days": "15",
                                                      "remit_to": "PO Box 1\nBoston, MA 02101", "bill_message": "Thanks"})
    assert response.status_code == 303
    assert client.post("/settings/billing", data={"payment_terms_days": "-1"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent.details).where(
            AuditEvent.action == "practice.billing_settings_changed"))["bill_prefix"] == ["B-", "INV-"]
    session = make.session(world.client, world.clinician, minutes=45)
    sign_in(world.clinician)
    complete_session(client, session)
    bill = the_bill(app, client_id=world.client.id)
    assert bill.number == "INV-1" and bill.status == BillStatus.OPEN
    assert bill.issued_identity["remit_to"] == ["PO Box 1", "Boston, MA 02101"]
    assert (bill.due_date - dates.local_day(bill.issued_at, None)).days == 15
