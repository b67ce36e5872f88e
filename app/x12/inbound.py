"""What Parity reads back from payers and clearinghouses, as plain frozen data.

The readers (`acknowledgements.parse_999`, `acknowledgements.parse_277ca`, `remittance.parse_835`) turn
X12 text into these classes and refuse anything they cannot read whole with `X12ReadError`; the
writers (`write_999`, `write_277ca`, `write_835`) make the same files from them, for the sandbox
clearinghouse and for tests. Money is integer cents; nothing here touches the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class X12ReadError(ValueError):
    """A file that does not parse, is cut short, or does not balance; the message says why in plain words."""


# ---------------------------------------------------------------- 999 implementation acknowledgment


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionAck:
    """AK2/IK5: what the receiver said about one transaction set (ST…SE) of the file we sent."""

    transaction_control_number: str  #: AK202 = the ST02 we sent
    status: str  #: IK501: A accepted, E accepted with errors, R rejected (M, W, X also mean rejected)
    errors: tuple[str, ...] = ()  #: IK3/IK4 (and CTX) findings in plain words

    @property
    def rejected(self) -> bool:
        return self.status not in ("A", "E")


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionalAck:
    """One 999 transaction: the receiver's verdict on one functional group (GS…GE) we sent."""

    group_control_number: str  #: AK102 = the GS06 we sent
    status: str  #: AK901: A, E, P (partially accepted) or R
    transactions: tuple[TransactionAck, ...] = ()
    interchange_control_number: str = ""  #: ISA13 of the 999 file itself
    errors: tuple[str, ...] = ()  #: AK905–AK909: why the group as a whole was rejected, in plain words


# ---------------------------------------------------------------- 277CA claim acknowledgment


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimStatusReport:
    """One claim's status from a 277CA (or a clearinghouse's own status feed mapped onto 277 codes)."""

    patient_control_number: str  #: TRN02 = our CLM01
    category: str  #: STC01-1, e.g. A1, A7, P1, F1, F2
    status_code: str = ""  #: STC01-2 (claim status code)
    entity: str = ""  #: STC01-3 (entity identifier code), often empty
    message: str = ""  #: STC12 free text, or the codes in plain words when the payer sent none
    payer_claim_number: str = ""  #: REF*1K
    effective_date: date | None = None  #: STC02
    charge_cents: int | None = None  #: STC04
    clearinghouse_claim_id: str = ""  #: a clearinghouse's own id for the claim, when it has one (277CA REF*D9)
    patient_name: str = ""  #: NM1*QC "Last, First" of the patient level
    member_id: str = ""  #: NM1*QC NM109
    service_date: date | None = None  #: DTP*472 (the first date of a range)


# ---------------------------------------------------------------- 835 remittance advice


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """One CAS reason: group CO / PR / OA / PI / CR, a CARC reason code, an amount (negative in reversals)."""

    group: str
    reason: str
    amount_cents: int
    quantity: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePayment:
    """SVC loop (2110): what the payer did with one service line."""

    procedure_code: str  #: SVC01-2
    modifiers: tuple[str, ...] = ()
    charge_cents: int  #: SVC02
    paid_cents: int  #: SVC03
    units: int = 1  #: SVC05 (1 when absent)
    line_reference: str = ""  #: REF*6R, our ClaimLine.line_reference
    service_date: date | None = None  #: DTM*472 (or 150)
    adjustments: tuple[Adjustment, ...] = ()
    allowed_cents: int | None = None  #: AMT*B6
    remark_codes: tuple[str, ...] = ()  #: LQ*HE


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimPayment:
    """CLP loop (2100): the payer's decision on one claim."""

    patient_control_number: str  #: CLP01 = our CLM01
    status_code: str  #: CLP02: 1/2/3 processed as primary/secondary/tertiary, 4 denied, 19/20/21, 22 reversal, 23
    charge_cents: int  #: CLP03
    paid_cents: int  #: CLP04
    patient_responsibility_cents: int = 0  #: CLP05
    filing_indicator: str = ""  #: CLP06
    payer_claim_number: str = ""  #: CLP07
    adjustments: tuple[Adjustment, ...] = ()  #: claim-level CAS
    services: tuple[ServicePayment, ...] = ()
    remark_codes: tuple[str, ...] = ()  #: MOA / MIA remark codes
    patient_name: str = ""  #: NM1*QC "Last, First"
    member_id: str = ""  #: NM1*QC (or IL) NM109
    crossover_payer_name: str = ""  #: NM1*TT NM103: the payer a claim was forwarded to (CLP02 19–21)
    crossover_payer_id: str = ""  #: NM1*TT NM109

    @property
    def forwarded(self) -> bool:
        """CLP02 19/20/21: processed, and forwarded by the payer to the next one (a crossover)."""
        return self.status_code in FORWARDED

    @property
    def processed_as(self) -> int | None:
        """Which payer the payer says it was (1 primary, 2 secondary, 3 tertiary), when it processed the claim."""
        return PROCESSED_AS.get(self.status_code)


#: CLP02 codes of a processed claim, and which payer each says the payer was.
PROCESSED_AS = {"1": 1, "2": 2, "3": 3, "19": 1, "20": 2, "21": 3}
#: CLP02 codes of a claim processed and forwarded to the next payer (NM1*TT names it).
FORWARDED = frozenset({"19", "20", "21"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderAdjustment:
    """PLB: a provider-level adjustment, e.g. WO overpayment recovery, L6 interest. Positive reduces the payment."""

    provider_id: str
    fiscal_period_date: date | None
    reason: str  #: PLB03-1
    reference: str = ""  #: PLB03-2
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Remittance:
    """One 835 transaction (ST…SE): one payment (check, EFT or none) and the claims it pays."""

    total_paid_cents: int  #: BPR02
    credit_debit: str = "C"  #: BPR03
    payment_method: str  #: BPR04: ACH, CHK, BOP, FWT or NON
    paid_on: date | None  #: BPR16
    trace_number: str  #: TRN02: the check or EFT number
    payer_identifier: str = ""  #: TRN03 (1 + the payer's EIN, or another id the payer uses)
    payer_name: str  #: N1*PR N102
    payer_id: str = ""  #: N1*PR REF*2U, or N104 when N103 = XV/PI
    payee_name: str = ""  #: N1*PE N102
    payee_npi: str = ""  #: N1*PE*…*XX*<npi>
    payee_tax_id: str = ""  #: N1*PE REF*TJ, or N104 when N103 = FI
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    transaction_control_number: str = ""  #: ST02
    interchange_control_number: str = ""  #: ISA13
    production_date: date | None = None  #: DTM*405
    warnings: tuple[str, ...] = field(default=())  #: things worth showing that did not stop the reading
