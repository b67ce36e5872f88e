"""Recording AuditEvents. Where an event came from (a web request, the CLI or the worker) and who acts when the
caller names nobody come from the origin the calling layer sets here (`use_origin` per request, `set_default`
per process), so domain functions record events without knowing about requests."""
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass, field

from app import bulk
from app.extensions import db
from app.models import AuditEvent
from app.models.types import utcnow


def _nobody() -> int | None:
    return None


@dataclass(frozen=True)
class Origin:
    #: "web", "cli" or "worker".
    origin: str
    ip_address: str | None = None
    user_agent: str | None = None
    #: The signed-in member's id, asked only when an event is recorded without an actor (most requests record none).
    signed_in_member_id: Callable[[], int | None] = field(default=_nobody, compare=False)

    def columns(self) -> dict:
        values = asdict(self)
        del values["signed_in_member_id"]
        return {key: value for key, value in values.items() if value is not None}


_default = Origin("cli")
_current: ContextVar[Origin | None] = ContextVar("parity_audit_origin", default=None)


def set_default(origin: Origin) -> None:
    """The origin of everything this process records outside a request (the worker says "worker")."""
    global _default
    _default = origin


def use_origin(origin: Origin) -> Token:
    """The origin of what is recorded until `reset_origin(token)` (the web layer: one per request)."""
    return _current.set(origin)


def reset_origin(token: Token) -> None:
    _current.reset(token)


def _origin() -> Origin:
    return _current.get() or _default


def apply_changes(record, values: dict) -> dict:
    """Apply values to the record and return {field: [old, new]} for those that changed: what an audit event of
    the change records."""
    changed = {}
    for field, new in values.items():
        old = getattr(record, field)
        if old != new:
            changed[field] = [old, new]
            setattr(record, field, new)
    return changed


def record(action: str, target=None, *, practice_id: int | None = None, actor=None, **details) -> AuditEvent | None:
    """Add an audit event to the current transaction: it is saved only if the change it describes is."""
    if practice_id is None and target is not None:
        practice_id = getattr(target, "practice_id", None) or (target.id if target.__tablename__ == "practices" else None)
    origin = _origin()
    return bulk.add(
        AuditEvent,
        practice_id=practice_id,
        member_id=actor.id if actor is not None else origin.signed_in_member_id(),
        action=action,
        object_type=target.__tablename__ if target is not None else None,
        object_id=target.id if target is not None else None,
        details=details,
        **origin.columns(),
    )


def record_now(action: str, *, practice_id: int | None = None, member_id: int | None = None, **details) -> None:
    """Save an event in its own transaction, for events about a request that itself fails
    (a failed sign-in answers 422 and its request transaction is rolled back)."""
    values = {
        "practice_id": practice_id,
        "member_id": member_id,
        "action": action,
        "details": details,
        **_origin().columns(),
    }
    with db.engine.begin() as connection:
        connection.execute(AuditEvent.__table__.insert().values(created_at=utcnow(), **values))
