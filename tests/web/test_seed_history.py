"""The demo practice's six months of history (app/seed_history.py): sessions every month, claims sent and
settled through the sandbox by the worker's own jobs, remittances and payments dated in the past, open bills
of several ages, balances that add up; the recent weeks still wait for the worker, and it settles them.

One seeding per database backend (it takes seconds), checked section by section."""
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app import jobs, seed
from app.billing import bills, submissions
from app.extensions import db
from app.models import (Bill, BillEvent, BillStatus, Claim, ClaimEvent, ClaimStatus, Client, GoodFaithEstimate, JobProblem, Payment, PaymentSource,
                        PostingOutcome, Remittance, RemittanceClaim, SandboxClaim, Submission, SubmissionStatus,
                        TherapySession, X12File)
from app.seed_history import HISTORY_MONTHS, recent_start
from tests.support.days import local_today

AGING = ((0, 30), (31, 60), (61, 90), (91, 100_000))


def _months_before(today: date, count: int) -> list[tuple[int, int]]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append((year, month))
    return months


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _snapshot(practice_id: int) -> dict:
    return {model.__name__: _count(model, model.practice_id == practice_id)
            for model in (Client, TherapySession, Bill, Claim, Payment, Remittance, Submission, X12File)}


def test_the_demo_has_six_months_of_history_settled_through_the_sandbox(app):
    with app.app_context():
        assert seed.seed_demo() is True
        db.session.commit()
        practice = seed.demo_practice()
        practice_id, zone = practice.id, ZoneInfo(practice.timezone)
        today = local_today()
        _sessions_every_month(practice_id, zone, today)
        _claims_went_through_the_sandbox(practice_id, today)
        _the_recent_weeks_wait_for_the_worker(practice_id, today)
        _bills_add_up_and_age(practice_id, today)
        _every_report_and_chart_shows_the_history(practice_id, today)
        _a_self_pay_client_has_a_good_faith_estimate(practice_id)
        _the_history_is_dated_as_it_happened(practice_id, zone, today)
        before = _snapshot(practice_id)
        assert seed.seed_demo() is False  # seeding again adds nothing
        db.session.commit()
        assert _snapshot(practice_id) == before
    _the_worker_settles_the_recent_claims(app, practice_id)


def _a_self_pay_client_has_a_good_faith_estimate(practice_id):
    [estimate] = db.session.scalars(select(GoodFaithEstimate).where(GoodFaithEstimate.practice_id == practice_id))
    assert estimate.client.first_name == "Sam" and not estimate.client.policies
    assert estimate.pdf.startswith(b"%PDF") and estimate.total_cents == 20000 + 26 * 15000


def _every_report_and_chart_shows_the_history(practice_id, today):
    """What a practice sees on first start: every report of the last year has real numbers and no empty chart."""
    from app.billing import reports
    from app.billing.reports_data import ReportFilter
    from app.blueprints.reports import content

    year = ReportFilter(practice_id=practice_id, start=today - timedelta(days=364), end=today + timedelta(days=1))
    trends, revenue = reports.service_trends(year), reports.revenue(year)
    aging, outcomes = reports.aging(year), reports.claim_outcomes(year)
    assert len({row.month for row in trends.rows}) >= HISTORY_MONTHS
    assert sum(1 for band in trends.bands if sum(band.counts.values())) >= HISTORY_MONTHS
    assert all(value > 0 for value in (revenue.totals.charges, revenue.totals.insurance_paid,
                                       revenue.totals.client_paid))
    assert len(revenue.by_payer) >= 2 and len(revenue.by_code) >= 5
    assert len([group for group in revenue.by_clinician if group.key != reports.UNAPPLIED]) == 2
    assert aging.totals.total > 0 and sum(1 for amount in aging.totals.client if amount) >= 2
    assert any(group.id is None for group in aging.by_payer) and any(group.id for group in aging.by_payer)
    assert aging.by_client and aging.clients_next_after is None
    assert outcomes.submitted >= 20 and outcomes.first_pass_rate and outcomes.median_days_to_payment
    assert any(payer.denied and payer.top_reasons for payer in outcomes.by_payer)
    pages = (content.service_trends(trends), content.revenue(revenue), content.aging(aging),
             content.claim_outcomes(outcomes))
    charts = [chart for page in pages for chart in page.charts.values()]
    assert len(charts) >= 4 and not [chart for chart in charts if "chart--empty" in chart]


