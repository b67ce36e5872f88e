"""Whose side each receivable dollar is on: insurance's or the client's. One rule, used by the aging report (through
the summaries), the client's ledger and statement, and the bill page, so they never put the same dollar on
different sides. No Flask request in sight.

A bill's balance is with insurance while its latest original or replacement claim (frequency 1 or 7) is unsettled
(Queued For Submission, Sent, Received, In process, Needs Review), or Denied with the denial not worked yet or
appealed: the payer has not decided, or is deciding again. A Withdrawn claim (a later payer's, withdrawn after the
earlier payer's decision was reversed) decides nothing: the claim before it does. Otherwise it is the client's: the
claim was paid (what is left is deductible, coinsurance or copay), the denial was billed to the client, written off
or voided, or there is no claim. A Pended bill is the client's to pay only once it is opened (the client has not seen it), so a
Pended bill counts only while insurance holds it; a Complete or Void bill owes nothing.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import select

from app.extensions import db
from app.models import Bill, BillStatus, Claim, ClaimStatus

#: Claim statuses in which the payer has not decided yet.
UNSETTLED = (ClaimStatus.QUEUED, ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS,
             ClaimStatus.NEEDS_REVIEW)
#: Denials still with the payer: not worked yet (None), or appealed.
DENIAL_STILL_WITH_PAYER = (None, "appealed")


class Side(StrEnum):
    INSURANCE = "insurance"
    CLIENT = "client"

    @property
    def label(self) -> str:
        return {"insurance": "Insurance", "client": "Client"}[self.value]


#: (frequency code, status, denial action) of one claim, as the summaries read them from the claims' index.
ClaimState = tuple[str, str, str | None]


def claim_holds(state: ClaimState | None) -> bool:
    """Whether this (latest) claim keeps its bill's balance with insurance."""
    if state is None:
        return False
    _, status, action = state
    return status in UNSETTLED or (status == ClaimStatus.DENIED and action in DENIAL_STILL_WITH_PAYER)


def latest_claim(states: Iterable[ClaimState]) -> ClaimState | None:
    """The last original or replacement of a bill's claims (given in id order); voids and withdrawn claims decide
    nothing."""
    latest = None
    for state in states:
        if state[0] in ("1", "7") and state[1] != ClaimStatus.WITHDRAWN:
            latest = state
    return latest


def side(bill_status: str, claim_states: Iterable[ClaimState]) -> Side | None:
    """Who owes a bill's balance: its status and its claims' states in id order → a Side, or None when the bill
    is not a receivable (Complete, Void, or Pended with no claim holding it)."""
    holds = claim_holds(latest_claim(claim_states))
    if bill_status == BillStatus.OPEN:
        return Side.INSURANCE if holds else Side.CLIENT
    if bill_status == BillStatus.PENDED and holds:
        return Side.INSURANCE
    return None


def claim_states(bill_ids: list[int]) -> dict[int, list[ClaimState]]:
    """Each bill's claims' states in id order (one query)."""
    found: dict[int, list[ClaimState]] = defaultdict(list)
    if bill_ids:
        for bill_id, frequency, status, action in db.session.execute(
                select(Claim.bill_id, Claim.frequency_code, Claim.status, Claim.denial_action)
                .where(Claim.bill_id.in_(bill_ids)).order_by(Claim.id)):
            found[bill_id].append((frequency, status, action))
    return found


def sides(bills: list[Bill]) -> dict[int, Side | None]:
    """side() of many bills at once."""
    states = claim_states([bill.id for bill in bills])
    return {bill.id: side(bill.status, states.get(bill.id, [])) for bill in bills}


def side_of(bill: Bill) -> Side | None:
    return sides([bill])[bill.id]
