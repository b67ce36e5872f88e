"""The protocol every clearinghouse adapter speaks, and the plain answers it gives.

An adapter knows the clearinghouse's wire format and nothing about Parity's database: it takes file text
and cursors and returns the dataclasses below. Jobs in `app/jobs.py` decide what the answers mean for
claims (`app/billing/acknowledgements.py`, `app/billing/era.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from app.x12.inbound import ClaimStatusReport


class ClearinghouseError(Exception):
    """The clearinghouse answered, and the answer is a refusal or makes no sense: retrying will not help."""


class ClearinghouseUnavailable(ClearinghouseError):
    """No usable answer (connection refused, timeout, HTTP 5xx): retry later, with backoff."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimReceipt:
    """What the clearinghouse said about one claim of an uploaded file."""

    patient_control_number: str
    accepted: bool
    clearinghouse_claim_id: str = ""
    messages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadReceipt:
    """The answer to an upload. `accepted` is True when the clearinghouse took the file (even if some of
    its claims were rejected: see `claims`); False when it refused the file as a whole (`errors` say why)."""

    accepted: bool
    reference: str = ""  #: the clearinghouse's file or batch id
    claims: tuple[ClaimReceipt, ...] = ()
    errors: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict)  #: the answer as received, kept on the Submission


@dataclass(frozen=True, slots=True, kw_only=True)
class PollResult:
    """Acknowledgements since `cursor`: raw X12 files (999, 277CA) and/or status reports already mapped
    onto 277CA category codes, with the cursor to store for the next poll."""

    documents: tuple[str, ...] = ()
    reports: tuple[ClaimStatusReport, ...] = ()
    cursor: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemittanceNotice:
    """One 835 the clearinghouse holds for us (an `eralist` item)."""

    reference: str  #: the clearinghouse's id for the 835 (Claim.MD eraid)
    payer_name: str = ""
    payer_id: str = ""
    check_number: str = ""
    paid_on: date | None = None
    amount_cents: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemittanceList:
    notices: tuple[RemittanceNotice, ...] = ()
    cursor: str = ""


class Clearinghouse(Protocol):
    #: claimmd, sandbox or files
    name: str
    #: False for `files`: people move the files by hand, and the worker has nothing to send or poll.
    automated: bool

    def upload(self, filename: str, content: str) -> UploadReceipt:
        """Send one 837P file. Raises ClearinghouseUnavailable when it is not known whether it arrived."""

    def find_upload(self, filename: str) -> UploadReceipt | None:
        """The receipt of an earlier upload of this file name, or None if the clearinghouse never got it.
        Called before re-sending a file whose first upload may have been cut off, so nothing goes twice."""

    def poll(self, cursor: str) -> PollResult:
        """Acknowledgements and claim statuses newer than the cursor ("" the first time)."""

    def list_remittances(self, cursor: str) -> RemittanceList:
        """835s newer than the cursor ("" the first time)."""

    def fetch_remittance(self, notice: RemittanceNotice) -> str:
        """The raw 835 text of one notice."""

    def check_eligibility(self, inquiry: str) -> str:
        """Send one 270 (a gated file of one inquiry) and return the payer's 271 text, as received.
        ClearinghouseUnavailable when no answer came (try later); ClearinghouseError when refused."""
