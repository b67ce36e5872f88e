"""The 837P writer and its gate: every file the writer makes must pass pyx12 and Parity's own rules."""
from __future__ import annotations

import dataclasses
import re
import time
from datetime import date, datetime

import pytest

from app.x12.claim_data import (
    Address, Batch, BillingProvider, Claim, Patient, Payer, Receiver, RenderingProvider, ServiceLine, Subscriber,
    Submitter,
)
from app.x12.validate import validate_x12
from app.x12.writer_837p import write_837p

# ---------------------------------------------------------------- builders

OFFICE = Address(line1="120 Harbor Way", line2="Suite 200", city="Portland", state="OR", zip_code="97201-3344")
HOME = Address(line1="8 Elm St", city="Beaverton", state="OR", zip_code="97005")
BILLING_NPI = "2000000002"
CLINICIAN_NPI = "1234567893"
SERVICE_DAY = date(2026, 3, 10)


def billing_provider(**changes) -> BillingProvider:
    provider = BillingProvider(name="Calm Harbor Counseling LLC", npi=BILLING_NPI, taxonomy="261QM0801X",
                               tax_id="12-3456789", address=OFFICE, phone="(503) 555-0100")
    return dataclasses.replace(provider, **changes)


def subscriber(**changes) -> Subscriber:
    person = Subscriber(member_id="W123456789", group_number="GRP-001", last_name="Rivera", first_name="Ana",
                        middle_name="L", birth_date=date(1984, 5, 17), sex="F", address=HOME)
    return dataclasses.replace(person, **changes)


def patient(relationship: str = "19", **changes) -> Patient:
    person = Patient(last_name="Rivera", first_name="Leo", birth_date=date(2012, 9, 1), sex="M", address=HOME,
                     relationship=relationship)
    return dataclasses.replace(person, **changes)


PAYER = Payer(name="Cascade Health Plan", payer_id="93221", filing_indicator="CI")


def line(code: str = "90834", cents: int = 15000, units: int = 1, line_id: str = "L1", pointers=(1,),
         modifiers=(), **changes) -> ServiceLine:
    return ServiceLine(line_id=line_id, procedure_code=code, charge_cents=cents, units=units, service_date=SERVICE_DAY,
                       diagnosis_pointers=tuple(pointers), modifiers=tuple(modifiers), **changes)


def claim(pcn: str = "S1001", lines=None, diagnoses=("F41.1",), **changes) -> Claim:
    return Claim(patient_control_number=pcn, place_of_service=changes.pop("place_of_service", "11"),
                 diagnoses=tuple(diagnoses), lines=tuple(lines or [line()]),
                 subscriber=changes.pop("subscriber", subscriber()), payer=changes.pop("payer", PAYER), **changes)


def batch(*claims: Claim, **changes) -> Batch:
    made = Batch(interchange_control_number=4711, group_control_number=4712, transaction_control_number=4713,
                 created_at=datetime(2026, 3, 11, 14, 30), usage_indicator="T", sender_id="PARITY01",
                 receiver_id="CLAIMMD",
                 submitter=Submitter(name="Calm Harbor Counseling", identifier="CH12345", contact_name="Mia Chen",
                                     phone="503-555-0100", email="billing@calmharbor.example"),
                 receiver=Receiver(name="Claim.MD", identifier="CLAIMMD"),
                 billing_provider=billing_provider(), claims=claims or (claim(),))
    return dataclasses.replace(made, **changes)


def segments(text: str) -> list[str]:
    return [segment.strip() for segment in text.split("~") if segment.strip()]


def with_id(text: str, segment_id: str) -> list[str]:
    return [segment for segment in segments(text) if segment.split("*")[0] == segment_id]


def assert_accepted(text: str) -> None:
    result = validate_x12(text)
    assert result.ok, "\n".join(result.errors)
    assert result.errors == []


# ---------------------------------------------------------------- files pyx12 accepts


