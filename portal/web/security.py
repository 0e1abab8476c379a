"""HTTP hardening: security headers, proxy handling and in-memory rate limits.

The rate limits here protect respondent endpoints. They live in process
memory on purpose: nothing about respondents, not even a hashed address, is
written to the database. With several gunicorn workers each worker counts on
its own, which multiplies the limits by the worker count; the limits are set
with that in mind. Admin login throttling, which must hold across workers, is
kept in the database by the admin blueprint.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

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
    """Install the headers and, behind a reverse proxy, honour X-Forwarded-Proto."""
    if app.config.get("BEHIND_PROXY"):
        # Only the scheme and host are taken from the proxy: the client address
        # (X-Forwarded-For) is deliberately ignored, since it is never used.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1, x_host=1)

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

    app.session_interface = HttpsAwareSessionInterface()
    app.extensions["varna_limits"] = Limits(
        code_failures_per_survey=RateLimiter(app.config["CODE_FAILURES_PER_SURVEY"], 60),
        code_failures_per_client=RateLimiter(app.config["CODE_FAILURES_PER_CLIENT"], 600),
        submissions_per_survey=RateLimiter(app.config["SUBMISSIONS_PER_SURVEY"], 60),
    )


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS.

    Behind a TLS-terminating proxy this relies on X-Forwarded-Proto (see
    VARNA_BEHIND_PROXY); plain-HTTP development on loopback keeps working.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def get_cookie_samesite(self, app: Flask) -> str | None:
        # A cookie that carries an admin login is never sent on requests started
        # by another site, not even top-level links (security requirement 9);
        # respondents keep Lax, so a link from an e-mail opens the survey normally.
        if g.get("admin_session"):
            return "Strict"
        return super().get_cookie_samesite(app)


@dataclass(frozen=True)
class Limits:
    """The respondent rate limits of one process."""

    code_failures_per_survey: RateLimiter
    code_failures_per_client: RateLimiter
    submissions_per_survey: RateLimiter


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


def client_key(secret_key: str) -> str:
    """A keyed hash of the client address, held only in memory for a throttle window."""
    address = request.remote_addr or "-"
    return hmac.new(secret_key.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
