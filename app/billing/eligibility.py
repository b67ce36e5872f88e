"""Eligibility checks on a client's insurance: write the 270, keep it, read the 271 that comes back, and say
what it means for the client (coverage, copay, deductible, authorization, the expected share of a session).

`start_check` writes and gates the 270 and stores a pending EligibilityCheck (the adapter call happens in a
job, the CLI, or a person's upload for `files` practices); `record_answer` reads a 271 onto it, or refuses it
and changes nothing; `run_check` does both through an adapter. Every step is audited.
"""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import exists, func, select

from app import audit
from app.after_commit import request_job
from app.billing import dates
from app.billing.claims import next_interchange_number
from app.billing.money import spoken
from app.clearinghouse.base import ClearinghouseError, ClearinghouseUnavailable
from app.extensions import db
from app.models import Client, EligibilityCheck, InsurancePolicy, Member, Practice, TherapySession
from app.models.types import utcnow
from app.x12 import eligibility as x12
from app.x12.inbound import X12ReadError

#: Service types read for the headline, most specific first: an outpatient psychotherapy session.
HEADLINE_SERVICE_TYPES = ("A6", "CF", "A8", "MH", "30")
#: The nightly batch checks clients seen within this many days whose last check is older than STALE_AFTER.
NIGHTLY_LOOKAHEAD_DAYS = 3
STALE_AFTER = timedelta(days=30)

_HEADLINE_FIELDS = ("copay_cents", "coinsurance_percent", "deductible_cents", "deductible_remaining_cents",
                    "out_of_pocket_cents", "out_of_pocket_remaining_cents", "visit_limit", "visits_remaining",
                    "authorization_required")


class EligibilityProblem(Exception):
    """A check that cannot be made or an answer that cannot be read; the message says why in plain words."""


def primary_policy(client: Client, day: date) -> InsurancePolicy | None:
    return next((policy for policy in client.policies if policy.priority == 1 and policy.is_active_on(day)),
                None) or next((policy for policy in client.policies if policy.priority == 1), None)


def _provider(practice: Practice, client: Client) -> tuple[str, str]:
    """(name, NPI) asking: the practice's group NPI, else the client's clinician's."""
    if practice.group_npi:
        return practice.legal_name, practice.group_npi
    clinician = client.primary_clinician
    if clinician is not None and clinician.npi:
        return clinician.name.split(",")[0], clinician.npi
    raise EligibilityProblem("The practice has no group NPI and the client's clinician has none either: add one in "
                             "Settings → Practice before checking eligibility.")


def build_inquiry(policy: InsurancePolicy, *, service_date: date, trace_number: str,
                  interchange_control_number: int, created_at: datetime) -> x12.Inquiry:
    client, practice = policy.client, db.session.get(Practice, policy.practice_id)
    provider_name, npi = _provider(practice, client)
    if policy.client_is_subscriber:
        subscriber = x12.Person(last_name=client.last_name, first_name=client.first_name,
                                birth_date=client.date_of_birth, sex=client.sex, member_id=policy.member_id)
        dependant = None
    else:
        subscriber = x12.Person(last_name=policy.subscriber_last_name or client.last_name,
                                first_name=policy.subscriber_first_name or "",
                                birth_date=policy.subscriber_date_of_birth, sex=policy.subscriber_sex or "",
                                member_id=policy.member_id)
        dependant = x12.Person(last_name=client.last_name, first_name=client.first_name,
                               birth_date=client.date_of_birth, sex=client.sex)
    return x12.Inquiry(payer_name=policy.payer.name, payer_id=policy.payer.clearinghouse_payer_id,
                       provider_name=provider_name, provider_npi=npi, provider_tax_id=practice.tax_id or "",
                       subscriber=subscriber, dependant=dependant, group_number=policy.group_number or "",
                       service_date=service_date, trace_number=trace_number,
                       sender_id=practice.submitter_id or f"PARITY{practice.id}",
                       receiver_id=practice.receiver_id or "CLAIMMD",
                       interchange_control_number=interchange_control_number, created_at=created_at)


