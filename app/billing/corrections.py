"""Correct the claim: changing a bill whose claim has left Parity, so that the payer hears of the change. No Flask
request in sight; callers own the transaction.

While the bill's claim is Queued For Submission or in Needs Review, a bill edit simply rewrites it
(bills → claims.follow_bill). Once it was sent, app/billing/bills.py refuses a change to what the payer reads
(codes, units, modifiers, charges) with 409 and a message naming this flow. Here the same change is made and,
when the bill no longer says what the claim says, a corrected claim is built from the bill as it is now,
scrubbed and queued, in the same transaction:
- a replacement (frequency 7, REF*F8 = the payer's claim number) when the payer knows the claim by its number;
  a Paid claim or a denial not worked yet goes through denials.resubmit_corrected, so the denial is worked;
- a void (frequency 8) of the claim plus a new claim (frequency 1) when the payer sent no claim number (it never
  accepted the claim, or has not said yet): the void waits in Needs Review for that number, if it ever comes.
The original keeps its history, with an event naming what replaced it. Until the payer decides the corrected
claim, the bill's balance is insurance's (responsibility.side): a line added now is not billed to the client.
"""
from __future__ import annotations

from app import audit
from app.billing import bills, denials
from app.billing import claims as claim_rules
from app.billing.bills import LineChange
from app.billing.claims import ClaimError
from app.extensions import db
from app.models import Bill, BillLine, Claim, ClaimEvent, ClaimStatus, Member


def claim_to_correct(bill: Bill) -> Claim | None:
    """The bill's claim that has left Parity (what Correct the claim corrects), if any."""
    claim = claim_rules.current_claim(bill.id)
    return claim if claim_rules.has_left(claim) else None


def change_line(bill: Bill, line: BillLine, change: LineChange, actor: Member | None = None) -> list[Claim]:
    """Change a line and correct the claim. Returns the claims built (none when the payer reads nothing new)."""
    claim = claim_to_correct(bill)
    bills.update_line(bill, line, change, actor, correcting=True)
    return _correct(bill, claim, actor)


def add_line(bill: Bill, change: LineChange, actor: Member | None = None) -> list[Claim]:
    """Add a line and correct the claim."""
    claim = claim_to_correct(bill)
    bills.add_line(bill, change, actor, correcting=True)
    return _correct(bill, claim, actor)


def remove_line(bill: Bill, line: BillLine, actor: Member | None = None) -> list[Claim]:
    """Remove a line and correct the claim."""
    claim = claim_to_correct(bill)
    bills.remove_line(bill, line, actor, correcting=True)
    return _correct(bill, claim, actor)


def _correct(bill: Bill, claim: Claim | None, actor: Member | None) -> list[Claim]:
    bill = db.session.get(Bill, bill.id)
    db.session.refresh(bill, ["lines"])
    if claim is None or claim_rules.matches_bill(claim, bill):
        return []
    policy = claim_rules.primary_policy(bill)
    if policy is not None and policy.payer_id != claim.payer_id:
        raise ClaimError(f"A corrected claim goes to the payer that has the claim ({claim.payer.name}), but the "
                         f"client's policy is now with {policy.payer.name}: void the claim with the payer first.")
    if claim.payer_claim_number:
        if claim.status == ClaimStatus.PAID or (claim.status == ClaimStatus.DENIED and not claim.denial_action):
            return [denials.resubmit_corrected(claim, actor)]
        replacement = claim_rules.build_claim(bill, actor, frequency_code="7", original=claim)
        _record(claim, f"Replaced by claim {replacement.patient_control_number} (frequency 7) after bill "
                f"{bill.number} was corrected.", actor, replacement=replacement.patient_control_number)
        return [replacement]
    void = claim_rules.build_void(claim, actor)
    new = claim_rules.build_claim(bill, actor)
    _record(claim, f"Bill {bill.number} was corrected before the payer gave a claim number: claim "
            f"{void.patient_control_number} voids this one (frequency 8) and claim {new.patient_control_number} "
            "bills the bill as it is now.", actor, void=void.patient_control_number, new=new.patient_control_number)
    return [void, new]


def _record(claim: Claim, message: str, actor: Member | None, **details) -> None:
    db.session.add(ClaimEvent(claim_id=claim.id, from_status=claim.status, to_status=claim.status, source="person",
                              message=message, member_id=actor.id if actor else None))
    audit.record("claim.corrected", claim, actor=actor, **details)
