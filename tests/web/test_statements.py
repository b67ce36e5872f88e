"""A client's statement, on screen (the ledger page) and in the PDF (read back with pypdf): one row per service line
with its date, code, description, charge, what insurance paid, the adjustments and the client's share (bill-level
amounts split over the lines pro rata), totals, and what is still owed by age at the foot."""
import io

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Bill, BillLine, Role
from tests.support.days import local_today


@pytest.fixture
def billed(app, client, make, sign_in):
    """A bill for 90834 ($150) and 90785 ($25): insurance paid $100, $35 contractual, the client paid $20."""
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    biller = make.member(practice, Role.BILLER)
    person = make.client(practice, primary_clinician_id=clinician.id, first_name="Robin")
    make.service(practice, "90834", price_cents=15000, description="Psychotherapy, 45 minutes")
    make.service(practice, "90785", price_cents=2500, description="Interactive complexity")
    with app.app_context():
        db.session.get(type(practice), practice.id).bill_on_complete = True
        db.session.commit()
    session = make.session(person, clinician, minutes=45)
    sign_in(clinician)
    assert client.post(f"/sessions/{session.id}/complete", data={
        "minutes": "45", "lines-0-code": "90834", "lines-0-units": "1",
        "lines-1-code": "90785", "lines-1-units": "1"}).status_code == 303
    sign_in(biller)
    with app.app_context():
        bill_id = db.session.scalar(db.select(Bill.id).where(Bill.client_id == person.id))
    assert client.post(f"/bills/{bill_id}/open").status_code == 303
    for source, amount in (("insurance", "100.00"), ("client", "20.00")):
        assert client.post("/payments/new", data={
            "client_id": person.id, "source": source, "method": "check", "received_on": local_today().isoformat(),
            "amount": amount, f"apply-{bill_id}": amount}).status_code == 303
    assert client.post(f"/bills/{bill_id}/adjustments", data={
        "kind": "contractual", "amount": "35.00", "reason": "Payer's allowed amount"}).status_code == 303
    with app.app_context():
        served = db.session.scalar(db.select(BillLine.service_date).where(BillLine.bill_id == bill_id))
    return type("Billed", (), {"id": person.id, "served": served})


#: (code, description, charge, insurance paid, adjustments, client's share); the $100 and $35 split 6:1 by charge.
ROWS = [("90834", "Psychotherapy, 45 minutes", "$150.00", "$85.71", "$29.99", "$34.30"),
        ("90785", "Interactive complexity", "$25.00", "$14.29", "$5.01", "$5.70")]
TOTALS = ("$175.00", "$100.00", "$35.00", "$40.00")


def test_the_ledger_page_shows_the_statement_line_by_line_with_totals_and_aging(client, billed):
    html = client.get(f"/clients/{billed.id}/ledger").get_data(as_text=True)
    services = html[html.index('id="statement-services"'):html.index("</table>", html.index('id="statement-services"'))]
    for code, description, *amounts in ROWS:
        [row] = [row for row in services.split("<tr>") if f"<td>{code}</td>" in row]
        assert billed.served.strftime("%b %-d, %Y") in row and description in row
        assert [cell for cell in amounts if cell in row] == amounts, row
    footer = services[services.index("<tfoot>"):]
    assert all(total in footer for total in TOTALS)
    aging = html[html.index('id="statement-aging"'):]
    aging = aging[:aging.index("</table>")]
    # The client's $40.00 share less the $20.00 they paid, all from a service days ago.
    assert "0–30 days" in aging and "Over 90 days" in aging
    assert aging.count("$20.00") == 2 and aging.count("$0.00") == 3


def test_the_statement_pdf_has_the_same_lines_totals_and_aging(client, billed):
    response = client.get(f"/clients/{billed.id}/statement.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    lines = text.splitlines()
    for code, description, *amounts in ROWS:
        [row] = [line for line in lines if f" {code} " in f" {line} " and description in line]
        assert billed.served.strftime("%b %-d, %Y") in row and " ".join(amounts) in row, row
    assert "Total " + " ".join(TOTALS) in text
    assert "what you owe, by age" in text.lower() and "$20.00 $0.00 $0.00 $0.00 $20.00" in text
