"""Per-process search indexes for the code autocomplete.

`catalog` context: the code reference plus the practice's custom codes (for creating services).
`practice` context: only the practice's enabled services, with their prices (for sessions and bills).
Each index is built once per process and reused until the practice's catalog_version changes, so a
keystroke costs a dictionary lookup, not a scan of the reference or of the catalog.
"""
import threading
from dataclasses import dataclass

from sqlalchemy import select

from app.billing import codes
from app.extensions import db
from app.models import CodeType, Practice, ServiceCode

MAX_RESULTS = 20
_CACHE_LIMIT = 256  # practices whose indexes one process keeps


@dataclass(frozen=True, slots=True)
class SearchEntry:
    code: str
    name: str
    description: str
    price_cents: int | None = None
    service_id: int | None = None
    unit_rounding: str | None = None
    custom: bool = False


@dataclass(frozen=True, slots=True)
class CodeResult:
    code: str
    name: str
    description: str
    price_cents: int | None
    is_addon: bool
    check: codes.TimeCheck | None  #: None when no minutes were given or the code has no time rule
    units: int | None


_lock = threading.Lock()
_indexes: dict[tuple[int, str], tuple[str, codes.CodeIndex]] = {}


def _entry(service: ServiceCode) -> SearchEntry:
    return SearchEntry(service.code, service.name, service.description, service.price_cents, service.id,
                       service.unit_rounding, service.code_type == CodeType.CUSTOM)


def _fit(entries: list[SearchEntry]):
    """The time check the index ranks and marks by: `codes.check_time` with each service's own rounding."""
    by_code = {codes.normalize_code(entry.code): entry for entry in entries}

    def fit(code: str, minutes: int) -> codes.TimeCheck | None:
        entry = by_code.get(code)
        if codes.get(code) is None:
            return None
        return codes.check_time(code, minutes, rounding=entry.unit_rounding if entry else None)
    return fit


def _entries(practice_id: int, context: str) -> list[SearchEntry]:
    services = db.session.scalars(select(ServiceCode).where(ServiceCode.practice_id == practice_id)).all()
    if context == "practice":
        return [_entry(s) for s in services if s.enabled]
    custom = [_entry(s) for s in services if s.code_type == CodeType.CUSTOM]
    reference = [SearchEntry(entry.code, entry.name, entry.description) for entry in codes.all_codes()]
    return reference + custom


def index_for(practice: Practice, context: str) -> codes.CodeIndex:
    """The search index for this practice and context, rebuilt only when its catalog changed."""
    key = (practice.id, context)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == practice.catalog_version:
        return cached[1]
    entries = _entries(practice.id, context)
    index = codes.CodeIndex(entries, fit=_fit(entries))
    with _lock:
        if len(_indexes) >= _CACHE_LIMIT:
            _indexes.pop(next(iter(_indexes)))
        _indexes[key] = (practice.catalog_version, index)
    return index


def search_codes(practice: Practice, query: str, *, context: str, minutes: int | None = None,
                 limit: int = MAX_RESULTS) -> list[CodeResult]:
    results = []
    for hit in index_for(practice, context).search(query, limit=limit, minutes=minutes):
        entry: SearchEntry = hit.item
        units = hit.check.units if hit.check is not None and hit.check.units else None
        results.append(CodeResult(code=entry.code, name=entry.name, description=entry.description,
                                  price_cents=entry.price_cents, is_addon=codes.is_addon(entry.code),
                                  check=hit.check, units=units))
    return results
