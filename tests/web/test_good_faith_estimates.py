"""Good Faith Estimates: issued from the practice's services, read back from the PDF, never changed afterwards,
emailed over real SMTP on loopback, and the watch that tells when a client's bills pass an estimate by $400."""
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from app import jobs
from app.billing import estimates
from app.extensions import db
from app.models import AuditEvent, Bill, GoodFaithEstimate, OutboundEmail, Practice, Role, ServiceCode
from tests.support.days import local_today
from tests.web.test_worker import smtp_server  # noqa: F401  (the real SMTP server on loopback)


@pytest.fixture
def self_pay(make):
    practice = make.practice(legal_name="Harborview Counseling Group, LLC", tax_id="123456789")
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Morgan, LMHC", npi="1234567893",
                            taxonomy="101YM0800X")
    client = make.client(practice, first_name="Alex", last_name="Rivera", date_of_birth=date(1990, 3, 14),
                         primary_clinician_id=clinician.id, email="alex@example.org")
    services = {code: make.service(practice, code, price_cents=price, name=name) for code, price, name in (
        ("90791", 20000, "Intake evaluation"), ("90834", 15000, "Psychotherapy, 45 minutes"))}
    return type("SelfPay", (), {"practice": practice, "clinician": clinician, "client": client,
                                "services": services})


def form_data(self_pay, **changes) -> dict:
    """The estimate form as a person fills it: an intake once, then 24 sessions every two weeks."""
    data = {"clinician": str(self_pay.clinician.id), "start": "2026-12-07", "months": "12", "diagnoses": "F41.1",
            "lines-0-service_id": str(self_pay.services["90791"].id), "lines-0-quantity": "1",
            "lines-0-frequency": "once",
            "lines-1-service_id": str(self_pay.services["90834"].id), "lines-1-quantity": "24",
            "lines-1-frequency": "every_two_weeks"}
    return {**data, **changes}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def the_estimate(app, client_id) -> GoodFaithEstimate:
    with app.app_context():
        estimate = db.session.scalar(db.select(GoodFaithEstimate).where(GoodFaithEstimate.client_id == client_id))
        db.session.expunge(estimate)
        return estimate


def test_an_estimate_is_issued_from_the_services_and_its_pdf_says_what_the_law_asks(app, client, make, sign_in,
                                                                                    self_pay):
    sign_in(make.member(self_pay.practice, Role.BILLER))
    page = client.get(f"/clients/{self_pay.client.id}").get_data(as_text=True)
    assert f'href="/clients/{self_pay.client.id}/good-faith-estimates/new"' in page
    form = client.get(f"/clients/{self_pay.client.id}/good-faith-estimates/new").get_data(as_text=True)
    assert "Intake evaluation" in form and "lines-1-quantity" in form
    response = client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/new", data=form_data(self_pay))
    assert response.status_code == 303
    estimate = the_estimate(app, self_pay.client.id)
    assert estimate.total_cents == 20000 + 24 * 15000
    assert (estimate.period_start, estimate.period_end) == (date(2026, 12, 7), date(2027, 12, 6))
    page = client.get(f"/clients/{self_pay.client.id}").get_data(as_text=True)
    url = f"/clients/{self_pay.client.id}/good-faith-estimates/{estimate.id}.pdf"
    assert f'href="{url}"' in page
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(pdf.data).replace("-\n", "-").split())
    for expected in ("Good Faith Estimate", f"GFE-{estimate.id}", "Alex Rivera", "Mar 14, 1990",
                     "Dec 7, 2026 – Dec 6, 2027", "90791", "Intake evaluation", "Once", "90834", "Every two weeks",
                     "24", "$150.00", "$3,600.00", "$3,800.00", "F41.1", "Casey Morgan, LMHC", "1234567893",
                     "Harborview Counseling Group, LLC", "2000000002", "12-3456789", "Cambridge, MA",
                     "YOUR RIGHT TO A GOOD FAITH ESTIMATE", "only an estimate, not a contract",
                     "$400 or more above this Good Faith Estimate", "patient-provider dispute resolution",
                     "Date issued", "www.cms.gov/nosurprises"):
        assert expected in text, expected
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.object_type == "good_faith_estimates",
                                                                    AuditEvent.object_id == estimate.id)) \
            == "estimate.issued"


def test_an_issued_estimate_never_changes_when_prices_or_the_practice_do(app, client, make, sign_in, self_pay):
    sign_in(make.member(self_pay.practice, Role.ADMIN))
    client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/new", data=form_data(self_pay))
    estimate = the_estimate(app, self_pay.client.id)
    url = f"/clients/{self_pay.client.id}/good-faith-estimates/{estimate.id}.pdf"
    before = client.get(url).data
    with app.app_context():
        db.session.get(ServiceCode, self_pay.services["90834"].id).price_cents = 18000
        db.session.get(Practice, self_pay.practice.id).legal_name = "Renamed Practice"
        db.session.commit()
    after = client.get(url).data
    assert after == before == estimate.pdf
    assert "$150.00" in pdf_text(after) and "Renamed Practice" not in pdf_text(after)
    assert the_estimate(app, self_pay.client.id).total_cents == 380000
    # A new estimate takes the new price.
    client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/new", data=form_data(self_pay))
    with app.app_context():
        totals = db.session.scalars(db.select(GoodFaithEstimate.total_cents).order_by(GoodFaithEstimate.id)).all()
    assert totals == [380000, 20000 + 24 * 18000]


