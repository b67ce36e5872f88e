"""What a payer's decision does to the claims that follow it (coordination of benefits), once 835 posting (era) has
posted it: the next payer's claim is billed, withdrawn or flagged, and a denial it answers is worked. No Flask
request in sight; callers own the transaction. Kept apart from era's posting so posting itself stays about money.

- bill_next_payer: the decision leaves a share to the client's next policy. The next payer's claim is built
  (claims.build_next_claim). When a claim already follows this one and was flagged because the earlier decision
  was reversed after it left (see below), it is rebuilt from the new decision: a replacement (frequency 7,
  REF*F8) when its payer gave it a claim number, else a new claim; the flagged claim is Withdrawn, naming what
  speaks for it now. A denial answered this way (a denial for coverage) is being worked: it leaves the denials
  queue (denial_action billed_next_payer) with an event.
- after_reversal: the payer reversed the decision (835 CLP02 22) a next payer's claim was built from. That claim,
  if it has not left Parity (Queued For Submission or Needs Review, and not in a file on its way), is Withdrawn with
  an event naming the reversal; if it left (sent, a crossover, or decided by its payer) it goes to Needs Review
  with the reason, which keeps the bill's balance on insurance's side (responsibility) until the corrected decision
  posts and rebuilds it.
"""
from __future__ import annotations

from sqlalchemy import select

from app import audit, bulk
from app.billing import claims as claim_rules
from app.billing import submissions
from app.extensions import db
from app.models import Claim, ClaimEvent, ClaimStatus, InsurancePolicy, Member
from app.models.types import utcnow

#: denial_action of a denial answered by billing the client's next payer.
BILLED_NEXT_PAYER = "billed_next_payer"


def follower(prior: Claim) -> Claim | None:
    """The next payer's claim that speaks for `prior` now: the latest one following it that is not Withdrawn."""
    return db.session.scalar(select(Claim).where(Claim.prior_payer_claim_id == prior.id,
                                                 Claim.frequency_code.in_(("1", "7")),
                                                 Claim.status != ClaimStatus.WITHDRAWN)
                             .order_by(Claim.id.desc()).limit(1))


def has_left(claim: Claim) -> bool:
    """Whether the claim's payer has it or may have it: forwarded to it by the earlier payer, sent or decided, or
    written into a file on its way to the clearinghouse."""
    if claim.crossover or claim.status not in claim_rules.WAITING:
        return True
    return db.session.scalar(select(Claim.id).where(Claim.id == claim.id,
                                                    Claim.id.in_(submissions.in_flight_claim_ids()))) is not None


def bill_next_payer(prior: Claim, policy: InsurancePolicy, adjudication: dict, *, crossover: bool,
                    actor: Member | None = None) -> Claim:
    """Bill the next payer for what `prior`'s payer left (see the module's notes). Returns the claim built."""
    flagged = follower(prior)
    if flagged is not None and flagged.status not in claim_rules.WAITING:
        flagged = None  # with its payer, undisturbed by any reversal: it stays, as it was
    replaces = flagged if flagged is not None and flagged.payer_claim_number and not crossover else None
    claim = claim_rules.build_next_claim(prior, policy, adjudication, crossover=crossover, actor=actor,
                                         replaces=replaces)
    if flagged is not None:
        how = "replaced by" if replaces is not None else "superseded by"
        _withdraw(flagged, f"{prior.snapshot['payer']['name']}'s corrected decision posted: {how} claim "
                           f"{claim.patient_control_number}, built from it.", actor)
    if prior.status == ClaimStatus.DENIED and prior.denial_action is None:
        prior.denial_action, prior.denial_worked_at = BILLED_NEXT_PAYER, utcnow()
        bulk.add(ClaimEvent, claim_id=prior.id, from_status=prior.status, to_status=prior.status,
                 source="remittance", member_id=actor.id if actor else None,
                 message=f"Denial worked: the client's next payer ({policy.payer.name}) is billed for it by claim "
                         f"{claim.patient_control_number}.")
        audit.record("claim.denial_billed_next_payer", prior, follower=claim.patient_control_number, actor=actor)
    return claim


def after_reversal(prior: Claim, reason: str, actor: Member | None = None) -> None:
    """`prior`'s payer reversed its decision (`reason` names the 835): withdraw or flag the claim that follows."""
    claim = follower(prior)
    if claim is None:
        return
    if not has_left(claim):
        _withdraw(claim, f"{reason}: the decision of claim {prior.patient_control_number} this claim reported was "
                         "taken back before the claim was sent. The corrected decision, when it posts, bills the "
                         "next payer again.", actor)
        return
    message = (f"{reason}: the decision of claim {prior.patient_control_number} that this claim reported to its "
               "payer was taken back. When the corrected decision posts, Parity rebuilds this claim from it (a "
               "replacement, frequency 7, once its payer has given it a claim number); until then it waits here, "
               "since sending it again would repeat the old figures.")
    claim.problems = [{"message": message, "fix": f"/claims/{prior.id}"}]
    claim_rules.transition(claim, ClaimStatus.NEEDS_REVIEW, "remittance", message, actor)


def _withdraw(claim: Claim, message: str, actor: Member | None) -> None:
    claim.problems = []
    claim_rules.transition(claim, ClaimStatus.WITHDRAWN, "remittance", f"Withdrawn: {message}", actor)
