"""Administration accounts: logging in (with throttling) and managing accounts.

Plain functions called by the admin views and the command line. Refusals are
exceptions carrying a message for the user; every change is written to the
audit log and rotates the affected account's session nonce (in ``store``).
"""

from __future__ import annotations

import math
import re

from flask import current_app

from portal import clock, codes, store
from portal.services import audit, passwords, throttle
from portal.store.models import ROLES, User
from surveys import N_


class AccountError(Exception):
    """A refused account operation; ``message`` (an English msgid) and ``params`` say why."""

    message = N_("The change could not be made.")

    def __init__(self, message: str | None = None, **params: int | str):
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.params = params


class LoginRefused(AccountError):
    """Wrong e-mail or password (one message for both), or the account is disabled."""

    message = N_("The e-mail address or the password is wrong.")


class LoginThrottled(AccountError):
    """Too many recent failures: wait (``seconds``) or locked (``minutes``)."""

    retry_after = 1  # seconds, for the Retry-After header


class WrongPassword(AccountError):
    """The current password given to change one's own password is wrong."""

    message = N_("Your current password is wrong.")


class LastAdmin(AccountError):
    """The change would leave no active administrator."""

    message = N_(
        "This is the last active administrator account. Give another account the "
        "administrator role first."
    )


class InvalidEmail(AccountError):
    """Not an e-mail address."""

    message = N_("Enter an e-mail address, like name@example.se.")


EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


def check_email(email: str) -> str:
    """``email`` normalised (trimmed, lower-case); raises InvalidEmail."""
    normalised = store.normalise_email(email)
    if len(normalised) > 254 or not EMAIL_PATTERN.match(normalised):
        raise InvalidEmail()
    return normalised


class EmailTaken(AccountError):
    """Another account has the e-mail address."""

    message = N_("An account with this e-mail address exists already.")


# -- logging in --------------------------------------------------------------------------


def _account_key(email: str) -> str:
    # A keyed hash: failed logins for a mistyped or unknown address leave no
    # readable trace of what was typed.
    secret = current_app.config["SECRET_KEY"]
    return "account:" + codes.keyed_hash(secret, "login-account", store.normalise_email(email))[:64]


def _policies() -> dict[str, throttle.Policy]:
    config = current_app.config
    return {
        "account": throttle.Policy.from_config(config, "ACCOUNT"),
        "client": throttle.Policy.from_config(config, "CLIENT"),
    }


def _login_keys(email: str, client: str) -> dict[str, str]:
    return {"account": _account_key(email), "client": "client:" + client}


def _refuse_if_throttled(keys: dict[str, str]) -> None:
    """Raise LoginThrottled while any of ``keys`` must wait or is locked."""
    now = clock.utcnow()
    policies = _policies()
    # Old rows go first: a client's hashed address is kept no longer than it matters.
    store.purge_throttle(now, now - max(p.keep_for for p in policies.values()))
    states = store.throttle_states(keys.values())
    verdicts = [throttle.verdict(states.get(keys[k]), policies[k], now) for k in keys]
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        raise _throttled(max(refused, key=lambda v: (v.locked, v.wait_seconds)))


def _lock_minutes() -> int:
    return max(1, math.ceil(_policies()["account"].lock.total_seconds() / 60))


def _count_failure(keys: dict[str, str]) -> str:
    """Count a failure for every key; returns a note for the audit log when one got locked."""
    now = clock.utcnow()
    policies = _policies()
    locked = []
    for kind, key in keys.items():
        policy = policies[kind]
        state = store.record_throttle_failure(
            key, now, lambda state, policy=policy: throttle.after_failure(state, policy, now)
        )
        if state.locked_until is not None:
            locked.append(kind)
    if "account" in locked and "client" in locked:
        return N_("The account and the client were locked for %(minutes)d minutes.")
    if "account" in locked:
        return N_("The account was locked for %(minutes)d minutes.")
    if "client" in locked:
        return N_("The client was locked for %(minutes)d minutes.")
    return ""


