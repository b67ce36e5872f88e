"""Recording AuditEvents. Where an event came from (web request, CLI or worker) is taken from the
context here, so domain functions can record events without knowing about requests."""
from flask import has_request_context, request
from flask_login import current_user

from app import bulk
from app.extensions import db
from app.models import AuditEvent
from app.models.types import utcnow

ORIGIN_OVERRIDE_KEY = "parity_origin"


def _origin() -> dict:
    if has_request_context():
        return {
            "origin": "web",
            "ip_address": request.remote_addr,
            "user_agent": (request.user_agent.string or "")[:300],
        }
    from flask import current_app

    return {"origin": current_app.config.get(ORIGIN_OVERRIDE_KEY, "cli")}


def _actor_id(actor) -> int | None:
    if actor is not None:
        return actor.id
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id
    return None


def record(action: str, target=None, *, practice_id: int | None = None, actor=None, **details) -> AuditEvent | None:
    """Add an audit event to the current transaction: it is saved only if the change it describes is."""
    if practice_id is None and target is not None:
        practice_id = getattr(target, "practice_id", None) or (target.id if target.__tablename__ == "practices" else None)
    return bulk.add(
        AuditEvent,
        practice_id=practice_id,
        member_id=_actor_id(actor),
        action=action,
        object_type=target.__tablename__ if target is not None else None,
        object_id=target.id if target is not None else None,
        details=details,
        **_origin(),
    )


def record_now(action: str, *, practice_id: int | None = None, member_id: int | None = None, **details) -> None:
    """Save an event in its own transaction, for events about a request that itself fails
    (a failed sign-in answers 422 and its request transaction is rolled back)."""
    values = {
        "practice_id": practice_id,
        "member_id": member_id,
        "action": action,
        "details": details,
        **_origin(),
    }
    with db.engine.begin() as connection:
        connection.execute(AuditEvent.__table__.insert().values(created_at=utcnow(), **values))