@pytest.mark.parametrize("changes, message", [
    ({"lines-0-quantity": "0", "lines-1-quantity": "0"}, "at least one service"),
    ({"diagnoses": "F43.8"}, "F43.8 is not a billable ICD-10-CM code."),
    ({"months": "13"}, "From 1 to 12 months."),
    ({"lines-1-quantity": "-2"}, "From 0 to 400."),
])
def test_a_wrong_estimate_is_refused_beside_its_field_and_nothing_is_saved(app, client, make, sign_in, self_pay,
                                                                           changes, message):
    sign_in(make.member(self_pay.practice, Role.BILLER))
    response = client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/new",
                           data=form_data(self_pay, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(GoodFaithEstimate.id))) == 0


def test_the_estimate_is_emailed_to_the_billing_contact_over_smtp(app, client, make, sign_in, self_pay,
                                                                  smtp_server):  # noqa: F811
    make.contact(self_pay.client, name="Jordan Rivera", email="jordan@example.org")
    sign_in(make.member(self_pay.practice, Role.BILLER))
    client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/new", data=form_data(self_pay))
    estimate = the_estimate(app, self_pay.client.id)
    response = client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/{estimate.id}/email")
    assert response.status_code == 303
    app.config["SMTP_URL"] = smtp_server.url
    with app.app_context():
        email_id = db.session.scalar(db.select(OutboundEmail.id))
    with app.app_context():
        assert jobs.deliver_email(email_id) == "sent"
    [message] = smtp_server.messages
    assert message["To"] == "jordan@example.org"
    assert f"Good Faith Estimate GFE-{estimate.id}" in message["Subject"]
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "Hello Jordan Rivera" in body and "$3,800.00" in body and "$400 or more" in body
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_filename() == f"good-faith-estimate-{estimate.id}.pdf"
    assert attachment.get_payload(decode=True) == estimate.pdf  # the estimate as issued


def test_without_an_email_address_nothing_is_sent(app, client, make, sign_in, self_pay):
    other = make.client(self_pay.practice, email=None, primary_clinician_id=self_pay.clinician.id)
    estimate = make.estimate(other)
    sign_in(self_pay.clinician)
    response = client.post(f"/clients/{other.id}/good-faith-estimates/{estimate.id}/email", follow_redirects=True)
    assert "has no email address" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboundEmail.id))) == 0


def billed(make, client, cents: int, status: str = "open") -> Bill:
    return make.bill(client, status=status, price_cents=cents)


def test_bills_400_dollars_above_the_estimate_are_flagged_and_399_99_are_not(app, client, make, sign_in, self_pay):
    today = local_today()
    estimate = make.estimate(self_pay.client, total_cents=30000, period_start=today - timedelta(days=30),
                             period_end=today + timedelta(days=300), content={"number": "GFE-W"})
    biller = make.member(self_pay.practice, Role.BILLER)
    sign_in(biller)
    billed(make, self_pay.client, 60000)
    billed(make, self_pay.client, 9999)  # billed $699.99: $399.99 above
    billed(make, self_pay.client, 100000, status="pended")  # not sent to the client: not billed
    billed(make, self_pay.client, 100000, status="void")
    assert f'id="estimate-over-{estimate.id}"' not in client.get(f"/clients/{self_pay.client.id}").get_data(
        as_text=True)
    assert f'id="home-estimate-over-{estimate.id}"' not in client.get("/").get_data(as_text=True)
    billed(make, self_pay.client, 1)  # $700.00: $400.00 above
    page = client.get(f"/clients/{self_pay.client.id}").get_data(as_text=True)
    assert f'id="estimate-over-{estimate.id}"' in page and "$400.00 above Good Faith Estimate GFE-W" in page
    home = client.get("/").get_data(as_text=True)
    assert f'id="home-estimate-over-{estimate.id}"' in home and "$400.00 above estimate GFE-W" in home
    with app.app_context():
        [watch] = estimates.over_estimate(self_pay.practice.id)
        assert (watch.billed_cents, watch.over_cents) == (70000, 40000)
    # A clinician who does not see the client does not see it on their home page either.
    sign_in(make.member(self_pay.practice, Role.CLINICIAN))
    assert "home-estimate-over" not in client.get("/").get_data(as_text=True)
    sign_in(self_pay.clinician)
    assert f'id="home-estimate-over-{estimate.id}"' in client.get("/").get_data(as_text=True)


def test_bills_outside_the_period_do_not_count(app, make, self_pay):
    today = local_today()
    make.estimate(self_pay.client, total_cents=0, period_start=today + timedelta(days=1),
                  period_end=today + timedelta(days=200))
    billed(make, self_pay.client, 90000)  # dated today, before the period
    with app.app_context():
        assert estimates.over_estimate(self_pay.practice.id) == []


def test_who_may_see_an_estimate(app, client, make, sign_in, self_pay):
    estimate = make.estimate(self_pay.client)
    url = f"/clients/{self_pay.client.id}/good-faith-estimates/{estimate.id}.pdf"
    assert client.get(url).status_code == 302  # anonymous: sign in
    sign_in(make.member(self_pay.practice, Role.CLINICIAN))  # not this client's clinician
    assert client.get(url).status_code == 404
    sign_in(self_pay.clinician)
    assert client.get(url).data == b"%PDF-1.7 stored"
    sign_in(make.member(make.practice(), Role.ADMIN))  # another practice
    assert client.get(url).status_code == 404
    assert client.post(f"/clients/{self_pay.client.id}/good-faith-estimates/{estimate.id}/email").status_code == 404


def test_the_period_ends_the_day_before_the_same_date_months_later():
    assert estimates.period_end(date(2026, 12, 3), 12) == date(2027, 12, 2)
    assert estimates.period_end(date(2026, 1, 31), 1) == date(2026, 2, 27)
    assert estimates.period_end(date(2026, 1, 1), 1) == date(2026, 1, 31)
