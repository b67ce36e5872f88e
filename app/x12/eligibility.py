"""Eligibility and benefits (005010X279A1): write a 270 inquiry, read it back, and read and write a 271 response.

`write_270` asks one payer about one subscriber (and the dependant, when the client is not the subscriber) for
the service types of outpatient mental health; `check_270` is the gate every 270 passes before it leaves (it
reads the file back with `read_270`, and checks the NPI and what the guide requires). pyx12 4.0, the version
Parity pins, ships no 005010X279A1 map, so the gate is Parity's own: envelope, counts and control numbers by
`segments.read_interchanges`, then the loops the guide requires.

`parse_271` refuses, with `X12ReadError`, any file it cannot read whole (cut short, miscounted, unknown segments,
amounts that are not amounts) and returns plain frozen dataclasses: coverage active or not, the plan, each
service type's copay, coinsurance, deductible, out-of-pocket and visit limits per network, prior authorization,
the payer's messages, and AAA rejections in plain words. `write_271` makes the same files for the sandbox and
tests.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from app.billing.identity import npi_is_valid
from app.x12.inbound import X12ReadError
from app.x12.segments import (
    KIND_270, KIND_271, REPETITION_SEPARATOR, Located, build_interchange, ccyymmdd, cents, clean, collector_paused,
    count, element, segment, transactions, x12_amount, x12_date,
)

#: Outpatient mental health: plan coverage, mental health, psychotherapy, psychiatric outpatient, mental-health
#: provider outpatient. One EQ each (the 2110C loop repeats), since not every payer reads repeated EQ01s.
MENTAL_HEALTH_SERVICE_TYPES = ("30", "MH", "A6", "A8", "CF")

SERVICE_TYPE_NAMES = {
    "30": "plan coverage", "MH": "mental health", "A6": "psychotherapy", "A7": "psychiatric inpatient",
    "A8": "psychiatric outpatient", "CF": "mental health provider, outpatient", "AI": "substance abuse",
    "98": "professional (physician) visit, office", "1": "medical care",
}

#: AAA03: why the payer could not answer, in plain words.
REJECTION_REASONS = {
    "04": "the provider is not authorized to ask about this plan",
    "15": "information the payer requires is missing from the inquiry",
    "41": "the payer does not accept inquiries from this provider",
    "42": "the payer cannot answer right now (its system is down); try again later",
    "43": "the payer does not know the provider's NPI",
    "44": "the provider's name does not match the payer's records",
    "45": "the provider's specialty is not accepted",
    "47": "the provider's state is not accepted",
    "48": "the referring provider's NPI is not valid",
    "50": "the provider is not eligible to ask about this plan",
    "51": "the provider is not on the payer's file",
    "52": "the service dates are not within the provider's plan enrollment",
    "56": "the date of service is not valid",
    "57": "the date of service is not valid",
    "58": "the date of birth does not match the payer's records",
    "60": "the date of birth is after the date of service",
    "61": "the date of death is before the date of service",
    "62": "the date of service is not within the plan's dates",
    "63": "the date of service is in the future",
    "64": "the patient's ID is not valid",
    "65": "the patient's name does not match the payer's records",
    "66": "the patient's sex does not match the payer's records",
    "67": "the patient is not found",
    "68": "the payer found two or more matching patients",
    "69": "the inquiry was made before the plan started",
    "70": "the inquiry was made after the plan ended",
    "71": "the patient's date of birth does not match the subscriber's",
    "72": "the member ID is not valid",
    "73": "the subscriber's name does not match the payer's records",
    "74": "the subscriber's sex does not match the payer's records",
    "75": "the subscriber is not found",
    "76": "the payer found two or more matching subscribers",
    "77": "the subscriber was found but the patient was not",
    "78": "the subscriber is not in the group or plan named",
    "79": "the payer's system cannot take this kind of inquiry",
    "80": "the payer has no response for this inquiry",
    "97": "the relationship to the subscriber does not match",
    "T4": "the payer's name or ID is not valid",
}

_ACTIVE = frozenset("12345")
_INACTIVE = frozenset("678")
#: EB01 values Parity reads into numbers; the rest (limitations, exclusions, contacts …) are kept as messages.
_EB_CODES = frozenset("123456789ABCDEFGHIJKLMNOPRSTUVWXY") | {"CB", "MC"}
_SEGMENTS_271 = frozenset({"BHT", "HL", "NM1", "N3", "N4", "PER", "PRV", "REF", "AAA", "DMG", "INS", "HI", "DTP",
                           "MPI", "TRN", "EB", "HSD", "MSG", "III", "LS", "LE"})


# ---------------------------------------------------------------- what is asked


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date | None = None
    sex: str = ""  #: F, M or U
    member_id: str = ""  #: the subscriber's; empty for a dependant


@dataclass(frozen=True, slots=True, kw_only=True)
class Inquiry:
    """One 270: a practice asking one payer about one person on one day."""

    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    provider_tax_id: str  #: TRN03 names the originator: '9' and the EIN
    subscriber: Person
    dependant: Person | None = None  #: the client, when not the subscriber
    group_number: str = ""
    service_date: date
    trace_number: str  #: TRN02: the 271 echoes it back
    service_types: tuple[str, ...] = MENTAL_HEALTH_SERVICE_TYPES
    sender_id: str
    receiver_id: str
    interchange_control_number: int
    created_at: datetime


def write_270(inquiry: Inquiry) -> str:
    """The inquiry as a 270 file of one transaction."""
    if not inquiry.service_types:
        raise ValueError("a 270 asks about at least one service type")
    created = inquiry.created_at
    body = [
        segment("BHT", "0022", "13", clean(inquiry.trace_number, 50), x12_date(created),
                f"{created.hour:02d}{created.minute:02d}"),
        "HL*1**20*1",
        segment("NM1", "PR", "2", clean(inquiry.payer_name, 60).upper(), "", "", "", "", "PI",
                clean(inquiry.payer_id, 80)),
        "HL*2*1*21*1",
        segment("NM1", "1P", "2", clean(inquiry.provider_name, 60).upper(), "", "", "", "", "XX",
                clean(inquiry.provider_npi, 80)),
        f"HL*3*2*22*{1 if inquiry.dependant else 0}",
    ]
    asking = [segment("DTP", "291", "D8", x12_date(inquiry.service_date)),
              *(segment("EQ", code) for code in inquiry.service_types)]
    trace = segment("TRN", "1", clean(inquiry.trace_number, 50), "9" + clean(inquiry.provider_tax_id, 9))
    subscriber = inquiry.subscriber
    if inquiry.dependant is None:
        body.append(trace)
    body.append(segment("NM1", "IL", "1", clean(subscriber.last_name, 60).upper(),
                        clean(subscriber.first_name, 35).upper(), "", "", "", "MI", clean(subscriber.member_id, 80)))
    if inquiry.group_number:
        body.append(segment("REF", "6P", clean(inquiry.group_number, 50)))
    if subscriber.birth_date:
        body.append(segment("DMG", "D8", x12_date(subscriber.birth_date), subscriber.sex))
    if inquiry.dependant is None:
        body += asking
    else:
        dependant = inquiry.dependant
        body += ["HL*4*3*23*0", trace,
                 segment("NM1", "03", "1", clean(dependant.last_name, 60).upper(),
                         clean(dependant.first_name, 35).upper())]
        if dependant.birth_date:
            body.append(segment("DMG", "D8", x12_date(dependant.birth_date), dependant.sex))
        body += asking
    return build_interchange(functional_id="HS", kind=KIND_270, sender_id=clean(inquiry.sender_id, 15),
                             receiver_id=clean(inquiry.receiver_id, 15),
                             interchange_control_number=inquiry.interchange_control_number, group_control_number=None,
                             created_at=created, bodies=[(f"{inquiry.interchange_control_number % 10_000:04d}", body)])


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadInquiry:
    """What a 270 asks, as the sandbox payer and the gate read it back."""

    trace_number: str
    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    member_id: str
    subscriber_name: str
    patient_name: str  #: the dependant's name, or the subscriber's
    group_number: str
    service_date: date | None
    service_types: tuple[str, ...]
    sender_id: str  #: ISA06
    receiver_id: str  #: ISA08


def read_270(text: str) -> ReadInquiry:
    """The one inquiry of a 270 file; X12ReadError when it is not a 270 of one complete inquiry."""
    found = list(transactions(text, KIND_270))
    if len(found) != 1:
        raise X12ReadError(f"A 270 sent by Parity holds one inquiry; this file holds {len(found)}.")
    located = found[0]
    values: dict[str, str] = {}
    service_types: list[str] = []
    service_date: date | None = None
    levels: list[str] = []
    for number, seg in enumerate(located.transaction.segments[1:-1], start=located.transaction.first_segment_number + 1):
        tag = seg[0]
        if tag == "HL":
            levels.append(element(seg, 3))
        elif tag == "TRN":
            values["trace"] = element(seg, 2)
        elif tag == "NM1":
            name = ", ".join(part for part in (element(seg, 3), element(seg, 4)) if part)
            entity = element(seg, 1)
            if entity == "PR":
                values["payer_name"], values["payer_id"] = element(seg, 3), element(seg, 9)
            elif entity == "1P":
                values["provider_name"], values["provider_npi"] = element(seg, 3), element(seg, 9)
            elif entity == "IL":
                values["subscriber_name"], values["member_id"] = name, element(seg, 9)
            elif entity == "03":
                values["patient_name"] = name
        elif tag == "REF" and element(seg, 1) == "6P":
            values["group"] = element(seg, 2)
        elif tag == "DTP" and element(seg, 1) == "291":
            service_date = ccyymmdd(element(seg, 3)[:8], f"DTP03 (segment {number})")
        elif tag == "EQ":
            service_types += [code for code in element(seg, 1).split(located.interchange.delimiters.repetition) if code]
        elif tag not in ("BHT", "DMG", "INS", "HI", "PRV", "N3", "N4", "III", "AMT", "REF", "DTP"):
            raise X12ReadError(f"Segment {number} ({tag}) does not belong in a 270.")
    if levels[:3] != ["20", "21", "22"] or len(levels) > 4 or levels[3:] not in ([], ["23"]):
        raise X12ReadError("The 270 must have the payer (HL 20), the provider (HL 21), the subscriber (HL 22) and "
                           "at most one dependant (HL 23), in that order.")
    for key, what in (("payer_id", "the payer's ID (NM1*PR)"), ("provider_npi", "the provider's NPI (NM1*1P)"),
                      ("member_id", "the subscriber's member ID (NM1*IL)"), ("trace", "a trace number (TRN)")):
        if not values.get(key):
            raise X12ReadError(f"The 270 has no {what}.")
    if not service_types:
        raise X12ReadError("The 270 asks about no service type (EQ).")
    return ReadInquiry(trace_number=values["trace"], payer_name=values.get("payer_name", ""),
                       payer_id=values["payer_id"], provider_name=values.get("provider_name", ""),
                       provider_npi=values["provider_npi"], member_id=values["member_id"],
                       subscriber_name=values.get("subscriber_name", ""),
                       patient_name=values.get("patient_name", values.get("subscriber_name", "")),
                       group_number=values.get("group", ""), service_date=service_date,
                       service_types=tuple(service_types), sender_id=located.interchange.sender_id,
                       receiver_id=located.interchange.receiver_id)


def check_270(text: str) -> list[str]:
    """The gate before a 270 leaves: what is wrong with it, in plain words (empty when it may be sent)."""
    try:
        inquiry = read_270(text)
    except X12ReadError as error:
        return [str(error)]
    problems = []
    if not npi_is_valid(inquiry.provider_npi):
        problems.append(f"The provider's NPI {inquiry.provider_npi!r} is not a valid NPI.")
    if len(inquiry.member_id) < 2 or len(inquiry.member_id) > 80:
        problems.append(f"The member ID {inquiry.member_id!r} must be 2 to 80 characters.")
    if inquiry.service_date is None:
        problems.append("The 270 has no date of service (DTP*291).")
    unknown = [code for code in inquiry.service_types if not (code.isascii() and code.isalnum() and len(code) <= 2)]
    if unknown:
        problems.append(f"{', '.join(unknown)} are not service type codes.")
    return problems


# ---------------------------------------------------------------- what comes back


@dataclass(frozen=True, slots=True, kw_only=True)
class Benefit:
    """What the plan says about one service type, in one network, for one coverage level."""

    service_type: str  #: EB03, e.g. 30, MH, A6
    in_network: bool | None = None  #: EB12: Y True, N False; W (both) and unknown None
    coverage_level: str = "IND"  #: EB02: IND individual, FAM family …
    copay_cents: int | None = None  #: EB*B
    coinsurance_percent: int | None = None  #: EB*A (EB08 0.2 → 20)
    deductible_cents: int | None = None  #: EB*C for the plan period
    deductible_remaining_cents: int | None = None  #: EB*C with EB06 29
    out_of_pocket_cents: int | None = None  #: EB*G
    out_of_pocket_remaining_cents: int | None = None  #: EB*G with EB06 29
    visit_limit: int | None = None  #: EB*F visits (EB09/HSD VS) for the period
    visits_remaining: int | None = None  #: EB*F visits with EB06 29
    authorization_required: bool | None = None  #: EB11 Y/N on any of its EBs

    @property
    def name(self) -> str:
        return SERVICE_TYPE_NAMES.get(self.service_type, f"service type {self.service_type}")

    @property
    def visits_used(self) -> int | None:
        if self.visit_limit is None or self.visits_remaining is None:
            return None
        return max(self.visit_limit - self.visits_remaining, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """An AAA: the payer (or clearinghouse) could not answer about the person, and why."""

    code: str  #: AAA03
    level: str  #: payer, provider, subscriber or dependant
    follow_up: str = ""  #: AAA04: C correct and resubmit, N do not resubmit, R resubmit later, …

    @property
    def reason(self) -> str:
        return REJECTION_REASONS.get(self.code, f"the payer rejected the inquiry (reason {self.code})")

    @property
    def retry_later(self) -> bool:
        return self.code == "42" or self.follow_up in ("R", "W", "Y")


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityResponse:
    """One 271 transaction's answer about one person."""

    trace_number: str  #: TRN02 of our 270, echoed back
    active: bool | None  #: EB01 1–5 True, 6–8 False; None when the payer did not say (a rejection)
    payer_name: str = ""
    payer_id: str = ""
    member_id: str = ""
    subscriber_name: str = ""
    patient_name: str = ""
    plan_name: str = ""  #: EB05 of the coverage EB, or REF*18's description
    group_number: str = ""
    group_name: str = ""  #: REF*6P's description
    plan_begin: date | None = None
    plan_end: date | None = None
    benefits: tuple[Benefit, ...] = ()
    messages: tuple[str, ...] = ()  #: MSG free text, in order
    rejections: tuple[Rejection, ...] = ()

    @property
    def rejected(self) -> bool:
        return bool(self.rejections) and self.active is None


