"""835 remittance advice: what write_835 makes, parse_835 reads back whole, pyx12 accepts, and what the reader
refuses (files that are cut short, miscounted, not 835s, or that do not balance)."""
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime

import pytest

from app.x12 import reasons
from app.x12.inbound import (
    Adjustment, ClaimPayment, ProviderAdjustment, Remittance, ServicePayment, X12ReadError,
)
from app.x12.remittance import parse_835, write_835
from app.x12.segments import cents, kind_of
from app.x12.validate import validate_x12

from tests.x12.test_837p import batch, claim, line, segments, with_id
from app.x12.writer_837p import write_837p

CREATED = datetime(2026, 3, 20, 9, 15)
PAID_ON = date(2026, 3, 20)
SERVICE_DAY = date(2026, 3, 10)
PAYEE_NPI = "2000000002"

# ---------------------------------------------------------------- builders


def adjustment(group: str, reason: str, cents_: int, quantity: int | None = None) -> Adjustment:
    return Adjustment(group=group, reason=reason, amount_cents=cents_, quantity=quantity)


def service(code: str = "90834", charge: int = 15000, adjustments=(), reference: str = "L1",
            **changes) -> ServicePayment:
    paid = charge - sum(item.amount_cents for item in adjustments)
    return ServicePayment(procedure_code=code, charge_cents=charge, paid_cents=paid, line_reference=reference,
                          service_date=SERVICE_DAY, adjustments=tuple(adjustments), **changes)


def claim_payment(pcn: str = "S1001", services=None, status: str = "1", claim_adjustments=(),
                  **changes) -> ClaimPayment:
    services = tuple(services if services is not None else [service()])
    charge = changes.pop("charge_cents", sum(item.charge_cents for item in services))
    adjustments = tuple(claim_adjustments)
    paid = charge - sum(item.amount_cents for item in adjustments) - \
        sum(item.amount_cents for line_ in services for item in line_.adjustments)
    patient = sum(item.amount_cents for item in adjustments if item.group == "PR") + \
        sum(item.amount_cents for line_ in services for item in line_.adjustments if item.group == "PR")
    return ClaimPayment(patient_control_number=pcn, status_code=status, charge_cents=charge, paid_cents=paid,
                        patient_responsibility_cents=patient, filing_indicator="12",
                        payer_claim_number=f"PCN-{pcn}", adjustments=adjustments, services=services,
                        patient_name="RIVERA, ANA", member_id="W123456789", **changes)


def remittance(*claims: ClaimPayment, provider_adjustments=(), **changes) -> Remittance:
    claims = claims or (claim_payment(),)
    total = sum(item.paid_cents for item in claims) - sum(item.amount_cents for item in provider_adjustments)
    made = Remittance(total_paid_cents=total, payment_method="ACH", paid_on=PAID_ON, trace_number="EFT20260320001",
                      payer_identifier="1930000001", payer_name="CASCADE HEALTH PLAN", payer_id="93221",
                      payee_name="CALM HARBOR COUNSELING LLC", payee_npi=PAYEE_NPI, payee_tax_id="123456789",
                      claims=claims, provider_adjustments=tuple(provider_adjustments),
                      transaction_control_number="0001", interchange_control_number="000000777",
                      production_date=date(2026, 3, 19))
    return dataclasses.replace(made, **changes)


def write(made: Remittance, **changes) -> str:
    return write_835(made, sender_id="CASCADE", receiver_id="PARITY01", interchange_control_number=777,
                     created_at=CREATED, **changes)


def assert_accepted(text: str) -> None:
    result = validate_x12(text)
    assert result.ok, "\n".join(result.errors)


def refused(text: str) -> str:
    with pytest.raises(X12ReadError) as caught:
        parse_835(text)
    return str(caught.value)


# ---------------------------------------------------------------- round trips

PAID_WITH_COPAY = claim_payment("S1001", [service(adjustments=[adjustment("CO", "45", 3000),
                                                               adjustment("PR", "3", 2000)], allowed_cents=12000)])
