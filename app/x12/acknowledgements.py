"""Read and write 999 implementation acknowledgements (005010X231A1) and 277CA claim acknowledgements
(005010X214).

A 999 answers a whole 837P file: per transaction set (ST…SE) accepted, accepted with errors, or rejected,
with the segments and elements at fault. A 277CA answers claim by claim (TRN*2 = our CLM01): received,
accepted into adjudication, or rejected with the payer's codes and sometimes its own words (STC12).

Readers return `inbound` dataclasses and raise `X12ReadError` for anything they cannot read whole; writers
make the same files for the sandbox clearinghouse and for tests, and every file they write passes
`validate.validate_x12`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.x12 import reasons
from app.x12.inbound import ClaimStatusReport, FunctionalAck, TransactionAck, X12ReadError
from app.x12.segments import (
    KIND_277CA, KIND_999, build_interchange, ccyymmdd, collector_paused, clean, composite, element,
    optional_cents, optional_date, segment, transactions, x12_amount, x12_date,
)

# ---------------------------------------------------------------- 999 codes in plain words

#: IK304: what is wrong with a segment.
SEGMENT_PROBLEMS = {
    "1": "is not a segment this transaction knows",
    "2": "is not expected here",
    "3": "is required but missing",
    "4": "is in a loop that repeats too many times",
    "5": "repeats more times than allowed",
    "6": "is not defined for this transaction",
    "7": "is out of order",
    "8": "has errors in its elements",
    "I4": "is not used in this implementation but was sent",
    "I6": "is required in this situation but missing",
    "I7": "is in a loop that repeats too few times",
    "I8": "repeats fewer times than required",
    "I9": "must not be sent in this situation",
}

#: IK403: what is wrong with an element.
ELEMENT_PROBLEMS = {
    "1": "is required but missing",
    "2": "is required in this situation but missing",
    "3": "is one element too many",
    "4": "is too short",
    "5": "is too long",
    "6": "has an invalid character",
    "7": "is not a valid code",
    "8": "is not a valid date",
    "9": "is not a valid time",
    "10": "must not be sent together with another element",
    "12": "repeats too many times",
    "13": "has too many components",
    "I6": "is a code this implementation does not use",
    "I9": "is required in this situation but missing",
    "I10": "is not used in this implementation but was sent",
    "I11": "repeats too few times",
    "I12": "does not have the required format",
    "I13": "must not be sent in this situation",
}

#: IK502–IK506: why a transaction set was rejected as a whole.
TRANSACTION_PROBLEMS = {
    "1": "The receiver does not support this kind of transaction.",
    "2": "The transaction has no SE segment.",
    "3": "The transaction's ST and SE control numbers do not match.",
    "4": "The transaction's segment count (SE01) is wrong.",
    "5": "Some segments of the transaction have errors.",
    "6": "The transaction's identifier (ST01) is missing or not valid.",
    "7": "The transaction's control number (ST02) is missing or not valid.",
    "23": "The transaction's control number was already used in this group.",
    "24": "The file's structure around this transaction is broken.",
    "I5": "Some segments of the transaction break the implementation guide.",
    "I6": "The receiver does not support this implementation guide.",
}

#: AK905–AK909: why a functional group was rejected as a whole.
GROUP_PROBLEMS = {
    "1": "The receiver does not support this kind of functional group.",
    "2": "The receiver does not support this X12 version.",
    "3": "The group has no GE segment.",
    "4": "The group's GS and GE control numbers do not match.",
    "5": "The group's transaction count (GE01) is wrong.",
    "6": "The group's control number (GS06) is not valid.",
    "19": "The file's structure around this group is broken.",
    "23": "The group's control number was already used.",
}

_ACCEPTED = "A"
_ACCEPTED_WITH_ERRORS = "E"
_REJECTED = "R"
_PARTIALLY_ACCEPTED = "P"


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentError:
    """One IK3 finding (with at most one IK4 element finding) to write into a 999.

    A 999 carries codes, not sentences: `parse_999` turns them back into the plain words of `describe()`.
    """

    segment_id: str  #: IK301, e.g. "NM1"
    position: int  #: IK302: the segment's position in the transaction, ST = 1
    loop_id: str = ""  #: IK303, e.g. "2300" (at most 4 characters: "2010AA" is written as "2010")
    code: str = "8"  #: IK304 (8: the segment has element errors)
    element_position: int | None = None  #: IK401-1
    component_position: int | None = None  #: IK401-2
    element_reference: str = ""  #: IK402: the data element number, e.g. "67"
    element_code: str = ""  #: IK403
    bad_value: str = ""  #: IK404: a copy of the bad data
    claim: str = ""  #: CTX*CLM01: the claim (our CLM01) the segment belongs to

    def describe(self) -> str:
        elements = []
        if self.element_position is not None:
            elements.append((str(self.element_position), str(self.component_position or ""), self.element_code,
                             clean(self.bad_value, 99)))
        return _describe_ik3(self.segment_id, str(self.position), self.loop_id[:4], self.code, elements,
                             self.claim)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionResult:
    """What to say in a 999 about one transaction set of the file being acknowledged."""

    control_number: str  #: the ST02 being acknowledged
    status: str = _ACCEPTED  #: IK501: A accepted, E accepted with errors, R rejected
    errors: tuple[SegmentError, ...] = ()
    problem_codes: tuple[str, ...] = ()  #: IK502–IK506; when empty and there are errors, "5" is written


def _describe_ik3(segment_id: str, position: str, loop_id: str, code: str,
                  elements: Sequence[tuple[str, str, str, str]], claim: str) -> str:
    where = f"segment {segment_id or '?'}"
    if position:
        where += f" at position {position}"
    if loop_id:
        where += f" in loop {loop_id}"
    words = f"{where} {SEGMENT_PROBLEMS.get(code, f'has error code {code}')}"
    for element_position, component_position, element_code, bad_value in elements:
        name = f"{segment_id}{element_position.zfill(2)}" if element_position.isdigit() else \
            f"{segment_id}{element_position}"
        if component_position:
            name += f"-{component_position}"
        words += f"; element {name} {ELEMENT_PROBLEMS.get(element_code, f'has error code {element_code}')}"
        if bad_value:
            words += f" (value {bad_value!r})"
    if claim:
        words = f"claim {claim}: {words}"
    return words[:1].upper() + words[1:] + "."


# ---------------------------------------------------------------- 999 reading


def parse_999(text: str) -> list[FunctionalAck]:
    """Every 999 transaction in the file, as what it says about the group and transaction sets we sent."""
    acks: list[FunctionalAck] = []
    with collector_paused():
        for located in transactions(text, KIND_999):
            acks.append(_read_999_transaction(located.transaction.segments,
                                              located.transaction.first_segment_number,
                                              located.interchange.control_number,
                                              located.interchange.delimiters.component))
    return acks


class _Ik3:
    """The IK3 being read, with its IK4s and claim context, until the next IK3 or IK5 closes it."""

    __slots__ = ("segment_id", "position", "loop_id", "code", "elements", "claim")

    def __init__(self, segment: list[str]) -> None:
        self.segment_id, self.position = element(segment, 1), element(segment, 2)
        self.loop_id, self.code = element(segment, 3), element(segment, 4)
        self.elements: list[tuple[str, str, str, str]] = []
        self.claim = ""

    def describe(self) -> str:
        return _describe_ik3(self.segment_id, self.position, self.loop_id, self.code, self.elements, self.claim)


def _read_999_transaction(segments: list[list[str]], first_number: int, interchange_control: str,
                          component_separator: str) -> FunctionalAck:
    group_control = ""
    group_status = ""
    group_errors: list[str] = []
    results: list[TransactionAck] = []
    current: str | None = None  # AK202 of the AK2 loop being read
    errors: list[str] = []
    ik3: _Ik3 | None = None
    seen_ak1 = False

    def where(index: int) -> str:
        return f"segment {first_number + index}"

    def close_ik3() -> None:
        nonlocal ik3
        if ik3 is not None:
            errors.append(ik3.describe())
            ik3 = None

    for index in range(1, len(segments) - 1):
        seg = segments[index]
        segment_id = seg[0]
        if segment_id == "AK1":
            if seen_ak1:
                raise X12ReadError(f"The 999 has a second AK1 ({where(index)}); each 999 transaction answers one "
                                   "functional group.")
            seen_ak1 = True
            group_control = element(seg, 2)
            if not group_control:
                raise X12ReadError(f"AK102 ({where(index)}) is empty: the 999 does not say which group it answers.")
        elif not seen_ak1:
            raise X12ReadError(f"The 999 does not start with AK1 ({where(index)} is {segment_id}).")
        elif group_status:
            raise X12ReadError(f"{segment_id} ({where(index)}) comes after AK9, which must end the 999.")
        elif segment_id == "AK2":
            if current is not None:
                raise X12ReadError(f"Transaction {current} in the 999 has no IK5 before the next AK2 "
                                   f"({where(index)}).")
            current = element(seg, 2)
            if not current:
                raise X12ReadError(f"AK202 ({where(index)}) is empty: the 999 does not say which transaction it "
                                   "answers.")
            errors = []
        elif segment_id == "IK3":
            if current is None:
                raise X12ReadError(f"IK3 ({where(index)}) is outside an AK2 loop.")
            close_ik3()
            ik3 = _Ik3(seg)
        elif segment_id == "IK4":
            if ik3 is None:
                raise X12ReadError(f"IK4 ({where(index)}) does not follow an IK3.")
            position, _, component = element(seg, 1).partition(component_separator)
            component = component.partition(component_separator)[0]
            ik3.elements.append((position, component, element(seg, 3), element(seg, 4)))
        elif segment_id == "CTX":
            context_name, _, reference = element(seg, 1).partition(component_separator)
            if ik3 is not None and context_name == "CLM01":
                ik3.claim = reference.partition(component_separator)[0]
        elif segment_id == "IK5":
            if current is None:
                raise X12ReadError(f"IK5 ({where(index)}) is outside an AK2 loop.")
            close_ik3()
            status = element(seg, 1)
            if not status:
                raise X12ReadError(f"IK501 ({where(index)}) is empty: the 999 does not say whether transaction "
                                   f"{current} was accepted.")
            problem_codes = [code for code in seg[2:7] if code]
            for code in problem_codes:
                # "5"/"I5" only say "see the segment errors": repeat them only when there are none.
                if code not in ("5", "I5") or not errors:
                    errors.append(TRANSACTION_PROBLEMS.get(code, f"Transaction error code {code}."))
            results.append(TransactionAck(transaction_control_number=current, status=status, errors=tuple(errors)))
            current = None
        elif segment_id == "AK9":
            if current is not None:
                raise X12ReadError(f"Transaction {current} in the 999 has no IK5 before AK9 ({where(index)}).")
            group_status = element(seg, 1)
            if not group_status:
                raise X12ReadError(f"AK901 ({where(index)}) is empty: the 999 does not say whether the group was "
                                   "accepted.")
            group_errors = [GROUP_PROBLEMS.get(code, f"Group error code {code}.") for code in seg[5:10] if code]
        else:
            raise X12ReadError(f"Segment {first_number + index} ({segment_id}) does not belong in a 999.")
    if not seen_ak1:
        raise X12ReadError("The 999 has no AK1: it does not say which group it answers.")
    if current is not None:
        raise X12ReadError(f"Transaction {current} in the 999 has no IK5.")
    if not group_status:
        raise X12ReadError("The 999 has no AK9: it does not say whether the group was accepted.")
    return FunctionalAck(group_control_number=group_control, status=group_status, transactions=tuple(results),
                         interchange_control_number=interchange_control, errors=tuple(group_errors))


# ---------------------------------------------------------------- 999 writing


def _group_status(results: Sequence[TransactionResult]) -> str:
    accepted = [result for result in results if result.status in (_ACCEPTED, _ACCEPTED_WITH_ERRORS)]
    if not results or len(accepted) == 0:
        return _REJECTED
    if len(accepted) < len(results):
        return _PARTIALLY_ACCEPTED
    return _ACCEPTED if all(result.status == _ACCEPTED for result in results) else _ACCEPTED_WITH_ERRORS


#: What write_999 takes per transaction: a TransactionResult, or (control number, status, errors).
TransactionInput = TransactionResult | tuple[str, str, Sequence[SegmentError]]


def _as_result(item: TransactionInput) -> TransactionResult:
    if isinstance(item, TransactionResult):
        return item
    control_number, status, errors = item
    for error in errors:
        if not isinstance(error, SegmentError):
            # A 999 has no element for free text: an error must say which segment (and element) is at fault.
            raise TypeError(f"a 999 carries codes, not text: pass SegmentError, not {error!r}")
    return TransactionResult(control_number=control_number, status=status, errors=tuple(errors))


def write_999(*, group_control_number: str | int, transactions: Sequence[TransactionInput], sender_id: str,
              receiver_id: str, interchange_control_number: int, created_at: datetime,
              group_status: str | None = None, group_problem_codes: Sequence[str] = (),
              received_transactions: int | None = None, functional_id: str = "HC",
              acknowledged_version: str = "005010X222A1", acknowledged_set: str = "837",
              transaction_control_number: str = "0001", group_control_number_999: int | None = None,
              usage_indicator: str = "P") -> str:
    """A 999 acknowledging one functional group (GS06 = `group_control_number`) of an 837P we received.

    `transactions` are TransactionResult or (ST02, IK501 status, SegmentErrors) tuples.
    `group_status` defaults from the transactions: A, E, P (some rejected) or R (all rejected, or none).
    `received_transactions` (AK903) defaults to the number of transactions listed.
    """
    transactions = [_as_result(item) for item in transactions]
    status = group_status or _group_status(transactions)
    body = [segment("AK1", functional_id, str(group_control_number), acknowledged_version)]
    for result in transactions:
        body.append(segment("AK2", acknowledged_set, result.control_number, acknowledged_version))
        for error in result.errors:
            # IK303 is AN 1-4 in the X12 standard: an 837 loop such as 2010AA goes as its first four characters.
            body.append(segment("IK3", error.segment_id, str(error.position), error.loop_id[:4], error.code))
            if error.claim:
                body.append(segment("CTX", composite("CLM01", clean(error.claim, 35))))
            if error.element_position is not None:
                position = composite(str(error.element_position),
                                     str(error.component_position) if error.component_position else "")
                body.append(segment("IK4", position, error.element_reference, error.element_code,
                                    clean(error.bad_value, 99)))
        codes = list(result.problem_codes)
        if not codes and result.errors and result.status != _ACCEPTED:
            codes = ["5"]
        body.append(segment("IK5", result.status, *codes[:5]))
    accepted = sum(1 for result in transactions if result.status in (_ACCEPTED, _ACCEPTED_WITH_ERRORS))
    received = received_transactions if received_transactions is not None else len(transactions)
    body.append(segment("AK9", status, str(len(transactions)), str(received), str(accepted),
                        *list(group_problem_codes)[:5]))
    return build_interchange(functional_id="FA", kind=KIND_999, sender_id=sender_id, receiver_id=receiver_id,
                             interchange_control_number=interchange_control_number,
                             group_control_number=group_control_number_999, created_at=created_at,
                             bodies=[(transaction_control_number, body)], usage_indicator=usage_indicator)


# ---------------------------------------------------------------- 277CA reading


class _ClaimStatus:
    """The 2200D claim being read: its TRN, STCs and references, until the next TRN, HL or SE."""

    __slots__ = ("patient_control_number", "stcs", "payer_claim_number", "clearinghouse_claim_id", "service_date",
                 "patient_name", "member_id", "in_service_line", "number")

    def __init__(self, patient_control_number: str, patient_name: str, member_id: str, number: int) -> None:
        self.patient_control_number = patient_control_number
        self.patient_name = patient_name
        self.member_id = member_id
        self.stcs: list[tuple[list[str], int]] = []
        self.payer_claim_number = ""
        self.clearinghouse_claim_id = ""
        self.service_date: date | None = None
        self.in_service_line = False  # 2220D service lines repeat STC/REF/DTP: those are not the claim's
        self.number = number


def parse_277ca(text: str) -> list[ClaimStatusReport]:
    """Every claim-level status (2200D) in the file, in file order."""
    reports: list[ClaimStatusReport] = []
    with collector_paused():
        for located in transactions(text, KIND_277CA):
            _read_277_transaction(located.transaction.segments, located.transaction.first_segment_number,
                                  located.interchange.delimiters.component, reports)
    return reports


def _read_277_transaction(segments: list[list[str]], first_number: int, component_separator: str,
                          reports: list[ClaimStatusReport]) -> None:
    level = ""  # HL03 of the current hierarchical level: 20, 21, 19 or PT
    patient_name = ""
    member_id = ""
    claim: _ClaimStatus | None = None

    def close_claim() -> None:
        nonlocal claim
        if claim is not None:
            reports.append(_claim_report(claim, component_separator))
            claim = None

    if len(segments) < 3 or segments[1][0] != "BHT":
        raise X12ReadError(f"The 277CA transaction at segment {first_number} does not start with BHT.")
    for index in range(2, len(segments) - 1):
        seg = segments[index]
        segment_id = seg[0]
        number = first_number + index
        if segment_id == "HL":
            close_claim()
            level = element(seg, 3)
            if not level:
                raise X12ReadError(f"HL03 (segment {number}) is empty: the 277CA does not say what level this is.")
            patient_name = member_id = ""
        elif not level:
            raise X12ReadError(f"{segment_id} (segment {number}) comes before the first HL of the 277CA.")
        elif level != "PT":
            continue  # payer, receiver and provider levels: their totals are not claim statuses
        elif segment_id == "NM1" and element(seg, 1) == "QC":
            patient_name = _person_name(seg)
            member_id = element(seg, 9)
        elif segment_id == "TRN":
            close_claim()
            if element(seg, 1) == "2":
                if not element(seg, 2):
                    raise X12ReadError(f"TRN02 (segment {number}) is empty: the 277CA does not say which claim "
                                       "this is.")
                claim = _ClaimStatus(element(seg, 2), patient_name, member_id, number)
        elif claim is None:
            if segment_id in ("STC", "REF", "DTP", "SVC"):
                raise X12ReadError(f"{segment_id} (segment {number}) is not inside a claim (TRN*2) of the 277CA.")
        elif segment_id == "SVC":
            claim.in_service_line = True
        elif claim.in_service_line:
            continue
        elif segment_id == "STC":
            claim.stcs.append((seg, number))
        elif segment_id == "REF" and element(seg, 1) == "1K":
            claim.payer_claim_number = element(seg, 2)
        elif segment_id == "REF" and element(seg, 1) == "D9":
            claim.clearinghouse_claim_id = element(seg, 2)
        elif segment_id == "DTP" and element(seg, 1) == "472":
            claim.service_date = ccyymmdd(element(seg, 3)[:8], f"DTP03 (segment {number}) of claim "
                                          f"{claim.patient_control_number}")
    close_claim()


def _person_name(seg: list[str]) -> str:
    last, first = element(seg, 3), element(seg, 4)
    return f"{last}, {first}" if first else last


def _stc_words(seg: list[str], component_separator: str) -> str:
    """STC12 when the payer wrote words, else the STC01, STC10 and STC11 codes in ours."""
    if element(seg, 12):
        return element(seg, 12)
    parts = []
    for position in (1, 10, 11):
        codes = element(seg, position).split(component_separator)
        if codes[0]:
            parts.append(reasons.describe_claim_status(codes[0], element(codes, 1), element(codes, 2)))
    return "; ".join(parts)


def _claim_report(claim: _ClaimStatus, component_separator: str) -> ClaimStatusReport:
    what = f"claim {claim.patient_control_number}"
    if not claim.stcs:
        raise X12ReadError(f"The 277CA gives no status (STC) for {what} (TRN at segment {claim.number}).")
    first, number = claim.stcs[0]
    codes = element(first, 1).split(component_separator)
    if not codes[0]:
        raise X12ReadError(f"STC01 (segment {number}) of {what} has no status category.")
    messages = [words for words in (_stc_words(seg, component_separator) for seg, _ in claim.stcs) if words]
    return ClaimStatusReport(
        patient_control_number=claim.patient_control_number,
        category=codes[0],
        status_code=element(codes, 1),
        entity=element(codes, 2),
        message="; ".join(messages),
        payer_claim_number=claim.payer_claim_number,
        effective_date=optional_date(element(first, 2), f"STC02 (segment {number}) of {what}"),
        charge_cents=optional_cents(element(first, 4), f"STC04 (segment {number}) of {what}"),
        clearinghouse_claim_id=claim.clearinghouse_claim_id,
        patient_name=claim.patient_name,
        member_id=claim.member_id,
        service_date=claim.service_date,
    )


# ---------------------------------------------------------------- 277CA writing


def _action_code(category: str) -> str:
    """STC03: WQ when the claim was taken in, U when it was refused (rejected categories and E errors)."""
    return "U" if category in reasons.REJECTED_CATEGORIES or category.startswith("E") else "WQ"


def write_277ca(reports: Sequence[ClaimStatusReport], *, payer_name: str, payer_id: str, receiver_name: str,
                receiver_id: str, billing_provider_name: str, billing_provider_npi: str, sender_id: str,
                receiver_isa_id: str, interchange_control_number: int, created_at: datetime,
                reference: str = "", received_on: date | None = None, group_control_number: int | None = None,
                transaction_control_number: str = "0001", usage_indicator: str = "P") -> str:
    """A 277CA with one patient level per report, under one payer, receiver and billing provider.

    The guide requires some things a report may not hold: STC02 falls back to `created_at`'s date, STC04 to
    0, DTP*472 to `created_at`'s date, the patient's name and member id to "UNKNOWN". STC12 is written only
    when `message` is not just the codes in words, so `parse_277ca` reads back the same message.
    """
    today = x12_date(created_at)
    reference = clean(reference or str(interchange_control_number), 50)
    accepted = [report for report in reports if _action_code(report.category) == "WQ"]
    rejected = [report for report in reports if _action_code(report.category) == "U"]
    received = x12_date(received_on) if received_on else today
    body = [
        segment("BHT", "0085", "08", reference, today, f"{created_at.hour:02d}{created_at.minute:02d}", "TH"),
        "HL*1**20*1",
        segment("NM1", "PR", "2", clean(payer_name, 60), "", "", "", "", "PI", clean(payer_id, 80)),
        segment("TRN", "1", reference),
        segment("DTP", "050", "D8", received),
        segment("DTP", "009", "D8", today),
        "HL*2*1*21*1",
        segment("NM1", "41", "2", clean(receiver_name, 60), "", "", "", "", "46", clean(receiver_id, 80)),
        segment("TRN", "2", reference),
        segment("STC", "A1:19:PR", today, "WQ", x12_amount(sum(report.charge_cents or 0 for report in reports))),
        *_totals("90", "AA", accepted, rejected),
        "HL*3*2*19*1",
        segment("NM1", "85", "2", clean(billing_provider_name, 60), "", "", "", "", "XX",
                clean(billing_provider_npi, 80)),
        segment("TRN", "1", reference),
        segment("STC", "A1:19:PR", "", "WQ", x12_amount(sum(report.charge_cents or 0 for report in reports))),
        *_totals("QA", "QC", accepted, rejected),
    ]
    for number, report in enumerate(reports, start=4):
        last, _, first = report.patient_name.partition(", ")
        body.append(f"HL*{number}*3*PT")
        body.append(segment("NM1", "QC", "1", clean(last, 60) or "UNKNOWN", clean(first, 35), "", "", "", "MI",
                            clean(report.member_id, 80) or "UNKNOWN"))
        body.append(segment("TRN", "2", clean(report.patient_control_number, 50)))
        codes = composite(report.category, report.status_code, report.entity)
        words = clean(report.message, 264)
        # The codes in words (which parse_277ca makes up again) would only lose their ':' and '—' on the way.
        generated = clean(reasons.describe_claim_status(report.category, report.status_code, report.entity), 264)
        body.append(segment("STC", codes, x12_date(report.effective_date) if report.effective_date else today,
                            _action_code(report.category), x12_amount(report.charge_cents or 0),
                            "", "", "", "", "", "", "", words if words and words != generated else ""))
        if report.payer_claim_number:
            body.append(segment("REF", "1K", clean(report.payer_claim_number, 50)))
        if report.clearinghouse_claim_id:
            body.append(segment("REF", "D9", clean(report.clearinghouse_claim_id, 50)))
        body.append(segment("DTP", "472", "D8", x12_date(report.service_date) if report.service_date else today))
    return build_interchange(functional_id="HN", kind=KIND_277CA, sender_id=sender_id, receiver_id=receiver_isa_id,
                             interchange_control_number=interchange_control_number,
                             group_control_number=group_control_number, created_at=created_at,
                             bodies=[(transaction_control_number, body)], usage_indicator=usage_indicator)


def _totals(accepted_qualifier: str, rejected_qualifier: str, accepted: Sequence[ClaimStatusReport],
            rejected: Sequence[ClaimStatusReport]) -> list[str]:
    """QTY/AMT of accepted and rejected claims, each only when there are some (the guide's situational rule)."""
    out = []
    if accepted:
        out.append(segment("QTY", accepted_qualifier, str(len(accepted))))
    if rejected:
        out.append(segment("QTY", rejected_qualifier, str(len(rejected))))
    if accepted:
        out.append(segment("AMT", "YU", x12_amount(sum(report.charge_cents or 0 for report in accepted))))
    if rejected:
        out.append(segment("AMT", "YY", x12_amount(sum(report.charge_cents or 0 for report in rejected))))
    return out
