"""The gate every X12 file passes before it leaves: pyx12's implementation-guide check plus our own.

pyx12 checks structure, loops, element lengths, code lists, envelope control numbers and the SE count
against the 005010X222A1 map. It does not check NPI check digits, taxonomy or EIN shapes, ABK vs BK,
dots in diagnosis codes, the billing provider's ZIP+4, that CLM02 equals the sum of the lines, that a
replacement or void claim carries REF*F8, or that diagnosis pointers point at a diagnosis the claim
has: `_parity_rules` does (and counts SE segments too, reporting only when pyx12 has not).
"""
from __future__ import annotations

import io
import json
import logging
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyx12.errors
import pyx12.map_if
import pyx12.params
import pyx12.x12n_document

from app.billing.identity import ein_is_valid, npi_is_valid, taxonomy_is_valid
from app.billing.money import dollars


@dataclass(frozen=True)
class ValidationResult:
    """`ok` when the file may be sent; otherwise `errors` says what is wrong and where, in plain words."""

    ok: bool
    errors: list[str] = field(default_factory=list)


#: GS08 of the files Parity's own claim rules apply to.
CLAIM_GUIDE = "005010X222A1"


def validate_x12(text: str) -> ValidationResult:
    """Check an X12 file (837P, 999, 277CA, 835: any transaction pyx12 has a map for) with pyx12, and
    837P files with Parity's own claim rules too."""
    errors = _pyx12_errors(text)
    pyx12_counted_segments = any("SE count of" in error for error in errors)
    for rule, message in _parity_rules(text):
        if rule == "se_count" and pyx12_counted_segments:
            continue  # pyx12 already said so, in its own words
        errors.append(message)
    return ValidationResult(ok=not errors, errors=errors)


# ---------------------------------------------------------------- pyx12

# pyx12 parses its XML map (about 0.15 s for 837P) on every call. The parsed map is only read while a
# file is walked (counts live in the walker), so one copy per map file serves every validation. The
# cache is put in place only for the length of our own call, under a lock, so other pyx12 users in the
# process see the library as shipped.
_map_cache: dict[tuple[str, str | None], Any] = {}
_map_cache_lock = threading.Lock()
_original_load_map_file = pyx12.map_if.load_map_file
_params: pyx12.params.ParamsBase | None = None

# pyx12 logs every error it finds; with no handler, Python would print them all on stderr. The same
# errors come back in ValidationResult, so keep the library quiet unless the app routes its logs.
logging.getLogger("pyx12").addHandler(logging.NullHandler())

#: 999 segment error codes for a segment pyx12 could not place: the map node it reports is where the
#: search started, so its name would mislead.
_UNPLACED_SEGMENT_CODES = {"1", "2", "6", "7"}


def _cached_load_map_file(map_file: str, param: Any, map_path: str | None = None) -> Any:
    key = (map_file, map_path)
    if key not in _map_cache:
        _map_cache[key] = _original_load_map_file(map_file, param, map_path)
    return _map_cache[key]


def _run_pyx12(text: str) -> tuple[bool, dict[str, Any]]:
    global _params
    json_out = io.StringIO()
    with _map_cache_lock:
        if _params is None:
            _params = pyx12.params.params()
        pyx12.map_if.load_map_file = _cached_load_map_file
        try:
            # fd_997=None: we only need the verdict and the errors, not a 999 of our own file.
            ok = pyx12.x12n_document.x12n_document(param=_params, src_file=io.StringIO(text), fd_997=None,
                                                   fd_html=None, fd_json=json_out)
        finally:
            pyx12.map_if.load_map_file = _original_load_map_file
    report = json.loads(json_out.getvalue()) if json_out.getvalue() else {"interchanges": []}
    return ok, report


def _pyx12_errors(text: str) -> list[str]:
    if not text.startswith("ISA") or len(text) < 106:
        return ["the file does not start with a complete ISA segment (106 characters)"]
    try:
        ok, report = _run_pyx12(text)
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as error:
        return [f"pyx12 could not read the file: {error}"]
    except Exception as error:  # noqa: BLE001 - a gate that crashes must still say no, never let a file through
        return [f"pyx12 failed while reading the file ({type(error).__name__}: {error})"]
    errors = _messages_from_report(report)
    if not ok and not errors:
        errors.append("pyx12 rejected the file without saying why (is it an X12 file?)")
    return errors


