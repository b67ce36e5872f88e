"""Today as Parity reckons it for the test practices: in their time zone (Eastern, the default), not the
machine's. From 00:00 to 05:00 UTC the machine's date is already tomorrow there, and a payment "received
today" by the machine's clock would be refused as in the future."""
from datetime import date

from app.billing import dates


def local_today(zone: str = dates.DEFAULT_ZONE) -> date:
    """Today where a practice in `zone` (by default the default time zone) is."""
    return dates.today(zone)
