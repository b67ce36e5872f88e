"""Insurance claims: who may have one, building it from a bill, the scrubber, the status machine, and
writing validated 837P batches. No Flask request in sight; callers own the transaction.

A claim copies what it sends (codes, units, charges, diagnoses as signed, subscriber and provider
identity) into its own snapshot, so a later edit elsewhere never changes a claim that left.
"""
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import audit, bulk
from app.billing import catalog, codes, dates, diagnoses
from app.billing.identity import ein_is_valid, npi_is_valid, taxonomy_is_valid, zip9_is_valid
from app.billing.places import TELEHEALTH_PLACES
from app.extensions import db
from app.models import (Bill, BillLine, BillStatus, Claim, ClaimCount, ClaimEvent, ClaimFile, ClaimLine, ClaimStatus,
                        Client, CodeType, InsurancePolicy, Member, Practice, ServiceCode, SessionNote, TherapySession, X12Counter,
                        X12File)
from app.x12 import claim_data as x12
from app.x12.validate import validate_x12
from app.x12.writer_837p import write_837p

#: Which status may follow which. Remittances (835) may settle a claim from any unsettled status,
#: since a claim sent by another route can still read "Queued" here.
TRANSITIONS = {
    ClaimStatus.QUEUED: {ClaimStatus.SENT, ClaimStatus.NEEDS_REVIEW, ClaimStatus.WITHDRAWN},
    ClaimStatus.SENT: {ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS, ClaimStatus.NEEDS_REVIEW},
    ClaimStatus.RECEIVED: {ClaimStatus.IN_PROCESS, ClaimStatus.NEEDS_REVIEW},
    ClaimStatus.IN_PROCESS: {ClaimStatus.NEEDS_REVIEW},
    ClaimStatus.NEEDS_REVIEW: {ClaimStatus.QUEUED, ClaimStatus.WITHDRAWN},
    ClaimStatus.PAID: {ClaimStatus.IN_PROCESS},  # an 835 reversal (CLP02 22) undoes a payment
    ClaimStatus.DENIED: {ClaimStatus.NEEDS_REVIEW},
}
#: Statuses a clearinghouse or payer moves a claim through on its own; people never pick these.
AFTER_SENDING = (ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS)
SETTLED_BY_REMITTANCE = {ClaimStatus.PAID, ClaimStatus.DENIED}
#: Statuses from which an 835 reversal (CLP02 22) of the claim's own payment reopens it (In process): a decided
#: claim, and a later payer's claim flagged or withdrawn after its earlier payer's reversal.
REOPENED_BY_REVERSAL = SETTLED_BY_REMITTANCE | {ClaimStatus.NEEDS_REVIEW, ClaimStatus.WITHDRAWN}
SOURCES = {"person", "scrubber", "clearinghouse", "remittance"}


class ClaimError(Exception):
    """A change the claim's status does not allow."""


@dataclass(frozen=True)
class Problem:
    message: str
    fix: str = ""  #: where a person fixes it, as an app path

    def as_dict(self) -> dict:
        return {"message": self.message, "fix": self.fix}


# ---------------------------------------------------------------- eligibility and building


def _sessions(bill: Bill) -> list[TherapySession]:
    ids = sorted({line.session_id for line in bill.lines if line.session_id})
    return [db.session.get(TherapySession, session_id) for session_id in ids]


def primary_policy(bill: Bill) -> InsurancePolicy | None:
    day = bill.service_date or dates.practice_today(bill.practice_id)
    policies = [policy for policy in bill.client.policies if policy.is_active_on(day)]
    return min(policies, key=lambda policy: policy.priority) if policies else None


def signed_diagnoses(bill: Bill) -> tuple[list[str], list[Problem]]:
    """The diagnoses the bill's sessions' signed notes supplied, principal first, without repeats."""
    found: list[str] = []
    problems = []
    for session in _sessions(bill):
        note = db.session.scalar(select(SessionNote).where(SessionNote.session_id == session.id))
        if note is None or not note.is_signed:
            served = dates.service_day(session.starts_at, dates.zone_name(session.practice_id))
            problems.append(Problem(f"The note of the {served:%b %-d} session is not signed: claims use "
                                    "the diagnoses of signed notes only.", f"/sessions/{session.id}/note"))
            continue
        for entry in note.signed_diagnoses or []:
            if entry["code"] not in found:
                found.append(entry["code"])
    return found, problems


def eligibility_problems(bill: Bill) -> list[Problem]:
    """Why no claim can be made for this bill (empty: one can)."""
    problems = []
    if bill.status == BillStatus.VOID:
        problems.append(Problem("The bill is void."))
    for line in bill.lines:
        service = db.session.get(ServiceCode, line.service_id) if line.service_id else None
        if service is None or service.code_type != CodeType.CPT or not codes.is_valid_code_format(line.code):
            problems.append(Problem(f"Line {line.position} ({line.code}) has no CPT or HCPCS code.",
                                    f"/bills/{bill.id}"))
        if line.price_cents <= 0:
            problems.append(Problem(f"Line {line.position} ({line.code}) has no rate above $0.", f"/bills/{bill.id}"))
    if primary_policy(bill) is None:
        problems.append(Problem("The client has no insurance policy active on the date of service.",
                                f"/clients/{bill.client_id}"))
    problems += signed_diagnoses(bill)[1]
    return problems


def _address(line1, line2, city, state, zip_code) -> dict:
    return {"line1": line1 or "", "line2": line2 or "", "city": city or "", "state": state or "",
            "zip_code": zip_code or ""}