def test_is_a_claim_for_the_subscriber_themselves_accepted():
    text = write_837p(batch(claim()))
    assert_accepted(text)
    assert "SBR*P*18*GRP-001******CI" in text
    assert with_id(text, "HL") == ["HL*1**20*1", "HL*2*1*22*0"]
    assert with_id(text, "DMG") == ["DMG*D8*19840517*F"]  # the subscriber's, sent because they are the patient
    assert not with_id(text, "PAT")


@pytest.mark.parametrize("relationship", ["01", "19", "G8"], ids=["spouse", "child", "other"])
def test_is_a_claim_for_a_dependant_accepted_under_a_patient_loop(relationship):
    text = write_837p(batch(claim(patient=patient(relationship))))
    assert_accepted(text)
    assert with_id(text, "HL") == ["HL*1**20*1", "HL*2*1*22*1", "HL*3*2*23*0"]
    assert with_id(text, "SBR") == ["SBR*P**GRP-001******CI"]  # no "18": the patient is not the subscriber
    assert with_id(text, "PAT") == [f"PAT*{relationship}"]
    assert "NM1*QC*1*RIVERA*LEO" in text
    assert with_id(text, "DMG") == ["DMG*D8*20120901*M"]  # only the patient's demographics
    assert text.index("HL*3*2*23*0") < text.index("CLM*")


def test_are_add_on_codes_and_units_written_and_accepted():
    lines = [line("90791", 20000, line_id="A1"), line("90785", 2500, line_id="A2"),
             line("90839", 18000, line_id="A3", pointers=(1, 2)), line("90840", 9000, units=2, line_id="A4")]
    text = write_837p(batch(claim(lines=lines, diagnoses=("F43.10", "F32.A"))))
    assert_accepted(text)
    assert with_id(text, "SV1") == ["SV1*HC:90791*200*UN*1***1", "SV1*HC:90785*25*UN*1***1",
                                    "SV1*HC:90839*180*UN*1***1:2", "SV1*HC:90840*90*UN*2***1"]
    assert with_id(text, "LX") == ["LX*1", "LX*2", "LX*3", "LX*4"]
    assert with_id(text, "REF")[-4:] == ["REF*6R*A1", "REF*6R*A2", "REF*6R*A3", "REF*6R*A4"]
    assert "CLM*S1001*495***11:B:1*Y*A*Y*Y" in text


def test_are_twelve_diagnoses_sent_principal_first_without_dots():
    codes = ("F33.1", "F41.1", "F43.10", "F32.A", "F90.2", "F40.10", "F42.2", "F51.01", "Z63.0", "F10.10", "F17.210",
             "Z91.49")
    text = write_837p(batch(claim(diagnoses=codes, lines=[line(pointers=(1, 2, 3, 12))])))
    assert_accepted(text)
    (hi,) = with_id(text, "HI")
    composites = hi.split("*")[1:]
    assert len(composites) == 12
    assert composites[0] == "ABK:F331" and all(item.startswith("ABF:") for item in composites[1:])
    assert "ABF:Z9149" in composites
    assert with_id(text, "SV1") == ["SV1*HC:90834*150*UN*1***1:2:3:12"]


def test_is_the_rendering_provider_sent_only_when_their_npi_differs_from_the_billing_npi():
    clinician = RenderingProvider(last_name="Okafor", first_name="Grace", npi=CLINICIAN_NPI, taxonomy="1041C0700X")
    text = write_837p(batch(claim(rendering_provider=clinician)))
    assert_accepted(text)
    assert f"NM1*82*1*OKAFOR*GRACE****XX*{CLINICIAN_NPI}" in text
    assert "PRV*PE*PXC*1041C0700X" in text

    same_person = dataclasses.replace(clinician, npi=BILLING_NPI)
    text = write_837p(batch(claim(rendering_provider=same_person)))
    assert_accepted(text)
    assert "NM1*82" not in text and "PRV*PE" not in text


def test_is_a_telehealth_claim_from_home_accepted_with_modifier_95():
    text = write_837p(batch(claim(place_of_service="10", lines=[line(modifiers=("95", "HO"))])))
    assert_accepted(text)
    assert "CLM*S1001*150***10:B:1*Y*A*Y*Y" in text
    assert with_id(text, "SV1") == ["SV1*HC:90834:95:HO*150*UN*1***1"]


