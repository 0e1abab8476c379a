"""The administration's navigation: one list, filtered by role and by what is registered."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.store.models import ROLES
from portal.web.admin.auth import current_user

HR = ("hr", "admin")


@dataclass(frozen=True)
class NavItem:
    """One link in the administration's navigation, shown to ``roles`` only."""

    endpoint: str
    label: object  # a lazy string
    roles: tuple[str, ...] = ROLES


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("admin.dashboard", _l("Overview")),
    NavItem("board.index", _l("Board reports"), ROLES),
    NavItem("admin.surveys", _l("Surveys"), HR),
    NavItem("admin.survey_templates", _l("Templates"), ("admin",)),
    NavItem("admin.organisation_tree", _l("Organisation"), ("admin",)),
    NavItem("admin.users", _l("Accounts"), ("admin",)),
    NavItem("admin.audit", _l("Audit log"), ("admin",)),
    NavItem("admin.sessions", _l("Sessions and security")),
    NavItem("admin.password", _l("Change password")),
)


def admin_nav() -> list[NavItem]:
    """The navigation entries the logged-in account may use (links to registered pages only)."""
    user = current_user()
    if user is None:
        return []
    return [
        item
        for item in NAV_ITEMS
        if user.role in item.roles and item.endpoint in current_app.view_functions
    ]
