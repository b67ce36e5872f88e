"""Six months of demo history before the recent weeks, made the way a practice makes it.

Every record comes from the domain functions and the worker's own jobs, called in process with the
sandbox clearinghouse: sessions are booked and completed and their notes signed (the practice's automation
makes the bills and claims); the biller opens self-pay bills and records what clients pay; on the first Monday
of each month the claims queued since are sent (`jobs.submit_claims`), and the sandbox's 999, 277CA and 835
files come back through `jobs.poll_status` and `jobs.fetch_remittances`, which post insurance payments,
contractual write-offs, deductibles, copays and denials exactly as in production. A claim rejected for a
mistyped member ID is corrected and rechecked, some denials are worked and others wait in the denials queue,
and one 835 a biller uploads pays a claim from before Parity, which waits in the unmatched queue.

Clients come every two to six weeks rather than weekly: each session and each monthly batch runs the real
code, and `flask seed-demo` (which `make run` and the tests run) must stay quick.

Dates. The code runs now, so what it writes says "now". Each step of the history therefore runs inside
`Clock.at(moment)`, which afterwards moves the timestamps the step wrote to the moment the step stands
for: in the tables the step wrote to (see BACKDATED, the sandbox's own tables included), every date-time
column holding a time at or after the step's start (created, completed, signed, issued, sent, acknowledged,
worked …), and with them the date columns the code fills from today: an insurance payment's `received_on`,
a remittance's `paid_on` (the 835's payment date) and a bill's `due_date` (issued + the practice's terms).
The reports read these (revenue by month, receivables aging, days from service to payment, claims sent per
period), so they show six months rather than one afternoon. Dates the domain functions accept are passed to
them instead (a client payment's `received_on`); the practice, its people, catalog, payers and clients get
the creation dates of a practice that was there before the history, and a session the time it was booked.
Left as written: the audit log, which records what really happened (this seed, when it ran), and the text of
the X12 files, whose envelopes carry the time they were written.

The jobs commit as they go (as in production), so the history is committed step by step; `seed_clinical`
adds it once, with the practice's clients, and the recent weeks after it.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, bindparam, case, event, literal, or_, select, update

from app import jobs
from app.billing import bills, claims as claim_rules, clients as client_rules, dates, denials, era
from app.extensions import db
from app.models import (Allocation, Adjustment, Bill, BillEvent, BillLine, BillStatus, Claim, ClaimEvent, ClaimStatus,
                        Client, InsurancePolicy, Member, NoteAddendum, Payer, Payment, PaymentSource, Practice,
                        Refund, Remittance, RemittanceClaim, SandboxClaim, SandboxRemittance, SandboxUpload,
                        ServiceCode, SessionNote, SessionStatus, Submission, TherapySession, X12File)
from app.models.types import UTCDateTime, utcnow
from app.seed_sessions import record_session
from app.x12 import inbound
from app.x12.remittance import write_835

#: Full months of history before the current month (the recent weeks cover the rest).
HISTORY_MONTHS = 6
#: The recent weeks (seed_clinical's plan) are the last RECENT_DAYS days; the history ends before them.
RECENT_DAYS = 30

#: Tables whose date-time columns a step's timestamps are moved in (only those the step wrote to).
BACKDATED = (TherapySession, SessionNote, NoteAddendum, Bill, BillEvent, Payment, Allocation, Refund, Adjustment,
             Claim, ClaimEvent, X12File, Submission, Remittance, RemittanceClaim, SandboxUpload, SandboxClaim,
             SandboxRemittance)

#: Days from sending a batch to the 835 that pays it, one per batch in turn.
PAYMENT_LAGS = (16, 19, 14, 22, 17, 25, 15, 20, 18, 23, 16, 21, 19, 24)

#: Minutes a session of this (first) code lasts: inside its time band, so no correction note is needed.
MINUTES = {"90791": 60, "90832": 30, "90834": 45, "90837": 55, "90839": 100, "90847": 50}
CRISIS = "90839+90840"


def history_start(today: date) -> date:
    """The first day of the month HISTORY_MONTHS before today's month."""
    month, year = today.month - HISTORY_MONTHS, today.year
    while month < 1:
        month, year = month + 12, year - 1
    return date(year, month, 1)