def _the_history_is_dated_as_it_happened(practice_id, zone, today):
    """Bill events, payments and ledger entries carry the dates they would have had: no ledger runs negative
    (a payment before its bill), nothing but today's own work is dated today, a bill opened by the biller is
    opened on the day of its visit, and the revenue report puts each bill's charges in its month of service."""
    from app.billing import ledger, reports
    from app.billing.reports_data import ReportFilter

    for client_id in db.session.scalars(select(Client.id).where(Client.practice_id == practice_id)):
        entries = ledger.entries(client_id)
        assert all(entry.balance >= 0 for entry in entries), (client_id, entries)
    issued = db.session.scalars(select(Bill).where(Bill.practice_id == practice_id,
                                                   Bill.issued_at.is_not(None))).all()
    claimed = set(db.session.scalars(select(Claim.bill_id).where(Claim.practice_id == practice_id)))
    for bill in issued:
        events = db.session.scalars(select(BillEvent).where(BillEvent.bill_id == bill.id)).all()
        days = [event.created_at.astimezone(zone).date() for event in events]
        assert all(bill.service_date <= day < today for day in days), (bill.number, bill.service_date, days)
        opened = bill.issued_at.astimezone(zone).date()
        if bill.id not in claimed or bill.service_date >= recent_start(today):
            assert opened == bill.service_date, (bill.number, bill.service_date, opened)  # the visit's evening
        else:  # insured, in the history: opened by the payer's answer
            assert bill.service_date < opened < today, (bill.number, bill.service_date, opened)
    for payment in db.session.scalars(select(Payment).where(Payment.practice_id == practice_id)):
        served = [allocation.bill.service_date for allocation in payment.allocations]
        assert payment.received_on < today and all(day <= payment.received_on for day in served), payment.id
    # The revenue report counts a bill's charges in its month of service, even an insured bill the payer's answer
    # opened a month or more later: each month's charges are those of the Open and Complete bills served in it.
    charged = db.session.scalars(select(Bill).where(Bill.practice_id == practice_id,
                                                    Bill.status.in_((BillStatus.OPEN, BillStatus.COMPLETE)))).all()
    assert charged and all(bill.service_date is not None for bill in charged)
    assert any(bill.issued_at.astimezone(zone).date().replace(day=1) > bill.service_date.replace(day=1)
               for bill in charged)  # some bills are charged in a month before the one they were opened in
    expected = Counter()
    for bill in charged:
        expected[bill.service_date.replace(day=1)] += sum(line.charge_cents for line in bill.lines)
    last = max(today + timedelta(days=1), *(bill.service_date for bill in charged))
    report = reports.revenue(ReportFilter(practice_id=practice_id, start=min(expected), end=last))
    by_month = {month: money.charges for month, money in report.by_month}
    assert {month: cents for month, cents in by_month.items() if cents} == +expected
    assert report.totals.charges == sum(expected.values())


def _sessions_every_month(practice_id, zone, today):
    sessions = db.session.scalars(select(TherapySession).where(TherapySession.practice_id == practice_id)).all()
    completed = Counter((s.starts_at.astimezone(zone).year, s.starts_at.astimezone(zone).month)
                        for s in sessions if s.status == "completed")
    for month in _months_before(today, HISTORY_MONTHS):
        assert completed[month] >= 3, (month, completed)
    codes = Counter(line.code for s in sessions for line in s.lines)
    assert {"90791", "90832", "90834", "90837", "90839", "90840", "90847"} <= set(codes)
    assert codes["90834"] == max(codes[code] for code in ("90832", "90834", "90837"))  # the usual session
    by_clinician = Counter(s.clinician_id for s in sessions if s.status == "completed")
    assert len(by_clinician) == 2 and min(by_clinician.values()) >= 20
    assert len({s.client_id for s in sessions}) >= 12
    assert {"no_show", "cancelled", "scheduled"} <= {s.status for s in sessions}


def _claims_went_through_the_sandbox(practice_id, today):
    statuses = Counter(db.session.scalars(select(Claim.status).where(Claim.practice_id == practice_id)))
    assert statuses[ClaimStatus.PAID] >= 20 and statuses[ClaimStatus.DENIED] >= 3, statuses
    # Every file kind the real loop makes, and every submission accepted and acknowledged.
    kinds = Counter(db.session.scalars(select(X12File.kind).where(X12File.practice_id == practice_id)))
    assert kinds["837P"] >= HISTORY_MONTHS - 1 and kinds["999"] == kinds["837P"]
    assert kinds["277CA"] >= 2 * kinds["837P"] and kinds["835"] >= HISTORY_MONTHS
    sent = db.session.scalars(select(Submission).where(Submission.practice_id == practice_id)).all()
    assert sent and all(s.status == SubmissionStatus.ACCEPTED and s.acknowledged_at for s in sent)
    assert len({s.sent_at.date().replace(day=1) for s in sent}) >= HISTORY_MONTHS - 1  # a batch a month
    # Paid and denied claims carry the remittance that settled them; one uploaded line matches no claim.
    outcomes = Counter(db.session.scalars(select(RemittanceClaim.outcome)
                                          .where(RemittanceClaim.practice_id == practice_id)))
    assert outcomes[PostingOutcome.PAID] == statuses[ClaimStatus.PAID]
    assert outcomes[PostingOutcome.DENIED] == statuses[ClaimStatus.DENIED]
    assert outcomes[PostingOutcome.UNMATCHED] == 1
    # A claim rejected by the payer (mistyped member ID) was corrected, resent and paid.
    rejected = db.session.scalars(select(ClaimEvent.claim_id).join(Claim).where(
        Claim.practice_id == practice_id, ClaimEvent.to_status == ClaimStatus.NEEDS_REVIEW,
        ClaimEvent.source == "clearinghouse")).all()
    assert rejected and all(db.session.get(Claim, claim_id).status == ClaimStatus.PAID for claim_id in rejected)
    # Denials: some worked (appealed, written off), some still waiting in the queue.
    denied = db.session.scalars(select(Claim).where(Claim.practice_id == practice_id,
                                                    Claim.status == ClaimStatus.DENIED)).all()
    assert {"appealed", "written_off"} <= {claim.denial_action for claim in denied}  # MassHealth's CO-197: never the client's
    assert any(claim.denial_action is None for claim in denied)
    # Dated in the past, as they would have happened: remittances spread over the months, each insurance
    # payment received on its 835's payment date, some days to weeks after the service.
    remittances = db.session.scalars(select(Remittance).where(Remittance.practice_id == practice_id)).all()
    assert all(r.paid_on < today for r in remittances)
    assert len({r.paid_on.replace(day=1) for r in remittances}) >= HISTORY_MONTHS - 1
    for line in db.session.scalars(select(RemittanceClaim).where(RemittanceClaim.practice_id == practice_id,
                                                                  RemittanceClaim.claim_id.is_not(None))):
        claim, remittance = db.session.get(Claim, line.claim_id), db.session.get(Remittance, line.remittance_id)
        assert 7 <= (remittance.paid_on - claim.service_date).days <= 90, (claim.service_date, remittance.paid_on)
        if line.payment_id:
            assert db.session.get(Payment, line.payment_id).received_on == remittance.paid_on
    assert db.session.scalar(select(func.max(Payment.received_on)).where(Payment.practice_id == practice_id)) < today
    assert _count(JobProblem, JobProblem.practice_id == practice_id) == 0


