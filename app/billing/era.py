"""Posting a payer's remittance (835) onto claims and bills. No Flask request in sight; callers own the
transaction, and a whole file posts in it or nothing does.

A file is refused, changing nothing, when it does not parse or balance (the reader checks line and claim
CAS arithmetic and BPR02 = ΣCLP04 − ΣPLB) or when one of its payments was posted before (same payer,
same TRN02). Claims match on CLP01 = our patient control number, or, when a payer rewrote CLP01, on the line
ids it echoes (REF*6R, which Parity writes as "<control number>-<line>"); lines on REF*6R, whatever the claim's
status here. Per claim payment (CLP):
- 1/2/3 (and 19–21, processed and forwarded): Paid. The insurance payment is applied to the bill, CO and
  PI amounts are contractual write-offs, OA amounts other adjustments; PR amounts (deductible,
  coinsurance, copay) stay on the bill as the client's balance; a Pended bill opens, so the client sees it,
  even when the payer paid nothing (all to the deductible). When the client has a next policy (priority 2 or 3)
  on the date of service, the next payer is asked first: its claim holds the balance on insurance's side
  (responsibility), so the client owes nothing of it until that payer decides. With CLP02 1/2/3
  and a PR balance, Parity builds the next payer's claim itself (claims.build_next_claim); with 19/20/21 the
  payer forwarded the claim (a crossover, NM1*TT): the next claim is recorded as Sent by the payer, never sent
  by us, and waits for that payer's 835. A payment processed as secondary (2/20) or tertiary (3/21) whose
  CLP01 names the primary's claim (crossovers keep the original claim number) posts onto the claim that
  follows it. A later payer's CO/OA-23 (the earlier payers' part) is never written off again: its write-offs
  are what it leaves of the bill's balance, less what the client owes.
- 4: Denied, with the CARC/RARC codes in plain words. Nothing is written off: a denial is work for a
  biller (the denials queue), not a settled debt. A denial saying the claim is another payer's or not
  covered by this one (COVERAGE_DENIALS) bills the next payer for all of it, when the client has one.
- 22: undoes the earlier posting of that claim (payment reversed, write-offs taken back).
- anything that cannot be matched or posted goes to the unmatched queue with the reason.
Each claim posts inside a savepoint, so one claim that cannot be posted never leaves half its entries.

Provider-level adjustments (PLB) are rows of their own (ProviderAdjustment), so a remittance's claim payments
less its PLB amounts equal the deposit: L6 interest (money added), WO and 72 recoveries tied to the claim
PLB03-2 names (our control number or the payer's claim number), FB forwarding balances carried between
payments with their reference, and the rest (CS …) as the payer sent them.
"""
from __future__ import annotations

from dataclasses import dataclass

from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import audit, bulk
from app.billing import bills, claims as claim_rules, coordination, dates
from app.billing.money import dollars
from app.extensions import db
from app.models import (Adjustment, AdjustmentKind, Bill, BillStatus, Claim, Client, ClaimEvent, ClaimStatus,
                        InsurancePolicy, Member, Payer, Payment, PaymentSource, PostingOutcome, Practice,
                        ProviderAdjustment, Remittance, RemittanceClaim, X12File)
from app.models.types import utcnow
from app.x12 import inbound, reasons
from app.x12.remittance import parse_835

PROCESSED = set(inbound.PROCESSED_AS)
DENIED = {"4"}
#: CARCs by which a payer says the claim is not its to pay — another payer's per coordination of benefits (22),
#: outside its coverage (26, 27), not its insured (31), not covered by it (96, 109, 204): when the client has a
#: next policy, that payer is billed for the whole claim.
COVERAGE_DENIALS = {"22", "26", "27", "31", "96", "109", "204"}
#: CARC 23: the impact of earlier payers' adjudication, how a later payer reports what they paid or wrote off.
PRIOR_PAYERS_PART = "23"
#: PLB reasons that recover money paid on one claim, named by PLB03-2.
RECOVERIES = {"WO", "72"}
REVERSAL = {"22"}
#: CAS groups the practice may not bill the client for: written off as contractual.
CONTRACTUAL_GROUPS = {"CO", "PI", "CR"}
METHODS = {"ACH": "ach", "CHK": "check"}
_CHUNK = 500


class RemittanceRefused(Exception):
    """The file changes nothing: it does not parse or balance, or it was posted before."""


class AlreadyPosted(RemittanceRefused):
    """Every payment in the file was posted before; posting it again would count the money twice."""


