"""Jinja globals and filters: languages, bilingual texts and localised numbers."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import format_date, format_datetime, format_decimal, gettext
from peewee import PeeweeException

from portal import sanitize, store
from portal.reports.results import format_percent
from portal.services import organisation
from portal.web.locale import current_language
from surveys.answers import FieldError
from surveys.definition import Text


def localized(value: Any) -> Any:
    """A definition Text in the current language; anything else unchanged."""
    return value.get(current_language()) if isinstance(value, Text) else value


def error_message(error: FieldError) -> str:
    """A validation error of ``surveys.answers`` in the current language."""
    params = {k: localized(v) for k, v in error.params.items()}
    return gettext(error.message, **params)


def paragraphs(text: str) -> list[str]:
    """Split plain text into paragraphs at blank lines."""
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def survey_support(survey: Any) -> str:
    """The support contacts HR entered for ``survey``, else the organisation's, else the
    default text."""
    return organisation.support_text(survey) or default_support_text()


def org_logo_text() -> str:
    """The organisation's logo text for the header of every page (empty: none)."""
    try:
        return store.org_profile().logo_text or ""
    except (PeeweeException, store.StoreError):
        return ""  # an error page (database unavailable) still renders


def default_support_text() -> str:
    """What staff are told when HR has entered no support contacts of its own."""
    return gettext(
        "If you have been threatened or exposed to violence, or these questions brought up "
        "something you want to talk about, you can turn to:\n"
        "your manager or the security coordinator (säkerhetssamordnare),\n"
        "your safety representative (skyddsombud),\n"
        "the occupational health service (företagshälsovården), which offers support "
        "conversations.\n\n"
        "In an emergency, call 112. For advice as a victim of crime: Brottsofferjouren, "
        "116 006."
    )


def percent(value: int) -> str:
    """A whole percentage in the current language: "12 %" (non-breaking space) or "12%"."""
    return format_percent(value, current_language())


def date_or_dash(value: Any) -> str:
    """A date in the current language's medium format; "–" when there is none."""
    return format_date(value, "medium") if value else "–"


def language_url(lang: str) -> str:
    """The current page in another language (GET pages only)."""
    args = request.args.to_dict()
    args["lang"] = lang
    from urllib.parse import urlencode

    return f"{request.path}?{urlencode(args)}"


def register(app: Flask) -> None:
    """Install the globals and filters."""
    app.jinja_env.globals.update(
        current_language=current_language,
        language_url=language_url,
        error_message=error_message,
        survey_support=survey_support,
        org_logo_text=org_logo_text,
        default_support_text=default_support_text,
    )
    app.jinja_env.filters.update(
        localized=localized,
        paragraphs=paragraphs,
        # HR's formatted texts: the allow-listed subset, everything else removed or escaped.
        formatted=sanitize.formatted,
        number=format_decimal,
        percent=percent,
        date=date_or_dash,
        # Stored times are naive UTC; shown in BABEL_DEFAULT_TIMEZONE (Europe/Stockholm).
        datetime=lambda value, fmt="short": format_datetime(value, fmt) if value else "",
    )
