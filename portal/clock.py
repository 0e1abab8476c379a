"""The current time, in one place, so that tests can move it without sleeping."""

from __future__ import annotations

import datetime as dt

from flask import current_app, has_app_context

EPOCH = dt.datetime(1970, 1, 1)


def utcnow() -> dt.datetime:
    """Now in UTC as a naive datetime (how times are stored).

    Tests inject a clock with ``app.config["CLOCK"]``: a callable returning
    such a datetime.
    """
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def timestamp(moment: dt.datetime) -> int:
    """Whole seconds since the epoch for a naive UTC datetime (kept in the session cookie)."""
    return int((moment - EPOCH).total_seconds())
