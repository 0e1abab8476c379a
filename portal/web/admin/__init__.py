"""The administration blueprint (``/admin``): account pages and HR's survey pages.

``create_blueprint`` assembles it from its two view modules; ``create_app``
registers it. Importing this package registers nothing.
"""

from __future__ import annotations

from flask import Blueprint

from portal.web.admin import accounts, customise, organisation, signin, surveys
from portal.web.admin.nav import admin_nav


def create_blueprint() -> Blueprint:
    """The ``admin`` blueprint with every administration page."""
    bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
    accounts.routes.register(bp)
    signin.routes.register(bp)
    surveys.routes.register(bp)
    customise.routes.register(bp)
    organisation.routes.register(bp)
    bp.app_template_global()(admin_nav)
    return bp