def test_is_a_line_place_of_service_sent_only_when_it_differs_from_the_claims():
    lines = [line(line_id="A", place_of_service="11"), line(line_id="B", place_of_service="02", modifiers=("95",))]
    text = write_837p(batch(claim(lines=lines)))
    assert_accepted(text)
    assert with_id(text, "SV1") == ["SV1*HC:90834*150*UN*1***1", "SV1*HC:90834:95*150*UN*1*02**1"]


@pytest.mark.parametrize("frequency", ["7", "8"], ids=["replacement", "void"])
def test_do_replacement_and_void_claims_carry_the_payers_claim_number(frequency):
    text = write_837p(batch(claim(frequency_code=frequency, payer_claim_control_number="PCN-2026-000123")))
    assert_accepted(text)
    assert f"*11:B:{frequency}*" in text
    assert with_id(text, "REF")[1] == "REF*F8*PCN-2026-000123"  # right after CLM, before HI
    assert text.index("REF*F8") < text.index("HI*")


def test_is_a_prior_authorization_sent_as_ref_g1():
    text = write_837p(batch(claim(prior_authorization="AUTH77")))
    assert_accepted(text)
    assert "REF*G1*AUTH77" in text


def test_are_several_claims_in_one_batch_accepted_and_grouped_by_subscriber():
    other_payer = Payer(name="State Medicaid", payer_id="SKOR0", filing_indicator="MC")
    other_subscriber = subscriber(member_id="M998877", last_name="Nguyen", first_name="Bao", sex="M")
    claims = [
        claim("C1"),
        claim("C2", patient=patient("19")),
        claim("C3", lines=[line("90837", 17000)]),  # same subscriber and payer as C1: shares its 2000B
        claim("C4", subscriber=other_subscriber, payer=other_payer),
        claim("C5", patient=patient("01", first_name="Marco", sex="M", birth_date=date(1982, 1, 2))),
        claim("C6", patient=patient("19")),  # same child as C2: shares its 2000C
    ]
    text = write_837p(batch(*claims))
    assert_accepted(text)
    assert len(with_id(text, "CLM")) == 6
    assert with_id(text, "HL") == [
        "HL*1**20*1",
        "HL*2*1*22*0",  # Ana herself: C1, C3
        "HL*3*1*22*1",  # Ana's dependants
        "HL*4*3*23*0",  # Leo: C2, C6
        "HL*5*3*23*0",  # Marco: C5
        "HL*6*1*22*0",  # Bao (another payer): C4
    ]
    order = [segment.split("*")[1] for segment in with_id(text, "CLM")]
    assert order == ["C1", "C3", "C2", "C6", "C5", "C4"]
    assert "SBR*P*18*GRP-001******MC" in text


def test_does_one_subscriber_with_more_than_100_claims_get_another_loop():
    claims = [claim(f"P{number}") for number in range(101)]  # the 2300 loop repeats at most 100 times
    text = write_837p(batch(*claims))
    assert_accepted(text)
    assert with_id(text, "HL")[1:] == ["HL*2*1*22*0", "HL*3*1*22*0"]


def test_does_a_batch_larger_than_a_transaction_split_into_several():
    claims = [claim(f"T{number}") for number in range(5)]
    text = write_837p(batch(*claims, claims_per_transaction=2, reference="B42"))
    assert_accepted(text)
    assert [segment.split("*")[2] for segment in with_id(text, "ST")] == ["4713", "4714", "4715"]
    assert [segment.split("*")[3] for segment in with_id(text, "BHT")] == ["B42-1", "B42-2", "B42-3"]
    assert with_id(text, "GE") == ["GE*3*4712"]


def test_is_a_person_billing_under_an_ssn_accepted():
    solo = billing_provider(name="Okafor", first_name="Grace", is_person=True, npi=CLINICIAN_NPI,
                            taxonomy="1041C0700X", tax_id="123-45-6789", tax_id_is_ssn=True, phone="")
    text = write_837p(batch(claim(), billing_provider=solo))
    assert_accepted(text)
    assert f"NM1*85*1*OKAFOR*GRACE****XX*{CLINICIAN_NPI}" in text
    assert "REF*SY*123456789" in text
    assert "REF*EI" not in text


