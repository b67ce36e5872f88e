"""A session's date of service is its day where the practice is, not the UTC day it started: an evening session
in the US starts on the next day in UTC, yet it is billed, claimed, printed and reported on the day it happened."""
import io
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

from app.billing import bills, claims as claim_rules, cms1500, dates, ledger, reports, sessions as session_rules
from app.billing.reports_data import ReportFilter
from app.extensions import db
from app.models import Adjustment, Bill, Claim, InsurancePolicy, Payment, Practice, Role, TherapySession

#: The last day of a month; Eastern and Pacific standard time (UTC-5 and UTC-8) that evening.
DAY = date(2026, 11, 30)
EVENINGS = [("America/New_York", datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc)),  # 7:30 pm
            ("America/Los_Angeles", datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc))]  # 11:30 pm


@pytest.mark.parametrize("zone_name, moment", [*EVENINGS, ("America/New_York",  # 8 pm
                                                           datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc))])
def test_an_evening_session_is_served_on_the_practice_s_day(zone_name, moment):
    assert moment.date() == date(2026, 12, 1)
    assert dates.service_day(moment, zone_name) == DAY
    assert dates.day_starts(DAY, zone_name) <= moment < dates.day_starts(date(2026, 12, 1), zone_name)
    assert dates.service_day(moment, None) == dates.service_day(moment, dates.DEFAULT_ZONE)


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


@pytest.mark.parametrize("zone_name, moment", EVENINGS, ids=["new-york-7-30-pm", "los-angeles-11-30-pm"])
def test_an_evening_session_is_billed_claimed_printed_and_reported_on_its_local_day(
        app, client, make, sign_in, zone_name, moment):
    practice = make.practice(timezone=zone_name)
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Clinician, LMHC")
    biller = make.member(practice, Role.BILLER)
    service = make.service(practice, "90834", price_cents=15000)
    person = make.client(practice, primary_clinician_id=clinician.id, date_of_birth=date(1988, 4, 12),
                         address_line1="1 Elm St", city="Cambridge", state="MA", zip_code="021394307")
    # The policy in force ends that very day; the next one starts on the UTC day the session started.
    ending = make.policy(person, make.payer(practice, name="Harborview Health Plan", clearinghouse_payer_id="HHP01"),
                         end_date=DAY)
    make.policy(person, make.payer(practice, name="Next Plan", clearinghouse_payer_id="NXT01"),
                member_id="NEXT0001", effective_date=date(2026, 12, 1))
    session = make.session(person, clinician, starts_at=moment, minutes=45, status="completed")
    make.line(session, service)
    make.note(session, diagnosis_codes=["F41.1"], signed_diagnoses=[{"code": "F41.1", "description": ""}],
              signed_at=session.ends_at)
    with app.app_context():
        stored = db.session.get(TherapySession, session.id)
        assert session_rules.primary_policy(stored).id == ending.id
        bill = bills.create_from_sessions(db.session.get(Practice, practice.id), [stored], open_now=True)
        db.session.commit()
        bill_id = bill.id
        assert bill.service_date == DAY and [line.service_date for line in bill.lines] == [DAY]
        claim = db.session.scalar(db.select(Claim).where(Claim.bill_id == bill_id))
        assert claim is not None and claim.status == "queued", claim and claim.problems
        assert claim.policy_id == ending.id and claim.service_date == DAY
        assert [line.service_date for line in claim.lines] == [DAY]
        export = claim_rules.write_batches(db.session.get(Practice, practice.id), [claim])
        assert export.files and not export.rejected
        segments = [segment.split("*") for segment in export.files[0].content.split("~") if segment.strip()]
        assert [s[3] for s in segments if s[0].strip() == "DTP" and s[1] == "472"] == ["20261130"]
        sheet = cms1500.sheets(claim, db.session.get(Practice, practice.id), printed_on=date(2026, 12, 3))[0]
        boxes = {(field.line, field.col): field.text for field in sheet.fields}
        assert [boxes[(44, col)] for col in (1, 4, 7, 10, 13, 16)] == ["11", "30", "26"] * 2  # 24A, from and to
        db.session.rollback()
        revenue = reports.revenue(ReportFilter(practice_id=practice.id, start=date(2026, 11, 1), end=date(2026, 12, 31)))
        assert [(month, money.charges) for month, money in revenue.by_month] == [(date(2026, 11, 1), 15000),
                                                                                (date(2026, 12, 1), 0)]
    sign_in(biller)
    superbill = _pdf_text(client.get(f"/bills/{bill_id}/superbill.pdf"))
    assert "11/30/2026" in superbill and "12/01/2026" not in superbill
    printed = _pdf_text(client.get(f"/bills/{bill_id}/bill.pdf"))
    assert "Nov 30, 2026" in printed and "Dec 1, 2026" not in printed
    statement = _pdf_text(client.get(f"/clients/{person.id}/statement.pdf?from=2026-11-30&to=2026-11-30"))
    assert "Nov 30, 2026" in statement and "90834" in statement