def _messages_from_report(report: dict[str, Any]) -> list[str]:
    """Flatten pyx12's JSON error tree into one plain message per problem, each saying where it is."""
    messages: list[str] = []
    for interchange in report.get("interchanges", []):
        for error in interchange.get("errors", []):
            messages.append(f"ISA (interchange {interchange.get('isa_trn_set_id')}): {error['err_str']}")
        for group in interchange.get("groups", []):
            for error in group.get("errors", []):
                messages.append(f"GS (group {group.get('gs_control_num')}): {error['err_str']}")
            for transaction in group.get("transactions", []):
                for error in transaction.get("errors", []):
                    messages.append(f"ST (transaction {transaction.get('trn_set_control_num')}): {error['err_str']}")
                for segment in transaction.get("segments", []):
                    messages.extend(_segment_messages(segment))
    return messages


def _segment_messages(segment: dict[str, Any]) -> list[str]:
    where = f"segment {segment.get('cur_line')} {segment.get('seg_id')}"
    unplaced = any(error.get("err_cde") in _UNPLACED_SEGMENT_CODES for error in segment["errors"])
    if segment.get("name") and not unplaced:
        where += f" ({segment['name']})"
    messages = [_with_value(f"{where}: {error['err_str']}", error.get("err_val")) for error in segment["errors"]]
    for element in segment.get("elements", []):
        position = f"{segment.get('seg_id')}{int(element['ele_pos']):02d}"
        if element.get("subele_pos"):
            position += f"-{element['subele_pos']}"
        label = f"{where}, element {position}"
        if element.get("name"):
            label += f" ({element['name']})"
        messages.extend(_with_value(f"{label}: {error['err_str']}", error.get("err_val"))
                        for error in element["errors"])
    return messages


def _with_value(message: str, value: Any) -> str:
    return f"{message} (value {value!r})" if value not in (None, "") and str(value) not in message else message


# ---------------------------------------------------------------- Parity's own rules


def _split(text: str) -> tuple[list[list[str]], str]:
    """Segments as element lists, using the delimiters the ISA declares, and the component separator."""
    element_separator, component_separator, terminator = text[3], text[104], text[105]
    segments = []
    for raw in text.split(terminator):
        raw = raw.strip("\r\n\t ")
        if raw:
            segments.append(raw.split(element_separator))
    return segments, component_separator


def _element(segment: list[str], position: int) -> str:
    return segment[position] if position < len(segment) else ""


