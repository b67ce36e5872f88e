"""Checks for the identifiers a claim carries: NPI, NUCC taxonomy, EIN, ZIP+4.

Pure functions with no Flask in them, shared by forms, the claim scrubber and the X12 writer.
"""
import re

_TAXONOMY = re.compile(r"^[0-9A-Z]{9}X$")
_ZIP9 = re.compile(r"^\d{5}-?\d{4}$")
_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")


def digits_only(value: str) -> str:
    """Strip spaces, dashes and other separators people type into identifiers."""
    return re.sub(r"\D", "", value or "")


def npi_is_valid(npi: str) -> bool:
    """True for a 10-digit NPI whose check digit is right (Luhn over 80840 + the first nine)."""
    if not re.fullmatch(r"[12]\d{9}", npi or ""):
        return False
    total = 24  # the digits of the 80840 card-issuer prefix, already doubled as Luhn wants
    for position, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if position % 2 == 0:  # rightmost of the nine is doubled, then every other one
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def npi_type(npi: str) -> int | None:
    """1 for an individual's NPI, 2 for an organization's, None when the NPI is not valid."""
    return int(npi[0]) if npi_is_valid(npi) else None


def taxonomy_is_valid(code: str) -> bool:
    """True for a NUCC taxonomy code: 10 characters, ending in X."""
    return bool(_TAXONOMY.fullmatch(code or ""))


def ein_is_valid(ein: str) -> bool:
    """True for an employer identification number: nine digits, written 12-3456789 or 123456789."""
    return bool(re.fullmatch(r"\d{2}-?\d{7}", ein or "")) and digits_only(ein)[:2] != "00"


def ssn_is_valid(ssn: str) -> bool:
    """True for a social security number a sole provider may bill under: nine digits, written 123-45-6789 or
    123456789, never area 000, 666 or 900–999, group 00 or serial 0000."""
    if not re.fullmatch(r"\d{3}-?\d{2}-?\d{4}", ssn or ""):
        return False
    digits = digits_only(ssn)
    return digits[:3] not in ("000", "666") and digits[0] != "9" and digits[3:5] != "00" and digits[5:] != "0000"


def zip9_is_valid(zip_code: str) -> bool:
    """True for a ZIP+4 (claims need all nine digits), written 12345-6789 or 123456789."""
    return bool(_ZIP9.fullmatch(zip_code or ""))


def zip_is_valid(zip_code: str) -> bool:
    """True for a five-digit ZIP or a ZIP+4 (a mailing address needs no more than five)."""
    return bool(_ZIP.fullmatch(zip_code or ""))
