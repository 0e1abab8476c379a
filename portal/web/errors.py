"""Error pages: every failure is a clear page in the visitor's language, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.store import UNAVAILABLE, DatabaseBusy, discard_connection

log = logging.getLogger(__name__)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("The request could not be understood"),
            _(
                "Something in what the browser sent was malformed. Go back, reload the page "
                "and try again."
            ),
        ),
        403: (_("Not allowed"), _("You do not have permission to see this page.")),
        404: (
            _("Page not found"),
            _("There is no page at this address. Check the link you were given."),
        ),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        410: (_("No longer available"), _("This page is no longer available.")),
        413: (
            _("Too much data"),
            _(
                "What you sent is larger than the portal accepts. Shorten long answers and "
                "try again."
            ),
        ),
        429: (_("Too many attempts"), _("Please wait a moment before trying again.")),
        503: (
            _("The portal is busy"),
            _(
                "The portal could not save right now. Nothing was lost: go back and send "
                "again in a moment."
            ),
        ),
    }


def error_page(status: int, title: str | None = None, message: str | None = None):
    """Render the error page for ``status`` with an optional specific message."""
    default_title, default_message = _messages().get(
        status, (_("Something went wrong"), _("Please try again later."))
    )
    return (
        render_template(
            "error.html",
            status=status,
            title=title or default_title,
            message=message or default_message,
        ),
        status,
    )


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_page(
            400,
            _("The form has expired"),
            _(
                "For your security the form could only be sent from the page it came from. "
                "Go back, reload the page and send it again."
            ),
        )

    @app.errorhandler(DatabaseBusy)
    def database_busy(exc: DatabaseBusy):
        return error_page(503)

    def database_unavailable(exc: Exception):
        # The database is restarting, unreachable or full: a retry page, not a crash.
        log.warning("database unavailable: %s", type(exc).__name__)
        discard_connection()
        page, status = error_page(503)
        return page, status, {"Retry-After": "5"}

    for error in UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, InternalServerError):
            return internal_error(exc)
        status = exc.code or 500
        return error_page(status)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        # The message and trace go to the log without request data: no address, no form.
        log.exception("unhandled error")
        return error_page(
            500,
            _("Something went wrong"),
            _("An error occurred on our side and nothing was saved. Please try again later."),
        )
