"""Calendar days are the practice's: a session's date of service, "today", and where a local day begins.

Times are stored in UTC; a 7:30 pm session in New York is 00:30 UTC the next day, yet it was served, billed,
claimed and reported on the day it happened where the practice is. Every day a session, a bill or a report is
dated by is worked out here, from the practice's time zone name (`Practice.timezone`), which callers pass.
"""
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import Practice

#: The zone of a practice that names none (and of pages nobody is signed in to).
DEFAULT_ZONE = "America/New_York"


@lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    """The practice's time zone, Eastern when it names none."""
    return ZoneInfo(name or DEFAULT_ZONE)


def local_day(moment: datetime, zone_name: str | None) -> date:
    """The practice's day at `moment` (an aware time, as stored): when a bill was issued, a payment recorded."""
    return moment.astimezone(zone(zone_name)).date()


def service_day(starts_at: datetime, zone_name: str | None) -> date:
    """The date of service of a session starting at `starts_at` (UTC): its day where the practice is."""
    return local_day(starts_at, zone_name)


def today(zone_name: str | None) -> date:
    """Today where the practice is."""
    return datetime.now(zone(zone_name)).date()


def day_starts(day: date, zone_name: str | None) -> datetime:
    """The moment the practice's local `day` begins (aware; compare it with stored UTC times)."""
    return datetime.combine(day, time(), tzinfo=zone(zone_name))


def zone_name(practice_id: int) -> str:
    """The practice's time zone name (from the session's identity map when the practice is loaded)."""
    practice = db.session.get(Practice, practice_id)
    return practice.timezone if practice is not None and practice.timezone else DEFAULT_ZONE


def practice_today(practice_id: int) -> date:
    """Today where the practice is (a date of birth entered late at night is not "in the future")."""
    return today(zone_name(practice_id))
