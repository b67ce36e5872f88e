"""Fuzzing the readers: whatever a clearinghouse or a person uploads, a reader returns a value or raises
X12ReadError with a message, never anything else (an IndexError would be a 500 page and a stuck job).

Valid files from the writers are damaged the ways files really get damaged (cut short, segments lost,
doubled or swapped, characters flipped, amounts changed) and, half the time, their SE counts are put right
again so the damage reaches the readers behind the envelope check.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.x12.acknowledgements import SegmentError, TransactionResult, parse_277ca, parse_999, write_277ca, write_999
from app.x12.inbound import ClaimStatusReport, X12ReadError
from app.x12.remittance import parse_835
from app.x12.segments import kind_of

from tests.x12.test_remittance import (
    CORRECTED, DEDUCTIBLE, DENIED, INTEREST, PAID_WITH_COPAY, PAYER_FILE, RECOVERY, REVERSAL, TWO_LINES, remittance,
    write,
)

CREATED = datetime(2026, 3, 12, 7, 5)
READERS = (parse_999, parse_277ca, parse_835, kind_of)
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

REMITTANCE_FILE = write(remittance(PAID_WITH_COPAY, DEDUCTIBLE, DENIED, REVERSAL, CORRECTED, TWO_LINES,
                                   provider_adjustments=(INTEREST, RECOVERY)))
ACK_FILE = write_999(
    group_control_number="4712", sender_id="CLAIMMD", receiver_id="PARITY01", interchange_control_number=901,
    created_at=CREATED, transactions=[
        TransactionResult(control_number="4713"),
        TransactionResult(control_number="4714", status="R", errors=(
            SegmentError(segment_id="NM1", position=9, loop_id="2010", element_position=9, element_reference="67",
                         element_code="7", bad_value="123", claim="S1001"),
            SegmentError(segment_id="HI", position=31, loop_id="2300", code="3"))),
    ])
STATUS_FILE = write_277ca(
    [ClaimStatusReport(patient_control_number=f"S{number}", category=category, status_code=status,
                       message=message, payer_claim_number=f"PCN{number}" if category == "A1" else "",
                       effective_date=date(2026, 3, 12), charge_cents=15000 + number, patient_name="RIVERA, ANA",
                       member_id="W1", service_date=date(2026, 3, 10))
     for number, (category, status, message) in enumerate(
        [("A1", "19", ""), ("A7", "562", "NPI not enrolled"), ("P1", "20", ""), ("F2", "88", "")])],
    payer_name="CASCADE", payer_id="93221", receiver_name="CALM HARBOR", receiver_id="CH12345",
    billing_provider_name="CALM HARBOR", billing_provider_npi="2000000002", sender_id="CLAIMMD",
    receiver_isa_id="PARITY01", interchange_control_number=902, created_at=CREATED)

_AMOUNT_IN_ELEMENT = re.compile(r"(?<=[*:])-?[0-9]*\.?[0-9]+(?=[*:~])")
_NASTY_CHARACTERS = st.sampled_from(list("~*:^\r\n 0123456789.-+eEAZaz\x00\ufeff\u00e9\u2014٣"))


def read_everything(text: str) -> None:
    """Every reader either answers or refuses in words; any other exception fails the test."""
    for reader in READERS:
        try:
            reader(text)
        except X12ReadError as error:
            assert str(error), f"{reader.__name__} refused without saying why"


def recount(text: str) -> str:
    """SE01 made right again after segments moved, so the damage reaches the transaction readers."""
    pieces = text.split("~")
    start: int | None = None
    for index, piece in enumerate(pieces):
        name = piece.strip().split("*", 1)[0]
        if name == "ST":
            start = index
        elif name == "SE" and start is not None:
            elements = piece.strip().split("*")
            if len(elements) > 1:
                elements[1] = str(index - start + 1)
                pieces[index] = "*".join(elements)
            start = None
    return "~".join(pieces)


@st.composite
def damaged(draw: st.DrawFn, base: str) -> str:
    text = base
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        pieces = text.split("~")
        last = max(len(pieces) - 1, 0)
        how = draw(st.sampled_from(["truncate", "delete", "duplicate", "swap", "flip", "amount", "insert"]))
        if how == "truncate":
            text = text[:draw(st.integers(min_value=0, max_value=len(text)))]
        elif how == "delete" and pieces:
            del pieces[draw(st.integers(min_value=0, max_value=last))]
            text = "~".join(pieces)
        elif how == "duplicate" and pieces:
            piece = pieces[draw(st.integers(min_value=0, max_value=last))]
            pieces.insert(draw(st.integers(min_value=0, max_value=len(pieces))), piece)
            text = "~".join(pieces)
        elif how == "swap" and pieces:
            first, second = (draw(st.integers(min_value=0, max_value=last)) for _ in range(2))
            pieces[first], pieces[second] = pieces[second], pieces[first]
            text = "~".join(pieces)
        elif how == "flip" and text:
            at = draw(st.integers(min_value=0, max_value=len(text) - 1))
            character = draw(_NASTY_CHARACTERS | st.characters())
            text = text[:at] + character + text[at + 1:]
        elif how == "amount":
            amounts = list(_AMOUNT_IN_ELEMENT.finditer(text))
            if amounts:
                match = amounts[draw(st.integers(min_value=0, max_value=len(amounts) - 1))]
                value = draw(st.from_regex(r"-?[0-9]{0,7}(\.[0-9]{0,3})?", fullmatch=True) |
                             st.text(alphabet="0123456789.-e ", max_size=8))
                text = text[:match.start()] + value + text[match.end():]
        elif how == "insert":
            at = draw(st.integers(min_value=0, max_value=len(text)))
            text = text[:at] + draw(st.text(max_size=20)) + text[at:]
    return recount(text) if draw(st.booleans()) else text


@FUZZ
@given(damaged(REMITTANCE_FILE))
def test_does_a_damaged_835_read_or_refuse_in_words(text):
    read_everything(text)


@FUZZ
@given(damaged(PAYER_FILE))
def test_does_a_damaged_payer_835_read_or_refuse_in_words(text):
    read_everything(text)


@FUZZ
@given(damaged(ACK_FILE))
def test_does_a_damaged_999_read_or_refuse_in_words(text):
    read_everything(text)


@FUZZ
@given(damaged(STATUS_FILE))
def test_does_a_damaged_277ca_read_or_refuse_in_words(text):
    read_everything(text)


@FUZZ
@given(st.text() | st.binary().map(lambda raw: raw.decode("latin-1")))
def test_does_random_text_or_bytes_read_or_refuse_in_words(text):
    read_everything(text)


@FUZZ
@given(st.sampled_from([REMITTANCE_FILE, ACK_FILE, STATUS_FILE]), st.integers(min_value=0, max_value=130),
       st.text(max_size=200) | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")))
def test_does_a_real_isa_followed_by_garbage_read_or_refuse_in_words(base, keep, garbage):
    read_everything(base[:keep] + garbage)


def test_do_the_undamaged_files_read():
    assert len(parse_835(REMITTANCE_FILE)[0].claims) == 6
    assert len(parse_999(ACK_FILE)[0].transactions) == 2
    assert len(parse_277ca(STATUS_FILE)) == 4
