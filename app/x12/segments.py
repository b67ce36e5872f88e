"""Read an X12 5010 file strictly: delimiters from the ISA, segments as element lists, envelope checked.

Every reader (`acknowledgements`, `remittance`) starts here, so a file that is cut short, miscounted or not
X12 at all is refused the same way everywhere, with `X12ReadError` and a message in plain words. Plain
`str.split` does the tokenizing: a 5,000-claim 835 is some 65,000 segments and must read in well under a
second. The small value readers (amounts, dates, counts) and the envelope writer the `write_*` functions
share live here too.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from app.memory import collector_paused  # noqa: F401 - the readers pause the collector while they read
from app.x12.inbound import X12ReadError

ISA_LENGTH = 106  # ISA is fixed width: 105 characters and its terminator

#: (ST01, GS08) of the files Parity reads or writes, and the name the rest of the code uses for each.
KIND_999 = "999"
KIND_277CA = "277CA"
KIND_835 = "835"
KIND_837P = "837P"
KIND_270 = "270"
KIND_271 = "271"
GUIDES = {KIND_999: "005010X231A1", KIND_277CA: "005010X214", KIND_835: "005010X221A1", KIND_837P: "005010X222A1",
          KIND_270: "005010X279A1", KIND_271: "005010X279A1"}
_KIND_BY_GUIDE = {guide: kind for kind, guide in GUIDES.items() if kind not in (KIND_270, KIND_271)}
# The guides before their errata: clearinghouses and payers still send them, and the segments Parity reads are
# the same.
_KIND_BY_GUIDE["005010X231"] = KIND_999
_KIND_BY_GUIDE["005010X221"] = KIND_835
_TRANSACTION_SET = {KIND_999: "999", KIND_277CA: "277", KIND_835: "835", KIND_837P: "837", KIND_270: "270",
                    KIND_271: "271"}
# 270 and 271 share a guide (005010X279A1): ST01 tells them apart.
_KIND_BY_SET_AND_GUIDE = {("270", "005010X279A1"): KIND_270, ("271", "005010X279A1"): KIND_271}
_KIND_NAMES = {KIND_999: "a 999 acknowledgement", KIND_277CA: "a 277CA claim acknowledgement",
               KIND_835: "an 835 remittance advice", KIND_837P: "an 837P claim file",
               KIND_270: "a 270 eligibility inquiry", KIND_271: "a 271 eligibility response"}

# An amount as X12 writes one (type R): optional minus, digits, optional decimal point. Exponents, plus
# signs and thousands separators are not X12; ASCII digits only (str.isdigit would accept '²').
_AMOUNT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}", re.ASCII)
# Segment ids already seen to be well formed: a file uses a few dozen, so a set lookup replaces the regex
# for all but the first of each (at most 26 × 37 × 37 entries, whatever is fed in).
_valid_ids: set[str] = set()


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    repetition: str
    component: str
    segment: str


@dataclass(slots=True)
class Transaction:
    """One ST…SE: its segments (ST and SE included) and where the ST sits in the file, for messages."""

    set_id: str  #: ST01
    control_number: str  #: ST02
    segments: list[list[str]]
    first_segment_number: int  #: 1-based position of the ST in the file


@dataclass(slots=True)
class FunctionalGroup:
    functional_id: str  #: GS01
    sender_code: str  #: GS02
    receiver_code: str  #: GS03
    control_number: str  #: GS06
    version: str  #: GS08
    transactions: list[Transaction] = field(default_factory=list)


@dataclass(slots=True)
class Interchange:
    control_number: str  #: ISA13
    sender_id: str  #: ISA06, without its padding
    receiver_id: str  #: ISA08, without its padding
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def read_interchanges(text: str) -> list[Interchange]:
    """Every ISA…IEA in the text (clearinghouses sometimes send several in one file), envelopes checked."""
    if not isinstance(text, str):
        raise X12ReadError("This is not an X12 file: expected text.")
    if "\x00" in text:
        raise X12ReadError("The file holds a NUL character, which no X12 file has: it may be a binary file.")
    rest = text.lstrip("\ufeff \t\r\n")
    interchanges: list[Interchange] = []
    segment_offset = 0
    while True:
        interchange, rest, used = _read_interchange(rest, segment_offset)
        interchanges.append(interchange)
        segment_offset += used
        rest = rest.lstrip("\ufeff \t\r\n")
        if not rest:
            return interchanges
        if not rest.startswith("ISA"):
            raise X12ReadError(f"There is text after the IEA segment that ends the file: {rest[:30]!r}.")


def _delimiters(text: str) -> tuple[Delimiters, list[str]]:
    if not text.startswith("ISA"):
        raise X12ReadError("This is not an X12 file: it does not start with an ISA segment.")
    if len(text) < ISA_LENGTH:
        raise X12ReadError("The file is cut short: the ISA segment needs 106 characters.")
    separator, component, terminator = text[3], text[104], text[105]
    isa = text[:105].split(separator)
    # Fixed width: 16 elements, the last of them the component separator itself at position 104.
    if separator.isalnum() or separator.isspace() or len(isa) != 17 or isa[16] != component:
        raise X12ReadError("The ISA segment is malformed: it must have 16 elements in fixed positions "
                           "(106 characters in all).")
    repetition = isa[11]
    if isa[12] != "00501":
        raise X12ReadError(f"This file is X12 version {isa[12]!r}; Parity reads version 5010 (00501) files.")
    if component.isalnum() or component.isspace() or terminator.isalnum() or terminator == " ":
        raise X12ReadError("The ISA segment declares letters, digits or spaces as delimiters.")
    if len({separator, component, terminator}) != 3 or repetition in (separator, component, terminator):
        raise X12ReadError("The ISA segment declares the same character for two different delimiters.")
    return Delimiters(separator, repetition, component, terminator), isa


def _read_interchange(text: str, segment_offset: int) -> tuple[Interchange, str, int]:
    """The first interchange in `text`, the text after it, and how many segments it used."""
    delimiters, isa = _delimiters(text)
    separator = delimiters.element
    pieces = text.split(delimiters.segment)
    interchange = Interchange(control_number=isa[13], sender_id=isa[6].strip(), receiver_id=isa[8].strip(),
                              delimiters=delimiters)
    group: FunctionalGroup | None = None
    transaction: Transaction | None = None
    transaction_segments: list[list[str]] = []
    transactions_of_group: list[Transaction] = []
    number = segment_offset + 1  # the ISA
    for index in range(1, len(pieces)):
        raw = pieces[index].strip()
        if not raw:
            continue  # line breaks between segments, or a final terminator
        number += 1
        segment = raw.split(separator)
        segment_id = segment[0]
        if segment_id not in _valid_ids:
            if not _SEGMENT_ID.fullmatch(segment_id):
                raise X12ReadError(f"Segment {number} ({raw[:20]!r}) is not an X12 segment: the file is damaged.")
            _valid_ids.add(segment_id)
        if transaction is not None:
            if segment_id == "SE":
                transaction_segments.append(segment)
                _check_se(segment, transaction, len(transaction_segments))
                transactions_of_group.append(transaction)
                transaction = None
            elif segment_id in ("ISA", "IEA", "GS", "GE", "ST"):
                raise X12ReadError(f"The file is cut short or broken: transaction {transaction.control_number} "
                                   f"has no SE segment (segment {number} is {segment_id}).")
            else:
                transaction_segments.append(segment)
        elif group is not None:
            if segment_id == "ST":
                transactions_of_group = group.transactions
                transaction_segments = [segment]
                transaction = Transaction(set_id=element(segment, 1), control_number=element(segment, 2),
                                          segments=transaction_segments, first_segment_number=number)
                if not transaction.control_number:
                    raise X12ReadError(f"The ST segment (segment {number}) has no control number (ST02).")
            elif segment_id == "GE":
                _check_counted(segment, 1, len(group.transactions), "GE01", "transaction")
                if element(segment, 2) != group.control_number:
                    raise X12ReadError(f"GE02 {element(segment, 2)!r} does not match GS06 {group.control_number!r}.")
                interchange.groups.append(group)
                group = None
            else:
                raise X12ReadError(f"Segment {number} ({segment_id}) is outside a transaction (ST…SE).")
        elif segment_id == "GS":
            if len(segment) < 9:
                raise X12ReadError(f"The GS segment (segment {number}) is incomplete: it needs 8 elements.")
            group = FunctionalGroup(functional_id=segment[1], sender_code=segment[2], receiver_code=segment[3],
                                    control_number=segment[6], version=segment[8])
        elif segment_id == "IEA":
            _check_counted(segment, 1, len(interchange.groups), "IEA01", "group")
            if element(segment, 2) != interchange.control_number:
                raise X12ReadError(f"IEA02 {element(segment, 2)!r} does not match ISA13 "
                                   f"{interchange.control_number!r}.")
            rest = delimiters.segment.join(pieces[index + 1:])
            return interchange, rest, number - segment_offset
        else:
            raise X12ReadError(f"Segment {number} ({segment_id}) is outside a functional group (GS…GE).")
    if transaction is not None:
        raise X12ReadError(f"The file is cut short: transaction {transaction.control_number} has no SE segment.")
    if group is not None:
        raise X12ReadError(f"The file is cut short: group {group.control_number} has no GE segment.")
    raise X12ReadError("The file is cut short: no IEA segment.")


def _check_se(segment: list[str], transaction: Transaction, counted: int) -> None:
    stated = element(segment, 1)
    if not (stated.isascii() and stated.isdigit()):
        raise X12ReadError(f"SE01 {stated!r} of transaction {transaction.control_number} is not a segment count.")
    if int(stated) != counted:
        raise X12ReadError(f"SE01 says {int(stated)} segments but the transaction has {counted} "
                           f"(transaction {transaction.control_number}).")
    if element(segment, 2) != transaction.control_number:
        raise X12ReadError(f"SE02 {element(segment, 2)!r} does not match ST02 {transaction.control_number!r}.")


def _check_counted(segment: list[str], position: int, counted: int, name: str, noun: str) -> None:
    stated = element(segment, position)
    if not (stated.isascii() and stated.isdigit()):
        raise X12ReadError(f"{name} {stated!r} is not a count of {noun}s.")
    if int(stated) != counted:
        raise X12ReadError(f"{name} says {int(stated)} {noun}{'' if int(stated) == 1 else 's'} but there "
                           f"{'is' if counted == 1 else 'are'} {counted}.")


def element(segment: Sequence[str], position: int) -> str:
    """Element `position` of a segment, or '' when the segment is shorter (X12 drops trailing empties)."""
    return segment[position] if position < len(segment) else ""


def _kind_of_group(group: FunctionalGroup) -> str:
    kind = _KIND_BY_GUIDE.get(group.version)
    if kind is None and group.transactions:
        kind = _KIND_BY_SET_AND_GUIDE.get((group.transactions[0].set_id, group.version))
    for transaction in group.transactions:
        if kind is None or transaction.set_id != _TRANSACTION_SET[kind]:
            raise X12ReadError(_unknown_kind(transaction.set_id, group.version))
    if kind is None:
        raise X12ReadError(_unknown_kind("", group.version))
    return kind


def _unknown_kind(set_id: str, version: str) -> str:
    for kind, expected_set in _TRANSACTION_SET.items():
        if set_id == expected_set:
            return (f"This {set_id} file is not {_KIND_NAMES[kind]} Parity reads: its GS08 says {version!r}, "
                    f"not {GUIDES[kind]}.")
    if version in _KIND_BY_GUIDE or version == GUIDES[KIND_270]:
        kind = _KIND_BY_GUIDE.get(version, KIND_270)
        return (f"The file's GS08 says {version} ({_KIND_NAMES[kind]}) but its transaction set (ST01) is "
                f"{set_id!r}.")
    what = f"an X12 {set_id} file" if set_id else "an X12 file"
    return f"This is {what} ({version or 'no GS08'}), which Parity does not read."


def kind_of(text: str) -> str:
    """'999', '277CA', '835', '837P', '270' or '271', from ST01 and GS08; X12ReadError for anything else (or a broken file)."""
    with collector_paused():
        interchanges = read_interchanges(text)
    kinds = {_kind_of_group(group) for interchange in interchanges for group in interchange.groups}
    if not kinds:
        raise X12ReadError("The file holds no functional groups (GS…GE), so there is nothing to read.")
    if len(kinds) > 1:
        raise X12ReadError(f"The file mixes kinds of transactions ({', '.join(sorted(kinds))}); "
                           "send each kind in its own file.")
    return kinds.pop()


@dataclass(frozen=True, slots=True)
class Located:
    """A transaction to read, with the envelope around it."""

    interchange: Interchange
    group: FunctionalGroup
    transaction: Transaction


def transactions(text: str, expected_kind: str) -> Iterator[Located]:
    """Every transaction in the file, after checking the whole file is `expected_kind`."""
    interchanges = read_interchanges(text)
    for interchange in interchanges:
        for group in interchange.groups:
            kind = _kind_of_group(group)
            if kind != expected_kind:
                raise X12ReadError(f"This file is {_KIND_NAMES[kind]}, not {_KIND_NAMES[expected_kind]}.")
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                yield Located(interchange, group, transaction)


# ---------------------------------------------------------------- values


#: Names the element being read, for the message when it is wrong: a string, or a function making one
#: (so a reader of 50,000 amounts does not format 50,000 names it never shows).
Where = str | Callable[[], str]


def _named(where: Where) -> str:
    return where if isinstance(where, str) else where()


def cents(value: str, where: Where) -> int:
    """An X12 amount ('123.45', '-80', '100.5', '.5') as exact integer cents; `where` names the element.

    The common shapes are read digit by digit in integers (a 5,000-claim 835 has about 50,000 amounts);
    everything else goes through Decimal, which either reads it exactly or says what is wrong with it.
    """
    known = _cents_seen.get(value)
    if known is not None:
        return known
    whole, _, fraction = value.lstrip("-").partition(".")
    if len(fraction) <= 2 and len(whole) <= 7 and (whole + fraction).isdigit() and value.isascii() \
            and value[:2] != "--":
        amount = int(whole or "0") * 100 + int(fraction.ljust(2, "0"))
        amount = -amount if value[:1] == "-" else amount
        if len(_cents_seen) >= 10_000:
            _cents_seen.clear()
        _cents_seen[value] = amount
        return amount
    return _decimal_cents(value, _named(where))


#: Amounts are stored as 32-bit integer cents: anything from ten million dollars up is refused when read.
MAX_AMOUNT_DOLLARS = 10_000_000

# Amounts repeat a lot in a remittance (the same fee, copay and allowed amount on claim after claim): the
# ones already read are looked up. Only well-formed amounts get in, and the table never passes 10,000.
_cents_seen: dict[str, int] = {}


def _decimal_cents(value: str, where: str) -> int:
    if not _AMOUNT.fullmatch(value):
        if not value:
            raise X12ReadError(f"{where} is empty; it must be an amount.")
        raise X12ReadError(f"{where}: {value[:30]!r} is not an amount in dollars and cents.")
    amount = Decimal(value)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]  # finite by the pattern above
        raise X12ReadError(f"{where}: {value[:30]!r} has more than two decimal places.")
    if abs(amount) >= MAX_AMOUNT_DOLLARS:
        raise X12ReadError(f"{where}: {value[:30]!r} is too large to be an amount on a claim "
                           f"(Parity reads amounts below ${MAX_AMOUNT_DOLLARS:,}).")
    return int(amount.scaleb(2))


def optional_cents(value: str, where: Where) -> int | None:
    return cents(value, where) if value else None


def ccyymmdd(value: str, where: Where) -> date:
    known = _dates_seen.get(value)
    if known is not None:
        return known
    if len(value) == 8 and value.isascii() and value.isdigit():
        try:
            day = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            pass
        else:
            if len(_dates_seen) >= 10_000:
                _dates_seen.clear()
            _dates_seen[value] = day
            return day
    raise X12ReadError(f"{_named(where)}: {value[:30]!r} is not a date (CCYYMMDD).")


_dates_seen: dict[str, date] = {}  # a remittance repeats a few dates thousands of times


def optional_date(value: str, where: Where) -> date | None:
    return ccyymmdd(value, where) if value else None


def count(value: str, where: Where, warnings: list[str] | None = None) -> int:
    """A whole number such as units or a quantity. X12 allows decimals here ('1.0', '1.5'): a fraction is
    rounded half up, and said in `warnings`, rather than refusing the whole file over it."""
    if value.isdigit() and value.isascii() and len(value) <= 15:
        return int(value)
    if not _AMOUNT.fullmatch(value) or len(value) > 15:
        raise X12ReadError(f"{_named(where)}: {value[:30]!r} is not a number.")
    number = Decimal(value)
    whole = int(number.to_integral_value(rounding=ROUND_HALF_UP))
    if whole != number and warnings is not None:
        warnings.append(f"{_named(where)}: {value} was rounded to {whole}.")
    return whole


# ---------------------------------------------------------------- writing


ELEMENT_SEPARATOR = "*"
REPETITION_SEPARATOR = "^"
COMPONENT_SEPARATOR = ":"
SEGMENT_TERMINATOR = "~"
# X12's extended character set (5010); pyx12 refuses anything else in an AN element.
_NOT_X12 = re.compile(r"""[^A-Za-z0-9!"&'()+,\-./;?= %@\[\]_{}\\|<>`#$]""")
_DELIMITER_CHARACTERS = str.maketrans("", "", ELEMENT_SEPARATOR + REPETITION_SEPARATOR + COMPONENT_SEPARATOR
                                      + SEGMENT_TERMINATOR + "\r\n")


