"""Configuration: defaults, then ``VARNA_*`` environment variables, then test overrides."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "VARNA_"

DEFAULTS: dict[str, Any] = {
    # Respondent forms are small; anything bigger is refused with 413.
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "MAX_FORM_PARTS": 500,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "varna",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the browser session
    # Flask-WTF's strict HTTPS check demands a same-origin Referer on every POST,
    # but every page sends "Referrer-Policy: no-referrer" (anonymity), so browsers
    # send none and every form over HTTPS would fail. The CSRF token and the
    # SameSite session cookie remain the protection.
    "WTF_CSRF_SSL_STRICT": False,
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
    "LANGUAGES": ("sv", "en"),
    # None: derived from where the portal listens (default_base_url), see create_app.
    "BASE_URL": None,
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    # The number of trusted reverse proxies in front of the portal (0: none). The
    # client address then comes from X-Forwarded-For (see portal/web/security.py).
    "BEHIND_PROXY": 0,
    # Respondent rate limits, per process and per client (a keyed hash of the real
    # client address, in memory only; see portal/web/security.py and the README's
    # figure for code guessing). A client's wrong codes are free up to the first
    # number, then each must wait twice as long as the one before, up to the cap;
    # a valid code is checked before anything survey-wide could refuse it.
    "CODE_FAILURES_PER_CLIENT": 10,  # free wrong codes per hour
    "CODE_MAX_DELAY_SECONDS": 60,
    "SUBMISSIONS_PER_CLIENT": 30,  # per hour; generous, a whole office may share an address
    # Admin passwords: Argon2id with argon2-cffi's RFC 9106 low-memory profile
    # (64 MiB, t=3, p=4), above OWASP's minimum of 19 MiB and t=2.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,  # KiB
    "ARGON2_PARALLELISM": 4,
    # Admin login throttling, kept in the database so that every worker sees it.
    # Per account: slowed after 5 failures within the window, locked after 10.
    # Per client: higher, since a whole office often shares one address.
    "LOGIN_ACCOUNT_SLOWDOWN_AFTER": 5,
    "LOGIN_ACCOUNT_LOCK_AFTER": 10,
    "LOGIN_CLIENT_SLOWDOWN_AFTER": 10,
    "LOGIN_CLIENT_LOCK_AFTER": 30,
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    "LOGIN_LOCK_SECONDS": 15 * 60,
    "LOGIN_DELAY_SECONDS": 2,  # the first wait; it doubles with each further failure
    # The purge button deletes raw rows for about this long per request, in short
    # transactions; the rest is finished by "Continue the purge" or the next tick.
    "PURGE_REQUEST_SECONDS": 2,
    # Admin sessions end after inactivity and, regardless, after a working day.
    "ADMIN_IDLE_TIMEOUT_MINUTES": 30,
    "ADMIN_SESSION_MAX_HOURS": 12,
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    # Sign-in (issue 21). A TOTP second factor is required for administrators, and
    # for every role with VARNA_REQUIRE_MFA=1. Single sign-on with OpenID Connect is
    # on when VARNA_SSO_ISSUER is set; VARNA_PASSWORD_LOGIN=0 then leaves password
    # login only to the break-glass administrator (VARNA_BREAK_GLASS_ADMIN).
    "REQUIRE_MFA": False,
    "PASSWORD_LOGIN": True,
    "BREAK_GLASS_ADMIN": "",
    "SSO_ISSUER": "",
    "SSO_CLIENT_ID": "",
    "SSO_CLIENT_SECRET": "",
    "SSO_SCOPES": "openid email profile",
    "SSO_EMAIL_CLAIM": "email",
    "SSO_ROLE_CLAIM": "groups",
    "SSO_ROLE_MAP": "",
    "SSO_CLOCK_SKEW_SECONDS": 60,
    # Submissions wait sealed in the inbox until at least twice this many
    # have arrived; the mixer then moves all but this many, as one batch
    # (portal/store/inbox.py). Never below 2.
    "MIX_BATCH": 10,
}


def proxy_count(value: str) -> int:
    """``VARNA_BEHIND_PROXY``: a number of proxies; "true"/"yes" mean one, "false"/"no" none."""
    value = value.strip().lower()
    if value in ("true", "yes", "on"):
        return 1
    if value in ("false", "no", "off", ""):
        return 0
    count = int(value)
    if not 0 <= count <= 5:
        raise ValueError(value)
    return count


# Environment variable (without prefix) → config key and converter.
ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": ("DATABASE_URL", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "BASE_URL": ("BASE_URL", str),
    "SQLITE_BUSY_TIMEOUT_MS": ("SQLITE_BUSY_TIMEOUT_MS", int),
    "MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "BEHIND_PROXY": ("BEHIND_PROXY", proxy_count),
    "SUBMISSIONS_PER_CLIENT": ("SUBMISSIONS_PER_CLIENT", int),
    "CODE_FAILURES_PER_CLIENT": ("CODE_FAILURES_PER_CLIENT", int),
    "CODE_MAX_DELAY_SECONDS": ("CODE_MAX_DELAY_SECONDS", int),
    "ARGON2_TIME_COST": ("ARGON2_TIME_COST", int),
    "ARGON2_MEMORY_COST": ("ARGON2_MEMORY_COST", int),
    "ARGON2_PARALLELISM": ("ARGON2_PARALLELISM", int),
    "LOGIN_ACCOUNT_SLOWDOWN_AFTER": ("LOGIN_ACCOUNT_SLOWDOWN_AFTER", int),
    "LOGIN_ACCOUNT_LOCK_AFTER": ("LOGIN_ACCOUNT_LOCK_AFTER", int),
    "LOGIN_CLIENT_SLOWDOWN_AFTER": ("LOGIN_CLIENT_SLOWDOWN_AFTER", int),
    "LOGIN_CLIENT_LOCK_AFTER": ("LOGIN_CLIENT_LOCK_AFTER", int),
    "LOGIN_WINDOW_SECONDS": ("LOGIN_WINDOW_SECONDS", int),
    "LOGIN_LOCK_SECONDS": ("LOGIN_LOCK_SECONDS", int),
    "LOGIN_DELAY_SECONDS": ("LOGIN_DELAY_SECONDS", int),
    "ADMIN_IDLE_TIMEOUT_MINUTES": ("ADMIN_IDLE_TIMEOUT_MINUTES", int),
    "ADMIN_SESSION_MAX_HOURS": ("ADMIN_SESSION_MAX_HOURS", int),
    "REQUIRE_MFA": ("REQUIRE_MFA", lambda v: v.lower() in ("1", "true", "yes")),
    "PASSWORD_LOGIN": ("PASSWORD_LOGIN", lambda v: v.lower() not in ("0", "false", "no", "off")),
    "BREAK_GLASS_ADMIN": ("BREAK_GLASS_ADMIN", str),
    "SSO_ISSUER": ("SSO_ISSUER", str),
    "SSO_CLIENT_ID": ("SSO_CLIENT_ID", str),
    "SSO_CLIENT_SECRET": ("SSO_CLIENT_SECRET", str),
    "SSO_SCOPES": ("SSO_SCOPES", str),
    "SSO_EMAIL_CLAIM": ("SSO_EMAIL_CLAIM", str),
    "SSO_ROLE_CLAIM": ("SSO_ROLE_CLAIM", str),
    "SSO_ROLE_MAP": ("SSO_ROLE_MAP", str),
    "SSO_CLOCK_SKEW_SECONDS": ("SSO_CLOCK_SKEW_SECONDS", int),
    "MIX_BATCH": ("MIX_BATCH", int),
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the ``VARNA_*`` variables that are set."""
    source: Mapping[str, str] = os.environ if environ is None else environ
    config = {}
    for name, (key, convert) in ENVIRONMENT.items():
        value = source.get(ENV_PREFIX + name)
        if value:
            try:
                config[key] = convert(value)
            except ValueError:
                raise SystemExit(f"{ENV_PREFIX}{name} has an invalid value") from None
    _check_argon2(config)
    _check_sso(config)
    if config.get("MIX_BATCH", 2) < 2:
        raise SystemExit(f"{ENV_PREFIX}MIX_BATCH must be at least 2")
    return config


