"""Who is logged in to the administration, and what they may see.

The session (Flask's signed cookie) holds the account id, the account's
session nonce at login, the login time and the time of the last request.
A session is valid only while the account exists, is enabled and still has
that nonce, and while neither the idle nor the absolute timeout has passed.
Changing the nonce (logout, password change, disabling, re-roling) therefore
ends every session of the account, although a cookie cannot be revoked.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from portal import clock, store
from portal.store.models import User
from portal.web.errors import error_page

SESSION_KEY = "admin"
_MISSING = object()


def current_user() -> User | None:
    """The logged-in, enabled account of this request, or None (cached on ``g``)."""
    cached = g.get("_admin_user", _MISSING)
    if cached is not _MISSING:
        return cached
    user = _user_from_session()
    g._admin_user = user
    return user


def _user_from_session() -> User | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    now = clock.timestamp(clock.utcnow())
    idle = current_app.config["ADMIN_IDLE_TIMEOUT_MINUTES"] * 60
    lifetime = current_app.config["ADMIN_SESSION_MAX_HOURS"] * 3600
    try:
        seen_at, login_at = int(data["seen_at"]), int(data["login_at"])
        user = store.get_user(data["uid"])
        nonce = str(data["nonce"])
    except (KeyError, TypeError, ValueError):
        user = None
    if user is None or user.disabled or user.session_nonce != nonce:
        _end_session()
        return None
    if now - seen_at >= idle or now - login_at >= lifetime:
        _end_session()
        flash(_("Your session has expired. Please log in again."), "info")
        return None
    if now != seen_at:
        session[SESSION_KEY] = {**data, "seen_at": now}
    return user


def _end_session() -> None:
    """Empty the session, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g._admin_user = None


def login_user(user: User) -> None:
    """Start a fresh session for ``user`` (the old session's contents are dropped)."""
    # Clearing the session also replaces the CSRF token: nothing from before the
    # login carries over (no session fixation).
    _end_session()
    now = clock.timestamp(clock.utcnow())
    session[SESSION_KEY] = {
        "uid": user.id,
        "nonce": user.session_nonce,
        "login_at": now,
        "seen_at": now,
    }
    if user.last_login_at is not None:
        # Shown on the overview, so that a login by someone else can be noticed.
        session[SESSION_KEY]["previous_login"] = clock.timestamp(user.last_login_at)
    g._admin_user = user


def previous_login() -> dt.datetime | None:
    """When the account logged in before this session (UTC), if ever."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("previous_login"), int):
        return None
    return clock.EPOCH + dt.timedelta(seconds=data["previous_login"])


def refresh_session(user: User) -> None:
    """Keep this session alive after the account's nonce changed (own password or role)."""
    data = session.get(SESSION_KEY)
    if isinstance(data, dict):
        session[SESSION_KEY] = {**data, "nonce": user.session_nonce}
    g._admin_user = user


def logout_user() -> None:
    """End this session and, by rotating the nonce, every other session of the account."""
    user = current_user()
    if user is not None:
        store.rotate_session_nonce(user.id)
    _end_session()


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def require_role(*roles: str) -> Callable:
    """Allow the view only to logged-in accounts with one of ``roles`` (any role if none).

    Logged out: redirect to the login page, which returns here afterwards.
    Logged in with another role: 403.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            user = current_user()
            if user is None:
                target = request.full_path if request.method == "GET" else None
                if target and target.endswith("?"):
                    target = target[:-1]
                return redirect(url_for("admin.login", next=safe_next(target)))
            if roles and user.role not in roles:
                return error_page(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
