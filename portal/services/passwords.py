"""Admin passwords: Argon2id hashes and the password policy.

The Argon2 parameters come from the configuration (``ARGON2_*``) so that the
test suite can use cheap ones; ``VARNA_ARGON2_*`` environment values below
OWASP's minimum for Argon2id (19 MiB, t=2) are refused at start (see
``portal.config``).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

from surveys import N_

MIN_LENGTH = 12
MAX_LENGTH = 256  # generous (OWASP: no maximum below 64), but bounded: hashing costs CPU


class PasswordRejected(Exception):
    """A new password breaks the policy; ``messages`` say why (English msgids with params)."""

    def __init__(self, messages: list[PolicyMessage]):
        super().__init__("; ".join(m.english() for m in messages))
        self.messages = messages


@dataclass(frozen=True)
class PolicyMessage:
    """One reason a password was refused, translated where it is shown."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        """The message in English (for the command line)."""
        return self.message % self.params


def init_app(app: Flask) -> None:
    """Build the app's hasher from its ``ARGON2_*`` settings."""
    app.extensions["varna_password_hasher"] = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )


def _hasher() -> PasswordHasher:
    return current_app.extensions["varna_password_hasher"]


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` with the configured parameters."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash, spend the same time and say no."""
    if password_hash is None:
        # Verify against a hash with the same parameters, so that an unknown e-mail
        # address takes as long as a wrong password (no account enumeration by timing).
        dummy = current_app.extensions.get("varna_dummy_hash")
        if dummy is None:
            dummy = current_app.extensions["varna_dummy_hash"] = _hasher().hash("timing only")
        with contextlib.suppress(VerificationError):
            _hasher().verify(dummy, password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the configured ones."""
    return _hasher().check_needs_rehash(password_hash)


def policy_problems(password: str, email: str = "") -> list[PolicyMessage]:
    """Why ``password`` is not acceptable for the account ``email`` (empty when it is)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(
            PolicyMessage(
                N_("The password must be at least %(min)d characters long."), {"min": MIN_LENGTH}
            )
        )
    if len(password) > MAX_LENGTH:
        problems.append(
            PolicyMessage(
                N_("The password must be at most %(max)d characters long."), {"max": MAX_LENGTH}
            )
        )
    lowered = password.strip().lower()
    local_part = email.split("@", 1)[0].lower()
    if email and (lowered == email.lower() or (len(local_part) >= 4 and lowered == local_part)):
        problems.append(PolicyMessage(N_("The password must not be your e-mail address.")))
    if password and len(set(password)) < 4:
        problems.append(PolicyMessage(N_("The password must not repeat only a few characters.")))
    if is_common(password):
        problems.append(
            PolicyMessage(
                N_(
                    "This password is among the most common passwords, which attackers try "
                    "first. Choose another, for example a few unrelated words."
                )
            )
        )
    return problems


COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
# Local words that lists of leaked passwords under-represent for a Swedish municipality.
LOCAL_COMMON = frozenset(
    {
        "lösenord",
        "losenord",
        "sommar",
        "vinter",
        "hösten",
        "hosten",
        "våren",
        "varen",
        "sverige",
        "kommun",
        "kommunen",
        "socialtjänst",
        "socialtjanst",
        "välkommen",
        "valkommen",
        "varna",
        "värna",
    }
)
_TRAILING = re.compile(r"[\d\W_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of the 20,000 most common passwords (lower-case) and local words."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip()) | LOCAL_COMMON


def is_common(password: str) -> bool:
    """Whether ``password`` is a common one, also with digits or symbols added at its end.

    "password1234", "Sommar2026!" and "dragon123456" are all refused: attackers
    try the list's words with such endings first.
    """
    lowered = password.strip().lower()
    if not lowered:
        return False
    common = common_passwords()
    if lowered in common:
        return True
    stem = _TRAILING.sub("", lowered)
    return len(stem) >= 3 and stem in common


def check_policy(password: str, email: str = "") -> None:
    """Raise PasswordRejected when ``password`` breaks the policy."""
    problems = policy_problems(password, email)
    if problems:
        raise PasswordRejected(problems)


_GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def generate_password() -> str:
    """A random initial password (about 110 bits), grouped for reading: ``xxxxx-xxxxx-…``."""
    import secrets

    chars = "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(20))
    return "-".join(chars[i : i + 5] for i in range(0, 20, 5))