def authenticate(email: str, password: str, *, client: str) -> User:
    """The enabled account for ``email`` and ``password``, or LoginRefused/LoginThrottled.

    Both the account (the address typed) and the client are throttled. An
    unknown address takes as long as a wrong password and gives the same
    message. A locked key cannot log in even with the right password.
    """
    keys = _login_keys(email, client)
    _refuse_if_throttled(keys)
    user = store.get_user_by_email(email)
    if not passwords.verify_password(user.password_hash if user else None, password):
        note = _count_failure(keys)
        # The address is recorded only when it belongs to an account: a typed
        # password (or anything else) in the e-mail field never reaches the log.
        audit.record(
            "login_failed",
            actor=None,
            subject=user.email if user else "",
            detail=note,
            params={"minutes": _lock_minutes()} if note else None,
        )
        raise LoginRefused()
    if user.disabled:
        audit.record(
            "login_failed", actor=None, subject=user.email, detail=N_("The account is disabled.")
        )
        raise LoginRefused(N_("This account is disabled. Ask an administrator for help."))
    store.clear_throttle(keys["account"])
    # Hashes made with older Argon2 parameters are upgraded while the password is at hand.
    new_hash = None
    if passwords.needs_rehash(user.password_hash):
        new_hash = passwords.hash_password(password)
    store.record_login(user.id, clock.utcnow(), new_hash)
    audit.record("login", actor=user)
    return user


def _throttled(verdict: throttle.Verdict) -> LoginThrottled:
    refusal = _throttled_message(verdict)
    refusal.retry_after = verdict.wait_seconds
    return refusal


def _throttled_message(verdict: throttle.Verdict) -> LoginThrottled:
    if verdict.locked:
        return LoginThrottled(
            N_(
                "Too many failed logins. Login is locked for %(minutes)d minutes; "
                "try again after that."
            ),
            minutes=max(1, math.ceil(verdict.wait_seconds / 60)),
        )
    return LoginThrottled(
        N_("Too many failed logins. Wait %(seconds)d seconds before you try again."),
        seconds=verdict.wait_seconds,
    )


# -- managing accounts ---------------------------------------------------------------------


def create_account(
    email: str, role: str, password: str | None = None, actor: User | None = None
) -> tuple[User, str | None]:
    """Create an account; without ``password`` one is generated and returned (to show once).

    Raises passwords.PasswordRejected or EmailTaken.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = check_email(email)
    generated = None
    if password is None:
        password = generated = passwords.generate_password()
    else:
        passwords.check_policy(password, email)
    try:
        user = store.create_user(email, passwords.hash_password(password), role, clock.utcnow())
    except store.DuplicateEmail:
        raise EmailTaken() from None
    audit.record(
        "account_created",
        actor=actor,
        subject=user.email,
        detail=N_("Role: %(role)s"),
        params={"role": role},
    )
    return user, generated


def change_role(user: User, role: str, actor: User | None) -> User:
    """Give ``user`` another role; raises LastAdmin."""
    if role == user.role:
        return user
    try:
        updated = store.set_user_role(user.id, role)
    except store.LastActiveAdmin:
        raise LastAdmin() from None
    audit.record(
        "role_changed",
        actor=actor,
        subject=user.email,
        detail=N_("From %(old_role)s to %(new_role)s"),
        params={"old_role": user.role, "new_role": role},
    )
    return updated


def set_disabled(user: User, disabled: bool, actor: User | None) -> User:
    """Disable (ending its sessions) or enable ``user``; raises LastAdmin."""
    if disabled == user.disabled:
        return user
    try:
        updated = store.set_user_disabled(user.id, disabled)
    except store.LastActiveAdmin:
        raise LastAdmin() from None
    audit.record(
        "account_disabled" if disabled else "account_enabled", actor=actor, subject=user.email
    )
    return updated


def reset_password(user: User, password: str | None, actor: User | None) -> tuple[User, str | None]:
    """Set a new password for ``user`` (generated when None, and returned to show once)."""
    generated = None
    if password is None:
        password = generated = passwords.generate_password()
    else:
        passwords.check_policy(password, user.email)
    updated = store.set_password_hash(user.id, passwords.hash_password(password))
    audit.record("password_reset", actor=actor, subject=user.email)
    return updated, generated


def change_own_password(user: User, current: str, new: str, *, client: str) -> User:
    """Change one's own password after checking the current one; other sessions end.

    Wrong current passwords count like failed logins, so that a session left
    open cannot be used to guess the password.
    """
    keys = _login_keys(user.email, client)
    _refuse_if_throttled(keys)
    if not passwords.verify_password(user.password_hash, current):
        _count_failure(keys)
        raise WrongPassword()
    passwords.check_policy(new, user.email)
    updated = store.set_password_hash(user.id, passwords.hash_password(new))
    audit.record("password_changed", actor=user, subject=user.email)
    return updated