def recent_start(today: date) -> date:
    return today - timedelta(days=RECENT_DAYS)


# ---------------------------------------------------------------- who comes when


@dataclass(frozen=True)
class Course:
    """One client's course of treatment in the history: a slot, a cadence and the services it bills."""

    client: str  #: key of seed_clinical's client
    weekday: int  #: 0 = Monday
    hour: int
    every: int  #: weeks between sessions
    first_week: int = 0  #: weeks after the history's first Monday (negative: counted back from its end)
    last_week: int | None = None
    weekly_until: int | None = None  #: weekly before this week, then every `every` weeks
    intake: bool = False  #: a new client: the first session is a 90791
    codes: tuple[str, ...] = ("90834",)  #: cycled; "a+bxN" is two lines, the second N units
    modality: str = "in_person"  #: or video; "mixed": every third session by video
    diagnoses: tuple[str, ...] = ()
    #: (week, what happens): a crisis session, a no-show, a cancellation, or a card declined (left owing)
    events: tuple[tuple[int, str], ...] = ()

    def meets(self, week: int, weeks: int) -> bool:
        first = self.first_week if self.first_week >= 0 else weeks + self.first_week
        if week < first or (self.last_week is not None and week > (self.last_week if self.last_week >= 0
                                                                    else weeks + self.last_week)):
            return False
        return (week - first) % self.every == 0

    def event(self, week: int) -> str | None:
        return dict(self.events).get(week)


COURSES = (
    # Casey Clinician
    Course("eleanor", 1, 14, 4, codes=("90834", "90837", "90832", "90834"), modality="video", diagnoses=("F43.21",)),
    Course("grace", 0, 16, 2, first_week=1, last_week=5, codes=("90837", "90837", "90834"), diagnoses=("F42.2",)),
    Course("aisha", 3, 13, 6, first_week=2, intake=True, codes=("90834", "90834", "90837"), modality="video",
           diagnoses=("F41.0",)),
    Course("morgan", 4, 9, 6, first_week=3, intake=True, codes=("90847",), diagnoses=("F43.22",)),
    Course("tomas", 2, 10, 3, first_week=4, intake=True, codes=("90834", "90837"), diagnoses=("F43.23",)),
    Course("priya", 4, 11, 2, first_week=-5, intake=True, codes=("90834+96127x2",), modality="video",
           diagnoses=("F32.A",)),
    # Jordan Rivera
    Course("sam", 2, 15, 4, codes=("90834", "90832", "90834"), diagnoses=("F43.10",),
           events=((8, "no_show"), (12, "declined"))),
    Course("lucas", 3, 10, 5, first_week=1, intake=True, codes=("90837", "90834", "90832"), diagnoses=("F43.12",),
           events=((11, CRISIS),)),
    Course("robert", 1, 9, 4, codes=("90834", "90832", "90834"), modality="mixed", diagnoses=("F32.1",),
           events=((20, "cancelled"),)),
    Course("nora", 0, 11, 6, last_week=-4, codes=("90837", "90834"), diagnoses=("F60.3",), events=((12, CRISIS),)),
    Course("marcus", 4, 14, 1, first_week=8, last_week=9, intake=True, codes=("90834",), diagnoses=("F31.81",)),
)
#: Weeks a clinician is away (their clients' sessions that week do not happen).
AWAY = {"clinician@demo.parity": {10}, "clinician2@demo.parity": {16}}

#: Who pays what is left to them after insurance, and when (days after the 835), by card or check.
AFTER_INSURANCE = {"lucas": (4, "card"), "morgan": (12, "check"), "aisha": (28, "card")}
#: Aisha's plan puts everything to the deductible; she pays two bills of three.
SOMETIMES_UNPAID = {"aisha": 3}
#: Self-pay clients: Sam pays by card at the visit; Tomás mails a check some weeks later (nothing yet for the
#: sessions of the last two and a half months); Nora pays now and then, oldest bill first.
CHECK_DELAY = {"tomas": 18}
NOT_YET_PAID_DAYS = 75
LUMP_WEEKS = {"nora": (9, 22)}
#: How the biller works the denials of a client, in turn (the rest wait in the denials queue).
#: Marcus's MassHealth denials are CO-197: the provider's obligation, never billed to a Medicaid client.
DENIAL_WORK = {"marcus": ["write_off"], "priya": ["appeal"]}
#: A member ID typed wrong at intake (the sandbox rejects IDs ending in R) and the one on the card.
MISTYPED_MEMBER_ID = {"lucas": "HHP5520318"}