def _snapshot(bill: Bill, policy: InsurancePolicy) -> dict:
    practice = db.session.get(Practice, bill.practice_id)
    clinician = bill.clinician
    diagnosis_codes, _ = signed_diagnoses(bill)
    individual = practice.billing_provider == "individual" and clinician is not None
    return {
        "billing_provider": {
            "name": clinician.name if individual else practice.legal_name, "is_person": individual,
            "npi": (clinician.npi if individual else practice.group_npi) or "",
            "taxonomy": (clinician.taxonomy if individual else practice.taxonomy) or "",
            "tax_id": practice.tax_id or "", "tax_id_is_ssn": bool(practice.tax_id_is_ssn),
            "phone": practice.phone or "",
            "address": _address(practice.address_line1, practice.address_line2, practice.city, practice.state,
                                practice.zip_code)},
        "rendering_provider": {"name": clinician.name, "npi": clinician.npi or "", "taxonomy": clinician.taxonomy or ""}
        if clinician else None,
        **_policy_parts(bill.client, policy),
        "diagnoses": diagnosis_codes[:x12.MAX_DIAGNOSES],
        "modality": _sessions(bill)[0].modality if _sessions(bill) else "in_person",
        "minutes": {str(session.id): session.minutes for session in _sessions(bill)},
    }


def _policy_parts(client: Client, policy: InsurancePolicy) -> dict:
    """What a claim sends about one policy: its payer, its subscriber, and the patient when not the subscriber."""
    patient_is_subscriber = policy.client_is_subscriber
    return {
        "payer": {"name": policy.payer.name, "payer_id": policy.payer.clearinghouse_payer_id,
                  "filing_indicator": policy.payer.filing_indicator,
                  "telehealth_modifier": policy.payer.telehealth_modifier,
                  "audio_only_modifier": policy.payer.audio_only_modifier},
        "subscriber": {
            "member_id": policy.member_id, "group_number": policy.group_number or "",
            "first_name": client.first_name if patient_is_subscriber else policy.subscriber_first_name or "",
            "last_name": client.last_name if patient_is_subscriber else policy.subscriber_last_name or "",
            "birth_date": (client.date_of_birth if patient_is_subscriber else policy.subscriber_date_of_birth)
            .isoformat() if (client.date_of_birth if patient_is_subscriber else policy.subscriber_date_of_birth)
            else "",
            "sex": client.sex if patient_is_subscriber else policy.subscriber_sex or "U",
            "address": _address(client.address_line1, client.address_line2, client.city, client.state, client.zip_code)
            if patient_is_subscriber else _address(policy.subscriber_address_line1, policy.subscriber_address_line2,
                                                   policy.subscriber_city, policy.subscriber_state,
                                                   policy.subscriber_zip_code)},
        "patient": None if patient_is_subscriber else {
            "first_name": client.first_name, "last_name": client.last_name, "middle_name": client.middle_name or "",
            "birth_date": client.date_of_birth.isoformat(), "sex": client.sex,
            "relationship": policy.relationship_to_subscriber,
            "address": _address(client.address_line1, client.address_line2, client.city, client.state,
                                client.zip_code)},
    }


def default_pointers(diagnoses: list[str]) -> list[int]:
    """The diagnoses a line points at unless a person chose: the principal first, then the others that are
    conditions treated rather than circumstances (ICD-10-CM Z codes: factors influencing health status), at most
    four. A Z code is pointed at only when it is the principal."""
    others = [position for position, code in enumerate(diagnoses[1:], start=2) if not code.upper().startswith("Z")]
    return [1, *others][:x12.MAX_POINTERS]


def pointer_problems(pointers: list[int], diagnoses: list[str]) -> str | None:
    """Why a line's diagnosis pointers cannot be sent, in plain words (None: they can)."""
    if not pointers:
        return "Point the line at one diagnosis at least."
    if len(pointers) > x12.MAX_POINTERS:
        return f"A line points at {x12.MAX_POINTERS} diagnoses at most."
    if len(set(pointers)) != len(pointers):
        return "Each diagnosis once per line."
    if any(pointer < 1 or pointer > len(diagnoses) for pointer in pointers):
        return f"The claim carries {len(diagnoses)} diagnos{'i' if len(diagnoses) == 1 else 'e'}s; point at those."
    return None


def _fill(claim: Claim, bill: Bill, policy: InsurancePolicy) -> None:
    """(Re)write what the claim sends from the bill and the records it points to. Diagnosis pointers a person
    chose stay while the claim's diagnoses are the same; what earlier payers decided (a secondary or tertiary
    claim's prior_payers) stays as it was."""
    before = claim.snapshot or {}
    chosen = {line.bill_line_id: list(line.diagnosis_pointers) for line in claim.lines}
    claim.snapshot = _snapshot(bill, policy)
    if before.get("prior_payers"):
        claim.snapshot["prior_payers"] = before["prior_payers"]
    keep_chosen = before.get("diagnoses") == claim.snapshot["diagnoses"]
    claim.policy_id, claim.payer_id = policy.id, policy.payer_id
    claim.service_date = bill.service_date or min(line.service_date for line in bill.lines)
    claim.place_of_service = bill.lines[0].place_of_service
    pointers = default_pointers(claim.snapshot["diagnoses"])
    if claim.lines:
        claim.lines.clear()
        db.session.flush()  # the old lines go before new ones take their positions
    for position, line in enumerate(bill.lines, start=1):
        claim.lines.append(ClaimLine(bill_line_id=line.id, position=position,
                                     line_reference=f"{claim.patient_control_number}-{position}",
                                     service_date=line.service_date, code=line.code, modifiers=list(line.modifiers),
                                     units=line.units, charge_cents=line.charge_cents,
                                     place_of_service=line.place_of_service,
                                     diagnosis_pointers=chosen[line.id] if keep_chosen and line.id in chosen
                                     else list(pointers)))
    claim.total_charge_cents = sum(line.charge_cents for line in bill.lines)


