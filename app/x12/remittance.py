"""Read and write 835 remittance advice (005010X221A1): what a payer paid, claim by claim and line by line.

`parse_835` refuses, with `X12ReadError` in plain words, any file it cannot read whole or that does not
balance, because posting a payment that does not add up would put wrong money on clients' accounts:

- each service line: SVC02 (charge) − its CAS = SVC03 (paid);
- each claim: CLP03 − (claim-level CAS + every line's CAS) = CLP04, and, when it has lines,
  Σ SVC03 − claim-level CAS = CLP04 (a claim-level adjustment, such as Medicare's sequestration CO-253, sits
  beside lines that each balance on their own);
- the payment: BPR02 = Σ CLP04 − Σ PLB (a positive PLB, e.g. WO, takes money back; a negative one, e.g. L6
  interest, adds it). BPR03 D (a debit) means the payer takes BPR02 from the provider.

Reversals (CLP02 22) carry negative amounts and balance by the same rules. `write_835` makes the same files
for the sandbox clearinghouse and for tests; every file it writes passes `validate.validate_x12`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from app.billing.money import dollars
from app.x12.claim_data import Address
from app.x12.inbound import (
    Adjustment, ClaimPayment, ProviderAdjustment, Remittance, ServicePayment, X12ReadError,
)
from app.x12.segments import (
    KIND_835, Located, build_interchange, ccyymmdd, cents, clean, collector_paused, composite, count, element,
    optional_cents, optional_date, segment, transactions, x12_amount, x12_date,
)

#: CAS carries up to six (reason, amount, quantity) triples after its group code.
ADJUSTMENTS_PER_CAS = 6
#: PLB carries up to six (reason:reference, amount) pairs after the provider id and fiscal period date.
ADJUSTMENTS_PER_PLB = 6
#: MOA03–MOA07: up to five claim-level remark codes.
CLAIM_REMARKS = 5

#: Where the payer's address and technical contact come from when the caller has none: the guide requires
#: N3/N4 and PER*BL, and a Remittance does not carry them (nobody reads them back).
ADDRESS_NOT_GIVEN = Address(line1="ADDRESS NOT GIVEN", city="UNKNOWN", state="", zip_code="")


# ---------------------------------------------------------------- reading


class _Service:
    __slots__ = ("procedure_code", "modifiers", "charge", "paid", "units", "line_reference", "service_date",
                 "adjustments", "allowed", "remarks", "number")

    def __init__(self, procedure_code: str, modifiers: tuple[str, ...], charge: int, paid: int, units: int,
                 number: int) -> None:
        self.procedure_code, self.modifiers = procedure_code, modifiers
        self.charge, self.paid, self.units = charge, paid, units
        self.line_reference = ""
        self.service_date: date | None = None
        self.adjustments: list[Adjustment] = []
        self.allowed: int | None = None
        self.remarks: list[str] = []
        self.number = number

    def build(self) -> ServicePayment:
        return ServicePayment(procedure_code=self.procedure_code, modifiers=self.modifiers, charge_cents=self.charge,
                              paid_cents=self.paid, units=self.units, line_reference=self.line_reference,
                              service_date=self.service_date, adjustments=tuple(self.adjustments),
                              allowed_cents=self.allowed, remark_codes=tuple(self.remarks))


class _Claim:
    __slots__ = ("patient_control_number", "status", "charge", "paid", "patient_share", "filing_indicator",
                 "payer_claim_number", "adjustments", "services", "remarks", "patient_name", "member_id",
                 "insured_member_id", "number", "crossover_name", "crossover_id")

    def __init__(self, seg: list[str], number: int) -> None:
        self.number = number
        self.patient_control_number = element(seg, 1)
        if not self.patient_control_number:
            raise X12ReadError(f"The CLP at segment {number} has no claim number (CLP01): the payment cannot be "
                               "matched to a claim.")
        what = f"of claim {self.patient_control_number} (segment {number})"
        self.status = element(seg, 2)
        if not self.status:
            raise X12ReadError(f"CLP02 {what} is empty: the payer does not say what it did with the claim.")
        self.charge = cents(element(seg, 3), f"CLP03 {what}")
        self.paid = cents(element(seg, 4), f"CLP04 {what}")
        self.patient_share = optional_cents(element(seg, 5), f"CLP05 {what}") or 0
        self.filing_indicator = element(seg, 6)
        self.payer_claim_number = element(seg, 7)
        self.adjustments: list[Adjustment] = []
        self.services: list[_Service] = []
        self.remarks: list[str] = []
        self.patient_name = ""
        self.member_id = ""
        self.insured_member_id = ""
        self.crossover_name = ""
        self.crossover_id = ""

    def build(self) -> ClaimPayment:
        return ClaimPayment(
            patient_control_number=self.patient_control_number, status_code=self.status, charge_cents=self.charge,
            paid_cents=self.paid, patient_responsibility_cents=self.patient_share,
            filing_indicator=self.filing_indicator, payer_claim_number=self.payer_claim_number,
            adjustments=tuple(self.adjustments), services=tuple(service.build() for service in self.services),
            remark_codes=tuple(self.remarks), patient_name=self.patient_name,
            member_id=self.member_id or self.insured_member_id, crossover_payer_name=self.crossover_name,
            crossover_payer_id=self.crossover_id)


def _check_claim_balances(claim: _Claim) -> None:
    name = f"Claim {claim.patient_control_number} does not balance"
    claim_level = sum(adjustment.amount_cents for adjustment in claim.adjustments)
    adjusted = claim_level
    for ordinal, service in enumerate(claim.services, start=1):
        line_adjusted = sum(adjustment.amount_cents for adjustment in service.adjustments)
        adjusted += line_adjusted
        if service.charge - line_adjusted != service.paid:
            raise X12ReadError(
                f"{name}: line {ordinal} ({service.procedure_code}, segment {service.number}) charged "
                f"{dollars(service.charge)} with {dollars(line_adjusted)} of adjustments, which leaves "
                f"{dollars(service.charge - line_adjusted)}, but the payer says it paid {dollars(service.paid)}.")
    if claim.charge - adjusted != claim.paid:
        raise X12ReadError(
            f"{name}: it charged {dollars(claim.charge)} with {dollars(adjusted)} of adjustments, which leaves "
            f"{dollars(claim.charge - adjusted)}, but the payer says it paid {dollars(claim.paid)} (CLP04).")
    if claim.services:
        lines_paid = sum(service.paid for service in claim.services)
        if lines_paid - claim_level != claim.paid:
            less = f", less {dollars(claim_level)} of claim-level adjustments" if claim_level else ""
            raise X12ReadError(f"{name}: its lines were paid {dollars(lines_paid)} in all{less}, but the claim "
                               f"says {dollars(claim.paid)} (CLP04).")


class _Reader:
    """One ST…SE of an 835, read segment by segment into a Remittance."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.component = located.interchange.delimiters.component
        self.warnings: list[str] = []
        self.total: int | None = None
        self.credit_debit = "C"
        self.method = ""
        self.paid_on: date | None = None
        self.trace: str | None = None
        self.payer_identifier = ""
        self.production_date: date | None = None
        self.payer_name: str | None = None
        self.payer_id = ""
        self.payee_name = ""
        self.payee_npi = ""
        self.payee_tax_id = ""
        self.claims: list[_Claim] = []
        self.plbs: list[ProviderAdjustment] = []
        self.section = "header"  # header, payer, payee, detail, footer: the loops in the order they must come
        self.claim: _Claim | None = None
        self.service: _Service | None = None

    def read(self) -> Remittance:
        transaction = self.located.transaction
        segments = transaction.segments
        control = transaction.control_number
        if len(segments) < 3 or segments[1][0] != "BPR":
            raise X12ReadError(f"The 835 transaction {control} has no BPR segment (the payment) at its start.")
        handlers = {
            "CLP": self._on_claim, "SVC": self._on_service, "CAS": self._on_adjustment, "LQ": self._on_line_remark,
            "DTM": self._on_detail, "REF": self._on_detail, "AMT": self._on_detail, "QTY": self._on_detail,
            "NM1": self._on_claim_detail, "MIA": self._on_claim_detail, "MOA": self._on_claim_detail,
            "PER": self._on_claim_detail, "LX": self._on_header_number, "TS3": self._on_summary,
            "TS2": self._on_summary, "PLB": self._on_provider_adjustment,
            **{segment_id: self._on_header for segment_id in ("BPR", "TRN", "CUR", "N1", "N2", "N3", "N4", "RDM")},
        }
        first_number = transaction.first_segment_number
        for index in range(1, len(segments) - 1):
            seg = segments[index]
            handler = handlers.get(seg[0])
            if handler is None:
                raise X12ReadError(f"Segment {first_number + index} ({seg[0]}) does not belong in an 835.")
            handler(seg, first_number + index)
        self._close_claim()
        if self.trace is None:
            raise X12ReadError(f"The 835 transaction {control} has no TRN segment (the check or EFT number).")
        if self.payer_name is None:
            raise X12ReadError(f"The 835 transaction {control} has no N1*PR segment (the payer).")
        if not self.payee_name:
            self.warnings.append("The 835 does not name the payee (N1*PE).")
        self._check_payment_balances()
        return Remittance(
            total_paid_cents=self.total or 0, credit_debit=self.credit_debit, payment_method=self.method,
            paid_on=self.paid_on, trace_number=self.trace, payer_identifier=self.payer_identifier,
            payer_name=self.payer_name, payer_id=self.payer_id, payee_name=self.payee_name,
            payee_npi=self.payee_npi, payee_tax_id=self.payee_tax_id,
            claims=tuple(claim.build() for claim in self.claims), provider_adjustments=tuple(self.plbs),
            transaction_control_number=control, interchange_control_number=self.located.interchange.control_number,
            production_date=self.production_date, warnings=tuple(self.warnings))

    def _check_payment_balances(self) -> None:
        claims_paid = sum(claim.paid for claim in self.claims)
        provider_adjusted = sum(plb.amount_cents for plb in self.plbs)
        expected = claims_paid - provider_adjusted
        stated = -(self.total or 0) if self.credit_debit == "D" else (self.total or 0)
        if stated != expected:
            raise X12ReadError(
                f"The payment does not balance: BPR02 says {dollars(self.total or 0)}"
                f"{' taken back (debit)' if self.credit_debit == 'D' else ''}, but the claims paid "
                f"{dollars(claims_paid)} and the provider adjustments (PLB) come to {dollars(provider_adjusted)}, "
                f"which makes {dollars(expected)} (transaction {self.located.transaction.control_number}).")

    def _close_claim(self) -> None:
        if self.claim is not None:
            _check_claim_balances(self.claim)
            self.claims.append(self.claim)
        self.claim = None
        self.service = None

    @staticmethod
    def _out_of_place(segment_id: str, number: int, where: str) -> X12ReadError:
        return X12ReadError(f"{segment_id} (segment {number}) is out of place: it belongs {where}.")

    # One handler per segment id; each checks the segment comes where the 835's loops allow it.

    def _on_claim(self, seg: list[str], number: int) -> None:
        if self.section == "footer":
            raise X12ReadError(f"The claim at segment {number} comes after the provider adjustments (PLB), "
                               "which must end the 835.")
        self._close_claim()
        self.section = "detail"
        self.claim = _Claim(seg, number)

    def _on_service(self, seg: list[str], number: int) -> None:
        if self.claim is None:
            raise self._out_of_place("SVC", number, "inside a claim (after CLP)")
        self.service = self._read_service(seg, number, self.claim)
        self.claim.services.append(self.service)

    def _on_adjustment(self, seg: list[str], number: int) -> None:
        if self.claim is None:
            raise self._out_of_place("CAS", number, "inside a claim (after CLP)")
        target = self.service.adjustments if self.service is not None else self.claim.adjustments
        target.extend(self._read_adjustments(seg, number))

    def _on_line_remark(self, seg: list[str], number: int) -> None:
        if self.service is None:
            raise self._out_of_place("LQ", number, "inside a service line (after SVC)")
        if len(seg) > 2 and seg[1] == "HE" and seg[2]:
            self.service.remarks.append(seg[2])

    def _on_detail(self, seg: list[str], number: int) -> None:
        """DTM, REF, AMT, QTY: the line's when in a line, the claim's when in a claim, else the header's."""
        if self.service is not None:
            self._service_detail(seg, number, self.service)
        elif self.claim is None:
            self._on_header(seg, number)
        # Claim-level dates, references and amounts (DTM*232, REF*EA, AMT*AU …): nothing Parity keeps.

    def _on_claim_detail(self, seg: list[str], number: int) -> None:
        if self.claim is None:
            if seg[0] == "PER":
                self._on_header(seg, number)
                return
            raise self._out_of_place(seg[0], number, "inside a claim (after CLP)")
        if self.service is not None:
            raise self._out_of_place(seg[0], number, "before the claim's service lines (SVC)")
        self._claim_detail(seg, number, self.claim)

    def _on_header_number(self, seg: list[str], number: int) -> None:
        if self.section == "footer":
            raise self._out_of_place("LX", number, "before the provider adjustments (PLB)")
        self._close_claim()
        self.section = "detail"

    def _on_summary(self, seg: list[str], number: int) -> None:
        if self.section != "detail" or self.claim is not None:
            raise self._out_of_place(seg[0], number, "right after LX")

    def _on_provider_adjustment(self, seg: list[str], number: int) -> None:
        self._close_claim()
        self.section = "footer"
        self.plbs.extend(self._read_plb(seg, number))

    def _on_header(self, seg: list[str], number: int) -> None:
        if self.section in ("detail", "footer"):
            raise self._out_of_place(seg[0], number, "in the 835's header, before the claims")
        self._header(seg, number)

    def _header(self, seg: list[str], number: int) -> None:
        segment_id = seg[0]
        if segment_id == "BPR":
            if self.total is not None:
                raise X12ReadError(f"The 835 has a second BPR at segment {number}.")
            self.total = cents(element(seg, 2), f"BPR02 (segment {number})")
            self.credit_debit = element(seg, 3) or "C"
            if self.credit_debit not in ("C", "D"):
                raise X12ReadError(f"BPR03 (segment {number}) must be C (credit) or D (debit), not "
                                   f"{self.credit_debit[:10]!r}.")
            self.method = element(seg, 4)
            if not self.method:
                raise X12ReadError(f"BPR04 (segment {number}) is empty: the payment method is missing.")
            self.paid_on = optional_date(element(seg, 16), f"BPR16 (segment {number})")
        elif segment_id == "TRN":
            if self.trace is not None:
                raise X12ReadError(f"The 835 has a second TRN at segment {number}.")
            self.trace = element(seg, 2)
            if not self.trace:
                raise X12ReadError(f"TRN02 (segment {number}) is empty: the check or EFT number is missing.")
            self.payer_identifier = element(seg, 3)
        elif segment_id == "DTM" and self.section == "header":
            if element(seg, 1) == "405":
                self.production_date = ccyymmdd(element(seg, 2), f"DTM02 (segment {number})")
        elif segment_id == "N1":
            self._party(seg, number)
        elif segment_id == "REF" and self.section == "payer" and element(seg, 1) == "2U":
            self.payer_id = element(seg, 2)
        elif segment_id == "REF" and self.section == "payee" and element(seg, 1) == "TJ":
            self.payee_tax_id = self.payee_tax_id or element(seg, 2)
        elif segment_id in ("N2", "N3", "N4", "PER", "RDM") and self.section == "header":
            raise self._out_of_place(segment_id, number, "after N1*PR or N1*PE")
        # CUR, REF*EV/F2 and the parties' addresses and contacts: nothing Parity keeps.

    def _party(self, seg: list[str], number: int) -> None:
        qualifier = element(seg, 1)
        if qualifier == "PR":
            if self.payer_name is not None:
                raise X12ReadError(f"The 835 has a second payer (N1*PR) at segment {number}.")
            self.section = "payer"
            self.payer_name = element(seg, 2)
            if element(seg, 3) in ("XV", "PI"):
                self.payer_id = element(seg, 4)
        elif qualifier == "PE":
            if self.payer_name is None:
                raise X12ReadError(f"The payee (N1*PE, segment {number}) comes before the payer (N1*PR).")
            if self.payee_name:
                raise X12ReadError(f"The 835 has a second payee (N1*PE) at segment {number}.")
            self.section = "payee"
            self.payee_name = element(seg, 2) or "(no name)"
            if element(seg, 3) == "XX":
                self.payee_npi = element(seg, 4)
            elif element(seg, 3) == "FI":
                self.payee_tax_id = element(seg, 4)
        else:
            raise X12ReadError(f"N1 (segment {number}) names a {qualifier[:3]!r} party; an 835 names only the payer "
                               "(PR) and the payee (PE).")

    def _read_adjustments(self, seg: list[str], number: int) -> list[Adjustment]:
        group = seg[1] if len(seg) > 1 else ""
        if not group:
            raise X12ReadError(f"CAS01 (segment {number}) is empty: the adjustment has no group (CO, PR, OA, PI).")
        size = len(seg)
        if size > 2 + 3 * ADJUSTMENTS_PER_CAS:
            raise X12ReadError(f"The CAS at segment {number} has more than six adjustments.")
        adjustments = []
        for start in range(2, size, 3):
            reason = seg[start]
            amount = seg[start + 1] if start + 1 < size else ""
            quantity = seg[start + 2] if start + 2 < size else ""
            if not reason:
                if amount or quantity:
                    raise X12ReadError(f"CAS{start + 1:02d} (segment {number}) is an amount without a reason code.")
                continue
            adjustments.append(Adjustment(
                group=group, reason=reason,
                amount_cents=cents(amount, lambda: f"CAS{start + 1:02d} (segment {number}, {group}-{reason})"),
                quantity=count(quantity, lambda: f"CAS{start + 2:02d} (segment {number})", self.warnings)
                if quantity else None))
        if not adjustments:
            raise X12ReadError(f"The CAS at segment {number} has no adjustment in it.")
        return adjustments

    def _read_service(self, seg: list[str], number: int, claim: _Claim) -> _Service:
        size = len(seg)

        def where(name: str) -> Callable[[], str]:
            return lambda: f"{name} of claim {claim.patient_control_number} (segment {number})"

        procedure = seg[1].split(self.component) if size > 1 else [""]
        code = procedure[1] if len(procedure) > 1 else ""
        if not code:
            raise X12ReadError(f"{where('SVC01')()} has no procedure code.")
        units = count(seg[5], where("SVC05"), self.warnings) if size > 5 and seg[5] else 1
        return _Service(procedure_code=code, modifiers=tuple(modifier for modifier in procedure[2:6] if modifier),
                        charge=cents(seg[2] if size > 2 else "", where("SVC02")),
                        paid=cents(seg[3] if size > 3 else "", where("SVC03")), units=units, number=number)

    @staticmethod
    def _service_detail(seg: list[str], number: int, service: _Service) -> None:
        segment_id, qualifier, value = seg[0], seg[1] if len(seg) > 1 else "", seg[2] if len(seg) > 2 else ""
        if segment_id == "DTM" and qualifier in ("472", "150"):
            service.service_date = ccyymmdd(value, lambda: f"DTM02 (segment {number})")
        elif segment_id == "REF" and qualifier == "6R":
            service.line_reference = value
        elif segment_id == "AMT" and qualifier == "B6":
            service.allowed = cents(value, lambda: f"AMT02 (segment {number})")

    @staticmethod
    def _claim_detail(seg: list[str], number: int, claim: _Claim) -> None:
        segment_id, qualifier = seg[0], element(seg, 1)
        if segment_id == "NM1" and qualifier == "QC":
            last, first = element(seg, 3), element(seg, 4)
            claim.patient_name = f"{last}, {first}" if first else last
            claim.member_id = element(seg, 9)
        elif segment_id == "NM1" and qualifier == "IL":
            claim.insured_member_id = element(seg, 9)
        elif segment_id == "NM1" and qualifier == "TT":
            claim.crossover_name, claim.crossover_id = element(seg, 3), element(seg, 9)
        elif segment_id == "MOA":
            claim.remarks.extend(code for code in seg[3:8] if code)
        elif segment_id == "MIA":
            # MIA05 and MIA20–MIA23 are the inpatient remark codes.
            claim.remarks.extend(code for code in (element(seg, 5), *seg[20:24]) if code)

    def _read_plb(self, seg: list[str], number: int) -> list[ProviderAdjustment]:
        provider_id = element(seg, 1)
        if not provider_id:
            raise X12ReadError(f"PLB01 (segment {number}) is empty: the provider adjustment names no provider.")
        period = optional_date(element(seg, 2), f"PLB02 (segment {number})")
        if len(seg) > 3 + 2 * ADJUSTMENTS_PER_PLB:
            raise X12ReadError(f"The PLB at segment {number} has more than six adjustments.")
        adjustments = []
        for start in range(3, len(seg), 2):
            reason_and_reference, amount = element(seg, start), element(seg, start + 1)
            reason, _, reference = reason_and_reference.partition(self.component)
            if not reason:
                if amount:
                    raise X12ReadError(f"PLB{start + 1:02d} (segment {number}) is an amount without a reason.")
                continue
            adjustments.append(ProviderAdjustment(
                provider_id=provider_id, fiscal_period_date=period, reason=reason,
                reference=reference.partition(self.component)[0],
                amount_cents=cents(amount, f"PLB{start + 1:02d} (segment {number}, {reason})")))
        if not adjustments:
            raise X12ReadError(f"The PLB at segment {number} has no adjustment in it.")
        return adjustments