def start_check(policy: InsurancePolicy, *, source: str, service_date: date | None = None,
                actor: Member | None = None) -> EligibilityCheck:
    """Write and gate the 270 for `policy` and keep it as a pending check (flushed, audited)."""
    day = service_date or dates.practice_today(policy.practice_id)
    now = datetime.now(timezone.utc)
    trace = f"E{policy.practice_id}{secrets.token_hex(5).upper()}"
    text = x12.write_270(build_inquiry(policy, service_date=day, trace_number=trace,
                                       interchange_control_number=next_interchange_number(policy.practice_id),
                                       created_at=now))
    problems = x12.check_270(text)
    if problems:
        raise EligibilityProblem("The eligibility inquiry could not be written: " + "; ".join(problems))
    check = EligibilityCheck(practice_id=policy.practice_id, client_id=policy.client_id, policy_id=policy.id,
                             requested_by_id=actor.id if actor else None, source=source, status="pending",
                             trace_number=trace, service_date=day, request_270=text, benefits=[], messages=[])
    db.session.add(check)
    db.session.flush()
    audit.record("eligibility.requested", check, client_id=policy.client_id, policy_id=policy.id, source=source,
                 actor=actor)
    return check


def request_check(policy: InsurancePolicy, *, actor: Member | None, source: str = "web") -> EligibilityCheck:
    """Start a check and ask the worker to send it once this transaction commits."""
    check = start_check(policy, source=source, actor=actor)
    request_job(db.session, "check_eligibility", check.id, job_id=f"check_eligibility-{check.id}")
    return check


def headline(response: x12.EligibilityResponse) -> dict:
    """The numbers people see for an outpatient psychotherapy session: individual coverage, in network when
    the payer distinguishes, the most specific service type that says each thing."""
    chosen: dict = {field: None for field in _HEADLINE_FIELDS}
    individual = [benefit for benefit in response.benefits if benefit.coverage_level == "IND"]
    in_network = [benefit for benefit in individual if benefit.in_network is not False]
    network = True if any(benefit.in_network for benefit in individual) else \
        (False if individual and all(benefit.in_network is False for benefit in individual) else None)
    pool = in_network or individual
    for service_type in HEADLINE_SERVICE_TYPES:
        for benefit in pool:
            if benefit.service_type != service_type:
                continue
            for name in _HEADLINE_FIELDS:
                if chosen[name] is None:
                    chosen[name] = getattr(benefit, name)
    chosen["in_network"] = network
    return chosen


def record_answer(check: EligibilityCheck, text: str, *, actor: Member | None = None) -> EligibilityCheck:
    """Read the 271 onto the check. A file that does not parse, or answers another inquiry, raises
    EligibilityProblem and changes nothing."""
    if check.status not in ("pending", "failed"):
        raise EligibilityProblem("This check already has its answer; check eligibility again for a new one.")
    try:
        responses = x12.parse_271(text)
    except X12ReadError as error:
        raise EligibilityProblem(f"The 271 was not read: {error}") from error
    response = next((item for item in responses if item.trace_number == check.trace_number), None)
    if response is None and len(responses) == 1 and not responses[0].trace_number:
        response = responses[0]  # a payer-level rejection carries no subscriber loop, so no TRN
    if response is None:
        raise EligibilityProblem(f"This 271 does not answer this check (its trace number is not "
                                 f"{check.trace_number}).")
    check.response_271 = text
    check.answered_at = utcnow()
    check.active = response.active
    check.plan_name = (response.plan_name or None) and response.plan_name[:100]
    check.group_name = (response.group_name or None) and response.group_name[:100]
    check.messages = list(response.messages)
    check.benefits = [dataclasses.asdict(benefit) for benefit in response.benefits]
    for name, value in headline(response).items():
        setattr(check, name, value)
    if response.rejected:
        check.status = "rejected"
        check.problem = "; ".join(f"{rejection.reason[:1].upper()}{rejection.reason[1:]}"
                                  + (" (the payer asks to try again later)" if rejection.retry_later
                                     and rejection.code != "42" else "")
                                  for rejection in response.rejections)
    else:
        check.status = "answered"
        check.problem = None
    db.session.flush()
    audit.record("eligibility.answered", check, status=check.status, active=check.active,
                 authorization_required=check.authorization_required, problem=check.problem, actor=actor)
    return check


