"""The second factor for password logins: TOTP (RFC 6238) and one-time recovery codes.

Enrolment: ``new_secret`` makes a secret, shown as a QR code
(``portal.services.access.qr_svg`` of ``provisioning_uri``) and as text;
``portal.services.accounts.confirm_enrolment`` stores it only after a code
from the person's app matched (``matching_step``), and returns ten recovery
codes (``new_recovery_codes``) to show once; only their keyed hashes (HMAC
with the secret key) are stored. ``accounts.verify_second_factor`` checks a
code or a recovery code at login, throttled like passwords.

The secret is stored encrypted (AES-256-GCM, ``cryptography``, which Authlib
brings) with a key derived from the portal's secret key, and the account id as
associated data: a copy of the database alone (threat T1) cannot generate
codes, and a secret cannot be moved to another account's row. Rotating
``VARNA_SECRET_KEY`` therefore makes every enrolled second factor unusable:
administrators then reset them (``flask reset-mfa``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal import clock

ISSUER = "Värna"
INTERVAL = 30  # seconds per code
VALID_WINDOW = 1  # the code before and after the current one are accepted (clock drift)
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_SECRET_VERSION = "v1"  # noqa: S105 - a format tag, not a secret


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"varna totp secret v1", hashlib.sha256).digest()


def encrypt_secret(secret_key: str, user_id: int, secret: str) -> str:
    """``secret`` encrypted for the account ``user_id`` (text for the database)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), str(user_id).encode())
    return f"{_SECRET_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt_secret(secret_key: str, user_id: int, stored: str | None) -> str | None:
    """The account's TOTP secret, or None when there is none or it cannot be decrypted."""
    if not stored or not stored.startswith(_SECRET_VERSION + ":"):
        return None
    try:
        raw = base64.urlsafe_b64decode(stored.split(":", 1)[1])
        plain = AESGCM(_key(secret_key)).decrypt(raw[:12], raw[12:], str(user_id).encode())
    except (ValueError, InvalidTag):
        return None
    return plain.decode()


def new_secret() -> str:
    """A fresh random TOTP secret (160 bits, base32)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=email, issuer_name=ISSUER)


def _step(moment: dt.datetime) -> int:
    return int(clock.timestamp(moment)) // INTERVAL


def matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step whose code ``code`` is (within the allowed drift), or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    current = _step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, moment: dt.datetime) -> str:
    """The code for ``moment`` (what the person's app shows then)."""
    return pyotp.TOTP(secret, interval=INTERVAL).generate_otp(_step(moment))


def new_recovery_codes() -> list[str]:
    """Ten random recovery codes, ``xxxxx-xxxxx`` (about 49 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{chars[:5]}-{chars[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    """A typed recovery code without spaces, lower-case, with its dash."""
    compact = "".join(c for c in code.lower() if c.isalnum())
    return f"{compact[:5]}-{compact[5:]}" if len(compact) == 10 else ""


def looks_like_recovery_code(code: str) -> bool:
    """Whether ``code`` has the shape of a recovery code (not of a six-digit TOTP code)."""
    return bool(normalise_recovery_code(code))