def set_pointers(claim: Claim, pointers_by_line: dict[int, list[int]], actor: Member | None = None) -> None:
    """A person chose which diagnoses each line points at (claim line id → 1-based positions). Only while the claim
    has not left (Queued or Needs Review); raises ClaimError with the first line's problem, changing nothing."""
    if claim.status not in (ClaimStatus.QUEUED, ClaimStatus.NEEDS_REVIEW):
        raise ClaimError("Diagnosis pointers change only while the claim is Queued or in Needs Review.")
    diagnoses = claim.snapshot["diagnoses"]
    for line in claim.lines:
        wanted = pointers_by_line.get(line.id, line.diagnosis_pointers)
        problem = pointer_problems(wanted, diagnoses)
        if problem:
            raise ClaimError(f"Line {line.position} ({line.code}): {problem}")
    changes = {}
    for line in claim.lines:
        wanted = list(pointers_by_line.get(line.id, line.diagnosis_pointers))
        if wanted != line.diagnosis_pointers:
            changes[str(line.position)] = [line.diagnosis_pointers, wanted]
            line.diagnosis_pointers = wanted
    if changes:
        audit.record("claim.pointers_changed", claim, lines=changes, actor=actor)
        _apply_scrub(claim, actor)


def build_claim(bill: Bill, actor: Member | None = None, *, frequency_code: str = "1",
                original: Claim | None = None) -> Claim:
    """Make a claim for the bill and the client's primary policy, then scrub it: clean claims are
    Queued For Submission, others go to Needs Review with each problem in plain words."""
    problems = eligibility_problems(bill)
    if problems:
        raise ClaimError(" ".join(problem.message for problem in problems))
    return _new_claim(bill, actor, frequency_code=frequency_code, original=original)


def _new_claim(bill: Bill, actor: Member | None, *, frequency_code: str = "1", original: Claim | None = None) -> Claim:
    """build_claim for a bill already found eligible."""
    policy = primary_policy(bill)
    claim = Claim(practice_id=bill.practice_id, bill_id=bill.id, client_id=bill.client_id,
                  clinician_id=bill.clinician_id, policy_id=policy.id, payer_id=policy.payer_id,
                  status=ClaimStatus.QUEUED, frequency_code=frequency_code,
                  original_claim_id=original.id if original else None,
                  payer_claim_number=original.payer_claim_number if original else None,
                  patient_control_number=uuid.uuid4().hex[:20],
                  service_date=bill.service_date or dates.practice_today(bill.practice_id), place_of_service="11",
                  total_charge_cents=0, snapshot={}, lines=[])
    db.session.add(claim)
    db.session.flush()
    # CLM01: short, unique, and readable over the phone with a payer.
    claim.patient_control_number = f"P{claim.practice_id}C{claim.id}"
    with db.session.no_autoflush:  # what _fill reads never depends on this claim: one UPDATE of it, not three
        _fill(claim, bill, policy)
    _enter_queue(claim, f"Built from bill {bill.number}.", actor, bill=bill.number)
    return claim


def _enter_queue(claim: Claim, message: str, actor: Member | None, **details) -> None:
    """A new claim's first event, count and audit, then the scrubber: Queued For Submission or Needs Review."""
    bulk.add(ClaimEvent, claim_id=claim.id, from_status=None, to_status=ClaimStatus.QUEUED,
             source="person" if actor else "scrubber", message=message, member_id=actor.id if actor else None)
    _count(claim.practice_id, ClaimStatus.QUEUED, +1)
    audit.record("claim.created", claim, actor=actor, **details)
    _apply_scrub(claim, actor)


def build_void(original: Claim, actor: Member | None = None) -> Claim:
    """A void (frequency 8) of a claim the payer has: the same claim as sent, with REF*F8 = the payer's claim
    number, copied from the original rather than rebuilt, since the bill may be void and the note amended
    since. Scrubbed like any claim before it leaves."""
    claim = Claim(practice_id=original.practice_id, bill_id=original.bill_id, client_id=original.client_id,
                  clinician_id=original.clinician_id, policy_id=original.policy_id, payer_id=original.payer_id,
                  payer_order=original.payer_order, prior_payer_claim_id=original.prior_payer_claim_id,
                  status=ClaimStatus.QUEUED, frequency_code="8", original_claim_id=original.id,
                  payer_claim_number=original.payer_claim_number, patient_control_number=uuid.uuid4().hex[:20],
                  service_date=original.service_date, place_of_service=original.place_of_service,
                  total_charge_cents=original.total_charge_cents, snapshot=dict(original.snapshot))
    _number_and_copy_lines(claim, original)
    _enter_queue(claim, f"Void of claim {original.patient_control_number}.", actor,
                 void_of=original.patient_control_number)
    return claim


def _number_and_copy_lines(claim: Claim, original: Claim) -> None:
    """Give a new claim its control number and the original's lines, as they were sent."""
    db.session.add(claim)
    db.session.flush()
    claim.patient_control_number = f"P{claim.practice_id}C{claim.id}"
    for line in original.lines:
        claim.lines.append(ClaimLine(bill_line_id=line.bill_line_id, position=line.position,
                                     line_reference=f"{claim.patient_control_number}-{line.position}",
                                     service_date=line.service_date, code=line.code, modifiers=list(line.modifiers),
                                     units=line.units, charge_cents=line.charge_cents,
                                     place_of_service=line.place_of_service,
                                     diagnosis_pointers=list(line.diagnosis_pointers)))


PAYER_ORDERS = {1: "primary", 2: "secondary", 3: "tertiary"}
#: SBR01 of the payer billed now, by payer order.
RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


#: The columns the claims exports (the claims page's CSV, `flask claims list`) append after their own.
LINEAGE_COLUMNS = ["payer_order", "frequency", "follows"]


def lineage(claims: list[Claim]) -> dict[int, list]:
    """Each claim's LINEAGE_COLUMNS: its payer order (primary, secondary, tertiary), frequency (1, 7, 8) and the
    control number of the claim it replaces or voids, or follows as the next payer's claim ("" for none); one
    query for the claims named."""
    followed = {claim.original_claim_id or claim.prior_payer_claim_id for claim in claims} - {None}
    numbers = dict(db.session.execute(select(Claim.id, Claim.patient_control_number)
                                      .where(Claim.id.in_(sorted(followed)))).all()) if followed else {}
    return {claim.id: [PAYER_ORDERS[claim.payer_order], claim.frequency_code,
                       numbers.get(claim.original_claim_id or claim.prior_payer_claim_id, "")] for claim in claims}