# ---------------------------------------------------------------- the clock


_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


class Clock:
    """Runs a step of the history, then moves what it wrote to the moment the step stands for."""

    def __init__(self, practice_id: int) -> None:
        practice = db.session.get(Practice, practice_id)
        terms, self.zone_name = practice.payment_terms_days, practice.timezone
        since, moment = bindparam("since", type_=UTCDateTime()), bindparam("moment", type_=UTCDateTime())
        day, due = bindparam("day", type_=Date()), bindparam("due", type_=Date())
        self.terms = timedelta(days=terms)
        #: table written → what to run, dates first (they are found by the timestamps the step wrote)
        self.statements: dict[str, list] = {
            "payments": [update(Payment.__table__).where(Payment.__table__.c.created_at >= since,
                                                         Payment.__table__.c.source == PaymentSource.INSURANCE.value)
                         .values(received_on=day)],
            "remittances": [update(Remittance.__table__).where(Remittance.__table__.c.created_at >= since)
                            .values(paid_on=day)],
            "sandbox_remittances": [update(SandboxRemittance.__table__)
                                    .where(SandboxRemittance.__table__.c.created_at >= since).values(paid_on=day)],
            "bills": [update(Bill.__table__).where(Bill.__table__.c.issued_at >= since).values(due_date=due)],
        }
        for model in BACKDATED:
            columns = [column for column in model.__table__.columns if isinstance(column.type, UTCDateTime)]
            self.statements.setdefault(model.__tablename__, []).append(
                update(model.__table__).where(or_(*(column >= since for column in columns)))
                .values({column.name: case((column >= since, moment), else_=column) for column in columns}))

    @contextlib.contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        db.session.flush()
        since = utcnow()
        written: set[str] = set()

        def note(connection, cursor, statement, parameters, context, executemany):
            match = _WRITE.match(statement)
            if match:
                written.add(match.group(1).lower())

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            yield
            db.session.flush()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        day = dates.service_day(moment, self.zone_name)
        values = {"since": since, "moment": moment, "day": day, "due": day + self.terms}
        for table in sorted(written & self.statements.keys()):
            for statement in self.statements[table]:
                db.session.execute(statement, values)


# ---------------------------------------------------------------- the history


