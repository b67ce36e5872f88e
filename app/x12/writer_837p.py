"""Write an X12 5010 837P (005010X222A1) professional claim file from a `claim_data.Batch`.

Plain string building, no pyx12 in this path (it is the slow part): the writer must keep up with a
practice's whole month in well under a second. Every file is then gated by `validate.validate_x12`.

Layout: ISA / GS / ST, then per transaction BHT, 1000A submitter, 1000B receiver, 2000A billing provider,
and one 2000B subscriber loop per (subscriber, payer, responsibility) group. Claims for the subscriber
sit directly under 2000B; claims for a dependant sit under a 2000C patient loop beneath a 2000B of its
own, because SBR02 ("18", self) must only be sent when the patient is the subscriber.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date

from app.x12.claim_data import (Address, Batch, BillingProvider, CarriedAdjustment, Claim, OtherPayer, Patient,
                                Subscriber)

IMPLEMENTATION_GUIDE = "005010X222A1"
ELEMENT_SEPARATOR = "*"
COMPONENT_SEPARATOR = ":"
REPETITION_SEPARATOR = "^"
SEGMENT_TERMINATOR = "~"

#: CAS carries up to six (reason, amount, quantity) triples after its group code.
ADJUSTMENTS_PER_CAS = 6

#: The 2300 loop repeats at most 100 times under one 2000B or 2000C; more claims open another loop.
CLAIMS_PER_HIERARCHY = 100

# Maximum lengths from the implementation guide; longer names would fail the whole file, so they are
# shortened rather than rejected (an identifier is never shortened).
_LAST_OR_ORGANIZATION = 60
_FIRST = 35
_MIDDLE = 25
_SUFFIX = 10
_ADDRESS_LINE = 55
_CITY = 30
_CONTACT_NAME = 60

# X12's extended character set (5010) without our own delimiters: anything else becomes a space.
_NOT_ALLOWED = re.compile(r"""[^A-Za-z0-9!"&'()+,\-./;?= %@\[\]_{}\\|<>`#$]""")


def _text(value: str, max_length: int) -> str:
    """Upper-case free text, without accents, delimiters or doubled spaces, cut to fit the element."""
    if not value:
        return ""
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return " ".join(_NOT_ALLOWED.sub(" ", value).split()).upper()[:max_length].rstrip()


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


def _identifier(value: str) -> str:
    """An identifier as given, minus characters that would break the file (never shortened or re-cased:
    the payer echoes it back and we match on it)."""
    return _NOT_ALLOWED.sub("", value.strip())


def _code(value: str) -> str:
    """A procedure code or modifier: upper case, as the code sets print them."""
    return _NOT_ALLOWED.sub("", value.strip()).upper()


def _dollars(cents: int) -> str:
    """X12 decimal (R): 150, 113.9, 113.95 — no trailing zeros, no thousands separators."""
    whole, fraction = divmod(cents, 100)
    if fraction == 0:
        return str(whole)
    if fraction % 10 == 0:
        return f"{whole}.{fraction // 10}"
    return f"{whole}.{fraction:02d}"


def _ccyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _segment(*elements: str) -> str:
    """Join elements with '*', dropping trailing empty ones (X12 forbids trailing separators)."""
    end = len(elements)
    while end > 1 and not elements[end - 1]:
        end -= 1
    return ELEMENT_SEPARATOR.join(elements[:end])


def _composite(*components: str) -> str:
    end = len(components)
    while end > 1 and not components[end - 1]:
        end -= 1
    return COMPONENT_SEPARATOR.join(components[:end])


def _address_segments(address: Address) -> list[str]:
    zip_code = _digits(address.zip_code)
    return [
        _segment("N3", _text(address.line1, _ADDRESS_LINE), _text(address.line2, _ADDRESS_LINE)),
        _segment("N4", _text(address.city, _CITY), address.state.strip().upper(), zip_code),
    ]


def _person_name(qualifier: str, last: str, first: str, middle: str, suffix: str, id_qualifier: str = "",
                 identifier: str = "") -> str:
    return _segment("NM1", qualifier, "1", _text(last, _LAST_OR_ORGANIZATION), _text(first, _FIRST),
                    _text(middle, _MIDDLE), "", _text(suffix, _SUFFIX), id_qualifier, identifier)