@pytest.mark.parametrize("filing_indicator", ["CI", "MB", "MC", "BL", "HM", "CH", "VA", "11"])
def test_is_every_common_filing_indicator_accepted(filing_indicator):
    payer = Payer(name="Some Plan", payer_id="12345", filing_indicator=filing_indicator)
    assert_accepted(write_837p(batch(claim(payer=payer))))


# ---------------------------------------------------------------- envelope and formatting


def test_does_se_count_every_segment_from_st_to_se():
    text = write_837p(batch(claim("C1"), claim("C2", patient=patient())))
    listed = segments(text)
    st, se = listed.index(next(s for s in listed if s.startswith("ST*"))), listed.index(with_id(text, "SE")[0])
    assert with_id(text, "SE")[0] == f"SE*{se - st + 1}*4713"


def test_are_control_numbers_written_where_given():
    text = write_837p(batch(claim()))
    isa = segments(text)[0].split("*")
    assert isa[13] == "000004711"
    assert with_id(text, "IEA") == ["IEA*1*000004711"]
    assert with_id(text, "GS")[0].split("*")[6] == "4712"
    assert with_id(text, "GE") == ["GE*1*4712"]
    assert with_id(text, "ST") == ["ST*837*4713*005010X222A1"]
    assert with_id(text, "SE")[0].endswith("*4713")
    assert with_id(text, "GS")[0].endswith("*X*005010X222A1")
    assert with_id(text, "BHT") == ["BHT*0019*00*4713*20260311*1430*CH"]


def test_is_the_isa_fixed_width_with_the_delimiters_in_place():
    text = write_837p(batch(claim()))
    isa = text[:106]
    assert len(text.split("~")[0]) + 1 == 106
    assert isa[3] == "*" and isa[82] == "^" and isa[104] == ":" and isa[105] == "~"
    assert isa.split("*")[6] == "PARITY01       " and isa.split("*")[8] == "CLAIMMD        "
    assert isa.split("*")[15] == "T"


@pytest.mark.parametrize("cents, written", [(15000, "150"), (11390, "113.9"), (11395, "113.95"), (5, "0.05"),
                                            (50, "0.5"), (123456, "1234.56")])
def test_are_amounts_written_as_x12_decimals(cents, written):
    text = write_837p(batch(claim(lines=[line(cents=cents)])))
    assert with_id(text, "SV1") == [f"SV1*HC:90834*{written}*UN*1***1"]
    assert with_id(text, "CLM")[0].split("*")[2] == written
    assert_accepted(text)


def test_is_the_claim_total_the_sum_of_its_lines():
    made = claim(lines=[line(cents=11390, line_id="A"), line("90785", 1510, line_id="B")])
    assert made.total_charge_cents == 12900
    assert "CLM*S1001*129***" in write_837p(batch(made))


def test_are_delimiters_and_accents_kept_out_of_names():
    person = subscriber(last_name="O'Brien*Smith~", first_name="José:Ñ^a")
    text = write_837p(batch(claim(subscriber=person)))
    assert_accepted(text)
    assert "NM1*IL*1*O'BRIEN SMITH*JOSE N A*L***MI*W123456789" in text


def test_does_line_breaks_only_add_newlines():
    compact, readable = write_837p(batch(claim())), write_837p(batch(claim()), line_breaks=True)
    assert readable.replace("~\n", "~") == compact
    assert_accepted(readable)


def test_is_writing_a_thousand_claims_well_under_a_second():
    claims = [claim(f"F{number}", lines=[line(line_id=f"F{number}-1"), line("90785", 2500, line_id=f"F{number}-2")])
              for number in range(2000)]
    made = batch(*claims)
    started = time.perf_counter()
    write_837p(made)
    elapsed = time.perf_counter() - started
    assert 2000 / elapsed >= 1000, f"{2000 / elapsed:.0f} claims/s"