def test_a_paid_in_advance_booking_is_billed_on_the_local_day(app, make):
    practice = make.practice(timezone="America/Los_Angeles")
    clinician = make.member(practice, Role.CLINICIAN)
    service = make.service(practice, "90834", price_cents=15000)
    person = make.client(practice, primary_clinician_id=clinician.id)
    starts = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)  # 11:30 pm on Nov 30 in Los Angeles
    with app.app_context():
        session = session_rules.book_session(
            practice.id, session_rules.Booking(client_id=person.id, clinician_id=clinician.id, starts_at=starts,
                                               ends_at=starts.replace(hour=8, minute=15), place_of_service="11",
                                               modality="in_person", booked_service_id=service.id),
            [session_rules.LineInput(code="90834", units=1, modifiers=())])
        db.session.commit()
        bill = db.session.scalar(db.select(Bill).where(Bill.booked_session_id == session.id))
        assert bill.service_date == DAY and [line.service_date for line in bill.lines] == [DAY]
        # Moved to the next evening: the bill, still Open with no claim, follows the session's local day.
        later = starts.replace(day=2)
        session_rules.reschedule(session, session_rules.Booking(
            client_id=person.id, clinician_id=clinician.id, starts_at=later, ends_at=later.replace(hour=8, minute=15),
            place_of_service="11", modality="in_person", booked_service_id=service.id))
        db.session.commit()
        bill = db.session.get(Bill, bill.id)
        assert bill.service_date == date(2026, 12, 1) and [line.service_date for line in bill.lines] == [bill.service_date]


def test_the_ledger_dates_an_evening_s_bill_adjustment_and_reversal_on_the_practice_s_day(app, make):
    practice = make.practice(timezone="America/New_York")
    person = make.client(practice)
    bill = make.bill(person, status="open")
    payment = make.payment(person, amount_cents=4000, received_on=DAY)
    eight_pm, nine_pm = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc), datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    with app.app_context():
        db.session.execute(db.update(Bill).where(Bill.id == bill.id).values(issued_at=eight_pm))
        db.session.add(Adjustment(practice_id=practice.id, bill_id=bill.id, kind="adjustment", amount_cents=1000,
                                  reason="Courtesy", created_at=nine_pm))
        db.session.execute(db.update(Payment).where(Payment.id == payment.id)
                           .values(reversed_at=nine_pm, reversal_reason="Card declined"))
        db.session.commit()
        days = {entry.description.split(":")[0]: entry.day for entry in ledger.entries(person.id)}
        assert days == {f"Bill {bill.number}": DAY, "Payment (card)": DAY, "Adjustment": DAY,
                        "Payment reversed": DAY}, days
        db.session.remove()


