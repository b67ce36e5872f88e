"""CSV for every export: the web pages' `?format=csv`, the reports and `flask claims list --format csv`.

Plain Python, no Flask, so the CLI and background jobs write CSV the same way. Text cells a spreadsheet would
run as a formula are defused with a leading quote (OWASP's advice for CSV injection). Whether a cell is text
is decided by its type: numbers (ints, Decimals) are never quoted, so amounts stay numbers a spreadsheet can
add up, even negative ones. Pass money as `amount(cents)`, not as text.
"""
import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import TextIO

#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def amount(cents: int) -> Decimal:
    """Integer cents as a dollars number with two places: -500 → Decimal('-5.00'), written as -5.00."""
    return Decimal(int(cents)).scaleb(-2)


def cell(value: object) -> object:
    """The value as the CSV writes it: text that would run as a formula quoted, None empty, the rest as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(stream: TextIO, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    """Write the header and the rows to `stream`, every cell through `cell`."""
    writer = csv.writer(stream)
    writer.writerow([cell(value) for value in header])
    writer.writerows([cell(value) for value in row] for row in rows)


def csv_text(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """The CSV as text (for a download)."""
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue()