@dataclass(frozen=True)
class ImportResult:
    remittances: list[Remittance]
    file: X12File

    @property
    def claims_posted(self) -> int:
        return sum(remittance.claim_count - remittance.unmatched_count for remittance in self.remittances)

    @property
    def unmatched(self) -> int:
        return sum(remittance.unmatched_count for remittance in self.remittances)


def payer_key(remittance: inbound.Remittance) -> str:
    """How the payer names itself, for the duplicate check: its id when it sends one, else its name."""
    return (remittance.payer_id or remittance.payer_identifier or remittance.payer_name).strip().upper()[:80]


def read(text: str) -> list[inbound.Remittance]:
    """Parse an 835, turning every reading failure into RemittanceRefused with the reader's words."""
    try:
        return parse_835(text)
    except inbound.X12ReadError as error:
        raise RemittanceRefused(f"The 835 was not posted: {error}") from error


def import_835(practice: Practice, text: str, *, source: str, actor: Member | None = None) -> ImportResult:
    """Check and post a whole 835 file (one or more payments) for the practice."""
    parsed = read(text)
    if not parsed:
        raise RemittanceRefused("The 835 was not posted: it holds no payment (no ST*835 transaction).")
    seen: dict[tuple[str, str], Remittance] = {}
    for remittance in parsed:
        key = (payer_key(remittance), remittance.trace_number)
        if key in seen:
            raise RemittanceRefused(f"The 835 was not posted: payment {remittance.trace_number} appears twice in it.")
        earlier = db.session.scalar(select(Remittance).where(Remittance.practice_id == practice.id,
                                                             Remittance.payer_key == key[0],
                                                             Remittance.trace_number == key[1]))
        if earlier is not None:
            raise AlreadyPosted(f"Payment {remittance.trace_number} from {remittance.payer_name} was already "
                                f"posted on {earlier.created_at:%b %-d, %Y} (remittance #{earlier.id}); the file "
                                "changed nothing.")
        seen[key] = remittance
    file = X12File(practice_id=practice.id, kind="835", content=text, claim_count=sum(len(r.claims) for r in parsed),
                   interchange_control_number=_int_or_none(parsed[0].interchange_control_number))
    db.session.add(file)
    db.session.flush()
    posted = [post_remittance(practice, remittance, file, source=source, actor=actor) for remittance in parsed]
    return ImportResult(posted, file)


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _payer(practice_id: int, remittance: inbound.Remittance) -> Payer | None:
    if remittance.payer_id:
        payer = db.session.scalar(select(Payer).where(Payer.practice_id == practice_id,
                                                      Payer.clearinghouse_payer_id == remittance.payer_id).limit(1))
        if payer is not None:
            return payer
    return db.session.scalar(select(Payer).where(Payer.practice_id == practice_id,
                                                 func.lower(Payer.name) == remittance.payer_name.strip().lower())
                             .limit(1))


def post_remittance(practice: Practice, remittance: inbound.Remittance, file: X12File, *, source: str,
                    actor: Member | None = None) -> Remittance:
    """Record one 835 payment and post each of its claim payments."""
    payer = _payer(practice.id, remittance)
    record = Remittance(
        practice_id=practice.id, payer_id=payer.id if payer else None, payer_name=remittance.payer_name[:120],
        payer_key=payer_key(remittance), trace_number=remittance.trace_number[:80],
        payment_method=remittance.payment_method[:3], total_paid_cents=remittance.total_paid_cents,
        paid_on=remittance.paid_on, file_id=file.id, source=source, claim_count=len(remittance.claims),
        posted_by_id=actor.id if actor else None)
    db.session.add(record)
    db.session.flush()
    echoed = {id(payment): _echoed_claim_number(payment) for payment in remittance.claims}
    by_number = _claims_by_number(practice.id, [payment.patient_control_number for payment in remittance.claims]
                                  + [number for number in echoed.values() if number])
    items = _to_later_payers([(payment, by_number.get(payment.patient_control_number)
                               or by_number.get(echoed[id(payment)])) for payment in remittance.claims])
    _record_provider_adjustments(record, remittance, actor)
    policies = _later_policies([claim.client_id for _, claim in items if claim is not None])
    one_by_one = _post_together(record, items, actor, policies)
    # The bills (and clients) the one-by-one path reads, in one query rather than one or two per claim; held here,
    # since the session keeps only weak references to objects nothing changed.
    held = _load_bills([claim.bill_id for _, claim in one_by_one])  # noqa: F841 - held, not read
    for payment, claim in one_by_one:
        _post_matched(_line(record, payment, claim), record, payment, claim, actor, policies)
    record.unmatched_count = db.session.scalar(
        select(func.count()).select_from(RemittanceClaim).where(RemittanceClaim.remittance_id == record.id,
                                                                 RemittanceClaim.outcome == PostingOutcome.UNMATCHED))
    audit.record("remittance.posted", record, trace_number=record.trace_number, payer=record.payer_name,
                 total_cents=record.total_paid_cents, claims=record.claim_count, unmatched=record.unmatched_count,
                 source=source, actor=actor)
    return record


