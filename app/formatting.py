"""Template filters: money, dates and identifiers are formatted only here, at the edge."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from app.billing.identity import digits_only


def cents(value: int | None) -> str:
    """1234567 → $12,345.67 (money is integer cents everywhere else)."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    dollars, remainder = divmod(abs(int(value)), 100)
    return f"{sign}${dollars:,}.{remainder:02d}"


def timestamp(value: datetime | None, zone: str = "America/New_York") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%b %-d, %Y %-I:%M %p")


def phone(value: str | None) -> str:
    digits = digits_only(value or "")
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return value or ""


def zip_code(value: str | None) -> str:
    digits = digits_only(value or "")
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else (value or "")


def ein(value: str | None) -> str:
    digits = digits_only(value or "")
    return f"{digits[:2]}-{digits[2:]}" if len(digits) == 9 else (value or "")


def init_app(app: Flask) -> None:
    for name, func in {"cents": cents, "timestamp": timestamp, "phone": phone, "zip9": zip_code, "ein": ein}.items():
        app.add_template_filter(func, name)
