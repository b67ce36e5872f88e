"""Who may reach which view, and the load helpers that scope every record to the member's practice.

Access is checked centrally, before any view runs, and fails closed: a view that declares neither
@public nor @roles(...) answers 403 to everyone. Every URL argument that names a record
(`<int:member_id>`) must be registered in SCOPED_ARGS, and is loaded and checked against the signed-in
member's practice before the view runs, so another practice's record is a 404 whatever the view does.
"""
from collections.abc import Callable

from flask import Flask, abort, current_app, g, request, url_for
from flask_login import current_user

from app import two_factor
from app.extensions import db, login_manager
from app.models import (Bill, BillLine, Claim, Client, Contact, EligibilityCheck, GoodFaithEstimate, InsurancePolicy, Member,
                        OutboundEmail, Payer, Payment,
                        Remittance, RemittanceClaim, Role, ServiceCode, SessionService, TherapySession, X12File)
from app.rendering import see_other

ALL_ROLES = frozenset(Role)

#: URL argument name → the model whose id it carries. Later domains add their records here.
SCOPED_ARGS: dict[str, type] = {
    "member_id": Member,
    "email_id": OutboundEmail,
    "service_id": ServiceCode,
    "client_id": Client,
    "contact_id": Contact,
    "payer_id": Payer,
    "policy_id": InsurancePolicy,
    "session_id": TherapySession,
    "line_id": SessionService,
    "bill_id": Bill,
    "bill_line_id": BillLine,
    "payment_id": Payment,
    "claim_id": Claim,
    "file_id": X12File,
    "remittance_id": Remittance,
    "remittance_claim_id": RemittanceClaim,
    "check_id": EligibilityCheck,
    "gfe_id": GoodFaithEstimate,
}

#: What a member whose practice requires two-factor may still reach before turning it on (public views,
#: the second step among them, and static files need no exemption: they are never held back).
TWO_FACTOR_SETUP_ENDPOINTS = frozenset({"account.two_factor_page", "auth.logout"})


def public(view: Callable) -> Callable:
    """Mark a view that needs no sign-in (sign-in page, health check)."""
    view.public = True
    return view


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Declare which roles may use a view; everyone else gets 403."""

    def decorate(view: Callable) -> Callable:
        view.allowed_roles = frozenset(allowed) or ALL_ROLES
        return view

    return decorate


any_member = roles(*ALL_ROLES)


def load(model: type, record_id: int):
    """The record with this id in the signed-in member's practice, or 404."""
    cache = g.setdefault("scoped_records", {})
    key = (model, record_id)
    if key not in cache:
        record = db.session.get(model, record_id)
        if record is None or record.practice_id != current_user.practice_id:
            abort(404)
        cache[key] = record
    return cache[key]


def enforce_access():
    """before_request: sign-in, then role, then practice scope of every record named in the URL."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions[request.endpoint]
    if getattr(view, "public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.endpoint not in TWO_FACTOR_SETUP_ENDPOINTS and two_factor.setup_required(current_user):
        return see_other(url_for("account.two_factor_page"))
    allowed = getattr(view, "allowed_roles", None)
    if allowed is None or current_user.role not in allowed:
        abort(403)
    for name, value in (request.view_args or {}).items():
        if name.endswith("_id"):
            model = SCOPED_ARGS.get(name)
            if model is None:
                raise LookupError(f"URL argument {name!r} is not registered in app.authz.SCOPED_ARGS")
            load(model, value)
    return None


def init_app(app: Flask) -> None:
    app.before_request(enforce_access)