def run_check(check: EligibilityCheck, adapter) -> EligibilityCheck:
    """Send the check's 270 through the adapter and read its 271. An adapter that cannot answer leaves the
    check failed with the reason (ClearinghouseUnavailable is raised again, for the caller to retry)."""
    try:
        text = adapter.check_eligibility(check.request_270)
    except ClearinghouseUnavailable:
        raise
    except ClearinghouseError as error:
        check.status, check.problem = "failed", str(error)
        audit.record("eligibility.failed", check, problem=str(error))
        return check
    try:
        return record_answer(check, text)
    except EligibilityProblem as error:
        check.status, check.problem, check.response_271 = "failed", str(error), text
        audit.record("eligibility.failed", check, problem=str(error))
        return check


# ---------------------------------------------------------------- reading stored checks


def latest_for_clients(practice_id: int, client_ids: list[int]) -> dict[int, EligibilityCheck]:
    """Each client's newest finished check (answered or rejected)."""
    if not client_ids:
        return {}
    newest = (select(EligibilityCheck.client_id, func.max(EligibilityCheck.id).label("id"))
              .where(EligibilityCheck.practice_id == practice_id, EligibilityCheck.client_id.in_(client_ids),
                     EligibilityCheck.status.in_(["answered", "rejected"]))
              .group_by(EligibilityCheck.client_id).subquery())
    rows = db.session.scalars(select(EligibilityCheck).join(newest, EligibilityCheck.id == newest.c.id)).all()
    return {row.client_id: row for row in rows}


def latest_for_client(client: Client) -> EligibilityCheck | None:
    return latest_for_clients(client.practice_id, [client.id]).get(client.id)


def pending_for_client(client: Client) -> EligibilityCheck | None:
    """The newest check still waiting for its 271, when it is newer than every finished one."""
    check = db.session.scalar(select(EligibilityCheck).where(EligibilityCheck.client_id == client.id)
                              .order_by(EligibilityCheck.id.desc()).limit(1))
    return check if check is not None and check.status in ("pending", "failed") else None


def summary(check: EligibilityCheck) -> str:
    """One line: "copay $30, deductible $400 of $1,500 left, in network" (or why there is no answer)."""
    if check.status == "rejected":
        return f"rejected: {check.problem}"
    if check.status == "failed":
        return f"no answer: {check.problem}"
    if check.status == "pending":
        return "waiting for the payer's answer"
    if check.active is False:
        return "coverage inactive"
    parts = []
    if check.copay_cents is not None:
        parts.append(f"copay {spoken(check.copay_cents)}")
    if check.coinsurance_percent:
        parts.append(f"coinsurance {check.coinsurance_percent}%")
    if check.deductible_remaining_cents is not None and check.deductible_cents is not None:
        parts.append(f"deductible {spoken(check.deductible_remaining_cents)} of {spoken(check.deductible_cents)} "
                     "left")
    elif check.deductible_cents is not None:
        parts.append(f"deductible {spoken(check.deductible_cents)}")
    if check.in_network is True:
        parts.append("in network")
    elif check.in_network is False:
        parts.append("out of network")
    if check.authorization_required:
        parts.append("prior authorization required")
    return ", ".join(parts) if parts else ("coverage active" if check.active else "no benefits given")


def printable(check: EligibilityCheck) -> list[tuple[str, str]]:
    """The headline as (label, value) lines, for the command line and the page's details."""
    def money(value: int | None) -> str:
        return "not said" if value is None else spoken(value)

    def left(remaining: int | None, total: int | None) -> str:
        if total is None:
            return money(remaining) + (" left" if remaining is not None else "")
        return f"{spoken(total)}" + (f", {spoken(remaining)} left" if remaining is not None else "")

    network = {True: "in network", False: "out of network", None: "not said"}[check.in_network]
    authorization = {True: "required", False: "not required", None: "not said"}[check.authorization_required]
    lines = [("copay", money(check.copay_cents)),
             ("coinsurance", "not said" if check.coinsurance_percent is None else f"{check.coinsurance_percent}%"),
             ("deductible", left(check.deductible_remaining_cents, check.deductible_cents)),
             ("out-of-pocket maximum", left(check.out_of_pocket_remaining_cents, check.out_of_pocket_cents)),
             ("network", network), ("prior authorization", authorization)]
    if check.visit_limit is not None:
        lines.append(("visits", f"{check.visit_limit} a year" + (f", {check.visits_remaining} left"
                                                                   if check.visits_remaining is not None else "")))
    lines += [("payer says", message) for message in check.messages]
    return lines