DEDUCTIBLE = claim_payment("S1002", [service("90837", 17000, [adjustment("CO", "45", 4000),
                                                              adjustment("PR", "1", 13000)], reference="L7")])
DENIED = claim_payment("S1003", [service("90791", 20000, [adjustment("CO", "197", 20000)], remark_codes=("N54",),
                                         reference="L9")], status="4", remark_codes=("MA130",))
REVERSAL = claim_payment("S1004", [service(charge=-15000, adjustments=[adjustment("CO", "45", -3000),
                                                                       adjustment("PR", "3", -2000)])], status="22")
CORRECTED = claim_payment("S1004", [service(adjustments=[adjustment("CO", "45", 2000), adjustment("PR", "3", 2000)])])
TWO_LINES = claim_payment("S1005", [
    service("90834", 15000, [adjustment("CO", "45", 3000)], reference="A1", modifiers=("95", "HO")),
    service("90785", 2500, [adjustment("CO", "45", 500), adjustment("PR", "2", 400)], reference="A2", units=2),
], claim_adjustments=[adjustment("OA", "23", 1000)])
INTEREST = ProviderAdjustment(provider_id=PAYEE_NPI, fiscal_period_date=date(2026, 12, 31), reason="L6",
                              amount_cents=-250)
RECOVERY = ProviderAdjustment(provider_id=PAYEE_NPI, fiscal_period_date=date(2026, 12, 31), reason="WO",
                              reference="PCN-OLD-77", amount_cents=4000)

SCENARIOS = {
    "paid with CO-45 and a PR-3 copay": remittance(PAID_WITH_COPAY),
    "all to the deductible, nothing paid": remittance(DEDUCTIBLE, payment_method="NON"),
    "denied with CO-197 and remarks": remittance(DENIED, payment_method="NON"),
    "reversal then correction": remittance(REVERSAL, CORRECTED, payment_method="CHK"),
    "interest and an overpayment recovery": remittance(PAID_WITH_COPAY, TWO_LINES,
                                                       provider_adjustments=(INTEREST, RECOVERY)),
    "several claims": remittance(PAID_WITH_COPAY, DEDUCTIBLE, DENIED, REVERSAL, CORRECTED, TWO_LINES),
}