def _check_sso(config: dict[str, Any]) -> None:
    if not config.get("SSO_ISSUER"):
        return
    if not _issuer_acceptable(config["SSO_ISSUER"]):
        raise SystemExit(f"{ENV_PREFIX}SSO_ISSUER must be an https:// address")
    if not config.get("SSO_CLIENT_ID") or not config.get("SSO_CLIENT_SECRET"):
        raise SystemExit(f"{ENV_PREFIX}SSO_CLIENT_ID and {ENV_PREFIX}SSO_CLIENT_SECRET must be set")
    if not 0 <= config.get("SSO_CLOCK_SKEW_SECONDS", 60) <= 300:
        raise SystemExit(f"{ENV_PREFIX}SSO_CLOCK_SKEW_SECONDS must be between 0 and 300")
    try:
        parse_role_map(config.get("SSO_ROLE_MAP", ""))
    except ValueError as exc:
        raise SystemExit(f"{ENV_PREFIX}SSO_ROLE_MAP: {exc}") from None


def _issuer_acceptable(issuer: str) -> bool:
    """https, or plain http only to this machine's loopback (a provider in the tests)."""
    try:
        parts = urlsplit(issuer)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1")
    )


# OWASP's minimum for Argon2id: 19 MiB of memory and two passes.
ARGON2_MIN_MEMORY_KIB = 19 * 1024
ARGON2_MIN_TIME_COST = 2