def _the_recent_weeks_wait_for_the_worker(practice_id, today):
    recent = recent_start(today)
    queued = db.session.scalars(select(Claim).where(Claim.practice_id == practice_id,
                                                    Claim.status == ClaimStatus.QUEUED)).all()
    assert len(queued) >= 10 and all(claim.service_date >= recent for claim in queued)
    ready = db.session.scalars(submissions.ready_to_send(practice_id)).all()
    assert {claim.id for claim in ready} == {claim.id for claim in queued}  # none in a file on its way
    review = db.session.scalars(select(Claim).where(Claim.practice_id == practice_id,
                                                    Claim.status == ClaimStatus.NEEDS_REVIEW)).all()
    assert review and all(claim.service_date >= recent and claim.problems for claim in review)
    # The sandbox holds nothing unfinished: the worker's first poll only sees what it sends.
    stages = set(db.session.scalars(select(SandboxClaim.stage).where(SandboxClaim.practice_id == practice_id)))
    assert stages == {"remitted"}
    pended = [bill for bill in db.session.scalars(select(Bill).where(Bill.practice_id == practice_id,
                                                                     Bill.status == BillStatus.PENDED))
              if bill.service_date >= recent]
    assert len(pended) >= 3


def _bills_add_up_and_age(practice_id, today):
    buckets = Counter()
    for bill in db.session.scalars(select(Bill).where(Bill.practice_id == practice_id)):
        totals = bills.totals(bill)
        assert totals.balance >= 0, (bill.number, totals)
        if bill.status == BillStatus.COMPLETE:
            assert totals.balance == 0 and totals.charges > 0, (bill.number, totals)
        elif bill.status == BillStatus.OPEN:
            assert totals.balance > 0, (bill.number, totals)
            age = (today - bill.service_date).days
            buckets[next(index for index, (low, high) in enumerate(AGING) if low <= age <= high)] += 1
            assert bill.issued_at is not None and bill.due_date > bill.issued_at.date()
        elif bill.status == BillStatus.VOID:
            assert totals.paid == 0, (bill.number, totals)
    assert buckets[0] and buckets[3] and len(buckets) >= 3, buckets
    # Money received is all applied to bills or left as credit, never more than was received.
    for payment in db.session.scalars(select(Payment).where(Payment.practice_id == practice_id)):
        assert 0 <= bills.unallocated(payment) <= payment.amount_cents
        if payment.source == PaymentSource.INSURANCE:
            assert bills.unallocated(payment) == 0
    credits = [bills.client_credit(client_id) for client_id in
               db.session.scalars(select(Client.id).where(Client.practice_id == practice_id))]
    assert min(credits) >= 0 and max(credits) > 0


def _the_worker_settles_the_recent_claims(app, practice_id):
    """What the worker does on first start (README): send the queued claims; the sandbox settles them."""
    with app.app_context():
        queued = db.session.scalars(select(Claim.id).where(Claim.practice_id == practice_id,
                                                           Claim.status == ClaimStatus.QUEUED)).all()
        assert jobs.submit_claims(practice_id)["sent"] == len(queued)
        for _ in range(3):
            jobs.poll_status(practice_id)
            jobs.fetch_remittances(practice_id)
        after = Counter(db.session.scalar(select(Claim.status).where(Claim.id == claim_id)) for claim_id in queued)
        assert set(after) == {ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.NEEDS_REVIEW}, after
        assert _count(JobProblem, JobProblem.practice_id == practice_id) == 0
