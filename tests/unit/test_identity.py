"""Identifier checks from shared/domain.md."""
import pytest

from app.billing import identity


@pytest.mark.parametrize("npi", ["1234567893", "1000000004", "2000000002"])
def test_known_good_npis_pass_the_check_digit(npi):
    assert identity.npi_is_valid(npi)


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678930", "3234567893", "abcdefghij", "", None])
def test_bad_npis_fail(npi):
    assert not identity.npi_is_valid(npi)


def test_every_wrong_check_digit_fails():
    assert [digit for digit in range(10) if identity.npi_is_valid(f"123456789{digit}")] == [3]


def test_npi_type_is_the_first_digit():
    assert identity.npi_type("1234567893") == 1 and identity.npi_type("2000000002") == 2
    assert identity.npi_type("1234567890") is None


@pytest.mark.parametrize("code, ok", [("101YP2500X", True), ("2084P0800X", True), ("101YP2500", False),
                                      ("101YP25000", False), ("101yp2500x", False), ("", False)])
def test_taxonomy_is_ten_characters_ending_in_x(code, ok):
    assert identity.taxonomy_is_valid(code) is ok


@pytest.mark.parametrize("ein, ok", [("12-3456789", True), ("123456789", True), ("12-345678", False),
                                     ("1234567890", False), ("00-1234567", False), ("12 3456789", False)])
def test_ein_is_nine_digits(ein, ok):
    assert identity.ein_is_valid(ein) is ok


@pytest.mark.parametrize("zip_code, ok", [("02139-4307", True), ("021394307", True), ("02139", False),
                                          ("02139-430", False)])
def test_claims_need_zip_plus_four(zip_code, ok):
    assert identity.zip9_is_valid(zip_code) is ok


@pytest.mark.parametrize("zip_code, ok", [("02139", True), ("02139-4307", True), ("021394307", True),
                                          ("0213", False), ("021394", False), ("02139-430", False), ("ABCDE", False)])
def test_a_mailing_address_takes_five_digits_or_zip_plus_four(zip_code, ok):
    assert identity.zip_is_valid(zip_code) is ok