def build_next_claim(prior: Claim, policy: InsurancePolicy, adjudication: dict, *, crossover: bool = False,
                     actor: Member | None = None, replaces: Claim | None = None) -> Claim:
    """The next payer's claim (secondary after the primary, tertiary after the secondary) once the prior payer's
    835 posted and left a balance that is not the provider's: the same lines and charges, the next policy's payer
    and subscriber, and every earlier payer's decision (`adjudication`, then the prior claim's own prior_payers)
    for loops 2320/2330/2430. `crossover`: the prior payer forwarded the claim itself (835 CLP02 19–21), so the
    claim is recorded as Sent by it and waits for the next payer's 835; otherwise it is scrubbed into the queue.
    `replaces`: the next payer's claim built from an earlier decision, which that payer knows by its claim number:
    this one replaces it (frequency 7, REF*F8)."""
    order = prior.payer_order + 1
    if order > 3:
        raise ClaimError("A claim goes to three payers at most.")
    client = db.session.get(Client, prior.client_id)
    earlier = {**adjudication, "payer": prior.snapshot["payer"], "subscriber": prior.snapshot["subscriber"],
               "relationship": (prior.snapshot.get("patient") or {}).get("relationship", "18"),
               "payer_order": prior.payer_order}
    snapshot = {**prior.snapshot, **_policy_parts(client, policy),
                "prior_payers": [*prior.snapshot.get("prior_payers", []), earlier]}
    claim = Claim(practice_id=prior.practice_id, bill_id=prior.bill_id, client_id=prior.client_id,
                  clinician_id=prior.clinician_id, policy_id=policy.id, payer_id=policy.payer_id,
                  status=ClaimStatus.SENT if crossover else ClaimStatus.QUEUED,
                  frequency_code="7" if replaces is not None else "1",
                  original_claim_id=replaces.id if replaces is not None else None,
                  payer_claim_number=replaces.payer_claim_number if replaces is not None else None,
                  payer_order=order, prior_payer_claim_id=prior.id, crossover=crossover,
                  patient_control_number=uuid.uuid4().hex[:20], service_date=prior.service_date,
                  place_of_service=prior.place_of_service, total_charge_cents=prior.total_charge_cents,
                  snapshot=snapshot)
    _number_and_copy_lines(claim, prior)
    name, prior_name = policy.payer.name, prior.snapshot["payer"]["name"]
    if crossover:
        message = (f"{prior_name} forwarded the claim to {name} (crossover): {name}'s 835 is awaited; Parity does not "
                   "send it.")
        bulk.add(ClaimEvent, claim_id=claim.id, from_status=None, to_status=ClaimStatus.SENT, source="remittance",
                 message=message, member_id=actor.id if actor else None)
        _count(claim.practice_id, ClaimStatus.SENT, +1)
        audit.record("claim.created", claim, actor=actor, follows=prior.patient_control_number, crossover=True)
    else:
        message = f"{PAYER_ORDERS[order].capitalize()} claim to {name} for what {prior_name} left."
        if replaces is not None:
            message += f" It replaces claim {replaces.patient_control_number} (frequency 7)."
        _enter_queue(claim, message, actor, follows=prior.patient_control_number)
    bulk.add(ClaimEvent, claim_id=prior.id, from_status=prior.status, to_status=prior.status, source="remittance",
             message=f"{'Forwarded by the payer' if crossover else 'Billed'} to {name}: "
                     f"{PAYER_ORDERS[order]} claim {claim.patient_control_number}.",
             member_id=actor.id if actor else None)
    return claim


def claim_for_bill(bill: Bill, actor: Member | None = None) -> Claim | None:
    """The practice's automation: a claim when a bill is made for a client with active insurance (if on
    and eligible); an ineligible bill simply gets none (the bill page says why)."""
    practice = db.session.get(Practice, bill.practice_id)
    if not practice.create_claims_automatically or primary_policy(bill) is None or eligibility_problems(bill):
        return None
    if db.session.scalar(select(Claim.id).where(Claim.bill_id == bill.id).limit(1)):
        return None
    return _new_claim(bill, actor)


def claims_after_signing(session: TherapySession, actor: Member | None = None) -> list[Claim]:
    """A signed note may make the session's bills eligible: claim them now (when automation is on)."""
    bill_ids = {line.bill_id for line in db.session.scalars(select(BillLine).where(BillLine.session_id == session.id))}
    made = []
    for bill_id in sorted(bill_ids):
        bill = db.session.get(Bill, bill_id)
        if bill.status != BillStatus.VOID:
            claim = claim_for_bill(bill, actor)
            if claim is not None:
                made.append(claim)
    return made


# ---------------------------------------------------------------- the bill's claim after the bill changes

#: Statuses in which a claim has not left Parity: a bill edit rewrites it and scrubs it again.
WAITING = (ClaimStatus.QUEUED, ClaimStatus.NEEDS_REVIEW)


def current_claim(bill_id: int) -> Claim | None:
    """The claim that speaks for the bill now: its latest original or replacement, unless a void cancelled it or it
    was withdrawn."""
    claim = db.session.scalar(select(Claim).where(Claim.bill_id == bill_id, Claim.frequency_code.in_(("1", "7")),
                                                  Claim.status != ClaimStatus.WITHDRAWN)
                              .order_by(Claim.id.desc()).limit(1))
    if claim is None or db.session.scalar(select(Claim.id).where(Claim.original_claim_id == claim.id,
                                                                 Claim.frequency_code == "8").limit(1)):
        return None
    return claim


def sent_lines(lines) -> list[tuple]:
    """What a payer reads of each line, in order: date, code, modifiers, units and charge."""
    return [(line.service_date, line.code, tuple(line.modifiers), line.units, line.charge_cents) for line in lines]


def matches_bill(claim: Claim, bill: Bill) -> bool:
    """Whether the claim says what the bill says, line for line."""
    return sent_lines(claim.lines) == sent_lines(bill.lines)


