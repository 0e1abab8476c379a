"""HTTP hardening: security headers, proxy handling and in-memory rate limits.

The rate limits here protect respondent endpoints. They are keyed on a keyed
hash of the client's address (the real one given by the trusted proxy when
``VARNA_BEHIND_PROXY`` names how many proxies there are) and live in process
memory on purpose: nothing about respondents, not even a hashed address, is
written to the database, and a key is forgotten when its window has passed.
With several gunicorn workers each worker counts on its own, which multiplies
the limits by the worker count; the limits are set with that in mind. No limit
is kept per survey: one client's failures or floods must never refuse another
client's valid code or answers. Admin login throttling, which must hold across
workers, is kept in the database (``portal.services.throttle``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.web.errors import error_page

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register(app: Flask) -> None:
    """Install the headers and, behind reverse proxies, take the client from them."""
    proxies = int(app.config.get("BEHIND_PROXY") or 0)
    if proxies:
        # The client address and scheme are taken from the last ``proxies``
        # entries of X-Forwarded-For / -Proto, which the trusted proxies append;
        # anything a client put before them is ignored. The address is used only
        # as a keyed hash for the in-memory limits. X-Forwarded-Host is never
        # trusted: absolute links come from VARNA_BASE_URL.
        # Flask documents wrapping wsgi_app in middleware; its stubs declare it a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0
        )

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if request.endpoint != "static":
            # Answers and admin pages must never sit in a shared or browser cache.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response

    def reject_unreadable_input():
        # A NUL byte or a percent-encoded sequence that is not UTF-8 is never typed
        # by a person; werkzeug would keep it literally ("%C3(") and PostgreSQL
        # cannot store a NUL at all. Refused with a 400 in the user's language.
        if not readable_input():
            return error_page(
                400,
                _("The form could not be read"),
                _(
                    "Some characters in what was sent could not be read. Go back, check your "
                    "answers and send again."
                ),
            )
        return None

    # First of all hooks: the CSRF check reads the form, and the body must be read
    # (and cached for the form parser) before that.
    app.before_request_funcs.setdefault(None, []).insert(0, reject_unreadable_input)

    @app.before_request
    def reload_cross_site_links():
        # A link from another site into the logged-in area comes without the Strict
        # admin cookie. Reload the page from this site: the browser then sends the
        # cookie, and the session is neither lost nor overwritten.
        if (
            request.method == "GET"
            and in_admin_area(request.path)
            and cross_site()
            and not any(name in request.cookies for name in (ADMIN_COOKIE, ADMIN_COOKIE_HTTPS))
        ):
            target = request.full_path.rstrip("?")
            page = render_template("reload.html", target=target)
            return page, 200, {"Refresh": f"0; url={target}"}
        return None

    app.session_interface = SplitSessionInterface()
    app.extensions["varna_limits"] = Limits(
        code_failures=SlowDown(
            free=app.config["CODE_FAILURES_PER_CLIENT"],
            base_delay=1,
            max_delay=app.config["CODE_MAX_DELAY_SECONDS"],
            window=3600,
        ),
        submissions=RateLimiter(app.config["SUBMISSIONS_PER_CLIENT"], 3600),
    )


ADMIN_AREAS = ("/admin", "/board")
ADMIN_COOKIE = "varna-admin"
# Over HTTPS the admin cookie carries the __Host- prefix: browsers then accept it
# only with Secure, Path=/ and no Domain, so no subdomain can set or shadow it.
ADMIN_COOKIE_HTTPS = "__Host-varna-admin"


def in_admin_area(path: str) -> bool:
    """Whether ``path`` belongs to the logged-in area (administration and board)."""
    return any(path == area or path.startswith(area + "/") for area in ADMIN_AREAS)


def _secure(app: Flask) -> bool:
    return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class SplitSessionInterface(SecureCookieSessionInterface):
    """Two session cookies: one for respondents' pages, one for the logged-in area.

    Respondent pages (``varna``, SameSite=Lax, so that a link from an e-mail
    works) keep only the CSRF token and the language. The administration and
    the board have a cookie of their own, ``__Host-varna-admin`` over HTTPS,
    always SameSite=Strict, holding the login: nothing a respondent page does
    (choosing a language, following a link from another site to a survey)
    can re-issue it with weaker attributes or overwrite it. A request that
    reaches the logged-in area from another site (``Sec-Fetch-Site:
    cross-site``) arrives without the Strict cookie; it is answered without
    touching the cookie (see ``register``), so such a link never logs anyone out.
    """

    def get_cookie_name(self, app: Flask) -> str:
        if request and in_admin_area(request.path):
            return ADMIN_COOKIE_HTTPS if _secure(app) else ADMIN_COOKIE
        return super().get_cookie_name(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return _secure(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        if in_admin_area(request.path):
            return "Strict"
        return super().get_cookie_samesite(app)

    def get_cookie_path(self, app: Flask) -> str:
        return "/"  # required by the __Host- prefix, and the same for both cookies

    def get_cookie_domain(self, app: Flask) -> str | None:
        return None  # a host-only cookie (also required by the __Host- prefix)

    def save_session(self, app: Flask, session, response) -> None:
        if in_admin_area(request.path) and cross_site():
            return  # the Strict cookie was not sent: never overwrite it
        super().save_session(app, session, response)


def cross_site() -> bool:
    """Whether the browser says this request was started by another site."""
    return request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site"


@dataclass(frozen=True)
class Limits:
    """The respondent rate limits of one process, each keyed on a hashed client address."""

    code_failures: SlowDown
    submissions: RateLimiter


def limits() -> Limits:
    """The current app's limits."""
    return current_app.extensions["varna_limits"]


