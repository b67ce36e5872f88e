"""Working a denied claim: what the payer said, and the five things a biller does about it. No Flask request
in sight; callers own the transaction.

A denial (835 CLP02 4) is the payer's decision after adjudication, not a rejection of the file: the claim
waits in the denials queue (Denied, `denial_action` empty) until a person does one of these, each recorded
as a ClaimEvent (the status does not change, so from = to) and an audit event:
- resubmit_corrected: the bill, policy or note was corrected first; a replacement claim (frequency 7,
  REF*F8 = the payer's claim number) is built from the bill as it is now;
- void_at_payer: a void claim (frequency 8) cancels the claim at the payer;
- appeal: the payer is asked to reconsider, outside Parity; the note says how and when;
- bill_client: the client pays what the payer put on the client (PR amounts: deductible, coinsurance, copay,
  share of cost); the bill is opened if still Pended. Amounts under group CO are the provider's contractual
  obligation, and on a Medicaid claim (filing indicator MC) every amount but PR is the provider's too: those
  are never moved to the client (see `client_liability`), so this action is offered, and allowed, only where
  the client owes something;
- write_off: the practice gives up the bill's remaining balance.
A denial is worked once: the first action taken wins, even when two people press at the same moment.
Replacing or voiding a Paid claim (a payment to correct) follows the same rules without touching
`denial_action`, and a claim is replaced or voided once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from app import audit
from app.billing import bills, era
from app.billing import claims as claim_rules
from app.billing.bills import BillProblem
from app.billing.claims import ClaimError
from app.billing.money import dollars
from app.extensions import db
from app.models import (AdjustmentKind, Bill, BillStatus, Claim, ClaimEvent, ClaimStatus, Member, PostingOutcome,
                        RemittanceClaim)
from app.models.types import utcnow

#: denial_action → what was done, in plain words.
ACTIONS = {
    "resubmitted": "Corrected and resubmitted (frequency 7)",
    "voided": "Voided with the payer (frequency 8)",
    "appealed": "Appealed",
    "billed_client": "Billed to the client",
    "written_off": "Written off",
    "billed_next_payer": "Billed to the client's next payer",
}
#: Statuses in which the payer knows the claim by its claim number, so a void can name it.
PAYER_HAS_IT = (ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS, ClaimStatus.PAID, ClaimStatus.DENIED)
#: Statuses a replacement may follow: the payer decided the claim.
DECIDED = (ClaimStatus.PAID, ClaimStatus.DENIED)


class DenialRefused(ClaimError):
    """The claim is not in a state for this action, or something it needs is missing (`field` says which)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- what the payer said


def _reasons(posting: RemittanceClaim) -> list[dict]:
    """A denied claim payment's adjustments (summed per group and reason over claim and lines) and remarks."""
    totals: dict[tuple[str, str], dict] = {}
    for entry in posting.adjustments:
        key = (entry["group"], entry["reason"])
        row = totals.setdefault(key, {"kind": "adjustment", "code": f"{entry['group']}-{entry['reason']}",
                                      "text": entry["text"], "amount_cents": 0})
        row["amount_cents"] += entry["amount_cents"]
    return list(totals.values()) + [{"kind": "remark", "code": remark["code"], "text": remark["text"],
                                     "amount_cents": None} for remark in posting.remarks]


def denial_reasons(claim: Claim) -> list[dict]:
    """What the latest denial of the claim said, in plain words: [{kind, code, text, amount_cents}], the CARC
    adjustments first ("CO-197"), then the remark codes ("N54"). Empty when no denial was posted."""
    denied = [posting for posting in era.postings(claim) if posting.outcome == PostingOutcome.DENIED]
    return _reasons(denied[-1]) if denied else []


def denial_reasons_by_claim(claim_ids: list[int]) -> dict[int, list[dict]]:
    """denial_reasons for many claims in one query (the denials queue)."""
    if not claim_ids:
        return {}
    latest: dict[int, RemittanceClaim] = {}
    for posting in db.session.scalars(select(RemittanceClaim).where(
            RemittanceClaim.claim_id.in_(claim_ids), RemittanceClaim.outcome == PostingOutcome.DENIED)
            .order_by(RemittanceClaim.id)):
        latest[posting.claim_id] = posting
    return {claim_id: _reasons(posting) for claim_id, posting in latest.items()}