def _contact(name: str, phone: str, email: str) -> str:
    """PER*IC with whichever of phone and email is known (at least one must be)."""
    numbers: list[str] = []
    if phone:
        numbers += ["TE", _digits(phone)]
    if email:
        numbers += ["EM", email.strip().replace(ELEMENT_SEPARATOR, "").replace(SEGMENT_TERMINATOR, "")
                    .replace(COMPONENT_SEPARATOR, "").replace(REPETITION_SEPARATOR, "")]
    return _segment("PER", "IC", _text(name, _CONTACT_NAME), *numbers)


def _billing_provider_segments(provider: BillingProvider) -> list[str]:
    if provider.is_person:
        name = _person_name("85", provider.name, provider.first_name, provider.middle_name, "", "XX",
                            _identifier(provider.npi))
    else:
        name = _segment("NM1", "85", "2", _text(provider.name, _LAST_OR_ORGANIZATION), "", "", "", "", "XX",
                        _identifier(provider.npi))
    segments = [
        _segment("PRV", "BI", "PXC", _code(provider.taxonomy)),
        name,
        *_address_segments(provider.address),
        _segment("REF", "SY" if provider.tax_id_is_ssn else "EI", _digits(provider.tax_id)),
    ]
    if provider.phone:
        segments.append(_contact(provider.contact_name or provider.name, provider.phone, ""))
    return segments


def _subscriber_segments(subscriber: Subscriber, claim: Claim, patient_is_subscriber: bool) -> list[str]:
    """SBR, 2010BA subscriber and 2010BB payer; address and demographics only for a subscriber-patient."""
    payer = claim.payer
    segments = [
        _segment("SBR", claim.payer_responsibility, "18" if patient_is_subscriber else "",
                 _identifier(subscriber.group_number), "", "", "", "", "", payer.filing_indicator),
        _person_name("IL", subscriber.last_name, subscriber.first_name, subscriber.middle_name,
                     subscriber.name_suffix, "MI", _identifier(subscriber.member_id)),
    ]
    if patient_is_subscriber:
        segments += _address_segments(subscriber.address)
        segments.append(_segment("DMG", "D8", _ccyymmdd(subscriber.birth_date), subscriber.sex))
    segments.append(_segment("NM1", "PR", "2", _text(payer.name, _LAST_OR_ORGANIZATION), "", "", "", "", "PI",
                             _identifier(payer.payer_id)))
    return segments


def _patient_segments(patient: Patient) -> list[str]:
    return [
        _segment("PAT", patient.relationship),
        _person_name("QC", patient.last_name, patient.first_name, patient.middle_name, patient.name_suffix),
        *_address_segments(patient.address),
        _segment("DMG", "D8", _ccyymmdd(patient.birth_date), patient.sex),
    ]


def _claim_segments(claim: Claim, billing_npi: str, out: list[str]) -> None:
    """2300 claim, 2310B rendering provider and 2400 lines, appended to `out`."""
    append = out.append
    append(_segment("CLM", _identifier(claim.patient_control_number), _dollars(claim.total_charge_cents), "", "",
                    _composite(claim.place_of_service, "B", claim.frequency_code), "Y", "A", "Y", "Y"))
    if claim.prior_authorization:
        append(_segment("REF", "G1", _identifier(claim.prior_authorization)))
    if claim.frequency_code != "1":
        append(_segment("REF", "F8", _identifier(claim.payer_claim_control_number)))
    diagnoses = [f"ABK:{_diagnosis(claim.diagnoses[0])}"]
    diagnoses += [f"ABF:{_diagnosis(code)}" for code in claim.diagnoses[1:]]
    append(_segment("HI", *diagnoses))
    rendering = claim.rendering_provider
    if rendering is not None and rendering.npi != billing_npi:
        append(_person_name("82", rendering.last_name, rendering.first_name, rendering.middle_name, "", "XX",
                            _identifier(rendering.npi)))
        append(_segment("PRV", "PE", "PXC", _code(rendering.taxonomy)))
    for other in claim.other_payers:
        out.extend(_other_payer_segments(other))
    claim_place = claim.place_of_service
    for number, line in enumerate(claim.lines, start=1):
        place = line.place_of_service if line.place_of_service and line.place_of_service != claim_place else ""
        append(f"LX*{number}")
        append(_segment("SV1", _composite("HC", _code(line.procedure_code), *map(_code, line.modifiers)),
                        _dollars(line.charge_cents), "UN", str(line.units), place, "",
                        COMPONENT_SEPARATOR.join(map(str, line.diagnosis_pointers))))
        append(f"DTP*472*D8*{_ccyymmdd(line.service_date)}")
        append(_segment("REF", "6R", _identifier(line.line_id)))
        for adjudication in line.adjudications:
            append(_segment("SVD", _identifier(adjudication.payer_id), _dollars(adjudication.paid_cents),
                            _composite("HC", _code(adjudication.procedure_code), *map(_code, adjudication.modifiers)),
                            "", str(adjudication.units)))
            out.extend(_adjustment_segments(adjudication.adjustments))
            append(f"DTP*573*D8*{_ccyymmdd(adjudication.adjudicated_on)}")


