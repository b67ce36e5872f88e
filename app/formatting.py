"""Template filters: money, dates and identifiers are formatted only here, at the edge."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context
from flask_login import current_user

from app.billing import dates
from app.billing.identity import digits_only
from app.billing.money import dollars


def cents(value: int | None) -> str:
    """1234567 → $12,345.67 (money is integer cents everywhere else)."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    whole, remainder = divmod(abs(int(value)), 100)
    return f"{sign}${whole:,}.{remainder:02d}"


def practice_zone() -> ZoneInfo:
    """The signed-in member's practice time zone (Eastern when nobody is signed in)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return dates.zone(current_user.practice.timezone)
    return dates.zone(None)


def timestamp(value: datetime | None, zone: str | None = None) -> str:
    if value is None:
        return ""
    return value.astimezone(dates.zone(zone) if zone else practice_zone()).strftime("%b %-d, %Y %-I:%M %p")


def clock(value: datetime | None) -> str:
    """The local time of day: 9:30 AM."""
    return value.astimezone(practice_zone()).strftime("%-I:%M %p") if value else ""


def local_date(value: datetime | None) -> str:
    """The local date: Mon, Nov 23, 2026."""
    return value.astimezone(practice_zone()).strftime("%a, %b %-d, %Y") if value else ""


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


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device(user_agent: str | None) -> str:
    """A sign-in's browser and system in words, from its User-Agent: "Firefox on Windows"."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (agent[:60] if agent else "Unknown device")


def mailing_address(record) -> str:
    """A client's, contact's or payer's address on one line: 1 Main St, Apt 2, Boston, MA 02110-1234
    (empty when it has none)."""
    if not record.address_line1:
        return ""
    street = ", ".join(filter(None, (record.address_line1, record.address_line2, record.city)))
    return f"{street}, {record.state or ''} {zip_code(record.zip_code)}".strip()


def init_app(app: Flask) -> None:
    filters = {"cents": cents, "dollars": dollars, "timestamp": timestamp, "clock": clock, "local_date": local_date, "phone": phone,
               "zip9": zip_code, "ein": ein, "address": mailing_address, "device": device}
    for name, func in filters.items():
        app.add_template_filter(func, name)