def has_left(claim: Claim | None) -> bool:
    return claim is not None and claim.status not in WAITING


def follow_bill(claim: Claim, actor: Member | None = None) -> None:
    """A claim still waiting here (Queued For Submission or Needs Review) after its bill changed: what it sends is
    rewritten from the bill and scrubbed again, into Queued For Submission or Needs Review."""
    if claim.status == ClaimStatus.NEEDS_REVIEW:
        recheck(claim, actor)
        return
    bill = db.session.get(Bill, claim.bill_id)
    _fill(claim, bill, _policy_for(claim, bill))
    bulk.add(ClaimEvent, claim_id=claim.id, from_status=claim.status, to_status=claim.status,
             source="person" if actor else "scrubber", message=f"Rewritten from bill {bill.number} after it changed.",
             member_id=actor.id if actor else None)
    _apply_scrub(claim, actor)


# ---------------------------------------------------------------- scrubber


PRACTICE_PAGE = "/settings/practice"


def policy_page(claim: Claim) -> str:
    """Where the claim's policy (member ID, subscriber) is edited."""
    return f"/clients/{claim.client_id}/policies/{claim.policy_id}"


def member_page(claim: Claim) -> str:
    """Where the rendering clinician's NPI and taxonomy are edited."""
    return f"/settings/members/{claim.clinician_id}"


#: 277CA claim status codes (STC01-2) about the subscriber, the policy or coverage: fixed on the policy.
POLICY_STATUSES = frozenset({"27", "29", "30", "31", "32", "33", "85", "88", "97", "109", "116", "163", "164"})
#: Codes about the provider or submitter (NPI, tax ID, taxonomy, address, enrolment): fixed where the entity
#: named lives, the practice unless it is the rendering clinician.
PROVIDER_STATUSES = frozenset({"24", "96", "128", "145", "496", "500", "501", "502", "562"})
#: Codes that need the entity (STC01-3) to say whose detail is wrong: not found, name, id, date of birth, address.
ENTITY_STATUSES = frozenset({"26", "125", "126", "153", "158"})
POLICY_ENTITIES = frozenset({"IL", "QC", "03"})
POLICY_WORDS = ("subscriber", "member id", "insured", "policy", "eligib", "coverage")
PROVIDER_WORDS = ("npi", "tax id", "taxonomy", "submitter", "billing provider", "provider not")


def rejection_fix(claim: Claim, status_code: str = "", entity: str = "", words: str = "") -> str:
    """The page where a person fixes what a clearinghouse or payer rejected: the policy for a subscriber or
    member ID problem, the practice or the clinician for a provider problem, else the bill."""
    text = words.lower()
    policy = (status_code in POLICY_STATUSES or (status_code in ENTITY_STATUSES and entity in POLICY_ENTITIES)
              or any(word in text for word in POLICY_WORDS))
    if policy:
        return policy_page(claim)
    provider = (status_code in PROVIDER_STATUSES or (status_code in ENTITY_STATUSES and entity in ("82", "85", "41"))
                or any(word in text for word in PROVIDER_WORDS))
    if provider:
        return member_page(claim) if entity == "82" and claim.clinician_id else PRACTICE_PAGE
    return f"/bills/{claim.bill_id}"


def scrub(claim: Claim) -> list[Problem]:
    """Every check a claim must pass before it leaves (shared/domain.md), in plain words."""
    snap = claim.snapshot
    found: list[Problem] = []
    practice_fix = PRACTICE_PAGE
    billing = snap["billing_provider"]
    if not npi_is_valid(billing["npi"]):
        found.append(Problem(f"The billing provider NPI {billing['npi'] or '(none)'} is not a valid NPI.",
                             practice_fix))
    if not taxonomy_is_valid(billing["taxonomy"]):
        found.append(Problem("The billing provider needs a taxonomy code (10 characters ending in X).", practice_fix))
    if billing.get("tax_id_is_ssn"):
        if not billing["is_person"]:
            found.append(Problem("Only a sole provider billing under their own NPI (individual billing) may bill "
                                 "under an SSN; bill under the practice's EIN.", practice_fix))
        if len(billing["tax_id"] or "") != 9 or not (billing["tax_id"] or "").isdigit():
            found.append(Problem("The sole provider's SSN (the tax ID claims send) is missing or not 9 digits.",
                                 practice_fix))
    elif not ein_is_valid(billing["tax_id"]):
        found.append(Problem("The practice's tax ID (EIN) is missing or not 9 digits.", practice_fix))
    if not zip9_is_valid(billing["address"]["zip_code"]) or not billing["address"]["line1"]:
        found.append(Problem("The billing provider address needs a street and a 9-digit ZIP.", practice_fix))
    if not billing.get("phone"):
        found.append(Problem("The practice needs a phone number: the claim file names it as the contact payers and "
                             "the clearinghouse call about claims.", practice_fix))
    rendering = snap.get("rendering_provider")
    if rendering is not None:
        member_fix = member_page(claim)
        if not npi_is_valid(rendering["npi"]) or not rendering["npi"].startswith("1"):
            found.append(Problem(f"{rendering['name']} needs a valid individual NPI.", member_fix))
        if not taxonomy_is_valid(rendering["taxonomy"]):
            found.append(Problem(f"{rendering['name']} needs a taxonomy code.", member_fix))
    note_fix = f"/bills/{claim.bill_id}"
    if not snap["diagnoses"]:
        found.append(Problem("The claim has no diagnosis: the signed note listed none.", note_fix))
    for message in diagnoses.validate_for_claim(snap["diagnoses"], claim.service_date) if snap["diagnoses"] else []:
        found.append(Problem(message, note_fix))
    for line in claim.lines:
        problem = pointer_problems(line.diagnosis_pointers, snap["diagnoses"]) if snap["diagnoses"] else None
        if problem:
            found.append(Problem(f"Line {line.position} ({line.code}) diagnosis pointers: {problem}",
                                 f"/claims/{claim.id}"))
        if line.charge_cents <= 0:
            found.append(Problem(f"Line {line.position} ({line.code}) has no charge.", f"/bills/{claim.bill_id}"))
    claim_codes = [line.code for line in claim.lines]
    for message in codes.addon_problems(claim_codes):
        found.append(Problem(message, f"/bills/{claim.bill_id}"))
    for session_id, minutes in (snap.get("minutes") or {}).items():
        if minutes is None:
            continue
        for line in claim.lines:
            check = catalog.time_check(claim.practice_id, line.code, minutes)
            if not check.allowed:
                found.append(Problem(f"Line {line.position}: {check.message}", f"/sessions/{session_id}/complete"))
    found += _place_and_modifier_problems(claim)
    subscriber = snap["subscriber"]
    policy_fix = policy_page(claim)
    if not subscriber["member_id"]:
        found.append(Problem("The policy has no member ID.", policy_fix))
    if not (subscriber["first_name"] and subscriber["last_name"]):
        found.append(Problem("The subscriber's name is missing.", policy_fix))
    if snap.get("patient") is None:
        if not subscriber["birth_date"] or not subscriber["address"]["line1"] or not subscriber["address"]["zip_code"]:
            found.append(Problem("The client's date of birth and address are needed on the claim.",
                                 f"/clients/{claim.client_id}/edit"))
    elif not subscriber["birth_date"] or not subscriber["address"]["line1"] or not subscriber["address"]["zip_code"]:
        found.append(Problem("The subscriber's date of birth and address are missing from the policy.", policy_fix))
    today = dates.practice_today(claim.practice_id)
    if claim.service_date > today or any(line.service_date > today for line in claim.lines):
        found.append(Problem("The date of service is in the future.", f"/bills/{claim.bill_id}"))
    if claim.total_charge_cents <= 0:
        found.append(Problem("The claim's total charge is $0.", f"/bills/{claim.bill_id}"))
    if claim.frequency_code in ("7", "8") and not claim.payer_claim_number:
        found.append(Problem("A replacement or void needs the payer's claim number of the original claim."))
    return found


