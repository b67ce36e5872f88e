"""The one CSV writer every export uses: text that a spreadsheet would run as a formula is defused, numbers
stay numbers."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from app.csv_export import amount, cell, csv_text, write_csv


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("risky", ['=HYPERLINK("http://x","y")', "+1+2", "-1+2", "@SUM(A1:A2)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(risky):
    assert cell(risky) == "'" + risky
    assert read(csv_text(["name"], [[risky]]))[1] == ["'" + risky]


def test_ordinary_text_numbers_and_dates_are_written_as_they_are():
    assert cell("Harborview Health Plan") == "Harborview Health Plan"
    assert cell("a=b") == "a=b"  # only the first character makes a formula
    assert cell("") == "" and cell(None) == ""
    assert read(csv_text(["count", "amount", "day"], [[-3, Decimal("-5.00"), date(2026, 3, 1)]]))[1] == \
        ["-3", "-5.00", "2026-03-01"]


def test_amounts_are_dollars_numbers_never_quoted():
    assert amount(12345) == Decimal("123.45") and str(amount(12345)) == "123.45"
    assert str(amount(-500)) == "-5.00" and str(amount(-5)) == "-0.05" and str(amount(0)) == "0.00"
    assert str(amount(1_000_000_00)) == "1000000.00"  # never in exponent notation
    assert read(csv_text(["charge", "paid"], [[amount(15000), amount(-500)]])) == [["charge", "paid"],
                                                                                   ["150.00", "-5.00"]]


def test_write_csv_writes_to_any_text_stream_with_the_header_first():
    stream = io.StringIO()
    write_csv(stream, ["name", "charge"], iter([["=1+1", amount(100)], ["Casey", amount(-100)]]))
    assert stream.getvalue() == "name,charge\r\n'=1+1,1.00\r\nCasey,-1.00\r\n"
