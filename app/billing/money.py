"""Money is integer cents. Parsing what people type, and writing amounts for X12 and CSV."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class MoneyError(ValueError):
    """Text that is not an amount of money; the message says why, in plain words."""


def parse_cents(text: str | None, *, allow_negative: bool = False) -> int:
    """'$1,234.5' → 123450. Refuses more than two decimal places rather than guessing."""
    cleaned = (text or "").strip().replace(",", "").replace("$", "").strip()
    if not cleaned:
        raise MoneyError("Enter an amount, e.g. 150.00.")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError("Enter an amount in dollars and cents, e.g. 150.00.") from None
    if not amount.is_finite():
        raise MoneyError("Enter an amount in dollars and cents, e.g. 150.00.")
    if amount.as_tuple().exponent < -2:
        raise MoneyError("Use at most two decimal places (cents).")
    if amount < 0 and not allow_negative:
        raise MoneyError("The amount cannot be negative.")
    if abs(amount) >= Decimal("10000000"):
        raise MoneyError("That amount is too large.")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def dollars(cents: int) -> str:
    """123450 → '1234.50': for CSV exports and forms, no currency sign or grouping."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def spoken(cents: int) -> str:
    """150000 → '$1,500', 3050 → '$30.50': amounts in a sentence (whole dollars without their cents)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}" + (f".{part:02d}" if part else "")
