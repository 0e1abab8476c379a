"""Administration accounts: logging in (with throttling) and managing accounts.

Plain functions called by the admin views and the command line. Refusals are
exceptions carrying a message for the user; every change is written to the
audit log and rotates the affected account's session nonce (in ``store``).
"""

from __future__ import annotations

import functools
import hmac
import math
import re
from typing import Any

from flask import current_app

from portal import clock, codes, store
from portal.services import audit, mfa, passwords, throttle
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


class PasswordLoginOff(AccountError):
    """Password login is switched off (single sign-on only) for this account."""

    message = N_(
        "Login with a password is switched off. Log in with your organisation's account instead."
    )


class SecondFactorRefused(AccountError):
    """A wrong, reused or malformed second-factor code."""

    message = N_("The code is wrong or has been used already. Try the next code from your app.")


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
            key, now, functools.partial(throttle.after_failure, policy=policy, now=now)
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

    Both the account (the address typed) and the client (``client``, a keyed
    hash of the real client address) are throttled: failures from other
    clients never lock this client out, but a locked account stays locked
    for every client, even with the right password. An
    unknown address takes as long as a wrong password and gives the same
    message. A locked key cannot log in even with the right password.
    """
    if not password_login_allowed(current_app.config, email):
        raise PasswordLoginOff()
    keys = _login_keys(email, client)
    _refuse_if_throttled(keys)
    user = store.get_user_by_email(email)
    if (
        user is not None
        and user.role != "admin"
        and not password_login_allowed(current_app.config, "")
    ):
        # Only the break-glass account is let through above; when the configuration
        # names an account that is no administrator, it may not use a password either.
        raise PasswordLoginOff()
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
    if user is None:  # verify_password never accepts a missing hash
        raise LoginRefused()
    if user.disabled:
        audit.record(
            "login_failed", actor=None, subject=user.email, detail=N_("The account is disabled.")
        )
        raise LoginRefused(N_("This account is disabled. Ask an administrator for help."))
    # Hashes made with older Argon2 parameters are upgraded while the password is at hand.
    if passwords.needs_rehash(user.password_hash):
        store.upgrade_password_hash(user.id, passwords.hash_password(password))
    # The failures are forgotten only when the login is complete (after the second
    # factor): a known password must not reset the count of guessed codes.
    if not second_factor_required(user, current_app.config):
        complete_login(user)
    return user


def password_login_allowed(config: Any, email: str) -> bool:
    """Whether ``email`` may log in with a password (always, unless SSO replaced it).

    With ``email=""``: whether password login is on for everyone. When it is off,
    only the break-glass address may, and ``authenticate`` also requires that
    account to be an administrator.
    """
    if config.get("PASSWORD_LOGIN", True) or not config.get("SSO_ISSUER"):
        return True
    break_glass = store.normalise_email(config.get("BREAK_GLASS_ADMIN") or "")
    return bool(break_glass) and store.normalise_email(email) == break_glass


def second_factor_required(user: User, config: Any) -> bool:
    """Whether a password login of ``user`` needs a TOTP code (or first its enrolment)."""
    return user.has_totp or user.role == "admin" or bool(config.get("REQUIRE_MFA"))


def complete_login(user: User, method: str = "password") -> None:
    """Note a complete login (after every factor): throttle cleared, time and audit recorded."""
    if method == "password":
        store.clear_throttle(_account_key(user.email))
    store.record_login(user.id, clock.utcnow())
    audit.record("login" if method == "password" else "login_sso", actor=user)


# -- the second factor ---------------------------------------------------------------------


def _recovery_hash(code: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    return codes.keyed_hash(secret, "mfa-recovery-code", mfa.normalise_recovery_code(code))


def _refuse_code(user: User, keys: dict[str, str]) -> SecondFactorRefused:
    note = _count_failure(keys)
    audit.record(
        "login_failed",
        actor=None,
        subject=user.email,
        detail=note or N_("Wrong second-factor code."),
        params={"minutes": _lock_minutes()} if note else None,
    )
    return SecondFactorRefused()


def verify_second_factor(user: User, code: str, *, client: str) -> str:
    """Check a TOTP or recovery ``code`` for ``user``; returns "totp" or "recovery".

    Throttled like passwords, on the same account and client counts. A TOTP
    code is accepted once (its time step is recorded); a recovery code is
    deleted when used. ``client`` is the client's throttle key. Raises
    SecondFactorRefused or LoginThrottled.
    """
    keys = _login_keys(user.email, client)
    _refuse_if_throttled(keys)
    code = (code or "").strip()[:64]
    if mfa.looks_like_recovery_code(code):
        wanted = _recovery_hash(code)
        for row in store.recovery_codes(user.id):
            if hmac.compare_digest(row.code_hash, wanted) and store.spend_recovery_code(row.id):
                audit.record(
                    "recovery_code_used",
                    actor=user,
                    subject=user.email,
                    detail=N_("%(count)d recovery codes left"),
                    params={"count": len(store.recovery_codes(user.id))},
                )
                return "recovery"
        raise _refuse_code(user, keys)
    secret = mfa.decrypt_secret(current_app.config["SECRET_KEY"], user.id, user.totp_secret)
    step = mfa.matching_step(secret, code, clock.utcnow()) if secret else None
    if step is None or not store.claim_totp_step(user.id, step):
        raise _refuse_code(user, keys)
    return "totp"


def confirm_enrolment(user: User, secret: str, code: str, *, client: str) -> tuple[User, list[str]]:
    """Store ``secret`` as the second factor once ``code`` from the app matches it.

    Returns the updated account and ten recovery codes to show once (only
    their keyed hashes are stored). Other sessions of the account end.
    Raises SecondFactorRefused or LoginThrottled.
    """
    keys = _login_keys(user.email, client)
    _refuse_if_throttled(keys)
    now = clock.utcnow()
    step = mfa.matching_step(secret, (code or "").strip()[:64], now)
    if step is None:
        raise _refuse_code(user, keys)
    encrypted = mfa.encrypt_secret(current_app.config["SECRET_KEY"], user.id, secret)
    store.set_totp(user.id, encrypted, now)
    store.claim_totp_step(user.id, step)
    codes = mfa.new_recovery_codes()
    store.replace_recovery_codes(user.id, [_recovery_hash(c) for c in codes])
    audit.record("mfa_enrolled", actor=user, subject=user.email)
    updated = store.get_user(user.id)
    if updated is None:  # the account was just updated, so it exists
        raise LookupError(f"account {user.id} vanished during enrolment")
    return updated, codes


def reset_second_factor(account: User, actor: User | None) -> User:
    """Remove ``account``'s second factor (it enrols again at its next login); sessions end."""
    updated = store.set_totp(account.id, None, None)
    audit.record("mfa_reset", actor=actor, subject=account.email)
    return updated


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
    email: str,
    role: str,
    password: str | None = None,
    actor: User | None = None,
    node_id: int | None = None,
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
        user = store.create_user(
            email,
            passwords.hash_password(password),
            role,
            clock.utcnow(),
            must_change_password=generated is not None,
            node_id=node_id,
        )
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
    updated = store.set_password_hash(
        user.id, passwords.hash_password(password), must_change=generated is not None
    )
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
    if passwords.verify_password(user.password_hash, new):
        raise passwords.PasswordRejected(
            [passwords.PolicyMessage(N_("The new password must differ from the current one."))]
        )
    updated = store.set_password_hash(user.id, passwords.hash_password(new))
    audit.record("password_changed", actor=user, subject=user.email)
    return updated
