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
    NavItem("Practice", "settings.practice"),
    NavItem("Services", "services.index"),
    NavItem("Members", "settings.members"),
    NavItem("Outbox", "settings.outbox"),
    NavItem("Audit log", "settings.audit"),
]


def items_for(member) -> list[tuple[str, str, str]]:
    """(label, url, endpoint) for each page the member's role opens."""
    items = []
    for item in NAVIGATION:
        view = current_app.view_functions.get(item.endpoint)
        if view is not None and Role(member.role) in getattr(view, "allowed_roles", ()):
            items.append((item.label, url_for(item.endpoint), item.endpoint))
    return items
