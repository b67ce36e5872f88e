"""999 and 277CA acknowledgements: what the writers make, the readers read back, pyx12 accepts, and what the
readers refuse."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from app.x12 import reasons
from app.x12.acknowledgements import SegmentError, TransactionResult, parse_277ca, parse_999, write_277ca, write_999
from app.x12.inbound import ClaimStatusReport, FunctionalAck, TransactionAck, X12ReadError
from app.x12.segments import kind_of
from app.x12.validate import validate_x12
from tests.x12.test_837p import with_id

CREATED = datetime(2026, 3, 12, 7, 5)


def assert_accepted(text: str) -> None:
    result = validate_x12(text)
    assert result.ok, "\n".join(result.errors)


def refused(reader, text: str) -> str:
    with pytest.raises(X12ReadError) as caught:
        reader(text)
    return str(caught.value)


# ---------------------------------------------------------------- 999


def ack(*transactions, **changes) -> str:
    arguments = dict(group_control_number="4712", transactions=list(transactions), sender_id="CLAIMMD",
                     receiver_id="PARITY01", interchange_control_number=901, created_at=CREATED)
    arguments.update(changes)
    return write_999(**arguments)


NPI_ERROR = SegmentError(segment_id="NM1", position=9, loop_id="2010", code="8", element_position=9,
                         element_reference="67", element_code="7", bad_value="1234567890", claim="S1001")
MISSING_HI = SegmentError(segment_id="HI", position=31, loop_id="2300", code="3")
COMPONENT_ERROR = SegmentError(segment_id="SV1", position=40, loop_id="2400", element_position=1,
                               component_position=2, element_reference="234", element_code="6", bad_value="9O834")


def test_does_an_accepted_999_read_back_and_pass_pyx12():
    text = ack(TransactionResult(control_number="4713"))
    assert_accepted(text)
    assert kind_of(text) == "999"
    assert with_id(text, "AK1") == ["AK1*HC*4712*005010X222A1"]
    assert with_id(text, "AK9") == ["AK9*A*1*1*1"]
    assert parse_999(text) == [FunctionalAck(
        group_control_number="4712", status="A", interchange_control_number="000000901",
        transactions=(TransactionAck(transaction_control_number="4713", status="A"),))]


def test_does_a_rejected_999_carry_its_errors_in_plain_words():
    text = ack(TransactionResult(control_number="4713", status="R", errors=(NPI_ERROR, MISSING_HI, COMPONENT_ERROR)))
    assert_accepted(text)
    assert with_id(text, "IK3") == ["IK3*NM1*9*2010*8", "IK3*HI*31*2300*3", "IK3*SV1*40*2400*8"]
    assert with_id(text, "IK4") == ["IK4*9*67*7*1234567890", "IK4*1:2*234*6*9O834"]
    assert with_id(text, "CTX") == ["CTX*CLM01:S1001"]
    assert with_id(text, "IK5") == ["IK5*R*5"]
    assert parse_999(text) == [FunctionalAck(
        group_control_number="4712", status="R", interchange_control_number="000000901",
        transactions=(TransactionAck(transaction_control_number="4713", status="R", errors=(
            "Claim S1001: segment NM1 at position 9 in loop 2010 has errors in its elements; element NM109 is not "
            "a valid code (value '1234567890').",
            "Segment HI at position 31 in loop 2300 is required but missing.",
            "Segment SV1 at position 40 in loop 2400 has errors in its elements; element SV101-2 has an invalid "
            "character (value '9O834').",
        )),))]
    assert [error.describe() for error in (NPI_ERROR, MISSING_HI, COMPONENT_ERROR)] == \
        list(parse_999(text)[0].transactions[0].errors)


def test_does_a_partly_accepted_999_say_which_transaction_bounced():
    text = ack(("4713", "A", ()), ("4714", "E", (MISSING_HI,)), ("4715", "R", (NPI_ERROR,)))
    assert_accepted(text)
    assert with_id(text, "AK9") == ["AK9*P*3*3*2"]
    (read,) = parse_999(text)
    assert read.status == "P"
    assert [(item.transaction_control_number, item.status, item.rejected) for item in read.transactions] == \
        [("4713", "A", False), ("4714", "E", False), ("4715", "R", True)]


def test_does_a_999_rejecting_the_whole_group_say_why():
    text = ack(group_status="R", group_problem_codes=("5",), received_transactions=2)
    assert_accepted(text)
    assert with_id(text, "AK9") == ["AK9*R*0*2*0*5"]
    (read,) = parse_999(text)
    assert read.status == "R" and read.transactions == ()
    assert read.errors == ("The group's transaction count (GE01) is wrong.",)


def test_does_a_transaction_rejected_for_its_count_say_so():
    text = ack(TransactionResult(control_number="4713", status="R", problem_codes=("4",)))
    assert_accepted(text)
    (read,) = parse_999(text)
    assert read.transactions[0].errors == ("The transaction's segment count (SE01) is wrong.",)


def test_is_a_long_837_loop_id_cut_to_the_four_characters_ik303_holds():
    text = ack(TransactionResult(control_number="4713", status="R",
                                 errors=(SegmentError(segment_id="NM1", position=9, loop_id="2010AA"),)))
    assert_accepted(text)
    assert with_id(text, "IK3") == ["IK3*NM1*9*2010*8"]


def test_is_free_text_refused_as_a_999_error():
    with pytest.raises(TypeError, match="codes, not text"):
        ack(("4713", "R", ("the NPI is wrong",)))


@pytest.mark.parametrize("find, replace, fragment", [
    ("AK9*A*1*1*1~", "", "no AK9"),
    ("AK1*HC*4712*005010X222A1~", "", "does not start with AK1"),
    ("IK5*A~", "", "has no IK5"),
    ("AK1*HC*4712*", "AK1*HC**", "AK102"),
])
def test_are_broken_999s_refused(find, replace, fragment):
    text = ack(TransactionResult(control_number="4713"))
    count = int(with_id(text, "SE")[0].split("*")[1])
    removed = 1 if not replace else 0
    text = text.replace(find, replace).replace(f"SE*{count}*", f"SE*{count - removed}*")
    assert fragment in refused(parse_999, text)


def test_is_a_999_given_to_the_277ca_reader_refused():
    assert refused(parse_277ca, ack(TransactionResult(control_number="4713"))) == \
        "This file is a 999 acknowledgement, not a 277CA claim acknowledgement."


# ---------------------------------------------------------------- 277CA


def report(pcn: str, category: str, status: str, **changes) -> ClaimStatusReport:
    fields = dict(patient_control_number=pcn, category=category, status_code=status,
                  effective_date=date(2026, 3, 12), charge_cents=15000, patient_name="RIVERA, ANA",
                  member_id="W123456789", service_date=date(2026, 3, 10))
    fields.update(changes)
    fields.setdefault("message", reasons.describe_claim_status(category, status, fields.get("entity", "")))
    return ClaimStatusReport(**fields)


def status_file(*reports: ClaimStatusReport) -> str:
    return write_277ca(list(reports), payer_name="CASCADE HEALTH PLAN", payer_id="93221", receiver_name="CALM HARBOR",
                       receiver_id="CH12345", billing_provider_name="CALM HARBOR COUNSELING LLC",
                       billing_provider_npi="2000000002", sender_id="CLAIMMD", receiver_isa_id="PARITY01",
                       interchange_control_number=902, created_at=CREATED)


ACKNOWLEDGED = report("S1001", "A1", "19", entity="PR", payer_claim_number="PCN-2026-000123")
REJECTED = report("S1002", "A7", "562", entity="85", message="Billing provider NPI 2000000002 is not enrolled",
                  patient_name="NGUYEN, BAO", member_id="M998877R", charge_cents=9000)
PENDING = report("S1003", "P1", "20", clearinghouse_claim_id="CMD-778899")
DENIED = report("S1004", "F2", "88", entity="QC", effective_date=date(2026, 4, 2))

CASES = {"acknowledged with REF*1K": [ACKNOWLEDGED], "rejected with the payer's words": [REJECTED],
         "pending": [PENDING], "denied": [DENIED], "all four in one file": [ACKNOWLEDGED, REJECTED, PENDING, DENIED]}


@pytest.mark.parametrize("reports", CASES.values(), ids=CASES.keys())
def test_does_a_written_277ca_read_back_as_the_same_reports_and_pass_pyx12(reports):
    text = status_file(*reports)
    assert_accepted(text)
    assert kind_of(text) == "277CA"
    assert parse_277ca(text) == reports


def test_is_the_277ca_laid_out_as_the_guide_says():
    text = status_file(ACKNOWLEDGED, REJECTED)
    assert with_id(text, "BHT") == ["BHT*0085*08*902*20260312*0705*TH"]
    assert with_id(text, "HL") == ["HL*1**20*1", "HL*2*1*21*1", "HL*3*2*19*1", "HL*4*3*PT", "HL*5*3*PT"]
    assert "NM1*PR*2*CASCADE HEALTH PLAN*****PI*93221" in text
    assert "NM1*85*2*CALM HARBOR COUNSELING LLC*****XX*2000000002" in text
    assert with_id(text, "TRN")[-2:] == ["TRN*2*S1001", "TRN*2*S1002"]
    stcs = with_id(text, "STC")
    assert stcs[-2] == "STC*A1:19:PR*20260312*WQ*150"  # no STC12: the message is just the codes in words
    assert stcs[-1] == "STC*A7:562:85*20260312*U*90********Billing provider NPI 2000000002 is not enrolled"
    assert with_id(text, "REF") == ["REF*1K*PCN-2026-000123"]
    assert with_id(text, "DTP")[-1] == "DTP*472*D8*20260310"


def test_does_a_report_without_words_read_back_with_the_codes_in_plain_words():
    (read,) = parse_277ca(status_file(ACKNOWLEDGED))
    assert read.message == "Received: the claim arrived but is not yet accepted for processing (A1) — receipt " \
                           "acknowledged (19), the payer"
    (read,) = parse_277ca(status_file(report("S9", "A7", "999")))
    assert read.message == "Rejected: information is not valid (A7) — status code 999 (999)"


def test_do_additional_status_codes_and_service_lines_read_as_a_payer_sends_them():
    text = status_file(report("S1005", "A7", "21", message=""))
    text = text.replace("STC*A7:21*20260312*U*150", "STC*A7:21*20260312*U*150******A7:562:85*A7:145:82")
    text = text.replace("DTP*472*D8*20260310~", "DTP*472*RD8*20260310-20260311~SVC*HC:90834*150~"
                        "STC*A7:454*20260312*U~REF*FJ*L1~DTP*472*D8*20260310~")
    count = int(with_id(text, "SE")[0].split("*")[1])
    text = text.replace(f"SE*{count}*", f"SE*{count + 4}*")
    (read,) = parse_277ca(text)
    assert read.message == ("Rejected: information is not valid (A7) — information is missing or not valid (21); "
                            "Rejected: information is not valid (A7) — the NPI (562), the billing provider; "
                            "Rejected: information is not valid (A7) — the specialty or taxonomy code (145), the "
                            "rendering provider")
    assert read.service_date == date(2026, 3, 10)


def test_are_broken_277cas_refused():
    text = status_file(ACKNOWLEDGED)
    stc = with_id(text, "STC")[-1]
    count = int(with_id(text, "SE")[0].split("*")[1])
    head, _, tail = text.rpartition(stc + "~")  # the claim's STC, not the receiver's (same text here)
    without_status = (head + tail).replace(f"SE*{count}*", f"SE*{count - 1}*")
    assert refused(parse_277ca, without_status) == "The 277CA gives no status (STC) for claim S1001 (TRN at " \
                                                    "segment 24)."
    bad_charge = head + stc[:-3] + "1.234~" + tail
    assert "STC04 (segment 25) of claim S1001: '1.234'" in refused(parse_277ca, bad_charge)
    assert "is not a date" in refused(parse_277ca, text.replace("*20260312*WQ*150", "*20261312*WQ*150"))


def test_is_an_835_or_837_given_to_the_277ca_reader_refused():
    assert "not a 277CA claim acknowledgement" in refused(parse_277ca, status_file(ACKNOWLEDGED).replace(
        "005010X214", "005010X212"))
    assert refused(kind_of, "hello") == "This is not an X12 file: it does not start with an ISA segment."


def test_does_each_category_have_words_and_an_action():
    assert reasons.describe_category("A7") == "Rejected: information is not valid (A7)"
    assert reasons.describe_category("Q9") == "Status category Q9 (see the payer's claim status report)"
    assert reasons.describe_status("562") == "The NPI (562)"
    assert reasons.describe_status("99999") == "Status code 99999 (see the payer's claim status report)"
    assert reasons.describe_ack_status("E") == "accepted with errors"
