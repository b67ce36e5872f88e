"""The reports' summaries (app/billing/summaries.py): a bill's charges fall on its date of service (the issue day
only without one), days follow the practice's time zone when it changes, a practice that existed before the
summaries gets them when its reports are first opened, and a bill's facts follow its edits. The random-practice
reconciliation (tests/web/test_reports_reconcile.py) and the concurrent payments (tests/web/test_bill_concurrency.py)
compare them with a rebuild too."""
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import delete, event, update
from sqlalchemy.orm import Session

from app import accounts, jobs
from app.billing import bills, reports, summaries
from app.billing.reports_data import ReportFilter
from app.extensions import db
from app.models import Bill, BillLine, Practice, Receivable, ReportFact, ReportTotal, Role, TherapySession
from tests.support.summaries import assert_summaries_match_a_rebuild, summaries_of

#: 03:30 UTC on March 10: still March 9 in New York, already March 10 in Tokyo.
ISSUED = datetime(2026, 3, 10, 3, 30, tzinfo=timezone.utc)
#: 14:00 UTC on March 9: March 9 in New York, Los Angeles and Tokyo alike.
SERVED = datetime(2026, 3, 9, 14, 0, tzinfo=timezone.utc)


def _open_bill(make, practice, price_cents=15000, *, code="90834", served=SERVED, issued=ISSUED, dated=True) -> int:
    """An Open bill for one session at `served`, issued at `issued`; without a date of service unless `dated`."""
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice)
    service = make.service(practice, code, price_cents=price_cents)
    session = make.session(client, clinician, starts_at=served, status="completed")
    make.line(session, service)
    bill = bills.create_from_sessions(db.session.get(Practice, practice.id),
                                      [db.session.get(TherapySession, session.id)], open_now=True)
    bill.issued_at = issued
    if not dated:
        bill.service_date = None
    db.session.commit()
    return bill.id


def _charges_on(practice_id: int, day: date) -> int:
    return reports.revenue(ReportFilter(practice_id=practice_id, start=day, end=day)).totals.charges


def _charges_in(practice_id: int, first: date, last: date) -> int:
    return reports.revenue(ReportFilter(practice_id=practice_id, start=first, end=last)).totals.charges


def test_a_bills_charges_fall_on_its_date_of_service_not_the_day_it_was_issued(app, make):
    practice = make.practice(timezone="Asia/Tokyo")
    with app.app_context():
        # Served on March 9, issued at 03:30 UTC on March 10 (12:30 on March 10 in Tokyo): counts on March 9.
        _open_bill(make, practice)
        assert (_charges_on(practice.id, date(2026, 3, 9)), _charges_on(practice.id, date(2026, 3, 10))) == (15000, 0)
        # Served on March 31 and held Pended until the payer answered on April 2: March's charge, not April's.
        bill_id = _open_bill(make, practice, 12000, code="90837",
                             served=datetime(2026, 3, 31, 5, 0, tzinfo=timezone.utc),
                             issued=datetime(2026, 4, 2, 1, 0, tzinfo=timezone.utc))
        assert db.session.get(Bill, bill_id).service_date == date(2026, 3, 31)
        assert _charges_in(practice.id, date(2026, 3, 1), date(2026, 3, 31)) == 27000
        assert _charges_in(practice.id, date(2026, 4, 1), date(2026, 4, 30)) == 0
        by_month = reports.revenue(ReportFilter(practice_id=practice.id, start=date(2026, 3, 1),
                                                end=date(2026, 4, 30))).by_month
        assert {month: money.charges for month, money in by_month if money.charges} == {date(2026, 3, 1): 27000}
        # A bill's date of service that changes moves its charges with it.
        db.session.get(Bill, bill_id).service_date = date(2026, 4, 1)
        db.session.commit()
        assert _charges_in(practice.id, date(2026, 3, 1), date(2026, 3, 31)) == 15000
        assert _charges_in(practice.id, date(2026, 4, 1), date(2026, 4, 30)) == 12000
        assert_summaries_match_a_rebuild(practice.id)


