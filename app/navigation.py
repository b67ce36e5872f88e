"""The navigation each role sees. Items appear only when the role may open the page."""
from dataclasses import dataclass

from flask import current_app, url_for

from app.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str


NAVIGATION = [
    NavItem("Home", "main.home"),
    NavItem("Sessions", "sessions.index"),
    NavItem("Clients", "clients.index"),
    NavItem("Bills", "bills.index"),
    NavItem("Claims", "claims.index"),
    NavItem("Remittances", "remittances.index"),
    NavItem("Payments", "payments.index"),
    NavItem("Reports", "reports.index"),
]

#: Pages under Settings; the main navigation links to the first one the role may open.
SETTINGS_NAVIGATION = [
    NavItem("Practice", "settings.practice"),
    NavItem("Services", "services.index"),
    NavItem("Payers", "payers.index"),
    NavItem("Billing", "bills.settings"),
    NavItem("Insurance", "claims.settings"),
    NavItem("Members", "settings.members"),
    NavItem("Outbox", "settings.outbox"),
    NavItem("Jobs", "settings.jobs"),
    NavItem("Audit log", "settings.audit"),
]


def can_open(member, endpoint: str) -> bool:
    """True when the member's role may use the view behind this endpoint."""
    view = current_app.view_functions.get(endpoint)
    return view is not None and Role(member.role) in getattr(view, "allowed_roles", ())


def items_for(member, navigation: list[NavItem] = NAVIGATION) -> list[tuple[str, str, str]]:
    """(label, url, endpoint) for each page the member's role opens; the main navigation ends with
    Settings when the role opens any settings page."""
    items = [(item.label, url_for(item.endpoint), item.endpoint) for item in navigation
             if can_open(member, item.endpoint)]
    if navigation is NAVIGATION:
        settings = items_for(member, SETTINGS_NAVIGATION)
        if settings:
            items.append(("Settings", settings[0][1], settings[0][2].split(".")[0] + "."))
    return items