def _adjustment_segments(adjustments: tuple[CarriedAdjustment, ...]) -> list[str]:
    """CAS: one per group (in the order groups first appear), up to six reasons each."""
    by_group: dict[str, list[CarriedAdjustment]] = {}
    for adjustment in adjustments:
        if adjustment.amount_cents:
            by_group.setdefault(adjustment.group, []).append(adjustment)
    segments = []
    for group, entries in by_group.items():
        for start in range(0, len(entries), ADJUSTMENTS_PER_CAS):
            elements = [group]
            for adjustment in entries[start:start + ADJUSTMENTS_PER_CAS]:
                elements += [_code(adjustment.reason), _signed_dollars(adjustment.amount_cents), ""]
            segments.append(_segment("CAS", *elements))
    return segments


def _signed_dollars(cents: int) -> str:
    return f"-{_dollars(-cents)}" if cents < 0 else _dollars(cents)


def _other_payer_segments(other: OtherPayer) -> list[str]:
    """2320 (the other payer's SBR, claim-level CAS, AMT*D paid, AMT*EAF, OI), 2330A its subscriber, 2330B it."""
    subscriber, payer = other.subscriber, other.payer
    segments = [_segment("SBR", other.responsibility, other.relationship, _identifier(subscriber.group_number),
                         "", "", "", "", "", payer.filing_indicator),
                *_adjustment_segments(other.adjustments),
                _segment("AMT", "D", _signed_dollars(other.paid_cents))]
    if other.remaining_patient_liability_cents is not None:
        segments.append(_segment("AMT", "EAF", _signed_dollars(other.remaining_patient_liability_cents)))
    segments += [
        _segment("OI", "", "", "Y", "P", "", "Y"),
        _person_name("IL", subscriber.last_name, subscriber.first_name, subscriber.middle_name,
                     subscriber.name_suffix, "MI", _identifier(subscriber.member_id)),
        _segment("NM1", "PR", "2", _text(payer.name, _LAST_OR_ORGANIZATION), "", "", "", "", "PI",
                 _identifier(payer.payer_id)),
        f"DTP*573*D8*{_ccyymmdd(other.adjudicated_on)}",
    ]
    return segments


def _diagnosis(code: str) -> str:
    """ICD-10-CM as X12 wants it: no dot, upper case (F41.1 -> F411)."""
    return code.replace(".", "").strip().upper()