def _place_and_modifier_problems(claim: Claim) -> list[Problem]:
    snap = claim.snapshot
    payer = snap["payer"]
    modality = snap.get("modality", "in_person")
    fix = f"/bills/{claim.bill_id}"
    found = []
    telehealth_modifiers = {"95", "GT", "93", "FQ"}
    for line in claim.lines:
        used = set(line.modifiers) & telehealth_modifiers
        place = line.place_of_service or claim.place_of_service
        if place not in TELEHEALTH_PLACES and used:
            found.append(Problem(f"Line {line.position} has telehealth modifier {', '.join(sorted(used))} but place "
                                 f"of service {place}: telehealth is POS 02 or 10.", fix))
        if place in TELEHEALTH_PLACES:
            wanted = payer["audio_only_modifier"] if modality == "audio" else payer["telehealth_modifier"]
            if wanted and wanted not in line.modifiers:
                found.append(Problem(f"Line {line.position}: {payer['name']} wants modifier {wanted} on "
                                     f"{'audio-only' if modality == 'audio' else 'video'} sessions.", fix))
            other = used - {wanted}
            if other:
                found.append(Problem(f"Line {line.position}: {payer['name']} does not take modifier "
                                     f"{', '.join(sorted(other))}; it wants {wanted or 'none'}.", fix))
    return found


def _policy_for(claim: Claim, bill: Bill) -> InsurancePolicy:
    """The policy a claim rewritten from its bill is for: a primary claim's, the client's primary policy now (or its
    own); a later payer's claim keeps its own policy."""
    own = db.session.get(InsurancePolicy, claim.policy_id)
    return own if claim.payer_order > 1 else primary_policy(bill) or own


def _apply_scrub(claim: Claim, actor: Member | None) -> None:
    problems = scrub(claim)
    claim.problems = [problem.as_dict() for problem in problems]
    if problems and claim.status != ClaimStatus.NEEDS_REVIEW:
        transition(claim, ClaimStatus.NEEDS_REVIEW, "scrubber", " ".join(p.message for p in problems), actor)


def recheck(claim: Claim, actor: Member | None = None) -> bool:
    """After a person fixed what the scrubber found: rebuild what the claim sends from the current records
    and scrub again. Clean → back in the queue. Returns whether it passed."""
    if claim.status != ClaimStatus.NEEDS_REVIEW:
        raise ClaimError("Only a claim in Needs Review is rechecked.")
    prior = db.session.get(Claim, claim.prior_payer_claim_id) if claim.prior_payer_claim_id else None
    if prior is not None and prior.status not in SETTLED_BY_REMITTANCE:
        raise ClaimError(f"Claim {prior.patient_control_number}, whose decision this claim reports, is "
                         f"{ClaimStatus(prior.status).label}: its payer took the decision back. This claim is rebuilt "
                         "when the corrected decision posts.")
    if claim.frequency_code == "8":
        # A void says what the original said; it waits only for the payer's claim number of the original.
        claim.payer_claim_number = db.session.get(Claim, claim.original_claim_id).payer_claim_number
    else:
        bill = db.session.get(Bill, claim.bill_id)
        _fill(claim, bill, _policy_for(claim, bill))
    problems = scrub(claim)
    claim.problems = [problem.as_dict() for problem in problems]
    if problems:
        db.session.add(ClaimEvent(claim_id=claim.id, from_status=claim.status, to_status=claim.status,
                                  source="scrubber", message="Recheck: " + " ".join(p.message for p in problems),
                                  member_id=actor.id if actor else None))
        return False
    transition(claim, ClaimStatus.QUEUED, "person" if actor else "scrubber", "Recheck passed.", actor)
    return True


def _count(practice_id: int, status: str, delta: int) -> None:
    """Keep ClaimCount exact: one atomic UPDATE, creating the row the first time."""
    bump = (update(ClaimCount).where(ClaimCount.practice_id == practice_id, ClaimCount.status == status)
            .values(count=ClaimCount.count + delta).execution_options(synchronize_session="fetch"))
    if db.session.execute(bump).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(ClaimCount(practice_id=practice_id, status=status, count=delta))
        except IntegrityError:
            db.session.execute(bump)  # another transaction created it first