def follow_up(claim: Claim) -> Claim | None:
    """The replacement (frequency 7) or void (frequency 8) made from this claim, if any."""
    return db.session.scalar(select(Claim).where(Claim.original_claim_id == claim.id).order_by(Claim.id).limit(1))


def can_replace_or_void(claim: Claim) -> bool:
    """Whether the claim page offers "Correct and replace" and "Void with the payer"."""
    return (claim.status in DECIDED and bool(claim.payer_claim_number) and claim.frequency_code != "8"
            and not (claim.status == ClaimStatus.DENIED and claim.denial_action) and follow_up(claim) is None)


# ---------------------------------------------------------------- who may be billed

#: The adjustment group whose amounts are the client's to pay (patient responsibility).
CLIENT_GROUP = "PR"
#: The claim filing indicator (SBR09) of Medicaid: its clients may be billed only what the payer put on them.
MEDICAID = "MC"


@dataclass(frozen=True)
class Liability:
    """Who owes a denied claim's amounts, from the payer's adjustments."""

    client_cents: int  #: PR amounts: the client's to pay
    provider_cents: int  #: CO amounts (on Medicaid, every amount but PR): never moved to the client
    provider_codes: tuple[str, ...]  #: the adjustments behind provider_cents, "CO-197" …
    medicaid: bool
    other_cents: int = 0  #: OA, PI … on a claim that is not Medicaid's: the practice decides

    @property
    def client_may_be_billed(self) -> bool:
        return self.client_cents > 0 or (not self.provider_cents and not self.medicaid)

    @property
    def why_not_the_client(self) -> str:
        """Why "Bill the client" is not offered, in words for the person (empty when it is)."""
        if self.client_may_be_billed:
            return ""
        if self.provider_codes:
            codes = ", ".join(self.provider_codes)
            owner = ("Medicaid clients may be billed only their share (PR amounts)" if self.medicaid
                     else "group CO is the provider's contractual obligation")
            return (f"The client may not be billed for {codes}: {owner}. Correct and resubmit, appeal, "
                    "or write it off with a reason.")
        return ("The client may not be billed: this is a Medicaid claim and the payer put nothing on the client. "
                "Correct and resubmit, appeal, or write it off with a reason.")


def is_medicaid(claim: Claim) -> bool:
    return (claim.snapshot or {}).get("payer", {}).get("filing_indicator", claim.payer.filing_indicator) == MEDICAID


def client_liability(claim: Claim, reasons: list[dict] | None = None) -> Liability:
    """Split the latest denial's adjustments between the client (PR) and the provider (CO; on Medicaid, all
    but PR). `reasons`: the claim's `denial_reasons`, when the caller already has them."""
    medicaid = is_medicaid(claim)
    client = provider = other = 0
    provider_codes = []
    for reason in denial_reasons(claim) if reasons is None else reasons:
        if reason["kind"] != "adjustment":
            continue
        group = reason["code"].split("-", 1)[0]
        if group == CLIENT_GROUP:
            client += reason["amount_cents"]
        elif group == "CO" or medicaid:
            provider += reason["amount_cents"]
            provider_codes.append(reason["code"])
        else:
            other += reason["amount_cents"]
    return Liability(client, provider, tuple(provider_codes), medicaid, other)


# ---------------------------------------------------------------- shared steps


def _lock(claim: Claim) -> Claim:
    """The claim, re-read with its row locked for the rest of the transaction (PostgreSQL; SQLite has one
    writer at a time), so two people acting at once see each other's work."""
    return db.session.scalar(select(Claim).where(Claim.id == claim.id).with_for_update()
                             .execution_options(populate_existing=True))


def _require_open_denial(claim: Claim, doing: str) -> None:
    if claim.status != ClaimStatus.DENIED:
        raise DenialRefused(f"Only a denied claim can be {doing}; claim {claim.patient_control_number} is "
                            f"{ClaimStatus(claim.status).label}.")
    if claim.denial_action:
        raise DenialRefused(f"This denial was already worked: {ACTIONS[claim.denial_action].lower()} on "
                            f"{claim.denial_worked_at:%b %-d, %Y}.")


