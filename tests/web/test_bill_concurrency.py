"""On PostgreSQL, 20 concurrent payments against one bill from separate connections: totals exact, the
bill turns Complete exactly once, and bill numbers never collide; the reports' summaries stay exact when
concurrent transactions add to the same totals."""

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models import Bill, BillEvent, BillStatus, Client, Practice, Role, TherapySession
from tests.conftest import _reset, make_app
from tests.support.concurrency import run_together
from tests.support.days import local_today
from tests.support.factories import Factory
from tests.support.summaries import assert_summaries_match_a_rebuild

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_app(postgres_server, redis_url, tmp_path):
    app = make_app(postgres_server.create_database("parity_concurrency"), redis_url, str(tmp_path / "instance"),
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 5})
    with app.app_context():
        db.create_all()
    yield app
    _reset(app)


def test_twenty_concurrent_payments_complete_the_bill_exactly_once(pg_app):
    from app.billing import bills

    make = Factory(pg_app)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice)
    bill_id = make.billed_session(client, clinician, make.service(practice, "90837", price_cents=19000)).id

    # 20 × $12.50 = $250.00 against a $190.00 bill: $60.00 must end up as credit, not on the bill.
    def pay(index):
        return bills.record_payment(db.session.get(Client, client.id), 1250, "card", local_today()).id

    results = run_together(pg_app, 20, pay)
    assert all(isinstance(result, int) for result in results), results
    with pg_app.app_context():
        bill = db.session.get(Bill, bill_id)
        totals = bills.totals(bill)
        assert (totals.charges, totals.paid, totals.balance) == (19000, 19000, 0)
        assert bill.status == BillStatus.COMPLETE
        completions = db.session.scalar(db.select(db.func.count(BillEvent.id)).where(
            BillEvent.bill_id == bill_id, BillEvent.kind == "completed"))
        assert completions == 1
        assert bills.client_credit(client.id) == 6000
        assert_summaries_match_a_rebuild(practice.id)


def test_twenty_bills_created_at_once_get_twenty_different_numbers(pg_app):
    from app.billing import bills

    make = Factory(pg_app)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice)
    service = make.service(practice, "90834", price_cents=15000)
    session_ids = []
    for _ in range(20):
        session = make.session(client, clinician, status="completed")
        make.line(session, service)
        session_ids.append(session.id)

    def create(index):
        return bills.create_from_sessions(db.session.get(Practice, practice.id),
                                          [db.session.get(TherapySession, session_ids[index])]).number

    numbers = run_together(pg_app, 20, create)
    assert all(isinstance(number, str) for number in numbers), numbers
    assert sorted(numbers, key=lambda n: int(n.split("-")[1])) == [f"B-{n}" for n in range(1, 21)]


def test_concurrent_payments_on_many_bills_keep_the_report_summaries_exact(pg_app):
    """Twenty clients of one clinician pay their bills for the same service at once: every payment adds to
    the same day's and month's totals from its own transaction; the totals equal a rebuild and the revenue
    report counts every cent."""
    from app.billing import bills, reports
    from app.billing.reports_data import ReportFilter

    make = Factory(pg_app)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    service = make.service(practice, "90834", price_cents=15000)
    client_ids = []
    with pg_app.app_context():
        for _ in range(20):
            client = make.client(practice)
            session = make.session(client, clinician, status="completed")
            make.line(session, service)
            bills.create_from_sessions(db.session.get(Practice, practice.id),
                                       [db.session.get(TherapySession, session.id)], open_now=True)
            db.session.commit()
            client_ids.append(client.id)

    def pay(index):
        return bills.record_payment(db.session.get(Client, client_ids[index]), 10000 + index, "card",
                                    local_today()).id

    results = run_together(pg_app, 20, pay)
    assert all(isinstance(result, int) for result in results), results
    with pg_app.app_context():
        report = reports.revenue(ReportFilter(practice_id=practice.id, start=local_today().replace(day=1),
                                              end=local_today()))
        assert report.totals.client_paid == sum(10000 + index for index in range(20))
        assert {group.key: group.money.client_paid for group in report.by_code} == {"90834": 200190}
        assert_summaries_match_a_rebuild(practice.id)


def test_a_save_does_not_wait_for_another_saves_summaries_in_the_same_practice(pg_app):
    """Bringing the report summaries up to date holds the practice FOR KEY SHARE (against a rebuild), not a lock
    that other saves in the practice queue behind: a second payment, adding to other days' totals, commits while
    the first transaction is still open after its refresh."""
    from app.billing import bills

    make = Factory(pg_app)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    service = make.service(practice, "90834", price_cents=15000)
    long_ago = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=70)
    clients, bill_ids = [], []
    for starts_at in (None, long_ago):  # yesterday and another month: no totals row in common
        client = make.client(practice)
        session = make.session(client, clinician, starts_at, status="completed")
        make.line(session, service)
        with pg_app.app_context():
            bill_ids.append(bills.create_from_sessions(db.session.get(Practice, practice.id),
                                                       [db.session.get(TherapySession, session.id)],
                                                       open_now=True).id)
            db.session.commit()
        clients.append(client.id)
    refreshed, second_committed = threading.Event(), threading.Event()
    first_thread = []

    @event.listens_for(db.session, "before_commit")  # after the summaries' own listener: the refresh is done
    def hold_the_first_open(session):
        if threading.get_ident() in first_thread and not refreshed.is_set():
            refreshed.set()
            second_committed.wait(timeout=15)

    def first():
        first_thread.append(threading.get_ident())
        with pg_app.app_context():
            bills.record_payment(db.session.get(Client, clients[0]), 5000, "card", local_today())
            db.session.commit()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert refreshed.wait(timeout=15)
        started = time.monotonic()
        with pg_app.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            bills.record_payment(db.session.get(Client, clients[1]), 7000, "card", long_ago.date())
            db.session.commit()
        waited = time.monotonic() - started
        second_committed.set()
    finally:
        second_committed.set()
        thread.join(timeout=30)
        event.remove(db.session, "before_commit", hold_the_first_open)
    assert waited < 5
    with pg_app.app_context():
        assert [bills.totals(db.session.get(Bill, bill_id)).paid for bill_id in bill_ids] == [5000, 7000]
        assert_summaries_match_a_rebuild(practice.id)
