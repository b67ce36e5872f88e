"""Eligibility (005010X279A1): the 270 Parity writes reads back whole and passes the gate; 271s written to the
guide's examples (tests/x12/eligibility/) read into plain answers; broken ones are refused."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from app.x12 import eligibility as x12
from app.x12.inbound import X12ReadError
from app.x12.segments import kind_of

FILES = Path(__file__).parent / "eligibility"


def inquiry(**changes) -> x12.Inquiry:
    values = dict(payer_name="Harborview Health Plan", payer_id="HHP01", provider_name="Lakeside Therapy",
                  provider_npi="1234567893", provider_tax_id="123456789",
                  subscriber=x12.Person(last_name="Rivera", first_name="Ana", birth_date=date(1985, 4, 12), sex="F",
                                        member_id="W123456789"),
                  service_date=date(2026, 12, 3), trace_number="E1A1B2C3D4E5", sender_id="PARITY1",
                  receiver_id="CLAIMMD", interchange_control_number=42, created_at=datetime(2026, 12, 3, 10, 30),
                  group_number="GRP7788")
    values.update(changes)
    return x12.Inquiry(**values)


def read(name: str) -> x12.EligibilityResponse:
    [response] = x12.parse_271((FILES / name).read_text())
    return response


def benefit(response: x12.EligibilityResponse, service_type: str, in_network: bool | None,
            level: str = "IND") -> x12.Benefit:
    return next(item for item in response.benefits
                if (item.service_type, item.in_network, item.coverage_level) == (service_type, in_network, level))


# ---------------------------------------------------------------- the 270


def test_a_270_for_a_subscriber_asks_each_mental_health_service_type_and_passes_the_gate():
    text = x12.write_270(inquiry())
    assert kind_of(text) == "270"
    assert x12.check_270(text) == []
    segments = text.split("~")
    assert "ST*270*0042*005010X279A1" in segments
    assert "HL*3*2*22*0" in segments and "TRN*1*E1A1B2C3D4E5*9123456789" in segments
    assert "NM1*IL*1*RIVERA*ANA****MI*W123456789" in segments
    assert [s for s in segments if s.startswith("EQ")] == ["EQ*30", "EQ*MH", "EQ*A6", "EQ*A8", "EQ*CF"]
    assert "DTP*291*D8*20261203" in segments
    read_back = x12.read_270(text)
    assert (read_back.member_id, read_back.trace_number, read_back.service_types, read_back.group_number) == \
        ("W123456789", "E1A1B2C3D4E5", x12.MENTAL_HEALTH_SERVICE_TYPES, "GRP7788")


def test_a_270_for_a_dependant_asks_under_the_dependants_loop():
    text = x12.write_270(inquiry(dependant=x12.Person(last_name="Morgan", first_name="Sam",
                                                     birth_date=date(2012, 3, 5), sex="M")))
    assert x12.check_270(text) == []
    segments = text.split("~")
    assert "HL*3*2*22*1" in segments and "HL*4*3*23*0" in segments
    assert segments.index("NM1*03*1*MORGAN*SAM") < segments.index("EQ*30")
    assert segments.index("TRN*1*E1A1B2C3D4E5*9123456789") > segments.index("HL*4*3*23*0")
    assert x12.read_270(text).patient_name == "MORGAN, SAM"


def test_the_gate_refuses_a_270_with_a_bad_npi_or_no_member_id():
    assert any("NPI" in problem for problem in x12.check_270(x12.write_270(inquiry(provider_npi="1234567890"))))
    no_member = inquiry(subscriber=x12.Person(last_name="Rivera", first_name="Ana", member_id=""))
    assert any("member ID" in problem for problem in x12.check_270(x12.write_270(no_member)))
    assert x12.check_270("ISA*nonsense") != []


# ---------------------------------------------------------------- the 271


def test_an_active_271_reads_copay_coinsurance_deductible_visits_and_authorization_per_network():
    response = read("active_several_service_types.271")
    assert response.active is True and not response.rejected
    assert (response.plan_name, response.group_number, response.group_name) == \
        ("CHOICE PPO", "GRP7788", "NORTHWIND EMPLOYEES")
    assert response.trace_number == "E1A1B2C3D4E5" and response.member_id == "W123456789"
    mental_health_in = benefit(response, "MH", True)
    assert (mental_health_in.copay_cents, mental_health_in.coinsurance_percent) == (3000, 20)
    assert (mental_health_in.visit_limit, mental_health_in.visits_remaining, mental_health_in.visits_used) == (30, 22, 8)
    mental_health_out = benefit(response, "MH", False)
    assert (mental_health_out.copay_cents, mental_health_out.coinsurance_percent) == (6000, 40)
    plan_in = benefit(response, "30", True)
    assert (plan_in.deductible_cents, plan_in.deductible_remaining_cents) == (150000, 40000)
    assert (plan_in.out_of_pocket_cents, plan_in.out_of_pocket_remaining_cents) == (500000, 325050)
    assert benefit(response, "30", True, "FAM").deductible_cents == 300000
    assert benefit(response, "30", False).deductible_remaining_cents == 300000
    assert benefit(response, "A8", True).authorization_required is True
    assert benefit(response, "CF", True).visit_limit == 20  # from HSD*VS
    assert "PRIOR AUTHORIZATION REQUIRED FOR PSYCHIATRIC OUTPATIENT" in response.messages


def test_a_271_about_a_dependant_names_the_patient():
    response = read("active_dependant_deductible_not_met.271")
    assert response.active is True
    assert response.patient_name == "SAM MORGAN" and response.subscriber_name == "DANA MORGAN"
    mental_health = benefit(response, "MH", True)
    assert (mental_health.deductible_cents, mental_health.deductible_remaining_cents,
            mental_health.coinsurance_percent, mental_health.copay_cents) == (200000, 200000, 30, None)


def test_an_inactive_271_says_so_with_the_payers_message():
    response = read("inactive.271")
    assert response.active is False and response.benefits == ()
    assert response.messages == ("COVERAGE TERMINATED 06/30/2026",)
    assert response.plan_end == date(2026, 6, 30)


@pytest.mark.parametrize("name, code, level, words", [
    ("rejected_invalid_member_id.271", "72", "subscriber", "member ID is not valid"),
    ("rejected_subscriber_not_found.271", "75", "subscriber", "subscriber is not found"),
    ("rejected_payer_unavailable.271", "42", "payer", "cannot answer right now"),
])
def test_aaa_rejections_read_in_plain_words(name, code, level, words):
    response = read(name)
    assert response.rejected and response.active is None
    [rejection] = response.rejections
    assert (rejection.code, rejection.level) == (code, level)
    assert words in rejection.reason
    assert rejection.retry_later is (code == "42")


@pytest.mark.parametrize("name, words", [
    ("truncated.271", "cut short"),
    ("wrong_segment_count.271", "SE01 says"),
    ("bad_amount.271", "not an amount"),
    ("not_x12.271", "not an X12 file"),
])
def test_broken_271s_are_refused(name, words):
    with pytest.raises(X12ReadError, match=words):
        x12.parse_271((FILES / name).read_text())


def test_a_270_or_an_835_is_not_read_as_a_271():
    with pytest.raises(X12ReadError, match="not a 271"):
        x12.parse_271(x12.write_270(inquiry()))


def test_an_unknown_segment_is_refused():
    text = (FILES / "inactive.271").read_text().replace("MSG*COVERAGE", "ZZZ*COVERAGE")
    with pytest.raises(X12ReadError, match="does not belong in a 271"):
        x12.parse_271(text)


def test_write_271_answers_a_270_with_what_parse_271_reads_back():
    asked = x12.read_270(x12.write_270(inquiry()))
    text = x12.write_271(asked, active=True, lines=[
        x12.BenefitLine(code="1", plan_name="SANDBOX PPO"),
        x12.BenefitLine(code="B", service_types=("MH", "A6"), period="27", amount_cents=2500, in_network=True,
                        authorization_required=True, messages=("Auth needed",)),
        x12.BenefitLine(code="A", service_types=("MH",), percent=20, in_network=True),
        x12.BenefitLine(code="F", service_types=("MH",), period="29", visits=12, in_network=True)],
        sender_id="SANDBOX", interchange_control_number=9, created_at=datetime(2026, 12, 3, 11, 0))
    [response] = x12.parse_271(text)
    assert response.trace_number == asked.trace_number and response.plan_name == "SANDBOX PPO"
    mental_health = benefit(response, "MH", True)
    assert (mental_health.copay_cents, mental_health.coinsurance_percent, mental_health.visits_remaining,
            mental_health.authorization_required) == (2500, 20, 12, True)
    assert response.messages == ("Auth needed",)
    rejected = x12.parse_271(x12.write_271(asked, active=None, rejection=("72", "C"), sender_id="SANDBOX",
                                           interchange_control_number=10, created_at=datetime(2026, 12, 3)))[0]
    assert rejected.rejections[0].code == "72"