def _take(claim: Claim, action: str) -> None:
    """Mark the denial worked, only if nobody did a moment ago: one conditional UPDATE, first writer wins."""
    now = utcnow()
    taken = db.session.execute(update(Claim).where(Claim.id == claim.id, Claim.denial_action.is_(None))
                               .values(denial_action=action, denial_worked_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise DenialRefused("Someone else worked this denial a moment ago; reload the page to see what they did.")
    claim.denial_action, claim.denial_worked_at = action, now


def _record(claim: Claim, action: str, message: str, actor: Member | None, **details) -> None:
    db.session.add(ClaimEvent(claim_id=claim.id, from_status=claim.status, to_status=claim.status, source="person",
                              message=message, member_id=actor.id if actor else None))
    audit.record(f"claim.{action}", claim, actor=actor, **details)


def _no_follow_up_yet(claim: Claim) -> None:
    earlier = follow_up(claim)
    if earlier is not None:
        kind = "replaces" if earlier.frequency_code == "7" else "voids"
        raise DenialRefused(f"Claim {earlier.patient_control_number} already {kind} this claim.")


def _bill_problem(error: BillProblem) -> DenialRefused:
    return DenialRefused(str(error))


# ---------------------------------------------------------------- the actions


def resubmit_corrected(claim: Claim, actor: Member | None = None) -> Claim:
    """A replacement claim (frequency 7, REF*F8 = the payer's claim number) built from the bill, policy and
    signed note as they are now, scrubbed like any claim. Returns the new claim."""
    claim = _lock(claim)
    if claim.frequency_code == "8":
        raise DenialRefused("This claim is itself a void; there is nothing to replace.")
    if claim.status not in DECIDED:
        raise DenialRefused(f"Only a Paid or Denied claim is corrected and replaced; claim "
                            f"{claim.patient_control_number} is {ClaimStatus(claim.status).label}. A claim in "
                            "Needs Review is fixed and rechecked instead.")
    if not claim.payer_claim_number:
        raise DenialRefused("The payer sent no claim number for this claim, so a replacement cannot name it: "
                            "call the payer for the claim number, or void the bill's claim and start again.")
    _no_follow_up_yet(claim)
    bill = db.session.get(Bill, claim.bill_id)
    policy = claim_rules.primary_policy(bill)
    if policy is not None and policy.payer_id != claim.payer_id:
        raise DenialRefused(f"A replacement goes to the payer that decided the claim ({claim.payer.name}), but the "
                            f"client's policy is now with {policy.payer.name}.")
    denied = claim.status == ClaimStatus.DENIED
    if denied:
        _require_open_denial(claim, "corrected and resubmitted")
        _take(claim, "resubmitted")
    replacement = claim_rules.build_claim(bill, actor, frequency_code="7", original=claim)
    where = ("queued for submission" if replacement.status == ClaimStatus.QUEUED
             else "in Needs Review: fix what the scrubber found, then recheck it")
    _record(claim, "replacement_requested", f"Replaced by claim {replacement.patient_control_number} (frequency 7), "
            f"built from bill {bill.number} as it is now; {where}.", actor,
            replacement=replacement.patient_control_number, denial=denied)
    return replacement


def void_at_payer(claim: Claim, actor: Member | None = None) -> Claim:
    """A void claim (frequency 8, REF*F8 = the payer's claim number) that cancels the claim at the payer.
    Returns the new claim."""
    claim = _lock(claim)
    if claim.frequency_code == "8":
        raise DenialRefused("This claim is itself a void.")
    if not claim.payer_claim_number:
        raise DenialRefused("The payer has not accepted this claim yet, so there is nothing to void: correct it "
                            "and recheck instead.")
    if claim.status not in PAYER_HAS_IT:
        raise DenialRefused(f"Claim {claim.patient_control_number} is {ClaimStatus(claim.status).label}; only a "
                            "claim the payer has can be voided with the payer.")
    _no_follow_up_yet(claim)
    denied = claim.status == ClaimStatus.DENIED
    if denied:
        _require_open_denial(claim, "voided")
        _take(claim, "voided")
    void = claim_rules.build_void(claim, actor)
    _record(claim, "void_requested", f"Voided with the payer by claim {void.patient_control_number} (frequency 8).",
            actor, void=void.patient_control_number, denial=denied)
    return void


def appeal(claim: Claim, note: str, actor: Member | None = None) -> None:
    """Record that the denial was appealed (the appeal itself goes to the payer outside Parity); the claim
    stays Denied and the note says what was sent, when and how."""
    note = (note or "").strip()
    if not note:
        raise DenialRefused("Say what was appealed and how (portal, letter, phone), so the next person knows.",
                            field="note")
    claim = _lock(claim)
    _require_open_denial(claim, "appealed")
    _take(claim, "appealed")
    _record(claim, "denial_appealed", f"Appealed: {note}", actor, note=note)


def bill_client(claim: Claim, actor: Member | None = None) -> Bill:
    """The client pays what the payer put on them: the bill is opened (issued) if it is still Pended. The
    provider's share (CO; on Medicaid all but PR) is written off as contractual first, so the client is billed
    only the PR amounts; a denial with nothing on the client is refused."""
    claim = _lock(claim)
    _require_open_denial(claim, "billed to the client")
    liability = client_liability(claim)
    if not liability.client_may_be_billed:
        raise DenialRefused(liability.why_not_the_client)
    bill = db.session.get(Bill, claim.bill_id)
    if bill.status == BillStatus.VOID:
        raise DenialRefused(f"Bill {bill.number} is void; there is nothing to bill the client for.")
    _take(claim, "billed_client")
    written_off = 0
    try:
        if bill.status == BillStatus.PENDED:
            bills.open_bill(bill, actor)
            opened = f"bill {bill.number} opened"
        else:
            opened = f"bill {bill.number} was already {BillStatus(bill.status).label}"
        written_off = min(liability.provider_cents, bills.totals(bill).balance)
        if written_off > 0:
            bills.adjust(bill, AdjustmentKind.CONTRACTUAL, written_off,
                         f"Denied claim {claim.patient_control_number}: {', '.join(liability.provider_codes)}, "
                         "the provider's obligation, never the client's", actor)
    except BillProblem as error:
        raise _bill_problem(error) from error
    message = f"Billed to the client: {opened}"
    message += f"; ${dollars(written_off)} ({', '.join(liability.provider_codes)}) written off as contractual." \
        if written_off else "."
    _record(claim, "denial_billed_client", message, actor, bill=bill.number, contractual_cents=written_off)
    return bill


def write_off(claim: Claim, reason: str, actor: Member | None = None) -> int:
    """Write off the bill's remaining balance (opening the bill first if it is still Pended), with the reason.
    Returns the amount written off, in cents."""
    reason = (reason or "").strip()
    if not reason:
        raise DenialRefused("Say why the balance is written off (e.g. past the payer's filing limit).",
                            field="reason")
    claim = _lock(claim)
    _require_open_denial(claim, "written off")
    bill = db.session.get(Bill, claim.bill_id)
    if bill.status == BillStatus.VOID:
        raise DenialRefused(f"Bill {bill.number} is void; there is nothing to write off.")
    balance = bills.totals(bill).balance
    if balance <= 0:
        raise DenialRefused(f"Bill {bill.number} owes nothing, so there is nothing to write off.")
    _take(claim, "written_off")
    try:
        if bill.status == BillStatus.PENDED:
            bills.open_bill(bill, actor, send_now=False)  # written off at once: nothing to send the client
        bills.adjust(bill, AdjustmentKind.WRITE_OFF, balance, f"Denied claim {claim.patient_control_number}: "
                     f"{reason}", actor)
    except BillProblem as error:
        raise _bill_problem(error) from error
    _record(claim, "denial_written_off", f"Written off ${dollars(balance)} on bill "
            f"{bill.number}: {reason}", actor, bill=bill.number, amount_cents=balance, reason=reason)
    return balance