class _Accumulating:
    """A Benefit being filled in as EB segments for its key arrive."""

    def __init__(self, service_type: str, in_network: bool | None, coverage_level: str) -> None:
        self.values: dict = {"service_type": service_type, "in_network": in_network,
                             "coverage_level": coverage_level}

    def set(self, name: str, value) -> None:
        if value is not None and self.values.get(name) is None:
            self.values[name] = value


class _Reader271:
    def __init__(self, located: Located) -> None:
        self.located = located
        self.repetition = located.interchange.delimiters.repetition
        self.level = "payer"
        self.trace = ""
        self.names: dict[str, str] = {}
        self.values: dict = {}
        self.rejections: list[Rejection] = []
        self.messages: list[str] = []
        self.statuses: list[str] = []
        self.benefits: dict[tuple[str, bool | None, str], _Accumulating] = {}
        self.last_eb: list[_Accumulating] = []
        self.last_eb_code = ""
        self.last_eb_period = ""

    def read(self) -> EligibilityResponse:
        transaction = self.located.transaction
        segments = transaction.segments
        if len(segments) < 3 or segments[1][0] != "BHT":
            raise X12ReadError(f"The 271 transaction {transaction.control_number} has no BHT segment at its start.")
        first = transaction.first_segment_number
        levels = []
        for index in range(1, len(segments) - 1):
            seg, number = segments[index], first + index
            tag = seg[0]
            if tag not in _SEGMENTS_271:
                raise X12ReadError(f"Segment {number} ({tag}) does not belong in a 271.")
            if tag == "HL":
                code = element(seg, 3)
                levels.append(code)
                self.level = {"20": "payer", "21": "provider", "22": "subscriber", "23": "dependant"}.get(code, "")
                if not self.level:
                    raise X12ReadError(f"Segment {number}: HL03 {code!r} is not a level of a 271 (20, 21, 22, 23).")
                self.last_eb = []
            elif tag == "NM1":
                self._on_name(seg)
            elif tag == "TRN" and element(seg, 1) == "2" and not self.trace:
                self.trace = element(seg, 2)
            elif tag == "AAA":
                self._on_rejection(seg, number)
            elif tag == "REF":
                self._on_reference(seg)
            elif tag == "DTP":
                self._on_date(seg, number)
            elif tag == "EB":
                self._on_benefit(seg, number)
            elif tag == "HSD":
                self._on_delivery(seg, number)
            elif tag == "MSG" and element(seg, 1):
                self.messages.append(element(seg, 1))
        if not levels or levels[0] != "20":
            raise X12ReadError("The 271 does not start with the payer's loop (HL*…*20).")
        if "payer_name" not in self.names:
            raise X12ReadError("The 271 does not name the payer (NM1*PR).")
        if "22" not in levels and not self.rejections:
            raise X12ReadError("The 271 has neither a subscriber (HL*…*22) nor a rejection (AAA): it answers nothing.")
        active: bool | None = None
        if any(status in _ACTIVE for status in self.statuses):
            active = True
        elif any(status in _INACTIVE for status in self.statuses):
            active = False
        return EligibilityResponse(
            trace_number=self.trace, active=active, payer_name=self.names.get("payer_name", ""),
            payer_id=self.names.get("payer_id", ""), member_id=self.names.get("member_id", ""),
            subscriber_name=self.names.get("subscriber_name", ""),
            patient_name=self.names.get("patient_name", self.names.get("subscriber_name", "")),
            plan_name=self.values.get("plan_name", ""), group_number=self.values.get("group_number", ""),
            group_name=self.values.get("group_name", ""), plan_begin=self.values.get("plan_begin"),
            plan_end=self.values.get("plan_end"),
            benefits=tuple(Benefit(**benefit.values) for benefit in self.benefits.values()),
            messages=tuple(self.messages), rejections=tuple(self.rejections))

    def _on_name(self, seg: list[str]) -> None:
        entity = element(seg, 1)
        name = " ".join(part for part in (element(seg, 4), element(seg, 3)) if part)
        if entity == "PR":
            self.names["payer_name"], self.names["payer_id"] = element(seg, 3), element(seg, 9)
        elif entity == "IL":
            self.names["subscriber_name"], self.names["member_id"] = name, element(seg, 9)
        elif entity == "03":
            self.names["patient_name"] = name

    def _on_rejection(self, seg: list[str], number: int) -> None:
        if element(seg, 1) not in ("N", "Y"):
            raise X12ReadError(f"Segment {number}: AAA01 {element(seg, 1)!r} must be Y or N.")
        code = element(seg, 3)
        if not code:
            raise X12ReadError(f"Segment {number}: the AAA gives no reason (AAA03).")
        self.rejections.append(Rejection(code=code, level=self.level, follow_up=element(seg, 4)))

    def _on_reference(self, seg: list[str]) -> None:
        qualifier = element(seg, 1)
        if qualifier == "6P":
            self.values["group_number"] = element(seg, 2)
            if element(seg, 3):
                self.values["group_name"] = element(seg, 3)
        elif qualifier == "18" and element(seg, 3):
            self.values.setdefault("plan_name", element(seg, 3))

    def _on_date(self, seg: list[str], number: int) -> None:
        qualifier, form, value = element(seg, 1), element(seg, 2), element(seg, 3)
        where = f"DTP03 (segment {number})"
        if form == "RD8":
            start, _, end = value.partition("-")
            begin, finish = ccyymmdd(start, where), ccyymmdd(end, where)
        elif form == "D8":
            begin = finish = ccyymmdd(value, where)
        else:
            raise X12ReadError(f"Segment {number}: DTP02 {form!r} must be D8 or RD8.")
        if qualifier in ("346", "291", "307") and self.level in ("subscriber", "dependant"):
            self.values.setdefault("plan_begin", begin)
            if form == "RD8" or qualifier == "347":
                self.values.setdefault("plan_end", finish)
        elif qualifier == "347":
            self.values.setdefault("plan_end", finish)

    def _on_benefit(self, seg: list[str], number: int) -> None:
        code = element(seg, 1)
        if code not in _EB_CODES:
            raise X12ReadError(f"Segment {number}: EB01 {code!r} is not an eligibility or benefit code.")
        self.last_eb_code, self.last_eb_period = code, element(seg, 6)
        service_types = [value for value in element(seg, 3).split(self.repetition) if value] or ["30"]
        if code in _ACTIVE or code in _INACTIVE:
            self.statuses.append(code)
            if element(seg, 5):
                self.values.setdefault("plan_name", element(seg, 5))
            self.last_eb = []
            return
        network = {"Y": True, "N": False}.get(element(seg, 12))
        level = element(seg, 2) or "IND"
        targets = []
        for service_type in service_types:
            key = (service_type, network, level)
            if key not in self.benefits:
                self.benefits[key] = _Accumulating(service_type, network, level)
            targets.append(self.benefits[key])
        self.last_eb = targets
        remaining = element(seg, 6) == "29"
        amount = element(seg, 7)
        where = f"EB07 (segment {number})"
        updates: dict = {}
        if code == "B" and amount:
            updates["copay_cents"] = cents(amount, where)
        elif code == "A" and element(seg, 8):
            updates["coinsurance_percent"] = _percent(element(seg, 8), f"EB08 (segment {number})")
        elif code == "C" and amount:
            updates["deductible_remaining_cents" if remaining else "deductible_cents"] = cents(amount, where)
        elif code == "G" and amount:
            updates["out_of_pocket_remaining_cents" if remaining else "out_of_pocket_cents"] = cents(amount, where)
        elif code == "F" and element(seg, 9) == "VS" and element(seg, 10):
            visits = count(element(seg, 10), f"EB10 (segment {number})")
            updates["visits_remaining" if remaining else "visit_limit"] = visits
        if element(seg, 11) in ("Y", "N"):
            updates["authorization_required"] = element(seg, 11) == "Y"
        elif element(seg, 11) not in ("", "U"):
            raise X12ReadError(f"Segment {number}: EB11 {element(seg, 11)!r} must be Y, N or U.")
        for target in targets:
            for name, value in updates.items():
                target.set(name, value)

    def _on_delivery(self, seg: list[str], number: int) -> None:
        """HSD*VS*<visits>*…: the visit count of the EB*F just read."""
        if self.last_eb_code == "F" and element(seg, 1) == "VS" and element(seg, 2):
            visits = count(element(seg, 2), f"HSD02 (segment {number})")
            for target in self.last_eb:
                target.set("visits_remaining" if self.last_eb_period == "29" else "visit_limit", visits)