def x12_amount(amount_cents: int) -> str:
    """Cents as an X12 decimal: 15000 → '150', 11390 → '113.9', -5 → '-0.05' (no trailing zeros)."""
    sign = "-" if amount_cents < 0 else ""
    whole, fraction = divmod(abs(amount_cents), 100)
    if fraction == 0:
        return f"{sign}{whole}"
    if fraction % 10 == 0:
        return f"{sign}{whole}.{fraction // 10}"
    return f"{sign}{whole}.{fraction:02d}"


def x12_date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def clean(value: str, max_length: int | None = None) -> str:
    """Text in X12's character set, without our delimiters (they would cut the element short), trimmed to
    `max_length`. Accents are dropped (é → e); other characters outside the set become spaces."""
    if not value.isascii():
        value = "".join(character for character in unicodedata.normalize("NFKD", value)
                        if not unicodedata.combining(character))
    cleaned = " ".join(_NOT_X12.sub(" ", value.translate(_DELIMITER_CHARACTERS)).split())
    return cleaned[:max_length].rstrip() if max_length else cleaned


def segment(*elements: str) -> str:
    """Elements joined with '*', without trailing empty ones (X12 forbids trailing separators)."""
    end = len(elements)
    while end > 1 and not elements[end - 1]:
        end -= 1
    return ELEMENT_SEPARATOR.join(elements[:end])