def status_counts(practice_id: int) -> dict[str, int]:
    return dict(db.session.execute(select(ClaimCount.status, ClaimCount.count)
                                   .where(ClaimCount.practice_id == practice_id)).all())


def apply_counts(practice_id: int, deltas: dict[str, int]) -> None:
    """Apply status count changes gathered by transition(…, counts=) in one UPDATE per status."""
    for status, delta in sorted(deltas.items()):
        if delta:
            _count(practice_id, status, delta)


def transition(claim: Claim, to: ClaimStatus, source: str, message: str = "", actor: Member | None = None,
               counts: dict[str, int] | None = None) -> None:
    """Move a claim to a new status, refusing moves the state machine does not allow; every move is a
    ClaimEvent. A caller moving thousands of claims passes `counts` and applies them once (apply_counts)."""
    current = ClaimStatus(claim.status)
    allowed = TRANSITIONS.get(current, set())
    if source in ("remittance", "clearinghouse") and to in SETTLED_BY_REMITTANCE \
            and current not in SETTLED_BY_REMITTANCE:
        allowed = allowed | SETTLED_BY_REMITTANCE
    if source == "clearinghouse" and current == ClaimStatus.QUEUED and to in AFTER_SENDING:
        allowed = allowed | set(AFTER_SENDING)  # sent by another route (a downloaded file) but still Queued here
    if source == "remittance" and to == ClaimStatus.IN_PROCESS and current in REOPENED_BY_REVERSAL:
        allowed = allowed | {ClaimStatus.IN_PROCESS}  # an 835 reversal (CLP02 22) reopens the claim
    if source == "remittance" and to == ClaimStatus.NEEDS_REVIEW and current == ClaimStatus.PAID:
        allowed = allowed | {ClaimStatus.NEEDS_REVIEW}  # the earlier payer's decision it reported was reversed
    if to not in allowed:
        raise ClaimError(f"A claim cannot go from {current.label} to {ClaimStatus(to).label}.")
    if source not in SOURCES:
        raise ValueError(f"unknown claim event source {source!r}")
    bulk.add(ClaimEvent, claim_id=claim.id, from_status=current, to_status=to, source=source, message=message,
             member_id=actor.id if actor else None)
    claim.status = to
    if counts is None:
        _count(claim.practice_id, current, -1)
        _count(claim.practice_id, to, +1)
    else:
        counts[current.value] = counts.get(current.value, 0) - 1
        counts[str(to)] = counts.get(str(to), 0) + 1
    audit.record("claim.status_changed", claim, status=[current.value, str(to)], source=source, actor=actor)


# ---------------------------------------------------------------- 837P


def next_interchange_number(practice_id: int) -> int:
    """ISA13 (and GS06/ST02 of the file): one atomic UPDATE … RETURNING per file, real and increasing."""
    bump = (update(X12Counter).where(X12Counter.practice_id == practice_id)
            .values(last_interchange=X12Counter.last_interchange + 1).returning(X12Counter.last_interchange))
    number = db.session.execute(bump).scalar()
    if number is None:
        db.session.add(X12Counter(practice_id=practice_id, last_interchange=0))
        db.session.flush()
        number = db.session.execute(bump).scalar()
    return number


def _x12_address(values: dict) -> x12.Address:
    return x12.Address(line1=values["line1"], line2=values.get("line2", ""), city=values["city"],
                       state=values["state"], zip_code=values["zip_code"])


def _split_name(name: str) -> tuple[str, str]:
    """'Casey Clinician, LMHC' → ('Clinician', 'Casey'): credentials after a comma are not part of a name."""
    words = name.split(",")[0].split()
    return (words[-1], " ".join(words[:-1])) if len(words) > 1 else (name, "")


def _x12_subscriber(subscriber: dict) -> x12.Subscriber:
    return x12.Subscriber(member_id=subscriber["member_id"], last_name=subscriber["last_name"],
                          first_name=subscriber["first_name"], group_number=subscriber["group_number"],
                          birth_date=date.fromisoformat(subscriber["birth_date"]) if subscriber["birth_date"]
                          else None, sex=subscriber["sex"] or "U",
                          address=_x12_address(subscriber["address"]) if subscriber["address"]["line1"] else None)


def _x12_payer(payer: dict) -> x12.Payer:
    return x12.Payer(name=payer["name"], payer_id=payer["payer_id"], filing_indicator=payer["filing_indicator"])


def _carried(adjustments: list[dict]) -> tuple[x12.CarriedAdjustment, ...]:
    return tuple(x12.CarriedAdjustment(group=a["group"], reason=a["reason"], amount_cents=a["amount_cents"])
                 for a in adjustments)


def _other_payers(snap: dict) -> tuple[x12.OtherPayer, ...]:
    """Loops 2320/2330: each earlier payer's decision, as the prior claims' 835s said it."""
    return tuple(x12.OtherPayer(
        responsibility=RESPONSIBILITY[earlier["payer_order"]], relationship=earlier["relationship"],
        subscriber=_x12_subscriber(earlier["subscriber"]), payer=_x12_payer(earlier["payer"]),
        paid_cents=earlier["paid_cents"], adjudicated_on=date.fromisoformat(earlier["adjudicated_on"]),
        adjustments=_carried(earlier["claim_adjustments"]),
        remaining_patient_liability_cents=earlier["patient_responsibility_cents"])
        for earlier in snap.get("prior_payers", []))


def _line_adjudications(snap: dict, position: int) -> tuple[x12.LineAdjudication, ...]:
    """Loop 2430 of one line: what each earlier payer did with it (matched by the line's position)."""
    return tuple(x12.LineAdjudication(
        payer_id=earlier["payer"]["payer_id"], paid_cents=service["paid_cents"], procedure_code=service["code"],
        modifiers=tuple(service["modifiers"]), units=service["units"],
        adjudicated_on=date.fromisoformat(earlier["adjudicated_on"]), adjustments=_carried(service["adjustments"]))
        for earlier in snap.get("prior_payers", []) for service in earlier["lines"] if service["position"] == position)