def _percent(value: str, where: str) -> int:
    """EB08 as a whole percent: X12 writes a fraction (0.2 is 20 %); a value above 1 is taken as a percent."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise X12ReadError(f"{where}: {value[:30]!r} is not a percentage.") from None
    if not number.is_finite() or number < 0 or number > 100:
        raise X12ReadError(f"{where}: {value[:30]!r} is not a percentage.")
    return int((number * 100 if number <= 1 else number).to_integral_value())


def parse_271(text: str) -> list[EligibilityResponse]:
    """One EligibilityResponse per 271 transaction in the file."""
    with collector_paused():
        return [_Reader271(located).read() for located in transactions(text, KIND_271)]


# ---------------------------------------------------------------- writing a 271 (the sandbox, tests)


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitLine:
    """One EB segment to write, with its messages."""

    code: str  #: EB01
    service_types: tuple[str, ...] = ("30",)
    coverage_level: str = "IND"
    plan_name: str = ""
    period: str = ""  #: EB06: 23 calendar year, 29 remaining, 27 visit
    amount_cents: int | None = None
    percent: int | None = None
    visits: int | None = None
    authorization_required: bool | None = None
    in_network: bool | None = None
    messages: tuple[str, ...] = field(default=())


def write_271(inquiry: ReadInquiry, *, active: bool | None, lines: Sequence[BenefitLine] = (),
              rejection: tuple[str, str] | None = None, group_name: str = "", sender_id: str,
              interchange_control_number: int, created_at: datetime, payer_unavailable: bool = False) -> str:
    """The payer's answer to `inquiry`: benefit lines, or a rejection (AAA03, AAA04) about the subscriber, or
    (`payer_unavailable`) an AAA 42 at the payer's level."""
    body = [
        segment("BHT", "0022", "11", clean(inquiry.trace_number, 50), x12_date(created_at),
                f"{created_at.hour:02d}{created_at.minute:02d}"),
        "HL*1**20*1",
        segment("NM1", "PR", "2", clean(inquiry.payer_name, 60) or "PAYER", "", "", "", "", "PI",
                clean(inquiry.payer_id, 80)),
    ]
    if payer_unavailable:
        body.append(segment("AAA", "N", "", "42", "R"))
    else:
        last, _, first = inquiry.subscriber_name.partition(", ")
        body += [
            "HL*2*1*21*1",
            segment("NM1", "1P", "2", clean(inquiry.provider_name, 60) or "PROVIDER", "", "", "", "", "XX",
                    clean(inquiry.provider_npi, 80)),
            "HL*3*2*22*0",
            segment("TRN", "2", clean(inquiry.trace_number, 50), "9" + clean(sender_id, 9).rjust(9, "0")),
            segment("NM1", "IL", "1", clean(last, 60), clean(first, 35), "", "", "", "MI",
                    clean(inquiry.member_id, 80)),
        ]
        if rejection is not None:
            body.append(segment("AAA", "N", "", rejection[0], rejection[1]))
        else:
            if inquiry.group_number:
                body.append(segment("REF", "6P", clean(inquiry.group_number, 50), clean(group_name, 80)))
            if inquiry.service_date:
                body.append(segment("DTP", "346", "D8", x12_date(inquiry.service_date.replace(month=1, day=1))))
            for line in lines:
                percent = "" if line.percent is None else x12_amount(line.percent)  # 20 → '0.2' as cents of 1
                body.append(segment(
                    "EB", line.code, line.coverage_level, REPETITION_SEPARATOR.join(line.service_types), "",
                    clean(line.plan_name, 50), line.period,
                    "" if line.amount_cents is None else x12_amount(line.amount_cents), percent,
                    "VS" if line.visits is not None else "", "" if line.visits is None else str(line.visits),
                    {True: "Y", False: "N", None: ""}[line.authorization_required],
                    {True: "Y", False: "N", None: ""}[line.in_network]))
                body.extend(segment("MSG", clean(message, 264)) for message in line.messages)
    return build_interchange(functional_id="HB", kind=KIND_271, sender_id=clean(sender_id, 15),
                             receiver_id=clean(inquiry.sender_id, 15),
                             interchange_control_number=interchange_control_number, group_control_number=None,
                             created_at=created_at,
                             bodies=[(f"{interchange_control_number % 10_000:04d}", body)])

