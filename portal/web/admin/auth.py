"""Who is logged in to the administration, and what they may see.

The session (Flask's signed cookie) holds the account id, the account's
session nonce at login, the login time and the time of the last request.
A session is valid only while the account exists, is enabled and still has
that nonce, and while neither the idle nor the absolute timeout has passed.
Changing the nonce (password change, disabling, re-roling) therefore
ends every session of the account, although a cookie cannot be revoked.

Each session also has a row in the database (``portal.services.sessions``),
found by the random token in the cookie: deleting the row (logout, the
person ending it on their sessions page, an administrator ending all of an
account's or everyone's) ends that session at its next request.

A password login that needs a second factor passes through a *pending*
state first (``begin_pending``/``pending_user``): the cookie then names the
account but grants nothing until the code (or the enrolment) succeeds.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from portal import clock, store
from portal.services import sessions
from portal.store.models import User
from portal.web.errors import error_page

SESSION_KEY = "admin"
PENDING_KEY = "pending_login"
PENDING_LIFETIME = 10 * 60  # seconds from the password to the second factor
_MISSING = object()
# Pages open to a session whose password an administrator generated.
PASSWORD_CHANGE_ENDPOINTS = {"admin.password", "admin.logout", "admin.sessions"}


def current_user() -> User | None:
    """The logged-in, enabled account of this request, or None (cached on ``g``)."""
    cached = g.get("_admin_user", _MISSING)
    if cached is not _MISSING:
        return cached
    user = _user_from_session()
    g._admin_user = user
    return user


def signed_in_user() -> User:
    """``current_user()`` in a view behind ``require_role``, which lets no one else in."""
    user = current_user()
    if user is None:
        abort(401)
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
        sessions.end_by_token(data.get("sid"))
        _end_session()
        flash(_("Your session has expired. Please log in again."), "info")
        return None
    row = sessions.current(data.get("sid"), user.id)
    if row is None:
        # Ended elsewhere: by its owner on another device, or by an administrator.
        _end_session()
        return None
    g.admin_session_id = row.id
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


def login_user(user: User, method: str = "password") -> None:
    """Start a fresh session for ``user`` (the old session's contents are dropped).

    ``method`` ("password" or "sso") is shown on the sessions page.
    """
    # Clearing the session also replaces the CSRF token: nothing from before the
    # login carries over (no session fixation).
    _end_session()
    config = current_app.config
    # Rows of sessions that timed out without a logout go here, so the lists stay true.
    sessions.purge_expired(
        dt.timedelta(minutes=config["ADMIN_IDLE_TIMEOUT_MINUTES"]),
        dt.timedelta(hours=config["ADMIN_SESSION_MAX_HOURS"]),
    )
    now = clock.timestamp(clock.utcnow())
    token = sessions.start(user, method, request.user_agent.string)
    session[SESSION_KEY] = {
        "uid": user.id,
        "nonce": user.session_nonce,
        "login_at": now,
        "seen_at": now,
        "sid": token,
        "method": method,
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
    """Keep this session alive after the account's nonce changed (own password or role).

    The change ended every session of the account (their rows are gone): this
    one continues under a new token, so a copy of the old cookie is useless.
    """
    data = session.get(SESSION_KEY)
    if isinstance(data, dict):
        sessions.end_by_token(data.get("sid"))
        token = sessions.start(user, data.get("method", "password"), request.user_agent.string)
        session[SESSION_KEY] = {**data, "nonce": user.session_nonce, "sid": token}
    g._admin_user = user


def session_method() -> str:
    """How this session signed in: "password" or "sso"."""
    data = session.get(SESSION_KEY)
    return data.get("method", "password") if isinstance(data, dict) else "password"


def current_session_id() -> str | None:
    """The database id of this request's session (to mark it on the sessions page)."""
    current_user()
    return g.get("admin_session_id")


def logout_user() -> None:
    """End this session: its row is deleted, so a copy of the cookie is useless."""
    data = session.get(SESSION_KEY)
    if isinstance(data, dict):
        sessions.end_by_token(data.get("sid"))
    _end_session()


# -- the pending state between password and second factor ---------------------------------


def begin_pending(user: User, next_page: str | None) -> None:
    """Remember that ``user`` gave the right password; the second factor comes next."""
    _end_session()
    session[PENDING_KEY] = {
        "uid": user.id,
        "nonce": user.session_nonce,
        "at": clock.timestamp(clock.utcnow()),
        "next": next_page,
    }


def pending_user() -> User | None:
    """The account waiting for its second factor, while the pending state is fresh."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        user = store.get_user(data["uid"])
        fresh = clock.timestamp(clock.utcnow()) - int(data["at"]) < PENDING_LIFETIME
    except (KeyError, TypeError, ValueError):
        return None
    if user is None or user.disabled or user.session_nonce != data.get("nonce") or not fresh:
        session.pop(PENDING_KEY, None)
        return None
    return user


def pending_value(key: str):
    """A value kept with the pending state (the page to return to, a secret being enrolled)."""
    data = session.get(PENDING_KEY)
    return data.get(key) if isinstance(data, dict) else None


def set_pending_value(key: str, value) -> None:
    """Keep ``value`` with the pending state."""
    data = session.get(PENDING_KEY)
    if isinstance(data, dict):
        session[PENDING_KEY] = {**data, key: value}


def end_pending() -> None:
    """Forget the pending state."""
    session.pop(PENDING_KEY, None)


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
            if (
                user.must_change_password
                and session_method() == "password"
                and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS
            ):
                return redirect(url_for("admin.password"))
            if roles and user.role not in roles:
                return error_page(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