def expected_share(check: EligibilityCheck | None, rate_cents: int) -> int | None:
    """What the client is expected to pay of a session charged `rate_cents`: the copay; else, while the
    deductible is not met, the rate up to what is left of it, then coinsurance of the rest; else the
    coinsurance. None when there is no answer to go by."""
    if check is None or check.status != "answered" or not check.active:
        return None
    if check.copay_cents is not None:
        return min(check.copay_cents, rate_cents)
    share = 0
    rest = rate_cents
    if check.deductible_remaining_cents:
        toward_deductible = min(check.deductible_remaining_cents, rest)
        share += toward_deductible
        rest -= toward_deductible
    if check.coinsurance_percent:
        share += rest * check.coinsurance_percent // 100
    if check.coinsurance_percent is None and not check.deductible_remaining_cents:
        return None
    return share


@dataclass(frozen=True)
class Outlook:
    """What the latest check means for one session or bill, for the pages that show it."""

    check: EligibilityCheck
    summary: str
    expected_cents: int | None  #: expected from the client, when the answer says enough


def outlook(client: Client, rate_cents: int) -> Outlook | None:
    """The client's latest answered check and the client's expected share of `rate_cents`; None when never
    checked."""
    check = latest_for_client(client)
    if check is None:
        return None
    return Outlook(check=check, summary=summary(check), expected_cents=expected_share(check, rate_cents))


def needing_attention(practice_id: int, visible_clients=None, limit: int = 20) -> list[EligibilityCheck]:
    """The home page's list: clients whose newest check says coverage is inactive, authorization is required, or
    the payer rejected the inquiry. `visible_clients` is a WHERE clause on Client (access.client_filter)."""
    newest = (select(func.max(EligibilityCheck.id).label("id"))
              .where(EligibilityCheck.practice_id == practice_id,
                     EligibilityCheck.status.in_(["answered", "rejected"]))
              .group_by(EligibilityCheck.client_id).subquery())
    query = (select(EligibilityCheck).join(newest, EligibilityCheck.id == newest.c.id)
             .where((EligibilityCheck.active.is_(False)) | (EligibilityCheck.authorization_required.is_(True))
                    | (EligibilityCheck.status == "rejected"))
             .order_by(EligibilityCheck.id.desc()).limit(limit))
    if visible_clients is not None:
        query = query.where(EligibilityCheck.client_id.in_(select(Client.id).where(visible_clients)))
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- the nightly batch


def due_for_nightly(practice_id: int, today: date) -> list[int]:
    """Primary policies of clients with a session in the next NIGHTLY_LOOKAHEAD_DAYS days whose newest check
    (of any outcome but pending) is older than STALE_AFTER, or who have none."""
    zone_name = dates.zone_name(practice_id)
    soon = dates.day_starts(today + timedelta(days=NIGHTLY_LOOKAHEAD_DAYS + 1), zone_name)
    start = dates.day_starts(today, zone_name)
    fresh_since = datetime.now(timezone.utc) - STALE_AFTER
    recent_check = exists().where(EligibilityCheck.policy_id == InsurancePolicy.id,
                                  EligibilityCheck.created_at >= fresh_since)
    booked = exists().where(TherapySession.client_id == InsurancePolicy.client_id,
                            TherapySession.starts_at >= start, TherapySession.starts_at < soon,
                            TherapySession.status == "scheduled")
    query = (select(InsurancePolicy.id).where(InsurancePolicy.practice_id == practice_id,
                                              InsurancePolicy.priority == 1,
                                              InsurancePolicy.effective_date <= today,
                                              (InsurancePolicy.end_date.is_(None)) | (InsurancePolicy.end_date >= today),
                                              booked, ~recent_check)
             .order_by(InsurancePolicy.id))
    return list(db.session.scalars(query))