class History:
    def __init__(self, practice_id: int, people: dict) -> None:
        self.practice_id = practice_id
        self.client_ids: dict[str, int] = people["clients"]
        self.member_ids: dict[str, int] = people["members"]  # by email
        self.today = dates.practice_today(practice_id)
        self.start = history_start(self.today)
        self.end = recent_start(self.today)
        self.monday = self.start - timedelta(days=self.start.weekday())
        self.weeks = (self.end - self.monday).days // 7 + (1 if (self.end - self.monday).days % 7 else 0)
        self.zone = dates.zone(self.practice.timezone)
        self.clock = Clock(practice_id)
        self.due: list[tuple[date, int, Callable[[date], None]]] = []
        self.seen: dict[str, int] = {}  # sessions so far per client
        self.denials_worked: dict[str, int] = {}
        self.batches = 0
        self.scheduled = 0

    # ------------------------------------------------------------ lookups (the jobs release the session)

    @property
    def practice(self) -> Practice:
        return db.session.get(Practice, self.practice_id)

    def client(self, key: str) -> Client:
        return db.session.get(Client, self.client_ids[key])

    def member(self, email: str) -> Member:
        return db.session.get(Member, self.member_ids[email])

    @property
    def biller(self) -> Member:
        return self.member("biller@demo.parity")

    def key_of(self, client_id: int) -> str:
        return next(key for key, value in self.client_ids.items() if value == client_id)

    def moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    # ------------------------------------------------------------ the run

    def run(self) -> None:
        self._open_practice()
        batch_days = self.batch_days()
        clinicians = {course.client: self.client(course.client).primary_clinician_id for course in COURSES}
        for week in range(self.weeks):
            by_day: dict[date, list[Course]] = {}
            for course in COURSES:
                day = self.monday + timedelta(weeks=week, days=course.weekday)
                away = any(week in weeks and self.member_ids[email] == clinicians[course.client]
                           for email, weeks in AWAY.items())
                if course.meets(week, self.weeks) and self.start <= day < self.end and not away:
                    by_day.setdefault(day, []).append(course)
            for key, weeks in LUMP_WEEKS.items():
                if week in weeks:
                    self.schedule(self.monday + timedelta(weeks=week, days=2),
                                  lambda day, key=key: self._lump(key, day))
            for day in sorted(by_day):
                while batch_days and batch_days[0] <= day:
                    self._batch(batch_days.pop(0))
                self.pay_due(before=day)
                with self.clock.at(self.moment(day, 18, 30)):
                    for course in sorted(by_day[day], key=lambda c: c.hour):
                        self._session(course, week, day)
        for day in batch_days:
            self._batch(day)
        self.pay_due(before=self.today)

    def batch_days(self) -> list[date]:
        """The biller sends claims on the first Monday of each month, and once more after the history's last
        sessions."""
        days = []
        month = self.start
        while True:
            month = (month.replace(day=28) + timedelta(days=7)).replace(day=1)
            first_monday = month + timedelta(days=-month.weekday() % 7)
            if first_monday > self.end:
                break
            days.append(first_monday)
        last = self.end + timedelta(days=-self.end.weekday() % 7)
        return days + [last] if not days or last > days[-1] else days

    def _open_practice(self) -> None:
        """The practice, its people, catalog, payers and clients were there before the history starts; clients
        who come later were added a few days before their first session."""
        opened = self.moment(self.monday - timedelta(days=14), 9)
        stamp = literal(opened, UTCDateTime())
        for model in (Practice, Member, ServiceCode, Payer, Client, InsurancePolicy):
            where = model.id == self.practice_id if model is Practice else model.practice_id == self.practice_id
            db.session.execute(update(model).where(where).values(created_at=stamp)
                               .execution_options(synchronize_session=False))
        first_seen = {}
        for course in COURSES:
            if course.intake:
                first = course.first_week if course.first_week >= 0 else self.weeks + course.first_week
                first_seen[course.client] = self.monday + timedelta(weeks=first, days=course.weekday - 5)
        for key, client_id in self.client_ids.items():
            if key in first_seen:
                added = first_seen[key]
            elif not any(course.client == key for course in COURSES):
                added = self.end - timedelta(days=4)  # new in the recent weeks
            else:
                continue
            db.session.execute(update(Client).where(Client.id == client_id)
                               .values(created_at=literal(self.moment(added, 11), UTCDateTime()))
                               .execution_options(synchronize_session=False))
        db.session.expire_all()

    # ------------------------------------------------------------ sessions

    def _session(self, course: Course, week: int, day: date) -> None:
        client = self.client(course.client)
        clinician = db.session.get(Member, client.primary_clinician_id)
        happened = course.event(week)
        count = self.seen.get(course.client, 0)
        if happened in ("no_show", "cancelled"):
            status = SessionStatus.NO_SHOW if happened == "no_show" else SessionStatus.CANCELLED
            record_session(self.practice, day, course.hour, client, clinician, MINUTES["90834"], "in_person", [], [],
                           status=status)
            return
        self.seen[course.client] = count + 1
        pattern = "90791" if course.intake and count == 0 else CRISIS if happened == CRISIS else \
            course.codes[count % len(course.codes)]
        lines = []
        for part in pattern.split("+"):
            code, _, units = part.partition("x")
            lines.append((code, int(units)) if units else (code,))
        if pattern == CRISIS:
            lines = [("90839",), ("90840", 1)]
        modality = course.modality if course.modality != "mixed" else ("video" if count % 3 == 2 else "in_person")
        session = record_session(self.practice, day, course.hour, client, clinician, MINUTES[lines[0][0]], modality,
                                 lines, list(course.diagnoses))
        # Booked a week or two ahead, not when it was completed.
        session.created_at = session.starts_at - timedelta(days=7 + count % 8)
        bill = db.session.scalar(select(Bill).join(BillLine, BillLine.bill_id == Bill.id)
                                 .where(BillLine.session_id == session.id))
        if client.policies:
            return  # insured: the bill waits for the payer's answer, the claim for the next batch
        bills.open_bill(bill, self.biller)
        owed = bills.totals(bill).balance
        if course.client == "sam" and happened != "declined":
            bills.record_payment(client, owed, "card", day, reference=f"VISA {4242 + count}",
                                 allocate=[(bill, owed)], actor=self.biller)
        elif course.client in CHECK_DELAY and day < self.today - timedelta(days=NOT_YET_PAID_DAYS):
            paid_on = day + timedelta(days=CHECK_DELAY[course.client] + count % 5)
            self.schedule(paid_on, lambda on, bill_id=bill.id, key=course.client, number=count:
                          self._pay_bill(key, bill_id, "check", f"Check {311 + number}", on))

    # ------------------------------------------------------------ a batch of claims, and what comes back

    def _batch(self, monday: date) -> None:
        """Send what is queued on Monday; the 999 and 277CA come on Tuesday, the payer's "in process" on
        Thursday, the 835 some weeks later."""
        lag = PAYMENT_LAGS[self.batches % len(PAYMENT_LAGS)]
        self.batches += 1
        paid_on = min(monday + timedelta(days=lag), self.today - timedelta(days=2))
        self.pay_due(before=monday)
        sent = db.session.scalars(select(Claim.id).where(Claim.practice_id == self.practice_id,
                                                         Claim.status == ClaimStatus.QUEUED)).all()
        if not sent:
            return
        with self.clock.at(self.moment(monday, 10)):
            self._job(jobs.submit_claims)
        with self.clock.at(self.moment(monday + timedelta(days=1), 8)):
            self._job(jobs.poll_status)
        rejected = db.session.scalars(select(Claim).where(Claim.id.in_(sent),
                                                          Claim.status == ClaimStatus.NEEDS_REVIEW)).all()
        if rejected:
            with self.clock.at(self.moment(monday + timedelta(days=1), 15)):
                self._correct(rejected)
        with self.clock.at(self.moment(monday + timedelta(days=3), 8)):
            self._job(jobs.poll_status)
        with self.clock.at(self.moment(paid_on, 7)):
            self._job(jobs.poll_status)
            self._job(jobs.fetch_remittances)
        if self.batches == 2:
            with self.clock.at(self.moment(paid_on + timedelta(days=1), 10)):
                self._legacy_remittance(paid_on)
        settled = db.session.scalars(select(Claim).where(Claim.id.in_(sent)).order_by(Claim.id)).all()
        for claim in settled:
            key = self.key_of(claim.client_id)
            if claim.status == ClaimStatus.PAID and key in AFTER_INSURANCE:
                delay, method = AFTER_INSURANCE[key]
                skip = SOMETIMES_UNPAID.get(key)
                if skip and claim.id % skip == 0:
                    continue
                self.schedule(paid_on + timedelta(days=delay + claim.id % 3),
                              lambda on, bill_id=claim.bill_id, key=key, method=method, number=claim.id:
                              self._pay_bill(key, bill_id, method, f"{'VISA' if method == 'card' else 'Check'} "
                                                                   f"{1800 + number}", on))
            elif claim.status == ClaimStatus.DENIED and DENIAL_WORK.get(key):
                worked = self.denials_worked.get(key, 0)
                if worked < len(DENIAL_WORK[key]):
                    self.denials_worked[key] = worked + 1
                    self.schedule(paid_on + timedelta(days=5 + worked),
                                  lambda on, claim_id=claim.id, action=DENIAL_WORK[key][worked]:
                                  self._work_denial(claim_id, action))

    def _job(self, job: Callable[[int], dict]) -> None:
        result = job(self.practice_id)
        if isinstance(result, dict) and result.get("error"):
            raise RuntimeError(f"demo history: {job.__name__} failed: {result['error']}")

    def _correct(self, rejected: list[Claim]) -> None:
        """The payer did not know the member ID: the biller checks the card, fixes the policy, rechecks."""
        for claim in rejected:
            key = self.key_of(claim.client_id)
            policy = db.session.get(InsurancePolicy, claim.policy_id)
            right = MISTYPED_MEMBER_ID.get(key)
            if right and policy.member_id != right:
                values = {name: getattr(policy, name) for name in client_rules.POLICY_FIELDS}
                client_rules.update_policy(policy, values | {"member_id": right})
                db.session.flush()
            claim_rules.recheck(claim, self.biller)

    def _work_denial(self, claim_id: int, action: str) -> None:
        claim = db.session.get(Claim, claim_id)
        biller = self.biller
        if action == "appeal":
            denials.appeal(claim, "Sent the prior authorization approval letter with a reconsideration request "
                                  "through the payer portal.", biller)
        elif action == "bill_client":
            denials.bill_client(claim, biller)
        elif action == "write_off":
            denials.write_off(claim, "Authorization never obtained for this visit; not billable to the client.",
                              biller)

    def _legacy_remittance(self, paid_on: date) -> None:
        """An 835 the biller uploads: Harborview paid a claim the practice sent from its old system before
        Parity. No claim here has its number, so it waits in the unmatched queue."""
        practice = self.practice
        payer = db.session.scalar(select(Payer).where(Payer.practice_id == self.practice_id,
                                                      Payer.clearinghouse_payer_id == "HHP01"))
        served = self.monday - timedelta(days=23)
        service = inbound.ServicePayment(
            procedure_code="90834", charge_cents=15000, paid_cents=9500, units=1, service_date=served,
            allowed_cents=12000, adjustments=(inbound.Adjustment(group="CO", reason="45", amount_cents=3000),
                                              inbound.Adjustment(group="PR", reason="3", amount_cents=2500)))
        claim = inbound.ClaimPayment(patient_control_number="TS20417", status_code="1", charge_cents=15000,
                                     paid_cents=9500, patient_responsibility_cents=2500, filing_indicator="CI",
                                     payer_claim_number="HHP26041788", services=(service,),
                                     patient_name="Castillo, Ines", member_id="HHP3390412")
        remittance = inbound.Remittance(total_paid_cents=9500, payment_method="CHK", paid_on=paid_on,
                                        trace_number="HHP0042817", payer_identifier="1043373331",
                                        payer_name=payer.name, payer_id=payer.clearinghouse_payer_id,
                                        payee_name=practice.legal_name, payee_npi=practice.group_npi or "",
                                        claims=(claim,))
        text = write_835(remittance, sender_id="HARBORVIEW", receiver_id=f"PARITY{practice.id}",
                         interchange_control_number=4817, created_at=self.moment(paid_on, 6))
        era.import_835(practice, text, source="upload", actor=self.biller)

    # ------------------------------------------------------------ client payments

    def schedule(self, day: date, action: Callable[[date], None]) -> None:
        self.scheduled += 1
        self.due.append((day, self.scheduled, action))

    def pay_due(self, before: date) -> None:
        """Run what was scheduled before `before` (and before today), each on its own day."""
        ready = sorted((item for item in self.due if item[0] < before and item[0] < self.today),
                       key=lambda item: item[:2])
        self.due = [item for item in self.due if not (item[0] < before and item[0] < self.today)]
        for day in sorted({item[0] for item in ready}):
            with self.clock.at(self.moment(day, 12)):
                for _, _, action in (item for item in ready if item[0] == day):
                    action(day)

    def _pay_bill(self, key: str, bill_id: int, method: str, reference: str, day: date) -> None:
        bill = db.session.get(Bill, bill_id)
        owed = bills.totals(bill).balance
        if bill.status != BillStatus.OPEN or owed <= 0:
            return
        bills.record_payment(self.client(key), owed, method, day, reference=reference,
                             allocate=[(bill, owed)], actor=self.biller)

    def _lump(self, key: str, day: date) -> None:
        """A check for the oldest open bill."""
        client = self.client(key)
        oldest = db.session.scalar(select(Bill).where(Bill.client_id == client.id, Bill.status == BillStatus.OPEN)
                                   .order_by(Bill.service_date, Bill.id).limit(1))
        if oldest is not None:
            bills.record_payment(client, bills.totals(oldest).balance, "check", day, reference="Check 2207",
                                 actor=self.biller)


def seed_history(practice_id: int, people: dict) -> None:
    """Add the demo's six months of history (see the module docstring)."""
    History(practice_id, people).run()