def parse_835(text: str) -> list[Remittance]:
    """One Remittance per 835 transaction (ST…SE) in the file, each checked to balance."""
    with collector_paused():
        return [_Reader(located).read() for located in transactions(text, KIND_835)]


# ---------------------------------------------------------------- writing


def _adjustment_segments(adjustments: tuple[Adjustment, ...]) -> list[str]:
    """CAS segments: consecutive adjustments of one group share a CAS (up to six), so the order survives."""
    out: list[str] = []
    run: list[Adjustment] = []

    def flush() -> None:
        if run:
            elements = [run[0].group]
            for adjustment in run:
                elements += [clean(adjustment.reason), x12_amount(adjustment.amount_cents),
                             "" if adjustment.quantity is None else str(adjustment.quantity)]
            out.append(segment("CAS", *elements))
            run.clear()

    for adjustment in adjustments:
        if run and (adjustment.group != run[0].group or len(run) == ADJUSTMENTS_PER_CAS):
            flush()
        run.append(adjustment)
    flush()
    return out


def _claim_segments(claim: ClaimPayment, out: list[str]) -> None:
    if len(claim.remark_codes) > CLAIM_REMARKS:
        raise ValueError(f"claim {claim.patient_control_number}: an 835 carries at most {CLAIM_REMARKS} claim remark "
                         "codes (MOA03–MOA07); put the others on the lines")
    out.append(segment("CLP", clean(claim.patient_control_number, 38), claim.status_code,
                       x12_amount(claim.charge_cents), x12_amount(claim.paid_cents),
                       x12_amount(claim.patient_responsibility_cents), claim.filing_indicator,
                       clean(claim.payer_claim_number, 50)))
    out.extend(_adjustment_segments(claim.adjustments))
    last, _, first = claim.patient_name.partition(", ")
    out.append(segment("NM1", "QC", "1", clean(last, 60), clean(first, 35), "", "", "",
                       "MI" if claim.member_id else "", clean(claim.member_id, 80)))
    if claim.crossover_payer_name:
        out.append(segment("NM1", "TT", "2", clean(claim.crossover_payer_name, 60), "", "", "", "",
                           "PI" if claim.crossover_payer_id else "", clean(claim.crossover_payer_id, 80)))
    if claim.remark_codes:
        out.append(segment("MOA", "", "", *claim.remark_codes))
    for service in claim.services:
        procedure = composite("HC", clean(service.procedure_code), *map(clean, service.modifiers))
        out.append(segment("SVC", procedure, x12_amount(service.charge_cents), x12_amount(service.paid_cents), "",
                           str(service.units)))
        if service.service_date:
            out.append(segment("DTM", "472", x12_date(service.service_date)))
        out.extend(_adjustment_segments(service.adjustments))
        if service.line_reference:
            out.append(segment("REF", "6R", clean(service.line_reference, 50)))
        if service.allowed_cents is not None:
            out.append(segment("AMT", "B6", x12_amount(service.allowed_cents)))
        out.extend(segment("LQ", "HE", code) for code in service.remark_codes)