def _claims_by_number(practice_id: int, numbers: list[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    unique = sorted(set(numbers))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        for claim in db.session.scalars(select(Claim).where(Claim.practice_id == practice_id,
                                                            Claim.patient_control_number.in_(chunk))
                                        .options(selectinload(Claim.lines))):
            found[claim.patient_control_number] = claim
    return found


def _load_bills(bill_ids: list[int]) -> list[Bill | Client]:
    """These bills and their clients, in the session for the posting rules to find there (the clients are returned
    too: a bill re-read under its lock lets go of its client)."""
    unique, found = sorted(set(bill_ids)), []
    for start in range(0, len(unique), _CHUNK):
        for bill in db.session.scalars(select(Bill).where(Bill.id.in_(unique[start:start + _CHUNK]))
                                       .options(selectinload(Bill.client))):
            found += [bill, bill.client]
    return found


def _later_policies(client_ids: list[int]) -> dict[int, list[InsurancePolicy]]:
    """Every policy of each of these clients who has a second or third one (one query per chunk of clients, for
    the whole 835): only those clients can have a next payer (_next_policy looks past the claim's own policy, so
    at priority 2 or 3); the others are left out, and their claims end with the payer that answered."""
    found: dict[int, list[InsurancePolicy]] = defaultdict(list)
    unique = sorted(set(client_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        with_later = select(InsurancePolicy.client_id).where(InsurancePolicy.client_id.in_(chunk),
                                                             InsurancePolicy.priority > 1)
        for policy in db.session.scalars(select(InsurancePolicy).where(InsurancePolicy.client_id.in_(with_later))
                                         .order_by(InsurancePolicy.id)):
            found[policy.client_id].append(policy)
    return found


def _to_later_payers(items: list[tuple]) -> list[tuple]:
    """A payment processed as secondary or tertiary that names an earlier payer's claim (a crossover keeps the
    original CLP01) belongs to the claim that follows it: the next payer's claim."""
    waiting = {claim.id for payment, claim in items
               if claim is not None and (payment.processed_as or 0) > claim.payer_order}
    if not waiting:
        return items
    followers: dict[int, Claim] = {}
    while waiting:
        found = db.session.scalars(select(Claim).where(Claim.prior_payer_claim_id.in_(sorted(waiting)),
                                                       Claim.status != ClaimStatus.WITHDRAWN)
                                   .order_by(Claim.id).options(selectinload(Claim.lines))).all()
        waiting = set()
        for claim in found:
            followers[claim.prior_payer_claim_id] = claim
            waiting.add(claim.id)
    routed = []
    for payment, claim in items:
        while claim is not None and (payment.processed_as or 0) > claim.payer_order and claim.id in followers:
            claim = followers[claim.id]
        routed.append((payment, claim))
    return routed


def _record_provider_adjustments(record: Remittance, remittance: inbound.Remittance, actor: Member | None) -> None:
    """Every PLB adjustment as a row; a recovery (WO, 72) tied to the claim its reference names, with an event on
    that claim saying what the payer took back."""
    if not remittance.provider_adjustments:
        return
    references = sorted({plb.reference for plb in remittance.provider_adjustments if plb.reference})
    named: dict[str, Claim] = {}
    if references:
        for claim in db.session.scalars(select(Claim).where(
                Claim.practice_id == record.practice_id,
                (Claim.patient_control_number.in_(references)) | (Claim.payer_claim_number.in_(references)))
                .order_by(Claim.id)):
            named.setdefault(claim.patient_control_number, claim)
            if claim.payer_claim_number:
                named.setdefault(claim.payer_claim_number, claim)
    for plb in remittance.provider_adjustments:
        claim = named.get(plb.reference) if plb.reference else None
        db.session.add(ProviderAdjustment(
            practice_id=record.practice_id, remittance_id=record.id, provider_id=plb.provider_id[:50],
            fiscal_period_date=plb.fiscal_period_date, reason=plb.reason[:2], reference=plb.reference[:50],
            amount_cents=plb.amount_cents, claim_id=claim.id if claim else None))
        if claim is not None and plb.reason in RECOVERIES:
            db.session.add(ClaimEvent(
                claim_id=claim.id, from_status=claim.status, to_status=claim.status, source="remittance",
                member_id=actor.id if actor else None,
                message=f"835 {record.trace_number} from {record.payer_name}: "
                        f"{reasons.describe_provider_adjustment(plb.reason)} of ${dollars(plb.amount_cents)} "
                        f"for this claim, taken from the payment."))


def _echoed_claim_number(payment: inbound.ClaimPayment) -> str | None:
    """The control number of the claim a payment's echoed line ids name (REF*6R "<control number>-<line>"), when
    they all name the same one: the claim, even if the payer rewrote CLP01."""
    numbers = {service.line_reference.rpartition("-")[0] for service in payment.services}
    return numbers.pop() if len(numbers) == 1 and "" not in numbers else None


def _decides_bill(payment: inbound.ClaimPayment, money: Payment | None, write_offs: list) -> bool:
    """Whether a claim payment changes the bill: money or write-offs, or a claim the payer processed (it opens a
    Pended bill for what the client owes, even when nothing was paid). A denial alone is work for a biller."""
    return money is not None or bool(write_offs) or payment.status_code not in DENIED


def _ordinary(items: list[tuple]) -> set[int]:
    """Positions of the ordinary claim payments (processed or denied, one per claim and bill in the file),
    which post together; a reversal, a claim or bill paid twice in one file, or a negative payment posts one
    by one, in file order, after them."""
    claims_seen = Counter(claim.id for _, claim in items if claim is not None)
    bills_seen = Counter(claim.bill_id for _, claim in items if claim is not None)
    return {position for position, (payment, claim) in enumerate(items) if claim is not None
            and payment.status_code in PROCESSED | DENIED and payment.paid_cents >= 0
            and claims_seen[claim.id] == 1 and bills_seen[claim.bill_id] == 1 and claim.payer_order == 1
            and (payment.processed_as or 1) == 1}


def _post_together(remittance: Remittance, items: list[tuple], actor: Member | None,
                   policies: dict[int, list[InsurancePolicy]]) -> list[tuple]:
    """Record every claim payment and post the ordinary ones with their bills locked and read in a few queries,
    and their rows written in bulk: no query per claim (`policies`: _later_policies of the 835's clients). Returns
    the (payment, claim) pairs left for the one-by-one path (see _ordinary; also a void bill, or write-offs above
    the balance)."""
    ordinary = _ordinary(items)
    bill_ids = sorted({claim.bill_id for position, (_, claim) in enumerate(items) if position in ordinary})
    loaded: dict[int, Bill] = {}
    for start in range(0, len(bill_ids), _CHUNK):
        chunk = bill_ids[start:start + _CHUNK]
        for bill in db.session.scalars(select(Bill).where(Bill.id.in_(chunk)).order_by(Bill.id).with_for_update()
                                       .options(selectinload(Bill.client).selectinload(Client.contacts),
                                                selectinload(Bill.clinician), selectinload(Bill.lines))
                                       .execution_options(populate_existing=True)):
            loaded[bill.id] = bill
    balances = bills.balances(bill_ids) if bill_ids else {}
    counts: dict[str, int] = {}
    later, touched = [], []
    with db.session.no_autoflush, bulk.rows_in_bulk():
        for position, (payment, claim) in enumerate(items):
            if claim is None:
                _line(remittance, payment, None)
                continue
            if position not in ordinary:
                later.append((payment, claim))
                continue
            bill = loaded[claim.bill_id]
            denied = payment.status_code in DENIED
            write_offs = [] if denied else _write_offs(_adjustment_rows(payment))
            if bill.status == BillStatus.VOID or balances[bill.id] < sum(amount for _, amount, _ in write_offs) \
                    or _next_policy(policies.get(claim.client_id, []), claim, payment) is not None:
                later.append((payment, claim))
                continue
            line = _line(remittance, payment, claim)
            money = _insurance_payment(remittance, payment, claim, actor)
            line.payment_id = money.id if money is not None else None
            if _decides_bill(payment, money, write_offs):
                balances[bill.id] = bills.post_insurance(bill, money, write_offs, line.id, balance=balances[bill.id])
            _settle_claim(line, remittance, payment, claim, write_offs, actor, counts)
            touched.append(claim)
        bulk.save_changes([*loaded.values(), *touched, *(line for claim in touched for line in claim.lines)])
    claim_rules.apply_counts(remittance.practice_id, counts)
    return later


# ---------------------------------------------------------------- one claim payment


def _adjustment_rows(payment: inbound.ClaimPayment) -> list[dict]:
    rows = [{"group": adj.group, "reason": adj.reason, "amount_cents": adj.amount_cents, "line": "",
             "text": reasons.describe_adjustment(adj.group, adj.reason)} for adj in payment.adjustments]
    for service in payment.services:
        rows += [{"group": adj.group, "reason": adj.reason, "amount_cents": adj.amount_cents,
                  "line": service.line_reference, "text": reasons.describe_adjustment(adj.group, adj.reason)}
                 for adj in service.adjustments]
    return rows


def _remark_rows(payment: inbound.ClaimPayment) -> list[dict]:
    codes = list(payment.remark_codes) + [code for service in payment.services for code in service.remark_codes]
    return [{"code": code, "text": reasons.describe_remark(code)} for code in dict.fromkeys(codes)]


def _service_rows(payment: inbound.ClaimPayment) -> list[dict]:
    return [{"code": service.procedure_code, "modifiers": list(service.modifiers),
             "charge_cents": service.charge_cents, "paid_cents": service.paid_cents, "units": service.units,
             "line": service.line_reference, "allowed_cents": service.allowed_cents,
             "service_date": service.service_date.isoformat() if service.service_date else None}
            for service in payment.services]


def _line(remittance: Remittance, payment: inbound.ClaimPayment, claim: Claim | None) -> RemittanceClaim:
    """The record of one CLP, unmatched until it is posted."""
    line = bulk.add(
        RemittanceClaim, need_id=True,
        practice_id=remittance.practice_id, remittance_id=remittance.id, claim_id=claim.id if claim else None,
        patient_control_number=payment.patient_control_number[:40], status_code=payment.status_code[:3],
        charge_cents=payment.charge_cents, paid_cents=payment.paid_cents,
        patient_responsibility_cents=payment.patient_responsibility_cents,
        payer_claim_number=payment.payer_claim_number[:50] or None, patient_name=payment.patient_name[:120] or None,
        adjustments=_adjustment_rows(payment), remarks=_remark_rows(payment), services=_service_rows(payment),
        outcome=PostingOutcome.UNMATCHED, message="" if claim else
        (f"No claim of this practice has patient control number {payment.patient_control_number}; "
         "find the claim it belongs to, or dismiss it with a note."))
    return line


def _post_matched(line: RemittanceClaim, remittance: Remittance, payment: inbound.ClaimPayment, claim: Claim,
                  actor: Member | None, policies: dict[int, list[InsurancePolicy]] | None = None) -> None:
    """Post one claim payment in a savepoint. `policies`: _later_policies of the clients, when the caller loaded
    them for the whole 835 (else the claim's client's are read here)."""
    try:
        with db.session.begin_nested():
            if payment.status_code in REVERSAL:
                _reverse(line, remittance, claim, actor)
            elif payment.status_code in PROCESSED or payment.status_code in DENIED:
                _post(line, remittance, payment, claim, actor, policies)
            else:
                raise _Unpostable(f"Claim status {payment.status_code} "
                                  f"({reasons.describe_clp_status(payment.status_code)}) is not posted automatically.")
    except (_Unpostable, bills.BillProblem, claim_rules.ClaimError) as problem:
        # The savepoint undid this claim's entries; the line itself was flushed before it and stays.
        line.outcome = PostingOutcome.UNMATCHED
        line.message = f"Not posted: {problem}"
        db.session.add(ClaimEvent(claim_id=claim.id, from_status=claim.status, to_status=claim.status,
                                  source="remittance", message=f"835 {remittance.trace_number}: {line.message}",
                                  member_id=actor.id if actor else None))


class _Unpostable(Exception):
    pass


def _insurance_payment(remittance: Remittance, payment: inbound.ClaimPayment, claim: Claim,
                       actor: Member | None) -> Payment | None:
    """The insurance payment a claim payment brings (none for $0)."""
    if payment.paid_cents < 0:
        raise _Unpostable(f"A negative payment (${dollars(payment.paid_cents)}) outside a reversal.")
    if payment.paid_cents == 0:
        return None
    today = dates.practice_today(claim.practice_id)  # a deposit dated tomorrow by the payer is recorded as today
    return bulk.add(Payment, need_id=True, practice_id=claim.practice_id, client_id=claim.client_id,
                    source=PaymentSource.INSURANCE, method=METHODS.get(remittance.payment_method, "other"),
                    received_on=min(remittance.paid_on or today, today),
                    amount_cents=payment.paid_cents, reference=f"{remittance.payer_name[:40]} "
                    f"{remittance.trace_number}"[:100], note=f"835 claim {payment.patient_control_number}",
                    recorded_by_id=actor.id if actor else None)


def _post(line: RemittanceClaim, remittance: Remittance, payment: inbound.ClaimPayment, claim: Claim,
          actor: Member | None, policies: dict[int, list[InsurancePolicy]] | None = None) -> None:
    if (payment.processed_as or 0) > claim.payer_order:
        raise _Unpostable(f"The payer processed it as the {ORDER_NAMES[payment.processed_as]} payer, but this is the "
                          f"{ORDER_NAMES[claim.payer_order]} payer's claim and no "
                          f"{ORDER_NAMES[payment.processed_as]} claim follows it.")
    money = _insurance_payment(remittance, payment, claim, actor)
    line.payment_id = money.id if money is not None else None
    bill = db.session.get(Bill, claim.bill_id)
    if payment.status_code in DENIED:
        write_offs = []
    elif claim.payer_order > 1:
        write_offs = _later_payer_write_offs(line.adjustments, bills.balances([bill.id])[bill.id], payment)
    else:
        write_offs = _write_offs(line.adjustments)
    if policies is None:
        policies = _later_policies([claim.client_id])
    next_policy = _next_policy(policies.get(claim.client_id, []), claim, payment)
    if _decides_bill(payment, money, write_offs):
        bills.post_insurance(bill, money, write_offs, line.id)
    _settle_claim(line, remittance, payment, claim, write_offs, actor)
    if next_policy is not None:
        coordination.bill_next_payer(claim, next_policy, _adjudication(remittance, payment, claim),
                                     crossover=payment.forwarded, actor=actor)


ORDER_NAMES = {1: "primary", 2: "secondary", 3: "tertiary"}


def _next_policy(policies: list[InsurancePolicy], claim: Claim, payment: inbound.ClaimPayment
                 ) -> InsurancePolicy | None:
    """The client's next payer for what this payment leaves, when it leaves it to one: the payer forwarded the
    claim (19–21), or left the client a share (PR), or denied it as not its to pay. None otherwise (or when the
    claim is already the tertiary's, or the client has no further policy on the date of service)."""
    if claim.payer_order >= 3 or payment.status_code not in PROCESSED | DENIED:
        return None
    if payment.status_code in DENIED:
        adjustments = [*payment.adjustments, *(a for service in payment.services for a in service.adjustments)]
        if not any(adjustment.reason in COVERAGE_DENIALS for adjustment in adjustments):
            return None
    elif not payment.forwarded and payment.patient_responsibility_cents <= 0:
        return None
    current = next((policy for policy in policies if policy.id == claim.policy_id), None)
    floor = current.priority if current is not None else claim.payer_order
    later = [policy for policy in policies if policy.priority > floor and policy.is_active_on(claim.service_date)]
    return min(later, key=lambda policy: policy.priority) if later else None


def _later_payer_write_offs(adjustments: list[dict], balance: int, payment: inbound.ClaimPayment
                            ) -> list[tuple[str, int, str]]:
    """A secondary or tertiary payer's write-offs: its CO/PI/OA amounts without the earlier payers' part (CARC 23),
    never more than the bill still owes once this payment and what the client owes are counted."""
    room = max(0, balance - payment.paid_cents - max(0, payment.patient_responsibility_cents))
    kept = []
    for kind, amount, reason in _write_offs([entry for entry in adjustments if entry["reason"] != PRIOR_PAYERS_PART]):
        amount = min(amount, room)
        if amount > 0:
            kept.append((kind, amount, reason))
            room -= amount
    return kept


def _adjudication(remittance: Remittance, payment: inbound.ClaimPayment, claim: Claim) -> dict:
    """What this payer decided, as the next payer's claim reports it (loops 2320, 2430): what it paid, its claim
    and line adjustments, and when."""
    positions = {line.line_reference: line.position for line in claim.lines}

    def cas(adjustments) -> list[dict]:
        return [{"group": a.group, "reason": a.reason, "amount_cents": a.amount_cents} for a in adjustments]

    return {"claim_id": claim.id, "payer_order": claim.payer_order, "paid_cents": payment.paid_cents,
            "patient_responsibility_cents": payment.patient_responsibility_cents,
            "adjudicated_on": (remittance.paid_on or dates.practice_today(claim.practice_id)).isoformat(),
            "payer_claim_number": payment.payer_claim_number, "status_code": payment.status_code,
            "claim_adjustments": cas(payment.adjustments),
            "lines": [{"position": positions.get(service.line_reference), "code": service.procedure_code,
                       "modifiers": list(service.modifiers), "units": service.units,
                       "paid_cents": service.paid_cents, "adjustments": cas(service.adjustments)}
                      for service in payment.services]}


def _settle_claim(line: RemittanceClaim, remittance: Remittance, payment: inbound.ClaimPayment, claim: Claim,
                  write_offs: list[tuple[str, int, str]], actor: Member | None,
                  counts: dict[str, int] | None = None) -> None:
    """What a processed or denied claim payment does to the claim itself: amounts, lines, status, events."""
    denied = payment.status_code in DENIED
    claim.paid_cents += payment.paid_cents
    claim.patient_responsibility_cents = payment.patient_responsibility_cents
    if payment.payer_claim_number:
        claim.payer_claim_number = payment.payer_claim_number[:50]
    _pay_lines(claim, payment)
    reasons_text = "; ".join(entry["text"] for entry in line.adjustments if entry["group"] != "PR" or denied)
    if denied:
        line.outcome = PostingOutcome.DENIED
        line.message = "Denied: " + (reasons_text or "the payer gave no reason code") + "."
        target = ClaimStatus.DENIED
        claim.denial_action, claim.denial_worked_at = None, None
    else:
        line.outcome = PostingOutcome.PAID
        line.message = (f"Paid ${dollars(payment.paid_cents)}; written off ${dollars(sum(w[1] for w in write_offs))}; "
                        f"client owes ${dollars(payment.patient_responsibility_cents)}.")
        target = ClaimStatus.PAID
    message = f"835 {remittance.trace_number} from {remittance.payer_name}: {line.message}"
    if line.remarks:
        message += " Remarks: " + "; ".join(f"{r['code']} {r['text']}" for r in line.remarks)
    _move(claim, target, message, actor, counts)
    audit.record("claim.remittance_posted", claim, remittance_id=remittance.id, outcome=line.outcome,
                 paid_cents=payment.paid_cents, status_code=payment.status_code, actor=actor)


def _write_offs(adjustments: list[dict]) -> list[tuple[str, int, str]]:
    """CO/PI/CR amounts → contractual write-offs, OA → other adjustments, one entry per group and reason."""
    totals: dict[tuple[str, str], int] = {}
    for entry in adjustments:
        if entry["group"] != "PR":
            key = (entry["group"], entry["reason"])
            totals[key] = totals.get(key, 0) + entry["amount_cents"]
    return [(AdjustmentKind.CONTRACTUAL if group in CONTRACTUAL_GROUPS else AdjustmentKind.ADJUSTMENT, amount,
             reasons.describe_adjustment(group, reason)) for (group, reason), amount in totals.items() if amount]


def _pay_lines(claim: Claim, payment: inbound.ClaimPayment) -> None:
    by_reference = {claim_line.line_reference: claim_line for claim_line in claim.lines}
    for service in payment.services:
        claim_line = by_reference.get(service.line_reference)
        if claim_line is not None:
            claim_line.paid_cents += service.paid_cents


def _move(claim: Claim, target: ClaimStatus, message: str, actor: Member | None,
          counts: dict[str, int] | None = None) -> None:
    if claim.status == target:
        bulk.add(ClaimEvent, claim_id=claim.id, from_status=claim.status, to_status=claim.status,
                 source="remittance", message=message, member_id=actor.id if actor else None)
    else:
        claim_rules.transition(claim, target, "remittance", message, actor, counts)


def _reverse(line: RemittanceClaim, remittance: Remittance, claim: Claim, actor: Member | None) -> None:
    """CLP02 22: the payer takes back an earlier decision on this claim. Undo the latest posting that is not
    undone yet: reverse its insurance payment and take back its write-offs."""
    earlier = db.session.scalar(
        select(RemittanceClaim).where(RemittanceClaim.claim_id == claim.id, RemittanceClaim.id != line.id,
                                      RemittanceClaim.outcome.in_([PostingOutcome.PAID, PostingOutcome.DENIED]),
                                      RemittanceClaim.reversed_at.is_(None))
        .order_by(RemittanceClaim.id.desc()).limit(1))
    if earlier is None:
        raise _Unpostable("This is a reversal, but no earlier payment of this claim was posted here.")
    reason = f"Reversed by the payer (835 {remittance.trace_number})"
    if earlier.payment_id is not None:
        payment = db.session.get(Payment, earlier.payment_id)
        if payment.reversed_at is None:
            bills.reverse_payment(payment, reason)
    taken_back = db.session.execute(
        select(Adjustment.bill_id, Adjustment.kind, Adjustment.reason, func.sum(Adjustment.amount_cents))
        .where(Adjustment.remittance_claim_id == earlier.id)
        .group_by(Adjustment.bill_id, Adjustment.kind, Adjustment.reason)).all()
    for bill_id, kind, adjustment_reason, amount in taken_back:
        bills.post_insurance(db.session.get(Bill, bill_id), None,
                             [(kind, -int(amount), f"{reason}: {adjustment_reason}")], line.id,
                             open_for_client=False)  # taking a decision back leaves the client nothing new
    earlier.reversed_at = utcnow()
    claim.paid_cents -= earlier.paid_cents
    claim.patient_responsibility_cents = 0
    for claim_line in claim.lines:
        service_paid = sum(s["paid_cents"] for s in earlier.services if s["line"] == claim_line.line_reference)
        claim_line.paid_cents -= service_paid
    line.outcome = PostingOutcome.REVERSED
    line.message = (f"Reversed the posting of remittance #{earlier.remittance_id}: "
                    f"${dollars(earlier.paid_cents)} taken back.")
    _move(claim, ClaimStatus.IN_PROCESS, f"{reason}: {line.message}", actor)
    coordination.after_reversal(claim, reason, actor)
    audit.record("claim.remittance_reversed", claim, remittance_id=remittance.id, reversed=earlier.id, actor=actor)


# ---------------------------------------------------------------- the unmatched queue


def resolve(line: RemittanceClaim, claim: Claim, actor: Member | None = None) -> RemittanceClaim:
    """A biller found the claim an unmatched claim payment belongs to: post it there now."""
    if line.outcome != PostingOutcome.UNMATCHED or line.resolved_at is not None:
        raise RemittanceRefused("This claim payment is not waiting in the unmatched queue.")
    if claim.practice_id != line.practice_id:
        raise RemittanceRefused("That claim belongs to another practice.")
    remittance = db.session.get(Remittance, line.remittance_id)
    payment = _as_claim_payment(line)
    line.claim_id = claim.id
    line.message = ""
    _post_matched(line, remittance, payment, claim, actor)
    if line.outcome == PostingOutcome.UNMATCHED:
        raise RemittanceRefused(line.message)
    line.resolved_at, line.resolved_by_id = utcnow(), actor.id if actor else None
    line.resolution_note = f"Posted to claim {claim.patient_control_number} by hand."
    remittance.unmatched_count -= 1
    audit.record("remittance.resolved", line, claim=claim.patient_control_number, actor=actor)
    return line


def dismiss(line: RemittanceClaim, note: str, actor: Member | None = None) -> None:
    """Set an unmatched claim payment aside (not ours, posted elsewhere), saying why."""
    if line.outcome != PostingOutcome.UNMATCHED or line.resolved_at is not None:
        raise RemittanceRefused("This claim payment is not waiting in the unmatched queue.")
    if not (note or "").strip():
        raise RemittanceRefused("Say why it is set aside.")
    line.outcome = PostingOutcome.DISMISSED
    line.resolved_at, line.resolved_by_id, line.resolution_note = utcnow(), actor.id if actor else None, note.strip()
    db.session.get(Remittance, line.remittance_id).unmatched_count -= 1
    audit.record("remittance.dismissed", line, note=note.strip(), actor=actor)


def _as_claim_payment(line: RemittanceClaim) -> inbound.ClaimPayment:
    """The CLP as stored on the line, to post it again once a person matched it."""
    claim_level = tuple(inbound.Adjustment(group=a["group"], reason=a["reason"], amount_cents=a["amount_cents"])
                        for a in line.adjustments if not a["line"])
    services = tuple(
        inbound.ServicePayment(procedure_code=s["code"], modifiers=tuple(s["modifiers"]), charge_cents=s["charge_cents"],
                               paid_cents=s["paid_cents"], units=s["units"], line_reference=s["line"],
                               allowed_cents=s["allowed_cents"],
                               adjustments=tuple(inbound.Adjustment(group=a["group"], reason=a["reason"],
                                                                    amount_cents=a["amount_cents"])
                                                 for a in line.adjustments if a["line"] and a["line"] == s["line"]))
        for s in line.services)
    return inbound.ClaimPayment(patient_control_number=line.patient_control_number, status_code=line.status_code,
                                charge_cents=line.charge_cents, paid_cents=line.paid_cents,
                                patient_responsibility_cents=line.patient_responsibility_cents,
                                payer_claim_number=line.payer_claim_number or "", adjustments=claim_level,
                                services=services, remark_codes=tuple(r["code"] for r in line.remarks))


def unmatched(practice_id: int) -> list[RemittanceClaim]:
    return db.session.scalars(select(RemittanceClaim).where(RemittanceClaim.practice_id == practice_id,
                                                            RemittanceClaim.outcome == PostingOutcome.UNMATCHED)
                              .order_by(RemittanceClaim.id)).all()


def postings(claim: Claim) -> list[RemittanceClaim]:
    return db.session.scalars(select(RemittanceClaim).where(RemittanceClaim.claim_id == claim.id)
                              .order_by(RemittanceClaim.id)).all()