def to_x12_claim(claim: Claim) -> x12.Claim:
    snap = claim.snapshot
    subscriber = snap["subscriber"]
    patient = snap.get("patient")
    rendering = snap.get("rendering_provider")
    billing = snap["billing_provider"]
    return x12.Claim(
        patient_control_number=claim.patient_control_number, place_of_service=claim.place_of_service,
        diagnoses=tuple(snap["diagnoses"]),
        lines=tuple(x12.ServiceLine(line_id=line.line_reference, procedure_code=line.code,
                                    charge_cents=line.charge_cents, units=line.units, service_date=line.service_date,
                                    diagnosis_pointers=tuple(line.diagnosis_pointers),
                                    modifiers=tuple(line.modifiers), place_of_service=line.place_of_service or "",
                                    adjudications=_line_adjudications(snap, line.position))
                    for line in claim.lines),
        subscriber=_x12_subscriber(subscriber), payer=_x12_payer(snap["payer"]),
        payer_responsibility=RESPONSIBILITY[claim.payer_order], other_payers=_other_payers(snap),
        frequency_code=claim.frequency_code, payer_claim_control_number=claim.payer_claim_number or "",
        patient=x12.Patient(last_name=patient["last_name"], first_name=patient["first_name"],
                            middle_name=patient.get("middle_name", ""),
                            birth_date=date.fromisoformat(patient["birth_date"]), sex=patient["sex"],
                            address=_x12_address(patient["address"]), relationship=patient["relationship"])
        if patient else None,
        rendering_provider=x12.RenderingProvider(last_name=_split_name(rendering["name"])[0],
                                                 first_name=_split_name(rendering["name"])[1], npi=rendering["npi"],
                                                 taxonomy=rendering["taxonomy"])
        if rendering and rendering["npi"] != billing["npi"] else None)


def x12_billing_provider(snapshot: dict) -> x12.BillingProvider:
    """The billing provider a claim names (2010AA), from its snapshot: the 837P and the CMS-1500 share it."""
    billing = snapshot["billing_provider"]
    last, first = _split_name(billing["name"]) if billing["is_person"] else (billing["name"], "")
    return x12.BillingProvider(name=last, first_name=first, is_person=billing["is_person"], npi=billing["npi"],
                               taxonomy=billing["taxonomy"], tax_id=billing["tax_id"],
                               tax_id_is_ssn=billing.get("tax_id_is_ssn", False),
                               address=_x12_address(billing["address"]), phone=billing.get("phone", ""))


@dataclass(frozen=True)
class Export:
    files: list[X12File]
    rejected: list[Claim]


def write_batches(practice: Practice, claims: list[Claim], *, usage: str = "P") -> Export:
    """Write the claims as 837P files (one interchange per billing provider), validate each with pyx12
    and Parity's own checks, and store every file. A file that fails validation is stored but never sent:
    its claims go to Needs Review with the validator's words."""
    groups: dict[str, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.snapshot["billing_provider"]["npi"], []).append(claim)
    files, rejected = [], []
    for group in groups.values():
        created_at = datetime.now(timezone.utc)
        # Validated under a stand-in control number first, so a file that fails takes no number from the
        # practice's sequence; only the envelope's numbers differ in the file that is kept.
        text = _batch_text(practice, group, PROVISIONAL_CONTROL_NUMBER, created_at, usage)
        result = validate_x12(text)
        number = next_interchange_number(practice.id) if result.ok else None
        if number is not None:
            text = _batch_text(practice, group, number, created_at, usage)
        record = X12File(practice_id=practice.id, kind="837P", interchange_control_number=number,
                         claim_count=len(group), content=text, valid=result.ok, validation_messages=result.errors)
        db.session.add(record)
        db.session.flush()
        for claim in group:
            db.session.add(ClaimFile(claim_id=claim.id, file_id=record.id))
        if result.ok:
            files.append(record)
        else:
            for claim in group:
                claim.problems = [{"message": f"The 837P file failed validation: {message}", "fix": ""}
                                  for message in result.errors[:5]]
                if claim.status != ClaimStatus.NEEDS_REVIEW:
                    transition(claim, ClaimStatus.NEEDS_REVIEW, "scrubber", "837P validation failed: "
                               + "; ".join(result.errors[:3]))
                rejected.append(claim)
    return Export(files, rejected)


#: The control number a file is validated under before it takes a real one.
PROVISIONAL_CONTROL_NUMBER = 1


def _batch_text(practice: Practice, group: list[Claim], number: int, created_at: datetime, usage: str) -> str:
    batch = x12.Batch(
        interchange_control_number=number, group_control_number=number, transaction_control_number=number,
        created_at=created_at, sender_id=practice.submitter_id or f"PARITY{practice.id}",
        receiver_id=practice.receiver_id or "CLAIMMD", usage_indicator=usage,
        submitter=x12.Submitter(name=practice.submitter_name or practice.legal_name,
                                identifier=practice.submitter_id or f"PARITY{practice.id}",
                                contact_name=practice.legal_name,
                                # Never made up: the scrubber holds back claims whose practice had no phone.
                                phone=practice.phone or group[0].snapshot["billing_provider"].get("phone", "")),
        receiver=x12.Receiver(name=practice.receiver_name or "CLAIM.MD", identifier=practice.receiver_id
                              or "CLAIMMD"),
        billing_provider=x12_billing_provider(group[0].snapshot),
        claims=tuple(to_x12_claim(claim) for claim in group))
    return write_837p(batch)


def mark_sent(claims: list[Claim], file: X12File, source: str = "person", actor: Member | None = None) -> None:
    for claim in claims:
        transition(claim, ClaimStatus.SENT, source, f"In 837P interchange {file.interchange_control_number}.",
                   actor)
