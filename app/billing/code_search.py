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


@dataclass(frozen=True, slots=True)
class CodeResult:
    code: str
    name: str
    description: str
    price_cents: int | None
    is_addon: bool
    fits: bool | None
    reason: str
    units: int | None


_lock = threading.Lock()
_indexes: dict[tuple[int, str], tuple[str, codes.CodeIndex]] = {}


def _entries(practice_id: int, context: str) -> list[SearchEntry]:
    services = db.session.scalars(select(ServiceCode).where(ServiceCode.practice_id == practice_id)).all()
    if context == "practice":
        return [SearchEntry(s.code, s.name, s.description, s.price_cents, s.id) for s in services if s.enabled]
    custom = [SearchEntry(s.code, s.name, s.description, s.price_cents, s.id)
              for s in services if s.code_type == CodeType.CUSTOM]
    reference = [SearchEntry(entry.code, entry.name, entry.description) for entry in codes.all_codes()]
    return reference + custom


def index_for(practice: Practice, context: str) -> codes.CodeIndex:
    """The search index for this practice and context, rebuilt only when its catalog changed."""
    key = (practice.id, context)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == practice.catalog_version:
        return cached[1]
    index = codes.CodeIndex(_entries(practice.id, context))
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
        units = codes.units_for(hit.code, minutes) if minutes is not None and codes.get(hit.code) else None
        results.append(CodeResult(code=entry.code, name=entry.name, description=entry.description,
                                  price_cents=entry.price_cents, is_addon=codes.is_addon(entry.code),
                                  fits=hit.fits, reason=hit.reason or "", units=units))
    return results
