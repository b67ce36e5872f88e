"""The navigation each role sees, and which item the page shown belongs to. Items appear only when the role
may open the page; templates only draw the links (`nav_items`, `settings_nav_items`)."""
from dataclasses import dataclass

from flask import current_app, request, url_for

from app.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    #: Other pages that belong to this item: endpoints, or a blueprint name and a dot for each of its pages
    #: (except a page that is itself an item's own, such as Billing's `bills.settings` under Bills' "bills.").
    covers: tuple[str, ...] = ()

    def shows(self, endpoint: str) -> bool:
        """True when the page at `endpoint` belongs to this item (the link is then aria-current)."""
        if endpoint == self.endpoint or endpoint in self.covers:
            return True
        return endpoint.partition(".")[0] + "." in self.covers and endpoint not in ITEM_PAGES


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool  #: the page shown belongs to this item


NAVIGATION = [
    NavItem("Home", "main.home"),
    NavItem("Sessions", "sessions.index", covers=("sessions.",)),
    NavItem("Clients", "clients.index", covers=("clients.",)),
    NavItem("Bills", "bills.index", covers=("bills.",)),
    NavItem("Claims", "claims.index", covers=("claims.",)),
    NavItem("Remittances", "remittances.index", covers=("remittances.",)),
    NavItem("Payments", "payments.index", covers=("payments.",)),
    NavItem("Reports", "reports.index", covers=("reports.",)),
]

#: Pages under Settings; the main navigation links to the first one the role may open.
SETTINGS_NAVIGATION = [
    NavItem("Practice", "settings.practice"),
    NavItem("Services", "services.index", covers=("services.",)),
    NavItem("Payers", "payers.index", covers=("payers.",)),
    NavItem("Billing", "bills.settings"),
    NavItem("Insurance", "claims.settings"),
    NavItem("Members", "settings.members", covers=("settings.edit_member",)),
    NavItem("Outbox", "settings.outbox", covers=("settings.outbox_email",)),
    NavItem("Jobs", "settings.jobs"),
    NavItem("Audit log", "settings.audit"),
]

#: Endpoints named by an item: they belong to that item, never to another item's blueprint.
ITEM_PAGES = frozenset(page for item in NAVIGATION + SETTINGS_NAVIGATION for page in (item.endpoint, *item.covers)
                       if not page.endswith("."))

#: The main navigation's Settings item covers every settings page, and every page of the settings blueprint
#: (a member's refused role change shows the members page).
SETTINGS_PAGES = ("settings.", *(page for item in SETTINGS_NAVIGATION for page in (item.endpoint, *item.covers)))


def can_open(member, endpoint: str) -> bool:
    """True when the member's role may use the view behind this endpoint."""
    view = current_app.view_functions.get(endpoint)
    return view is not None and Role(member.role) in getattr(view, "allowed_roles", ())


def items_for(member, navigation: list[NavItem] = NAVIGATION) -> list[NavLink]:
    """A link for each page the member's role opens, marked current when the page shown is that item's; the
    main navigation ends with Settings when the role opens any settings page."""
    items = [item for item in navigation if can_open(member, item.endpoint)]
    if navigation is NAVIGATION:
        settings = [item for item in SETTINGS_NAVIGATION if can_open(member, item.endpoint)]
        if settings:
            items.append(NavItem("Settings", settings[0].endpoint, covers=SETTINGS_PAGES))
    shown = request.endpoint or ""
    return [NavLink(item.label, url_for(item.endpoint), item.shows(shown)) for item in items]
