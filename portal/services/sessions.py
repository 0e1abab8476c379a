"""Signed-in administration sessions, kept in the database so that people can see and end them.

The session cookie (Flask's signed cookie) carries a random token; the
database keeps only a hash of it (``admin_session.id``), when the session
started, when it was last used, the browser family and how it signed in — no
address and no full user agent. A session is valid only while its row exists,
so ending a session (by its owner, by an administrator or at logout) takes
effect at the next request, whatever the cookie says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from portal import clock, store
from portal.services import audit
from portal.store.models import AdminSession, User
from surveys import N_

TOUCH_EVERY = dt.timedelta(minutes=1)  # "last active" is written at most this often

# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chromium", re.compile(r"\bChromium/")),
    ("Chrome", re.compile(r"\b(HeadlessChrome|Chrome|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
)


def browser_family(user_agent: str | None) -> str:
    """The browser's family name only ("Firefox", "Chrome", ...; "" when unknown): no version."""
    agent = (user_agent or "")[:512]
    for name, pattern in _BROWSERS:
        if pattern.search(agent):
            return name
    return ""


def session_id(token: str) -> str:
    """The database id of the session whose cookie holds ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, method: str, user_agent: str | None) -> str:
    """Record a new session for ``user``; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    store.create_session(
        session_id(token), user.id, clock.utcnow(), browser_family(user_agent), method
    )
    return token


def current(token: object, user_id: int) -> AdminSession | None:
    """The active session of ``user_id`` with cookie ``token``; notes its use (once a minute)."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = store.get_session(session_id(token), user_id)
    if row is None:
        return None
    now = clock.utcnow()
    if now - row.last_seen_at >= TOUCH_EVERY:
        store.touch_session(row.id, now)
    return row


def end_by_token(token: object) -> None:
    """End the session whose cookie holds ``token`` (logout)."""
    if isinstance(token, str) and token:
        store.end_session(session_id(token))


def list_for(user: User) -> list[AdminSession]:
    """The account's active sessions, most recently used first."""
    return store.sessions_of(user.id)


def end_own(user: User, sid: str) -> bool:
    """End one of ``user``'s own sessions (by its id on the sessions page); False if none."""
    ended = store.end_session(sid, user.id)
    if ended:
        audit.record("session_ended", actor=user, subject=user.email)
    return ended


def end_all_of(account: User, actor: User | None) -> int:
    """End every session of ``account`` (an administrator's action, audited)."""
    ended = store.end_sessions_of(account.id)
    audit.record(
        "sessions_ended",
        actor=actor,
        subject=account.email,
        detail=N_("%(count)d sessions ended"),
        params={"count": ended},
    )
    return ended


def end_everyone(actor: User | None) -> int:
    """End every session of every account, the actor's own included (audited)."""
    ended = store.end_all_sessions()
    audit.record(
        "all_sessions_ended",
        actor=actor,
        detail=N_("%(count)d sessions ended"),
        params={"count": ended},
    )
    return ended


def purge_expired(idle: dt.timedelta, lifetime: dt.timedelta) -> int:
    """Delete the rows of sessions past their idle or absolute timeout."""
    now = clock.utcnow()
    return store.purge_sessions(now - lifetime, now - idle)