def _cents(value: str) -> int | None:
    try:
        return int((Decimal(value) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return None


class _ClaimTotals:
    """The claim being read: where CLM was, its stated total, its lines' sum and what it must carry."""

    def __init__(self, number: int, segment: list[str], component_separator: str) -> None:
        self.number = number
        self.patient_control_number = _element(segment, 1)
        self.stated_cents = _cents(_element(segment, 2))
        self.lines_cents = 0
        self.frequency = _element(segment, 5).split(component_separator)[2:3]
        self.has_payer_claim_number = False
        self.diagnosis_count = 0
        self.has_diagnoses = False

    def problems(self) -> list[str]:
        where = f"segment {self.number} CLM (claim {self.patient_control_number})"
        problems = []
        if self.stated_cents is not None and self.stated_cents != self.lines_cents:
            problems.append(f"{where}: total {dollars(self.stated_cents)} is not the sum of its lines "
                            f"({dollars(self.lines_cents)})")
        if self.frequency and self.frequency[0] in ("7", "8") and not self.has_payer_claim_number:
            problems.append(f"{where}: a replacement or void (frequency {self.frequency[0]}) needs REF*F8 "
                            "with the payer's claim control number")
        if not self.has_diagnoses:
            problems.append(f"{where}: no HI segment with the diagnoses")
        return problems


def _parity_rules(text: str) -> list[tuple[str, str]]:
    """Rules pyx12 does not check, as (rule, message). Reads any X12 file; the claim rules apply to 837P only."""
    if not text.startswith("ISA") or len(text) < 106:
        return []
    segments, component_separator = _split(text)
    # The claim rules read 837P segments (CLM, SV1, HI, NM1*85 …); a 999, 277CA or 835 only gets the SE checks.
    is_837p = any(segment[0] == "GS" and _element(segment, 8) == CLAIM_GUIDE for segment in segments)
    problems: list[tuple[str, str]] = []
    transaction_start: int | None = None
    transaction_control = ""
    claim: _ClaimTotals | None = None
    last_name_entity = ""  # NM101 of the latest NM1: which party an N4 belongs to

    def close_claim() -> None:
        nonlocal claim
        if claim is not None:
            problems.extend(("claim", problem) for problem in claim.problems())
            claim = None

    for number, segment in enumerate(segments, start=1):
        segment_id = segment[0]
        where = f"segment {number} {segment_id}"
        if segment_id == "ST":
            transaction_start, transaction_control = number, _element(segment, 2)
        elif segment_id == "SE":
            close_claim()
            if transaction_start is None:
                problems.append(("se_count", f"{where}: SE without a matching ST"))
            else:
                counted = number - transaction_start + 1
                if _element(segment, 1) != str(counted):
                    problems.append(("se_count", f"{where}: SE01 says {_element(segment, 1)!r} segments but the "
                                                 f"transaction has {counted} (ST to SE inclusive)"))
                if _element(segment, 2) != transaction_control:
                    problems.append(("se_control", f"{where}: SE02 {_element(segment, 2)!r} does not match ST02 "
                                                   f"{transaction_control!r}"))
            transaction_start = None
        elif not is_837p:
            continue
        elif segment_id == "CLM":
            close_claim()
            claim = _ClaimTotals(number, segment, component_separator)
        elif segment_id == "HL":
            close_claim()
        elif segment_id == "REF" and claim is not None and _element(segment, 1) == "F8":
            claim.has_payer_claim_number = True
        elif segment_id == "HI" and claim is not None and not claim.has_diagnoses:
            claim.has_diagnoses = True
            diagnosis_problems = _diagnosis_problems(where, segment, component_separator)
            problems.extend(("diagnosis", problem) for problem in diagnosis_problems)
            claim.diagnosis_count = len(segment) - 1
        elif segment_id == "SV1" and claim is not None:
            charge = _cents(_element(segment, 2))
            claim.lines_cents += charge or 0
            for pointer in filter(None, _element(segment, 7).split(component_separator)):
                if not pointer.isdigit() or int(pointer) > claim.diagnosis_count:
                    problems.append(("pointer", f"{where}: diagnosis pointer {pointer} points past the claim's "
                                                f"{claim.diagnosis_count} diagnoses"))
        elif segment_id == "N4" and last_name_entity == "85":
            postal_code = _element(segment, 3)
            if not (len(postal_code) == 9 and postal_code.isdigit()):
                problems.append(("zip", f"{where} (billing provider): ZIP code {postal_code!r} needs all nine "
                                        "digits (ZIP+4)"))
        elif segment_id == "NM1" and _element(segment, 8) == "XX":
            last_name_entity = _element(segment, 1)
            npi = _element(segment, 9)
            if not npi_is_valid(npi):
                problems.append(("npi", f"{where} ({_entity_name(_element(segment, 1))}): NPI {npi!r} is not a "
                                        "valid NPI (10 digits starting with 1 or 2, with a correct check digit)"))
        elif segment_id == "NM1":
            last_name_entity = _element(segment, 1)
        elif segment_id == "PRV" and _element(segment, 2) == "PXC":
            if not taxonomy_is_valid(_element(segment, 3)):
                problems.append(("taxonomy", f"{where}: taxonomy {_element(segment, 3)!r} is not a NUCC taxonomy "
                                             "code (10 characters ending in X)"))
        elif segment_id == "REF" and _element(segment, 1) == "EI":
            if not ein_is_valid(_element(segment, 2)):
                problems.append(("ein", f"{where}: tax id {_element(segment, 2)!r} is not a valid EIN (9 digits)"))
    close_claim()
    return problems


def _diagnosis_problems(where: str, segment: list[str], component_separator: str) -> list[str]:
    problems = []
    for position, composite in enumerate(segment[1:], start=1):
        qualifier, _, code = composite.partition(component_separator)
        expected = "ABK" if position == 1 else "ABF"
        if qualifier != expected:
            problems.append(f"{where}, element HI{position:02d}: ICD-10-CM diagnoses need qualifier {expected} "
                            f"here, not {qualifier!r}")
        if "." in code:
            problems.append(f"{where}, element HI{position:02d}: diagnosis {code!r} must be sent without its dot")
    return problems


def _entity_name(code: str) -> str:
    return {"85": "billing provider", "82": "rendering provider", "DN": "referring provider",
            "DQ": "supervising provider", "77": "service facility", "DK": "ordering provider",
            "87": "pay-to provider"}.get(code, f"entity {code}")