def test_the_nightly_eligibility_batch_counts_sessions_by_the_practice_s_days(app, make):
    """The batch looks three days ahead in the practice's days: an evening session on the third day is in it
    (it starts on the fourth day in UTC), one just after midnight on the fourth day is not."""
    from datetime import timedelta

    from app.billing import eligibility

    practice = make.practice(timezone="America/Los_Angeles")
    clinician = make.member(practice, Role.CLINICIAN)
    evening, after_midnight = make.client(practice), make.client(practice)
    today = DAY
    third_evening = datetime(2026, 12, 4, 7, 30, tzinfo=timezone.utc)  # Dec 3, 11:30 pm in Los Angeles
    for person, starts in ((evening, third_evening), (after_midnight, third_evening + timedelta(hours=1))):
        make.policy(person)
        make.session(person, clinician, starts_at=starts, status="scheduled")
    with app.app_context():
        due = eligibility.due_for_nightly(practice.id, today)
        policies = dict(db.session.execute(db.select(InsurancePolicy.id, InsurancePolicy.client_id)
                                           .where(InsurancePolicy.id.in_(due))).all())
    assert sorted(policies.values()) == [evening.id]


# ---------------------------------------------------------------- the migration that corrects stored dates


@pytest.fixture
def empty_database(db_backend, request, tmp_path):
    if db_backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "empty.sqlite3")
    return request.getfixturevalue("postgres_server").create_database("parity_service_dates")


def test_the_migration_corrects_unsent_bills_and_leaves_sent_claims_as_sent(empty_database, redis_url, tmp_path):
    """Bills made before the fix carry the UTC day of an evening session: upgrading moves a Pended bill whose
    claim never left to the local day, claim included, while an Open bill whose claim was sent, and a Complete
    bill, keep the date the payer and the client were given."""
    from sqlalchemy import text

    from app.models import BillLine, ClaimLine
    from tests.conftest import make_app
    from tests.support.factories import Factory

    app = make_app(empty_database, redis_url, str(tmp_path / "instance"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "5c2e8d7a91b4"]).exit_code == 0
    make = Factory(app)
    practice = make.practice(timezone="America/New_York")
    clinician = make.member(practice, Role.CLINICIAN)
    person = make.client(practice)
    utc_day = date(2026, 12, 1)
    moment = EVENINGS[0][1]

    def wrongly_dated(status: str, claim_status: str | None) -> tuple[int, int | None]:
        """A bill of an evening session dated the old way, with a claim in `claim_status` (or none)."""
        session = make.session(person, clinician, starts_at=moment, status="completed")
        bill = make.bill(person, clinician, status=status)
        line = make._first_line(bill)
        with app.app_context():
            db.session.execute(db.update(BillLine).where(BillLine.id == line.id)
                               .values(session_id=session.id, service_date=utc_day))
            db.session.execute(db.update(Bill).where(Bill.id == bill.id).values(service_date=utc_day))
            db.session.commit()
        if claim_status is None:
            return bill.id, None
        claim = make.claim(bill, claim_status)
        with app.app_context():
            db.session.execute(db.update(Claim).where(Claim.id == claim.id).values(service_date=utc_day))
            db.session.commit()
        make.save(ClaimLine(claim_id=claim.id, bill_line_id=line.id, position=1, line_reference=f"{claim.id}-1",
                            service_date=utc_day, code="90834", units=1, charge_cents=15000))
        return bill.id, claim.id

    unsent = wrongly_dated("pended", "queued")
    sent = wrongly_dated("open", "sent")
    complete = wrongly_dated("complete", None)
    with app.app_context():
        db.session.execute(text("UPDATE practices SET reports_built_at = CURRENT_TIMESTAMP"))
        db.session.commit()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        def days(bill_id: int, claim_id: int | None) -> list[date]:
            found = [db.session.get(Bill, bill_id).service_date,
                     *db.session.scalars(db.select(BillLine.service_date).where(BillLine.bill_id == bill_id))]
            if claim_id:
                found += [db.session.get(Claim, claim_id).service_date,
                          *db.session.scalars(db.select(ClaimLine.service_date).where(ClaimLine.claim_id == claim_id))]
            return found

        assert days(*unsent) == [DAY] * 4
        assert days(*sent) == [utc_day] * 4
        assert days(*complete) == [utc_day] * 2
        assert db.session.get(Practice, practice.id).reports_built_at is None
        db.session.remove()
        db.engine.dispose()