def _check_argon2(config: dict[str, Any]) -> None:
    if config.get("ARGON2_MEMORY_COST", ARGON2_MIN_MEMORY_KIB) < ARGON2_MIN_MEMORY_KIB:
        raise SystemExit(f"{ENV_PREFIX}ARGON2_MEMORY_COST must be at least {ARGON2_MIN_MEMORY_KIB}")
    if config.get("ARGON2_TIME_COST", ARGON2_MIN_TIME_COST) < ARGON2_MIN_TIME_COST:
        raise SystemExit(f"{ENV_PREFIX}ARGON2_TIME_COST must be at least {ARGON2_MIN_TIME_COST}")
    if config.get("ARGON2_PARALLELISM", 1) < 1:
        raise SystemExit(f"{ENV_PREFIX}ARGON2_PARALLELISM must be at least 1")


def default_base_url(environ: Mapping[str, str] | None = None) -> str:
    """The address the portal actually listens on, for printed links without VARNA_BASE_URL.

    gunicorn listens on ``VARNA_BIND`` (portal/gunicorn.conf.py), ``python app.py``
    on ``VARNA_HOST``:``VARNA_PORT`` (127.0.0.1:5000 by default). An address that
    listens on every interface is printed with the machine's name.
    """
    source: Mapping[str, str] = os.environ if environ is None else environ
    bind = source.get("VARNA_BIND", "").strip()
    if bind and not bind.startswith("unix:"):
        host, _, port = bind.rpartition(":")
    else:
        host = source.get("VARNA_HOST", "").strip() or "127.0.0.1"
        port = source.get("VARNA_PORT", "").strip() or "5000"
    if host in ("0.0.0.0", "::", "[::]", ""):  # noqa: S104 - naming, not binding
        host = socket.getfqdn()
    return f"http://{host}:{port}"


def default_database_url(instance_path: str) -> str:
    """The embedded SQLite database in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'varna.sqlite3'}"


def instance_secret_key(instance_path: str) -> str:
    """The secret key kept in the instance folder, created once with mode 0600."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    # O_EXCL: when two workers start at once, one writes and the other reads.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


SSO_ROLES = ("admin", "hr", "board")  # the roles of portal.store.models.ROLES


def parse_role_map(text: str) -> dict[str, str]:
    """``"admin=grp-1,grp-2;hr=grp-3"`` as ``{"grp-1": "admin", ...}``; raises ValueError."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        role, sep, values = part.partition("=")
        role = role.strip()
        if not sep or role not in SSO_ROLES:
            raise ValueError(f"unknown role in the role map: {role!r} (use admin, hr or board)")
        for value in values.split(","):
            if value.strip():
                mapping[value.strip()] = role
    return mapping