class RateLimiter:
    """A sliding-window counter per key, in memory, forgetting keys after the window."""

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ):
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def blocked(self, key: str) -> bool:
        """Whether ``key`` has used up its allowance in the current window."""
        with self._lock:
            now = self.clock()
            hits = self._prune(key, now)
            if not hits:
                del self._hits[key]
            return len(hits) >= self.limit

    def hit(self, key: str) -> None:
        """Count one event for ``key``."""
        with self._lock:
            now = self.clock()
            self._prune(key, now).append(now)
            if len(self._hits) > 10_000:
                # Bound memory under a flood of distinct keys: drop idle ones.
                for stale in [
                    k for k, v in self._hits.items() if not v or v[-1] <= now - self.window
                ]:
                    del self._hits[stale]

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again."""
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 0
            return max(1, int(hits[0] + self.window - self.clock()) + 1)


class SlowDown:
    """Wrong attempts per key, in memory: free ones, then a doubling wait up to a cap.

    Only failures count, and a key is forgotten an hour (``window``) after its
    last failure. While a key must wait, ``wait`` says for how long; nothing
    else (no other key, no survey-wide count) ever makes a key wait.
    """

    def __init__(
        self,
        free: int,
        base_delay: float,
        max_delay: float,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.free = free
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.window = window
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failures: zero while free, then doubling, capped."""
        if failures < self.free:
            return 0.0
        # The exponent is capped before the power is taken: no overflow, ever.
        return min(self.base_delay * 2 ** min(failures - self.free, 32), self.max_delay)

    def _current(self, key: str, now: float) -> tuple[int, float] | None:
        state = self._failures.get(key)
        if state is not None and state[1] <= now - self.window:
            del self._failures[key]
            return None
        return state

    def wait(self, key: str) -> int:
        """Whole seconds ``key`` must still wait before its next attempt (0: it may try)."""
        with self._lock:
            now = self.clock()
            state = self._current(key, now)
            if state is None:
                return 0
            failures, last = state
            remaining = last + self.delay(failures) - now
            return max(1, math.ceil(remaining)) if remaining > 0 else 0

    def failure(self, key: str) -> None:
        """Count one wrong attempt for ``key``."""
        with self._lock:
            now = self.clock()
            state = self._current(key, now)
            self._failures[key] = ((state[0] if state else 0) + 1, now)
            if len(self._failures) > 10_000:
                # Bound memory under a flood of distinct keys: drop idle ones.
                for stale in [k for k, v in self._failures.items() if v[1] <= now - self.window]:
                    del self._failures[stale]


FORM_TYPE = "application/x-www-form-urlencoded"


def readable_input() -> bool:
    """Whether the query string and a urlencoded body decode as UTF-8 without NUL bytes."""
    parts = [request.query_string]
    if request.method == "POST" and request.mimetype == FORM_TYPE:
        # Cached, so that the form is parsed from the same bytes afterwards.
        parts.append(request.get_data(cache=True))
    for raw in parts:
        try:
            text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if "\x00" in text:
            return False
    return True


def client_key(secret_key: str) -> str:
    """A keyed hash of the client address, held only in memory for a throttle window."""
    address = request.remote_addr or "-"
    return hmac.new(secret_key.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