def _chunks(items: list[Claim], size: int) -> Iterator[list[Claim]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _subscriber_groups(claims: Iterable[Claim]) -> list[tuple[bool, list[Claim]]]:
    """Claims grouped into 2000B loops: (patient is subscriber, claims), in order of first appearance.

    Claims sharing subscriber, payer and responsibility share a loop; claims for dependants go to a
    separate loop (their 2000B carries no SBR02 and holds 2000C children instead of claims).
    """
    groups: dict[tuple, list[Claim]] = {}
    for claim in claims:
        key = (claim.subscriber, claim.payer, claim.payer_responsibility, claim.patient is None)
        groups.setdefault(key, []).append(claim)
    return [(key[3], grouped) for key, grouped in groups.items()]


def _transaction(batch: Batch, claims: list[Claim], control_number: str, reference: str, out: list[str]) -> None:
    """ST … SE for `claims`, appended to `out`."""
    created = batch.created_at
    provider = batch.billing_provider
    submitter = batch.submitter
    first = len(out)
    out.append(f"ST*837*{control_number}*{IMPLEMENTATION_GUIDE}")
    out.append(_segment("BHT", "0019", "00", reference, _ccyymmdd(created), f"{created.hour:02d}{created.minute:02d}",
                        "CH"))
    out.append(_segment("NM1", "41", "2", _text(submitter.name, _LAST_OR_ORGANIZATION), "", "", "", "", "46",
                        _identifier(submitter.identifier)))
    out.append(_contact(submitter.contact_name, submitter.phone, submitter.email))
    out.append(_segment("NM1", "40", "2", _text(batch.receiver.name, _LAST_OR_ORGANIZATION), "", "", "", "", "46",
                        _identifier(batch.receiver.identifier)))
    out.append("HL*1**20*1")
    out.extend(_billing_provider_segments(provider))
    billing_npi = provider.npi
    next_hl = 2
    for patient_is_subscriber, grouped in _subscriber_groups(claims):
        subscriber = grouped[0].subscriber
        if patient_is_subscriber:
            for chunk in _chunks(grouped, CLAIMS_PER_HIERARCHY):
                out.append(f"HL*{next_hl}*1*22*0")
                next_hl += 1
                out.extend(_subscriber_segments(subscriber, chunk[0], True))
                for claim in chunk:
                    _claim_segments(claim, billing_npi, out)
            continue
        subscriber_hl = next_hl
        out.append(f"HL*{subscriber_hl}*1*22*1")
        next_hl += 1
        out.extend(_subscriber_segments(subscriber, grouped[0], False))
        by_patient: dict[Patient, list[Claim]] = {}
        for claim in grouped:
            by_patient.setdefault(claim.patient, []).append(claim)
        for patient, patient_claims in by_patient.items():
            for chunk in _chunks(patient_claims, CLAIMS_PER_HIERARCHY):
                out.append(f"HL*{next_hl}*{subscriber_hl}*23*0")
                next_hl += 1
                out.extend(_patient_segments(patient))
                for claim in chunk:
                    _claim_segments(claim, billing_npi, out)
    out.append(f"SE*{len(out) - first + 1}*{control_number}")


def write_837p(batch: Batch, *, line_breaks: bool = False) -> str:
    """The batch as an 837P file; `line_breaks` puts each segment on its own line for people to read."""
    created = batch.created_at
    interchange = f"{batch.interchange_control_number:09d}"
    sender_code = _identifier(batch.application_sender_code or batch.sender_id)
    receiver_code = _identifier(batch.application_receiver_code or batch.receiver_id)
    out: list[str] = [
        # ISA is fixed width (106 characters with its terminator): readers find the delimiters by position.
        "*".join([
            "ISA", "00", " " * 10, "00", " " * 10,
            batch.sender_id_qualifier, f"{batch.sender_id:<15}",
            batch.receiver_id_qualifier, f"{batch.receiver_id:<15}",
            f"{created.year % 100:02d}{created.month:02d}{created.day:02d}", f"{created.hour:02d}{created.minute:02d}",
            REPETITION_SEPARATOR, "00501", interchange, "1" if batch.acknowledgment_requested else "0",
            batch.usage_indicator, COMPONENT_SEPARATOR,
        ]),
        _segment("GS", "HC", sender_code, receiver_code, _ccyymmdd(created), f"{created.hour:02d}{created.minute:02d}",
                 str(batch.group_control_number), "X", IMPLEMENTATION_GUIDE),
    ]
    claims = list(batch.claims)
    per_transaction = batch.claims_per_transaction
    transactions = 0
    for index, start in enumerate(range(0, len(claims), per_transaction)):
        number = batch.transaction_control_number + index
        control_number = f"{number:04d}"  # ST02 is 4 to 9 characters
        reference = batch.reference or control_number
        if batch.reference and len(claims) > per_transaction:
            reference = f"{batch.reference}-{index + 1}"  # BHT03 must identify each transaction
        _transaction(batch, claims[start:start + per_transaction], control_number, _identifier(reference), out)
        transactions += 1
    out.append(f"GE*{transactions}*{batch.group_control_number}")
    out.append(f"IEA*1*{interchange}")
    terminator = SEGMENT_TERMINATOR + "\n" if line_breaks else SEGMENT_TERMINATOR
    return terminator.join(out) + terminator