# ---------------------------------------------------------------- what the data refuses


def test_does_a_replacement_without_the_payers_claim_number_refuse_to_build():
    with pytest.raises(ValueError, match="claim control number"):
        claim(frequency_code="7")


def test_does_a_pointer_past_the_diagnoses_refuse_to_build():
    with pytest.raises(ValueError, match="points at diagnosis 2"):
        claim(lines=[line(pointers=(1, 2))])


def test_does_a_claim_with_thirteen_diagnoses_refuse_to_build():
    with pytest.raises(ValueError, match="1 to 12 diagnoses"):
        claim(diagnoses=[f"F4{number}" for number in range(13)])


def test_does_a_subscriber_patient_without_birth_date_refuse_to_build():
    with pytest.raises(ValueError, match="birth date"):
        claim(subscriber=subscriber(birth_date=None))


def test_does_a_long_patient_control_number_refuse_to_build():
    with pytest.raises(ValueError, match="1 to 20 characters"):
        claim(pcn="X" * 21)


# ---------------------------------------------------------------- what the gate rejects


def test_is_a_file_without_the_billing_provider_name_rejected():
    text = re.sub(r"NM1\*85\*[^~]*~", "", write_837p(batch(claim())))
    result = validate_x12(text)
    assert not result.ok
    assert any("Billing Provider Name" in error and "2010AA" in error for error in result.errors), result.errors


def test_is_a_broken_clm_rejected_with_a_message_naming_the_element():
    text = write_837p(batch(claim())).replace("CLM*S1001*150***11:B:1*Y*A*Y*Y", "CLM*S1001*1X0***11:B:1*Y*Q*Y*Y")
    result = validate_x12(text)
    assert not result.ok
    assert any("CLM02" in error for error in result.errors), result.errors
    assert any("CLM07" in error and "'Q'" not in error and "(Q)" in error for error in result.errors), result.errors


def test_is_a_wrong_se_count_rejected():
    text = write_837p(batch(claim()))
    se = with_id(text, "SE")[0]
    count = int(se.split("*")[1])
    result = validate_x12(text.replace(se, f"SE*{count + 1}*4713"))
    assert not result.ok
    assert any("SE" in error and str(count + 1) in error for error in result.errors), result.errors


@pytest.mark.parametrize("bad_npi", ["1234567890", "2000000003"])
def test_is_an_npi_with_a_wrong_check_digit_rejected(bad_npi):
    text = write_837p(batch(claim(), billing_provider=billing_provider(npi=bad_npi)))
    result = validate_x12(text)
    assert not result.ok
    assert result.errors == [f"segment 10 NM1 (billing provider): NPI '{bad_npi}' is not a valid NPI (10 digits "
                             "starting with 1 or 2, with a correct check digit)"]


def test_is_the_icd9_qualifier_bk_rejected():
    text = write_837p(batch(claim())).replace("HI*ABK:F411", "HI*BK:F411")
    result = validate_x12(text)
    assert not result.ok
    assert any("ABK" in error and "'BK'" in error for error in result.errors), result.errors


def test_is_a_claim_total_that_disagrees_with_its_lines_rejected():
    text = write_837p(batch(claim())).replace("CLM*S1001*150***", "CLM*S1001*160***")
    result = validate_x12(text)
    assert not result.ok
    assert any("160.00 is not the sum of its lines (150.00)" in error for error in result.errors), result.errors


def test_is_a_replacement_without_ref_f8_rejected():
    text = write_837p(batch(claim(frequency_code="7", payer_claim_control_number="X1")))
    result = validate_x12(text.replace("REF*F8*X1~", ""))
    assert not result.ok
    assert any("REF*F8" in error for error in result.errors), result.errors


def test_is_a_file_that_is_not_x12_rejected():
    result = validate_x12("hello, clearinghouse")
    assert not result.ok and result.errors


def test_does_a_rejection_leave_the_cached_map_able_to_accept_the_next_file():
    good = write_837p(batch(claim()))
    assert not validate_x12(good.replace("HL*1**20*1", "HL*1**20*9")).ok
    assert_accepted(good)
