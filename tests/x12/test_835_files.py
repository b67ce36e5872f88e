"""835s written to the 005010X221A1 examples (tests/x12/files/): each passes pyx12, reads whole and balances,
and says what a payer's file says — claim-level CAS with and without lines, deductible only, crossovers
(19/20/21), secondary and tertiary (2/3), provider adjustments (L6, WO, 72, FB, CS), a reversal and its
correction, and a payer's own CLP01 with our echoed line ids."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.x12.remittance import parse_835
from app.x12.validate import validate_x12

FILES = Path(__file__).parent / "files"


def read(name: str):
    [remittance] = parse_835((FILES / name).read_text())
    return remittance


@pytest.mark.parametrize("name", sorted(path.name for path in FILES.glob("*.835")))
def test_does_every_example_file_pass_pyx12_and_balance(name):
    text = (FILES / name).read_text()
    assert validate_x12(text).errors == []
    [remittance] = parse_835(text)
    assert remittance.total_paid_cents == (sum(c.paid_cents for c in remittance.claims)
                                           - sum(p.amount_cents for p in remittance.provider_adjustments))


def test_is_claim_level_sequestration_beside_lines_read_at_claim_level():
    [claim] = read("claim_level_cas_with_lines.835").claims
    assert [(a.group, a.reason, a.amount_cents) for a in claim.adjustments] == [("CO", "253", 192)]
    assert claim.services[0].paid_cents == 9600 and claim.paid_cents == 9408
    assert claim.services[0].line_reference == "P1C1-1" and claim.services[0].allowed_cents == 12000


def test_is_a_claim_without_lines_read_with_its_claim_level_adjustments():
    [claim] = read("claim_level_cas_without_lines.835").claims
    assert claim.services == () and sum(a.amount_cents for a in claim.adjustments) == 5000


def test_is_deductible_only_a_processed_claim_paid_nothing():
    [claim] = read("deductible_only.835").claims
    assert (claim.status_code, claim.paid_cents, claim.patient_responsibility_cents) == ("1", 0, 12000)
    assert claim.processed_as == 1 and not claim.forwarded


def test_does_a_crossover_name_the_payer_it_was_forwarded_to():
    [claim] = read("crossover_19.835").claims
    assert claim.forwarded and claim.processed_as == 1
    assert (claim.crossover_payer_name, claim.crossover_payer_id) == ("MEDIGAP SUPPLEMENT", "SUPP1")


def test_are_20_and_21_processed_as_secondary_and_tertiary_and_forwarded():
    secondary, tertiary = read("crossover_20_21.835").claims
    assert (secondary.processed_as, tertiary.processed_as) == (2, 3)
    assert secondary.forwarded and tertiary.forwarded and tertiary.crossover_payer_id == "MCD01"


def test_are_2_and_3_processed_as_secondary_and_tertiary_not_forwarded():
    secondary, tertiary = read("secondary_2_tertiary_3.835").claims
    assert (secondary.processed_as, tertiary.processed_as) == (2, 3)
    assert not secondary.forwarded and not tertiary.forwarded
    assert [(a.group, a.reason) for a in secondary.services[0].adjustments] == [("OA", "23"), ("PR", "2")]


def test_are_provider_adjustments_read_with_reason_reference_and_sign():
    remittance = read("plb_l6_wo_72_fb_cs.835")
    assert [(p.reason, p.reference, p.amount_cents) for p in remittance.provider_adjustments] == [
        ("L6", "P1C1", -125), ("WO", "HHP0000009", 2000), ("72", "P1C3", 1000), ("FB", "FB20261101", 500),
        ("CS", "ADJ1", -200)]
    assert remittance.total_paid_cents == 6825


def test_are_a_reversal_and_its_correction_read_in_file_order():
    reversal, correction = read("reversal_and_correction.835").claims
    assert (reversal.status_code, reversal.paid_cents) == ("22", -10000)
    assert (correction.status_code, correction.paid_cents) == ("1", 11000)


def test_does_a_payers_own_clp01_keep_our_echoed_line_ids():
    [claim] = read("payer_changed_clp01.835").claims
    assert claim.patient_control_number == "00000123456" and claim.services[0].line_reference == "P1C1-1"
