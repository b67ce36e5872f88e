"""837P for the next payer (secondary and tertiary claims, loops 2320/2330A/2330B/2430), a line's own place of
service (SV105), diagnosis pointers past the fourth, and billing under an SSN: every file passes pyx12."""
from __future__ import annotations

from datetime import date

import pytest

from app.x12.claim_data import CarriedAdjustment, LineAdjudication, OtherPayer, Payer, Subscriber
from app.x12.writer_837p import write_837p
from tests.x12.test_837p import (
    PAYER, assert_accepted, batch, billing_provider, claim, line, patient, segments, subscriber, with_id,
)

MEDICARE = Payer(name="Medicare Part B", payer_id="MCRB1", filing_indicator="MB")
SUPPLEMENT = Payer(name="Medigap Supplement", payer_id="SUPP1", filing_indicator="CI")
PAID_ON = date(2026, 3, 30)


def primary_adjudication(payer=MEDICARE, paid=9600, *, claim_level=(), responsibility="P") -> OtherPayer:
    return OtherPayer(responsibility=responsibility, relationship="18", payer=payer, paid_cents=paid,
                      adjudicated_on=PAID_ON, adjustments=tuple(claim_level), remaining_patient_liability_cents=2400,
                      subscriber=Subscriber(member_id="1EG4TE5MK73", last_name="Rivera", first_name="Ana"))


def line_adjudication(payer_id="MCRB1", paid=9600, adjustments=None) -> LineAdjudication:
    return LineAdjudication(payer_id=payer_id, paid_cents=paid, procedure_code="90834", units=1,
                            adjudicated_on=PAID_ON, adjustments=tuple(adjustments or (
                                CarriedAdjustment(group="CO", reason="45", amount_cents=3000),
                                CarriedAdjustment(group="PR", reason="2", amount_cents=2400))))


def secondary_claim(**changes):
    return claim(payer=SUPPLEMENT, payer_responsibility="S", other_payers=(primary_adjudication(),),
                 lines=[line(adjudications=(line_adjudication(),))], **changes)


def test_is_a_secondary_claim_with_the_primarys_adjudication_accepted():
    text = write_837p(batch(secondary_claim()))
    assert_accepted(text)
    sbr = with_id(text, "SBR")
    assert sbr[0].startswith("SBR*S*18*") and sbr[1].startswith("SBR*P*18*") and sbr[1].endswith("*MB")
    assert "AMT*D*96" in segments(text) and "AMT*EAF*24" in segments(text)
    assert "OI***Y*P**Y" in segments(text)
    assert "NM1*PR*2*MEDICARE PART B*****PI*MCRB1" in segments(text)
    assert with_id(text, "SVD") == ["SVD*MCRB1*96*HC:90834**1"]
    assert "CAS*CO*45*30" in segments(text) and "CAS*PR*2*24" in segments(text)
    assert with_id(text, "DTP").count("DTP*573*D8*20260330") == 2  # 2330B and 2430
    # 2320 comes after the claim's own segments and before the first line.
    order = [segment.split("*")[0] for segment in segments(text)]
    assert order.index("AMT") < order.index("LX") < order.index("SVD")


def test_is_a_secondary_claim_with_claim_level_adjustments_and_a_dependant_accepted():
    other = primary_adjudication(claim_level=[CarriedAdjustment(group="CO", reason="253", amount_cents=192)],
                                 paid=9408)
    other = OtherPayer(**{**{f: getattr(other, f) for f in other.__dataclass_fields__}, "relationship": "19"})
    text = write_837p(batch(claim(payer=SUPPLEMENT, payer_responsibility="S", other_payers=(other,),
                                  patient=patient(), subscriber=subscriber(),
                                  lines=[line(adjudications=(line_adjudication(),))])))
    assert_accepted(text)
    assert "CAS*CO*253*1.92" in segments(text)


def test_is_a_tertiary_claim_with_both_earlier_payers_accepted():
    secondary = primary_adjudication(payer=SUPPLEMENT, paid=1900, responsibility="S")
    text = write_837p(batch(claim(
        payer=PAYER, payer_responsibility="T", other_payers=(primary_adjudication(), secondary),
        lines=[line(adjudications=(line_adjudication(), line_adjudication(
            payer_id="SUPP1", paid=1900, adjustments=[CarriedAdjustment(group="OA", reason="23", amount_cents=12600),
                                                      CarriedAdjustment(group="PR", reason="2", amount_cents=500)])))])))
    assert_accepted(text)
    assert with_id(text, "SBR")[0].startswith("SBR*T*")
    assert len(with_id(text, "SVD")) == 2


def test_is_a_secondary_claim_refused_without_the_earlier_payer():
    with pytest.raises(ValueError, match="2320"):
        claim(payer=SUPPLEMENT, payer_responsibility="S")


def test_is_a_line_adjudication_by_an_unknown_payer_refused():
    with pytest.raises(ValueError, match="other payers"):
        claim(payer=SUPPLEMENT, payer_responsibility="S", other_payers=(primary_adjudication(),),
              lines=[line(adjudications=(line_adjudication(payer_id="ELSE1"),))])


def test_does_a_line_whose_place_differs_carry_sv105_and_pass():
    text = write_837p(batch(claim(place_of_service="11", lines=[
        line(line_id="L1"), line(line_id="L2", code="90785", cents=2000, place_of_service="10")])))
    assert_accepted(text)
    sv1 = with_id(text, "SV1")
    assert sv1[0] == "SV1*HC:90834*150*UN*1***1" and sv1[1] == "SV1*HC:90785*20*UN*1*10**1"


def test_may_a_line_point_at_the_fifth_diagnosis_and_pass():
    text = write_837p(batch(claim(diagnoses=("F41.1", "F33.1", "F90.0", "F43.10", "F50.00", "Z63.0"), lines=[
        line(line_id="L1", pointers=(1, 5)), line(line_id="L2", code="90785", cents=2000, pointers=(2, 6))])))
    assert_accepted(text)
    assert [s.split("*")[-1] for s in with_id(text, "SV1")] == ["1:5", "2:6"]


def test_is_a_sole_provider_billing_under_an_ssn_sent_as_ref_sy_and_passes():
    provider = billing_provider(is_person=True, name="Chen", first_name="Mia", npi="1234567893",
                                tax_id="123-45-6789", tax_id_is_ssn=True)
    text = write_837p(batch(claim(), billing_provider=provider))
    assert_accepted(text)
    assert "REF*SY*123456789" in segments(text) and not any(s.startswith("REF*EI") for s in segments(text))