def _provider_adjustment_segments(adjustments: tuple[ProviderAdjustment, ...], default_period: date) -> list[str]:
    """PLB segments: consecutive adjustments for one provider and period share a PLB (up to six pairs)."""
    out: list[str] = []
    run: list[ProviderAdjustment] = []

    def flush() -> None:
        if run:
            first = run[0]
            elements = [clean(first.provider_id, 50), x12_date(first.fiscal_period_date or default_period)]
            for adjustment in run:
                elements += [composite(adjustment.reason, clean(adjustment.reference, 50)),
                             x12_amount(adjustment.amount_cents)]
            out.append(segment("PLB", *elements))
            run.clear()

    for adjustment in adjustments:
        if run and ((adjustment.provider_id, adjustment.fiscal_period_date)
                    != (run[0].provider_id, run[0].fiscal_period_date) or len(run) == ADJUSTMENTS_PER_PLB):
            flush()
        run.append(adjustment)
    flush()
    return out


def _payment_handling(method: str) -> str:
    """BPR01: H notification only (no money moves), I remittance information only (a paper check goes
    separately), C payment accompanies the remittance (electronic transfer)."""
    if method == "NON":
        return "H"
    return "I" if method == "CHK" else "C"


def write_835(remittance: Remittance, *, sender_id: str, receiver_id: str, interchange_control_number: int,
              created_at: datetime, group_control_number: int | None = None,
              payer_address: Address = ADDRESS_NOT_GIVEN, payer_contact_name: str = "EDI SUPPORT",
              payer_contact_phone: str = "", usage_indicator: str = "P") -> str:
    """One 835 transaction for `remittance`, in an interchange of its own.

    BPR16 falls back to `created_at`'s date when `paid_on` is unknown, and so does a PLB's fiscal period.
    For ACH payments the guide also wants the banks' routing and account numbers (BPR05–BPR15); a
    Remittance does not carry them, so they are left out (pyx12 does not require them).
    """
    today = created_at.date()
    body = [
        segment("BPR", _payment_handling(remittance.payment_method), x12_amount(remittance.total_paid_cents),
                remittance.credit_debit or "C", remittance.payment_method, "", "", "", "", "", "", "", "", "", "", "",
                x12_date(remittance.paid_on or today)),
        segment("TRN", "1", clean(remittance.trace_number, 50), clean(remittance.payer_identifier, 10)),
    ]
    if remittance.production_date:
        body.append(segment("DTM", "405", x12_date(remittance.production_date)))
    body.append(segment("N1", "PR", clean(remittance.payer_name, 60)))
    body.append(segment("N3", clean(payer_address.line1, 55), clean(payer_address.line2, 55)))
    body.append(segment("N4", clean(payer_address.city, 30), clean(payer_address.state, 2),
                        "".join(character for character in payer_address.zip_code if character.isdigit())))
    if remittance.payer_id:
        body.append(segment("REF", "2U", clean(remittance.payer_id, 50)))
    digits = "".join(character for character in payer_contact_phone if character.isdigit())
    body.append(segment("PER", "BL", clean(payer_contact_name, 60), "TE" if digits else "", digits))
    if remittance.payee_npi:
        body.append(segment("N1", "PE", clean(remittance.payee_name, 60), "XX", clean(remittance.payee_npi, 80)))
        if remittance.payee_tax_id:
            body.append(segment("REF", "TJ", clean(remittance.payee_tax_id, 50)))
    else:
        body.append(segment("N1", "PE", clean(remittance.payee_name, 60), "FI" if remittance.payee_tax_id else "",
                            clean(remittance.payee_tax_id, 80)))
    if remittance.claims:
        body.append("LX*1")
        for claim in remittance.claims:
            _claim_segments(claim, body)
    body.extend(_provider_adjustment_segments(remittance.provider_adjustments, today))
    return build_interchange(functional_id="HP", kind=KIND_835, sender_id=sender_id, receiver_id=receiver_id,
                             interchange_control_number=interchange_control_number,
                             group_control_number=group_control_number, created_at=created_at,
                             bodies=[(remittance.transaction_control_number or "0001", body)],
                             usage_indicator=usage_indicator)
