"""The visitor's language: chosen per request, remembered for the visit."""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import get_locale


def select_locale() -> str:
    """``?lang=`` (remembered for the visit), then the session, then the default (sv)."""
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return str(wanted)
    remembered = session.get("lang")
    if remembered in languages:
        return str(remembered)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    """The language code of the current request (``sv`` or ``en``)."""
    return str(get_locale() or "sv")