def composite(*components: str) -> str:
    end = len(components)
    while end > 1 and not components[end - 1]:
        end -= 1
    return COMPONENT_SEPARATOR.join(components[:end])


def build_interchange(*, functional_id: str, kind: str, sender_id: str, receiver_id: str,
                interchange_control_number: int, group_control_number: int | None, created_at: datetime,
                bodies: Sequence[tuple[str, list[str]]], usage_indicator: str = "P",
                sender_qualifier: str = "ZZ", receiver_qualifier: str = "ZZ") -> str:
    """A whole file: ISA/GS, each (ST02, segments after ST) as ST…SE with its count, then GE/IEA."""
    if not 0 < interchange_control_number <= 999_999_999:
        raise ValueError("the interchange control number must be 1 to 999999999")
    control = f"{interchange_control_number:09d}"
    group_control = str(group_control_number if group_control_number is not None else interchange_control_number)
    clock = f"{created_at.hour:02d}{created_at.minute:02d}"
    out = [
        # Fixed width (106 characters with the terminator): readers find the delimiters by position.
        ELEMENT_SEPARATOR.join([
            "ISA", "00", " " * 10, "00", " " * 10, sender_qualifier, f"{sender_id[:15]:<15}",
            receiver_qualifier, f"{receiver_id[:15]:<15}",
            f"{created_at.year % 100:02d}{created_at.month:02d}{created_at.day:02d}", clock,
            REPETITION_SEPARATOR, "00501", control, "0", usage_indicator, COMPONENT_SEPARATOR,
        ]),
        segment("GS", functional_id, sender_id, receiver_id, x12_date(created_at), clock, group_control, "X",
                GUIDES[kind]),
    ]
    set_id = _TRANSACTION_SET[kind]
    for control_number, body in bodies:
        # ST03 is "not used" in the 835 guide (005010X221A1); the others require it.
        st = segment("ST", set_id, control_number) if kind == KIND_835 else \
            segment("ST", set_id, control_number, GUIDES[kind])
        out.append(st)
        out.extend(body)
        out.append(f"SE{ELEMENT_SEPARATOR}{len(body) + 2}{ELEMENT_SEPARATOR}{control_number}")
    out.append(f"GE{ELEMENT_SEPARATOR}{len(bodies)}{ELEMENT_SEPARATOR}{group_control}")
    out.append(f"IEA{ELEMENT_SEPARATOR}1{ELEMENT_SEPARATOR}{control}")
    return SEGMENT_TERMINATOR.join(out) + SEGMENT_TERMINATOR
