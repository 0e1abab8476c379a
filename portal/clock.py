"""The current time and date, in one place for the web, the CLI and the services.

Times are stored as naive UTC datetimes. Dates (a survey's opening and closing
days, an exit response's reporting period) are dates where the portal is used:
``BABEL_DEFAULT_TIMEZONE`` (Europe/Stockholm by default). Tests move the clock
with ``app.config["CLOCK"]`` (a callable returning a naive UTC datetime) or
fix the date with ``app.config["TODAY"]``; outside an application context the
system clock and the default zone are used.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

EPOCH = dt.datetime(1970, 1, 1)
DEFAULT_ZONE = "Europe/Stockholm"


def utcnow() -> dt.datetime:
    """Now in UTC as a naive datetime (how times are stored)."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def zone() -> ZoneInfo:
    """The time zone of the portal's users (``BABEL_DEFAULT_TIMEZONE``)."""
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def today() -> dt.date:
    """Today's date where the portal is used."""
    if has_app_context() and current_app.config.get("TODAY"):
        return current_app.config["TODAY"]
    return utcnow().replace(tzinfo=dt.UTC).astimezone(zone()).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day``, as a naive UTC datetime."""
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=zone())
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)


def timestamp(moment: dt.datetime) -> int:
    """Whole seconds since the epoch for a naive UTC datetime (kept in the session cookie)."""
    return int((moment - EPOCH).total_seconds())