def test_a_bill_without_a_date_of_service_charges_on_the_day_it_was_issued(app, make):
    practice = make.practice(timezone="Asia/Tokyo")
    with app.app_context():
        _open_bill(make, practice, dated=False)  # issued 12:30 on March 10 in Tokyo
        assert (_charges_on(practice.id, date(2026, 3, 9)), _charges_on(practice.id, date(2026, 3, 10))) == (0, 15000)
        assert_summaries_match_a_rebuild(practice.id)


def test_a_time_zone_change_moves_entries_to_the_practices_new_days(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        # A date of service is the practice's day already and stays; the issue day of a bill without one moves.
        _open_bill(make, practice)
        _open_bill(make, practice, 12000, code="90837", dated=False)
        assert (_charges_on(practice.id, date(2026, 3, 9)), _charges_on(practice.id, date(2026, 3, 10))) == (27000, 0)
        record = db.session.get(Practice, practice.id)
        identity = {field: getattr(record, field) for field in accounts.IDENTITY_FIELDS}
        accounts.update_practice_identity(record, identity | {"timezone": "Asia/Tokyo"})
        db.session.commit()
        assert db.session.get(Practice, practice.id).reports_built_at is None
        assert f"report-summaries-{practice.id}" in jobs.queue().job_ids  # the worker rebuilds them …
        # … unless a report page comes first; then the job has nothing left to do.
        assert (_charges_on(practice.id, date(2026, 3, 9)),
                _charges_on(practice.id, date(2026, 3, 10))) == (15000, 12000)
        db.session.commit()
        assert jobs.rebuild_report_summaries(practice.id) == "already built"
        assert_summaries_match_a_rebuild(practice.id)


def test_the_rebuild_job_rebuilds_a_practice_whose_time_zone_changed(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        _open_bill(make, practice, dated=False)  # charges on the issue day: 23:30 on March 9 in New York
        record = db.session.get(Practice, practice.id)
        identity = {field: getattr(record, field) for field in accounts.IDENTITY_FIELDS}
        accounts.update_practice_identity(record, identity | {"timezone": "America/Los_Angeles"})
        db.session.commit()
    with app.app_context():
        assert jobs.rebuild_report_summaries(practice.id) == "rebuilt"
    with app.app_context():
        assert db.session.get(Practice, practice.id).reports_built_at is not None
        assert _charges_on(practice.id, date(2026, 3, 9)) == 15000  # 20:30 on March 9 in Los Angeles
        assert_summaries_match_a_rebuild(practice.id)


def test_a_practice_from_before_the_summaries_gets_them_when_its_reports_are_first_opened(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        _open_bill(make, practice)
        kept = summaries_of(practice.id)
        for model in (ReportFact, ReportTotal, Receivable):  # as the migration leaves an existing practice
            db.session.execute(delete(model).where(model.practice_id == practice.id))
        db.session.execute(update(Practice).where(Practice.id == practice.id).values(reports_built_at=None))
        db.session.commit()
        assert _charges_on(practice.id, date(2026, 3, 9)) == 15000
        db.session.commit()
        assert db.session.get(Practice, practice.id).reports_built_at is not None
        assert summaries_of(practice.id) == kept


def test_the_worker_queues_a_build_of_summaries_an_upgrade_left_missing_once(app, make):
    built, missing = make.practice(), make.practice()
    with app.app_context():
        _open_bill(make, missing)
        kept = summaries_of(missing.id)
        db.session.execute(update(Practice).where(Practice.id == missing.id).values(reports_built_at=None))
        db.session.commit()
        assert jobs.queue_missing_report_builds() == [missing.id]
        assert jobs.queue_missing_report_builds() == [missing.id]  # a second worker starting: still one job
        job_id = f"report-summaries-{missing.id}"
        assert jobs.queue().job_ids.count(job_id) == 1 and f"report-summaries-{built.id}" not in jobs.queue().job_ids
        job = jobs.queue().fetch_job(job_id)
        assert job.timeout == app.config["REPORT_REBUILD_TIMEOUT_SECONDS"] > 3600  # minutes for a large practice
        assert job.func(*job.args) == "rebuilt"
        assert db.session.get(Practice, missing.id).reports_built_at is not None
        assert summaries_of(missing.id) == kept
        assert jobs.queue_missing_report_builds() == []


def test_a_bills_facts_follow_its_edits_and_its_void(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        bill_id = _open_bill(make, practice)
        bill = db.session.get(Bill, bill_id)
        bill.lines[0].price_cents = 12000
        db.session.commit()
        assert _charges_on(practice.id, date(2026, 3, 9)) == 12000
        assert_summaries_match_a_rebuild(practice.id)
        bills.void_bill(db.session.get(Bill, bill_id), "Entered in error")
        db.session.commit()
        assert _charges_on(practice.id, date(2026, 3, 9)) == 0
        assert not summaries_of(practice.id)["receivables"]
        month = reports.revenue(ReportFilter(practice_id=practice.id, start=date(2026, 3, 1), end=date(2026, 3, 31)))
        assert month.totals.charges == 0


def test_flask_reports_build_builds_what_is_missing_and_all_on_request(app, make):
    practice = make.practice(timezone="America/New_York", legal_name="Summaries Therapy")
    with app.app_context():
        _open_bill(make, practice)
        kept = summaries_of(practice.id)
        for model in (ReportFact, ReportTotal, Receivable):
            db.session.execute(delete(model).where(model.practice_id == practice.id))
        db.session.execute(update(Practice).where(Practice.id == practice.id).values(reports_built_at=None))
        db.session.commit()
    runner = app.test_cli_runner()
    built = runner.invoke(args=["reports", "build"])
    assert built.exit_code == 0, built.output
    assert "Summaries Therapy: report summaries built" in built.output
    again = runner.invoke(args=["reports", "build"])
    assert "Summaries Therapy" not in again.output  # nothing left to build
    forced = runner.invoke(args=["reports", "build", "--all", "--practice", str(practice.id)])
    assert "Summaries Therapy: report summaries built" in forced.output
    with app.app_context():
        assert summaries_of(practice.id) == kept


@contextmanager
def listening(identifier: str, listener):
    """A listener on the app's session for the duration of the block."""
    event.listen(db.session, identifier, listener)
    try:
        yield
    finally:
        event.remove(db.session, identifier, listener)


def test_a_commit_whose_records_keep_changing_is_refused_and_saves_nothing(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        line = db.session.get(Bill, _open_bill(make, practice)).lines[0]

        def change_the_price_again(_session, _context):  # every flush leaves the line changed once more
            line.price_cents += 1

        with listening("after_flush_postexec", change_the_price_again):
            line.price_cents = 12000
            with pytest.raises(summaries.SummariesOutOfDate, match="did not settle"):
                db.session.commit()
        db.session.rollback()
        assert db.session.get(BillLine, line.id).price_cents == 15000
        assert _charges_on(practice.id, date(2026, 3, 9)) == 15000
        assert_summaries_match_a_rebuild(practice.id)


def test_a_record_written_after_the_summaries_are_up_to_date_fails_the_commit(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        line = db.session.get(Bill, _open_bill(make, practice)).lines[0]

        def change_the_price_late(_session):  # runs after the summaries' own before_commit
            line.price_cents = 9000

        with listening("before_commit", change_the_price_late):
            with pytest.raises(summaries.SummariesOutOfDate, match="after the report summaries were brought up"):
                db.session.commit()
        db.session.rollback()
        assert db.session.get(BillLine, line.id).price_cents == 15000
        assert_summaries_match_a_rebuild(practice.id)


def test_a_savepoints_changes_are_counted_when_the_transaction_commits(app, make):
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        bill = db.session.get(Bill, _open_bill(make, practice))
        with db.session.begin_nested():
            bill.lines[0].price_cents = 12000
        with pytest.raises(ZeroDivisionError), db.session.begin_nested():
            bill.lines[0].price_cents = 1
            db.session.flush()
            raise ZeroDivisionError
        db.session.commit()
        assert _charges_on(practice.id, date(2026, 3, 9)) == 12000
        assert_summaries_match_a_rebuild(practice.id)


def test_sessions_other_than_the_apps_are_left_alone(app, make):
    """The summaries follow the app's session only: a separate Session (the sandbox clearinghouse's) is not
    refreshed, not even for a source table."""
    practice = make.practice(timezone="America/New_York")
    with app.app_context():
        bill_id = _open_bill(make, practice)
        kept = summaries_of(practice.id)
        with Session(db.engine) as other:
            other.get(Bill, bill_id).lines[0].price_cents = 12000
            other.commit()
        assert summaries_of(practice.id) == kept