@pytest.mark.parametrize("made", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_does_a_written_835_read_back_as_the_same_remittance_and_pass_pyx12(made):
    text = write(made)
    assert_accepted(text)
    assert parse_835(text) == [made]
    assert kind_of(text) == "835"


def test_is_the_deductible_claim_written_with_zero_paid_and_the_client_owing():
    text = write(remittance(DEDUCTIBLE, payment_method="NON"))
    assert "CLP*S1002*1*170*0*130*12*PCN-S1002" in text
    assert with_id(text, "CAS") == ["CAS*CO*45*40", "CAS*PR*1*130"]
    assert with_id(text, "BPR")[0].startswith("BPR*H*0*C*NON*")  # notification only: no money moves


def test_are_reversal_amounts_written_negative():
    text = write(remittance(REVERSAL, CORRECTED))
    assert "CLP*S1004*22*-150*-100*-20*12*PCN-S1004" in text
    assert "SVC*HC:90834*-150*-100**1" in text
    assert "CAS*CO*45*-30" in text


def test_are_provider_adjustments_written_as_one_plb_with_reason_and_reference():
    text = write(remittance(PAID_WITH_COPAY, provider_adjustments=(INTEREST, RECOVERY)))
    assert with_id(text, "PLB") == [f"PLB*{PAYEE_NPI}*20261231*L6*-2.5*WO:PCN-OLD-77*40"]
    assert with_id(text, "BPR")[0].split("*")[2] == "62.5"  # 100 paid + 2.50 interest - 40 recovered


def test_are_line_details_written_in_the_guides_order():
    text = write(remittance(TWO_LINES))
    listed = segments(text)
    start = listed.index("SVC*HC:90834:95:HO*150*120**1")
    assert listed[start:start + 4] == ["SVC*HC:90834:95:HO*150*120**1", "DTM*472*20260310", "CAS*CO*45*30",
                                       "REF*6R*A1"]
    assert "SVC*HC:90785*25*16**2" in listed
    assert "CAS*CO*45*5*PR*2*4" not in text  # different groups never share a CAS
    assert listed.index("CAS*OA*23*10") < listed.index("NM1*QC*1*RIVERA*ANA****MI*W123456789")  # claim level


def test_are_six_adjustments_of_one_group_kept_in_one_cas_and_the_seventh_in_another():
    many = [adjustment("CO", str(reason), 100) for reason in (45, 59, 97, 234, 253, 94, 4)]
    text = write(remittance(claim_payment(services=[service(adjustments=many)])))
    assert with_id(text, "CAS") == ["CAS*CO*45*1**59*1**97*1**234*1**253*1**94*1", "CAS*CO*4*1"]
    assert parse_835(text)[0].claims[0].services[0].adjustments == tuple(many)


def test_is_an_adjustment_quantity_kept():
    made = remittance(claim_payment(services=[service(adjustments=[adjustment("CO", "119", 15000, quantity=2)])]))
    text = write(made)
    assert "CAS*CO*119*150*2" in text
    assert parse_835(text) == [made]


# ---------------------------------------------------------------- reading what payers send

PAYER_FILE = """ISA*00*          *00*          *ZZ*CASCADE        *ZZ*PARITY01       *260320*0915*^*00501*000000123*0*P*:~
GS*HP*CASCADE*PARITY01*20260320*0915*123*X*005010X221A1~
ST*835*1001~
BPR*I*107.5*C*CHK************20260320~
TRN*1*CHK556677*1930000001~
REF*EV*PARITY01~
DTM*405*20260318~
N1*PR*CASCADE HEALTH PLAN*XV*CMS123~
N3*PO BOX 1~
N4*PORTLAND*OR*97201~
PER*BL*EDI*TE*8005550100~
N1*PE*CALM HARBOR*FI*123456789~
LX*1~
TS3*2000000002*11*20261231*1*150~
CLP*S2001*1*150*107.5*20*12*PCN9*11*1~
NM1*QC*1*RIVERA*ANA*L***MI*W1~
NM1*IL*1*RIVERA*ANA****MI*W1-SUB~
MIA*0****MA18~
DTM*232*20260310~
AMT*AU*150~
SVC*HC:90834:95:HO:59:XE:desc*150*107.5~
DTM*150*20260310~
DTM*151*20260310~
CAS*CO*45*22.5~
CAS*PR*3*20~
REF*LU*11~
AMT*B6*127.5~
LQ*HE*N130~
LQ*RX*123~
SE*28*1001~
GE*1*123~
IEA*1*000000123~
"""


#: Medicare's way (a payer's file, not ours): GS08 before the errata, sequestration CO-253 at claim level beside two
#: lines that each balance (CLP04 = ΣSVC03 − claim-level CAS = 144.00 − 2.88), coinsurance PR-2 on each line.
SEQUESTRATION_FILE = """ISA*00*          *00*          *ZZ*14212          *ZZ*PARITY01       *260415*0600*^*00501*000004401*0*P*:~
GS*HP*14212*PARITY01*20260415*0600*4401*X*005010X221~
ST*835*0001~
BPR*I*141.12*C*ACH*CCP*01*011000015*DA*123456*1512345678**01*021000021*DA*987654*20260415~
TRN*1*EFT8800112*1512345678~
DTM*405*20260414~
N1*PR*MEDICARE PART B JURISDICTION K~
N3*PO BOX 3000~
N4*HINGHAM*MA*020430000~
REF*2U*14212~
PER*BL*PROVIDER SERVICES*TE*8665030000~
N1*PE*CALM HARBOR COUNSELING*XX*2000000002~
REF*TJ*123456789~
LX*1~
CLP*S3001*1*230*141.12*36*MB*26110400001*11*1~
NM1*QC*1*KELLY*MORGAN****MI*1EG4TE5MK73~
CAS*CO*253*2.88~
DTM*232*20260402~
DTM*233*20260402~
SVC*HC:90837*200*128**1~
DTM*472*20260402~
CAS*CO*45*40~
CAS*PR*2*32~
REF*6R*S3001-1~
AMT*B6*160~
SVC*HC:90785*30*16**1~
DTM*472*20260402~
CAS*CO*45*10~
CAS*PR*2*4~
REF*6R*S3001-2~
AMT*B6*20~
SE*30*0001~
GE*1*4401~
IEA*1*000004401~
"""


def test_does_medicares_claim_level_sequestration_beside_lines_read_and_balance():
    (made,) = parse_835(SEQUESTRATION_FILE)
    (claim_,) = made.claims
    assert (made.total_paid_cents, made.payer_id, claim_.paid_cents) == (14112, "14212", 14112)
    assert [(a.group, a.reason, a.amount_cents) for a in claim_.adjustments] == [("CO", "253", 288)]
    assert [(s.procedure_code, s.paid_cents, s.line_reference) for s in claim_.services] == [
        ("90837", 12800, "S3001-1"), ("90785", 1600, "S3001-2")]
    assert claim_.patient_responsibility_cents == 3600
    broken = SEQUESTRATION_FILE.replace("CAS*CO*253*2.88", "CAS*CO*253*2.5")
    assert "does not balance" in refused(broken)


def test_does_a_payers_file_with_segments_parity_does_not_need_read_and_balance():
    (made,) = parse_835(PAYER_FILE)
    assert (made.total_paid_cents, made.payment_method, made.trace_number) == (10750, "CHK", "CHK556677")
    assert made.payer_id == "CMS123"  # N104 when N103 is XV and there is no REF*2U
    assert (made.payee_tax_id, made.payee_npi) == ("123456789", "")
    assert made.production_date == date(2026, 3, 18)
    (payment,) = made.claims
    assert payment.remark_codes == ("MA18",)
    assert payment.patient_name == "RIVERA, ANA" and payment.member_id == "W1"
    (line_,) = payment.services
    assert line_.modifiers == ("95", "HO", "59", "XE")
    assert line_.units == 1  # SVC05 absent
    assert line_.service_date == SERVICE_DAY  # DTM*150 when there is no 472
    assert line_.remark_codes == ("N130",)
    assert line_.allowed_cents == 12750
    assert made.warnings == ()


def test_are_line_breaks_a_byte_order_mark_and_several_transactions_read():
    second = dataclasses.replace(remittance(DENIED, payment_method="NON"), transaction_control_number="0002")
    first_listed, second_listed = segments(write(remittance(PAID_WITH_COPAY))), segments(write(second))
    combined = first_listed[:-2] + second_listed[2:-2] + ["GE*2*777", "IEA*1*000000777"]
    text = "\ufeff  \r\n" + "~\r\n".join(combined) + "~\r\n"
    read = parse_835(text)
    assert [item.transaction_control_number for item in read] == ["0001", "0002"]
    assert read[1].claims == (DENIED,)


def test_is_a_fractional_unit_count_rounded_with_a_warning():
    text = write(remittance(PAID_WITH_COPAY)).replace("SVC*HC:90834*150*100**1", "SVC*HC:90834*150*100**1.5")
    (made,) = parse_835(text)
    assert made.claims[0].services[0].units == 2
    assert any("1.5" in warning for warning in made.warnings)


@pytest.mark.parametrize("value, expected", [("123.45", 12345), ("-80", -8000), ("100.5", 10050), (".5", 50),
                                             ("0", 0), ("-0.05", -5), ("1.", 100)])
def test_are_x12_amounts_read_exactly(value, expected):
    assert cents(value, "CLP04") == expected


@pytest.mark.parametrize("value", ["12.345", "1e3", "+5", "1,000", "", "abc", "1.2.3", "١٢"])
def test_are_bad_amounts_refused_naming_the_element(value):
    with pytest.raises(X12ReadError, match="CLP04"):
        cents(value, "CLP04")


# ---------------------------------------------------------------- what the reader refuses


def test_is_an_unbalanced_line_refused_naming_the_claim():
    text = write(remittance(PAID_WITH_COPAY)).replace("CAS*CO*45*30", "CAS*CO*45*35")
    message = refused(text)
    assert message.startswith("Claim S1001 does not balance: line 1 (90834")
    assert "charged 150.00 with 55.00 of adjustments, which leaves 95.00, but the payer says it paid 100.00" in message


def test_is_an_unbalanced_claim_refused_naming_the_claim():
    text = write(remittance(TWO_LINES)).replace("CAS*OA*23*10", "CAS*OA*23*12")
    assert refused(text) == ("Claim S1005 does not balance: it charged 175.00 with 51.00 of adjustments, which "
                             "leaves 124.00, but the payer says it paid 126.00 (CLP04).")


def test_is_a_claim_whose_lines_do_not_add_up_to_its_payment_refused():
    # The claim charges 160 and its one line 150: the claim's own sums balance, its lines do not (the line was paid
    # 120; less the claim-level 10, that makes 110, not the 120 CLP04 says).
    made = remittance(claim_payment("S1009", [service(adjustments=[adjustment("CO", "45", 3000)])],
                                    claim_adjustments=[adjustment("CO", "45", 1000)], charge_cents=16000))
    text = write(made)
    assert "CLP*S1009*1*160*120*0" in text and "SVC*HC:90834*150*120**1" in text
    assert refused(text) == ("Claim S1009 does not balance: its lines were paid 120.00 in all, less 10.00 of "
                             "claim-level adjustments, but the claim says 120.00 (CLP04).")


def test_does_a_claim_level_adjustment_beside_balanced_lines_read():
    """CLP04 = Σ SVC03 − claim-level CAS: Medicare's sequestration (CO-253) is taken from the claim, not a line."""
    made = remittance(claim_payment("S1010", [service(adjustments=[adjustment("CO", "45", 3000)])],
                                    claim_adjustments=[adjustment("CO", "253", 240)]))
    text = write(made)
    assert "CLP*S1010*1*150*117.6*0" in text and "SVC*HC:90834*150*120**1" in text
    assert parse_835(text) == [made]
    assert_accepted(text)


def test_is_a_payment_that_is_not_the_claims_less_provider_adjustments_refused():
    text = write(remittance(PAID_WITH_COPAY, provider_adjustments=(INTEREST, RECOVERY)))
    text = text.replace("BPR*C*62.5*", "BPR*C*102.5*")
    assert refused(text) == ("The payment does not balance: BPR02 says 102.50, but the claims paid 100.00 and the "
                             "provider adjustments (PLB) come to 37.50, which makes 62.50 (transaction 0001).")


def test_does_a_debit_payment_balance_as_money_taken_back():
    made = remittance(REVERSAL, credit_debit="D", total_paid_cents=10000, payment_method="ACH")
    assert parse_835(write(made)) == [made]
    text = write(dataclasses.replace(made, credit_debit="C"))
    assert "BPR02 says 100.00, but the claims paid -100.00" in refused(text)


def test_is_a_file_without_iea_refused_as_cut_short():
    text = write(remittance())
    assert refused(text[:text.index("IEA*")]) == "The file is cut short: no IEA segment."


def test_is_a_file_without_se_refused_as_cut_short():
    text = write(remittance())
    assert refused(text[:text.index("SE*")]) == "The file is cut short: transaction 0001 has no SE segment."


def test_is_a_file_cut_in_the_middle_of_a_claim_refused():
    text = write(remittance())
    assert refused(text[:text.index("DTM*472")]) == "The file is cut short: transaction 0001 has no SE segment."


def test_is_a_wrong_se_count_refused():
    text = write(remittance())
    count = int(with_id(text, "SE")[0].split("*")[1])
    text = text.replace(f"SE*{count}*0001", f"SE*{count + 1}*0001")
    assert refused(text) == f"SE01 says {count + 1} segments but the transaction has {count} (transaction 0001)."


@pytest.mark.parametrize("find, replace, message", [
    ("GE*1*777", "GE*2*777", "GE01 says 2 transactions but there is 1."),
    ("GE*1*777", "GE*1*778", "GE02 '778' does not match GS06 '777'."),
    ("IEA*1*000000777", "IEA*1*000000778", "IEA02 '000000778' does not match ISA13 '000000777'."),
    ("IEA*1*", "IEA*3*", "IEA01 says 3 groups but there is 1."),
    ("SE*18*0001", "SE*18*0002", "SE02 '0002' does not match ST02 '0001'."),
])
def test_are_envelope_mismatches_refused(find, replace, message):
    text = write(remittance())  # 18 segments from ST to SE
    assert find in text
    assert refused(text.replace(find, replace)) == message


def test_is_a_bad_amount_refused_naming_the_segment():
    text = write(remittance()).replace("CLP*S1001*1*150*150", "CLP*S1001*1*150*12.345")
    assert refused(text) == "CLP04 of claim S1001 (segment 15): '12.345' has more than two decimal places."


@pytest.mark.parametrize("text", ["hello, clearinghouse", "", "<html>not found</html>", "ISA*00"])
def test_is_text_that_is_not_x12_refused(text):
    message = refused(text)
    assert "not an X12 file" in message or "cut short" in message


def test_is_an_837_given_to_the_835_reader_refused():
    text = write_837p(batch(claim(lines=[line()])))
    assert refused(text) == "This file is an 837P claim file, not an 835 remittance advice."
    assert kind_of(text) == "837P"


def test_is_a_wrong_guide_version_refused():
    text = write(remittance()).replace("005010X221A1", "004010X091A1")
    assert "GS08 says '004010X091A1'" in refused(text)


def test_is_the_835_guide_before_its_errata_read():
    """Payers still send GS08 = 005010X221 (before the A1 errata); what Parity reads of it is the same."""
    made = remittance(PAID_WITH_COPAY)
    assert parse_835(write(made).replace("005010X221A1", "005010X221")) == [made]


@pytest.mark.parametrize("segment_id, message", [
    ("TRN", "has no TRN segment (the check or EFT number)"),
    ("N1*PR", "has no N1*PR segment (the payer)"),
])
def test_are_files_missing_the_trace_or_the_payer_refused(segment_id, message):
    text = write(remittance())
    listed = segments(text)
    kept = [item for item in listed if not item.startswith(segment_id + "*")]
    if segment_id == "N1*PR":  # the whole 1000A and 1000B loops: a payee before any payer is refused on its own
        kept = [item for item in kept if item.split("*")[0] not in ("N1", "N3", "N4", "PER")
                and item.split("*")[:2] not in (["REF", "2U"], ["REF", "TJ"])]
    se = next(item for item in kept if item.startswith("SE*"))
    kept[kept.index(se)] = f"SE*{int(se.split('*')[1]) - (len(listed) - len(kept))}*0001"
    assert message in refused("~".join(kept) + "~")


def test_is_a_file_without_bpr_refused():
    text = write(remittance())
    bpr = with_id(text, "BPR")[0]
    text = text.replace(bpr + "~", "").replace("SE*18*", "SE*17*")
    assert refused(text) == "The 835 transaction 0001 has no BPR segment (the payment) at its start."


def test_is_a_claim_without_a_claim_number_refused():
    text = write(remittance()).replace("CLP*S1001*", "CLP**")
    assert refused(text) == ("The CLP at segment 15 has no claim number (CLP01): the payment cannot be matched to a "
                             "claim.")


@pytest.mark.parametrize("find, replace, fragment", [
    ("LX*1~", "LX*1~LQ*HE*N1~", "LQ (segment 15) is out of place"),
    ("LX*1~", "LX*1~SVC*HC:90834*1*1~", "SVC (segment 15) is out of place"),
    ("LX*1~", "LX*1~XYZ*1~", "Segment 15 (XYZ) does not belong in an 835."),
    ("REF*6R*L1~", "REF*6R*L1~NM1*QC*1*X~", "NM1 (segment 20) is out of place"),
    ("LX*1~", "LX*1~N1*PE*OTHER*XX*1234567893~", "N1 (segment 15) is out of place"),
])
def test_are_segments_out_of_place_refused(find, replace, fragment):
    text = write(remittance())
    count = int(with_id(text, "SE")[0].split("*")[1])
    text = text.replace(find, replace).replace(f"SE*{count}*", f"SE*{count + 1}*")
    assert fragment in refused(text)


def test_is_a_claim_after_the_provider_adjustments_refused():
    text = write(remittance(PAID_WITH_COPAY, provider_adjustments=(INTEREST,)))
    listed = segments(text)
    plb = with_id(text, "PLB")[0]
    claim_segments = listed[listed.index("LX*1") + 1:listed.index(plb)]
    reordered = listed[:listed.index("LX*1") + 1] + [plb] + claim_segments + listed[listed.index(plb) + 1:]
    assert "comes after the provider adjustments (PLB)" in refused("~".join(reordered) + "~")


# ---------------------------------------------------------------- codes in plain words


def test_are_adjustments_described_in_plain_words_with_their_codes():
    assert reasons.describe_adjustment("CO", "45") == \
        "Contractual adjustment: the charge is above the payer's allowed amount (CO-45)"
    assert reasons.describe_adjustment("PR", "1") == "Patient responsibility: deductible (PR-1)"
    assert reasons.describe_adjustment("XX", "999") == \
        "Adjustment group XX: reason code 999, see the payer's remittance advice (XX-999)"
    assert reasons.describe_reason("999") == "Reason code 999 (see the payer's remittance advice)"
    assert reasons.describe_remark("N54") == "The claim does not match the authorized services (N54)"
    assert reasons.describe_remark("ZZ9") == "Remark code ZZ9 (see the payer's remittance advice)"
    assert reasons.describe_clp_status("22") == "Reversal of an earlier payment"
    assert reasons.describe_clp_status("99") == "Claim status 99 (see the payer's remittance advice)"
    assert reasons.describe_provider_adjustment("L6") == "Interest owed to the provider"


def test_does_every_common_code_have_its_own_words():
    carcs = "1 2 3 4 5 6 11 16 18 22 23 24 26 27 29 31 45 49 50 51 55 58 96 97 109 119 129 146 150 151 167 170 171 " \
            "177 181 182 185 189 197 198 200 204 226 227 234 242 252 253".split()
    rarcs = "M15 M20 M51 M76 M79 M80 M86 MA04 MA07 MA18 MA130 N4 N20 N54 N56 N115 N130 N179 N290 N381 N432 N522 " \
            "N657".split()
    categories = [f"A{n}" for n in range(9)] + [f"P{n}" for n in range(6)] + [f"F{n}" for n in range(5)] + \
        [f"E{n}" for n in range(5)] + [f"R{n}" for n in range(17)] + ["D0"]
    statuses = "1 2 3 15 19 20 21 33 85 88 100 116 187 562".split()
    assert all(code in reasons.REASONS for code in carcs)
    assert all(code in reasons.REMARKS for code in rarcs)
    assert all(code in reasons.CATEGORIES for code in categories)
    assert all(code in reasons.STATUSES for code in statuses)
    assert all(group in reasons.GROUPS for group in ("CO", "PR", "OA", "PI", "CR"))
    assert all(code in reasons.CLAIM_STATUSES for code in "1 2 3 4 19 20 21 22 23".split())
    # Short, and ours: no official long text ("Usage: …") crept in.
    texts = [*reasons.REASONS.values(), *reasons.REMARKS.values(), *reasons.CATEGORIES.values()]
    assert all(len(text) <= 110 and "Usage" not in text for text in texts)
    assert not any(re.search(r"\bthis \(these\)", text) for text in texts)


@pytest.mark.parametrize("value", ["10000000", "-10000000.00", "21474836.48", "99999999999"])
def test_are_amounts_too_large_for_the_ledger_refused(value):
    """Amounts are stored as 32-bit integer cents: ten million dollars and up is no payment Parity posts."""
    with pytest.raises(X12ReadError, match="too large"):
        cents(value, "CLP04")
    assert cents("9999999.99", "CLP04") == 999_999_999


def test_is_a_file_with_a_nul_character_refused():
    with pytest.raises(X12ReadError, match="NUL"):
        kind_of("ISA*00*" + "\x00" * 3)
