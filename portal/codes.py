"""Access codes and keyed hashes: how codes look, how they are typed, how they are hashed.

No database here: the store keeps only the keyed hashes these functions make,
and the lifecycle service issues new codes with ``new_codes``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford's base32 without the look-alikes I, L, O and U: 32 symbols, 5 bits each.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: far beyond guessing under the code-entry rate limit


def new_codes(count: int) -> list[str]:
    """``count`` distinct random codes (normalised, without the dash), sorted."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    return sorted(codes)


def normalise_code(code: str) -> str:
    """Upper-case, without spaces and dashes, with look-alikes mapped (O→0, I/L→1)."""
    cleaned = "".join(c for c in code.upper() if c not in " -\t\u00a0\u2010\u2011\u2013")
    return cleaned.translate(str.maketrans("OIL", "011"))


def keyed_hash(secret_key: str, kind: str, value: str) -> str:
    """HMAC-SHA256, so a stolen database does not let anyone test guesses offline."""
    return hmac.new(secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def code_hash(secret_key: str, code: str) -> str:
    """The stored form of an access code, however it was typed."""
    return keyed_hash(secret_key, "code", normalise_code(code))


def format_code(code: str) -> str:
    """Show a code in two groups for reading aloud and typing: ``ABCDE-FGHJK``."""
    return f"{code[:5]}-{code[5:]}"
