"""Queries on administration accounts, the audit log and login throttling."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import (
    IntegrityError,
)

from portal.store.database import is_sqlite, write_transaction
from portal.store.errors import DuplicateEmail, LastActiveAdmin, UnknownUser
from portal.store.models import (
    ROLES,
    AdminSession,
    AuditEntry,
    LoginThrottle,
    RecoveryCode,
    User,
)
from portal.store.organisation import ensure_root_node


def normalise_email(email: str) -> str:
    """E-mail addresses are compared and stored trimmed and lower-cased."""
    return email.strip().lower()


def new_session_nonce() -> str:
    """A fresh random session nonce: changing it ends every session of the account."""
    return secrets.token_urlsafe(24)


def create_user(
    email: str,
    password_hash: str,
    role: str,
    now: dt.datetime,
    must_change_password: bool = False,
    node_id: int | None = None,
) -> User:
    """Create an active account at ``node_id`` (the root when None); raises DuplicateEmail."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = normalise_email(email)
    user = User(
        email=email,
        password_hash=password_hash,
        role=role,
        disabled=False,
        session_nonce=new_session_nonce(),
        created_at=now,
        must_change_password=must_change_password,
    )
    try:
        with write_transaction():
            if User.select().where(User.email == email).exists():
                raise DuplicateEmail()
            user.node_id = node_id if node_id is not None else ensure_root_node().id
            user.save()
    except IntegrityError as exc:
        # Two simultaneous creations of one address: the unique index decides.
        raise DuplicateEmail() from exc
    return user


def get_user(user_id: Any) -> User | None:
    """The account with ``user_id``, or None (also for ids that are not integers)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    if not 0 < user_id < 2**63:
        return None
    return User.get_or_none(User.id == user_id)


def get_user_by_email(email: str) -> User | None:
    """The account with ``email`` (any case), or None."""
    # PostgreSQL refuses NUL in text: such an address cannot exist anyway.
    if not isinstance(email, str) or len(email) > 254 or "\x00" in email:
        return None
    return User.get_or_none(User.email == normalise_email(email))


def list_users() -> list[User]:
    """Every account, by e-mail address."""
    return list(User.select().order_by(User.email))


def user_count() -> int:
    """The number of accounts (active or not)."""
    return User.select().count()


def _other_active_admins(user_id: int) -> int:
    return (
        User.select()
        .where(User.role == "admin", User.disabled == False, User.id != user_id)  # noqa: E712
        .count()
    )


def _update_user(user_id: int, keep_an_admin: bool, **fields: Any) -> User:
    """Change an account and rotate its session nonce, in one transaction."""
    with write_transaction():
        user = get_user(user_id)
        if user is None:
            raise UnknownUser()
        # Checked inside the transaction, so two admins demoting each other at
        # once cannot both succeed.
        is_admin = user.role == "admin" and not user.disabled
        if keep_an_admin and is_admin and _other_active_admins(user.id) == 0:
            raise LastActiveAdmin()
        fields["session_nonce"] = new_session_nonce()
        User.update(**fields).where(User.id == user.id).execute()
        # The nonce ends the sessions; their rows go too, so that lists stay true.
        AdminSession.delete().where(AdminSession.user == user.id).execute()
    return User.get_by_id(user.id)


def set_user_role(user_id: int, role: str) -> User:
    """Give the account ``role``; raises LastActiveAdmin when the last admin would go."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return _update_user(user_id, keep_an_admin=role != "admin", role=role)


def set_user_disabled(user_id: int, disabled: bool) -> User:
    """Disable or enable the account; raises LastActiveAdmin when the last admin would go."""
    return _update_user(user_id, keep_an_admin=disabled, disabled=disabled)


def set_password_hash(user_id: int, password_hash: str, must_change: bool = False) -> User:
    """Store a new password hash; every existing session of the account ends.

    ``must_change`` marks a password an administrator generated: it is to be
    changed at the next login.
    """
    return _update_user(
        user_id, keep_an_admin=False, password_hash=password_hash, must_change_password=must_change
    )


def rotate_session_nonce(user_id: int) -> None:
    """End every session of the account (logout)."""
    with write_transaction():
        User.update(session_nonce=new_session_nonce()).where(User.id == user_id).execute()


def upgrade_password_hash(user_id: int, password_hash: str) -> None:
    """Replace a hash made with older parameters (same password: sessions stay)."""
    with write_transaction():
        User.update(password_hash=password_hash).where(User.id == user_id).execute()


def record_login(user_id: int, now: dt.datetime, new_hash: str | None = None) -> None:
    """Note a successful login; ``new_hash`` replaces a hash made with old parameters."""
    fields: dict[str, Any] = {"last_login_at": now}
    if new_hash is not None:
        fields["password_hash"] = new_hash
    with write_transaction():
        User.update(**fields).where(User.id == user_id).execute()


def add_audit_entry(
    *,
    at: dt.datetime,
    actor: User | None,
    action: str,
    subject: str = "",
    detail: str = "",
    params: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (``params`` fill the placeholders of ``detail``)."""
    entry = AuditEntry(
        at=at,
        actor=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        action=action,
        subject=subject[:255],
        detail=detail,
        detail_params=json.dumps(params, ensure_ascii=False, sort_keys=True) if params else "",
    )
    with write_transaction():
        entry.save()
    return entry


def audit_entries(
    page: int = 1, per_page: int = 50, action: str | None = None
) -> tuple[list[AuditEntry], int]:
    """One page of the audit log, newest first, and the number of matching entries."""
    query = AuditEntry.select()
    if action:
        query = query.where(AuditEntry.action == action)
    total = query.count()
    rows = list(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).paginate(max(page, 1), per_page)
    )
    return rows, total


@dataclass(frozen=True)
class ThrottleState:
    """The failures counted for one key and, when locked, until when."""

    failures: int
    first_failure_at: dt.datetime
    last_failure_at: dt.datetime
    locked_until: dt.datetime | None


def throttle_states(keys: Iterable[str]) -> dict[str, ThrottleState]:
    """The recorded state of each of ``keys`` that has one."""
    rows = LoginThrottle.select().where(LoginThrottle.key.in_(list(keys)))
    return {row.key: _throttle_state(row) for row in rows}


def _throttle_state(row: LoginThrottle) -> ThrottleState:
    return ThrottleState(
        failures=row.failures,
        first_failure_at=row.first_failure_at,
        last_failure_at=row.last_failure_at,
        locked_until=row.locked_until,
    )


def record_throttle_failure(
    key: str, now: dt.datetime, advance: Callable[[ThrottleState], ThrottleState]
) -> ThrottleState:
    """Count one failure for ``key``; ``advance`` computes the new state from the old.

    A new key starts from zero failures. Read and write happen in one
    transaction (the row locked on PostgreSQL, the database on SQLite), so
    concurrent workers never lose a count.
    """
    with write_transaction():
        # Another worker may insert the same key at once: the conflict is ignored
        # and both then count on the one row.
        LoginThrottle.insert(
            key=key, failures=0, first_failure_at=now, last_failure_at=now, locked_until=None
        ).on_conflict_ignore().execute()
        query = LoginThrottle.select().where(LoginThrottle.key == key)
        if not is_sqlite():
            query = query.for_update()
        new = advance(_throttle_state(query.get()))
        LoginThrottle.update(
            failures=new.failures,
            first_failure_at=new.first_failure_at,
            last_failure_at=new.last_failure_at,
            locked_until=new.locked_until,
        ).where(LoginThrottle.key == key).execute()
    return new


def clear_throttle(key: str) -> None:
    """Forget the failures of ``key`` (after a successful login)."""
    with write_transaction():
        LoginThrottle.delete().where(LoginThrottle.key == key).execute()


def purge_throttle(now: dt.datetime, idle_before: dt.datetime) -> int:
    """Delete rows whose last failure is older than ``idle_before`` and that are not locked."""
    with write_transaction():
        return (
            LoginThrottle.delete()
            .where(
                LoginThrottle.last_failure_at < idle_before,
                (LoginThrottle.locked_until.is_null()) | (LoginThrottle.locked_until <= now),
            )
            .execute()
        )


# -- second factor -------------------------------------------------------------------------


def set_totp(user_id: int, encrypted_secret: str | None, enabled_at: dt.datetime | None) -> User:
    """Store (or, with None, remove) the account's second factor; its sessions end.

    Removing it also deletes the recovery codes.
    """
    with write_transaction():
        if encrypted_secret is None:
            RecoveryCode.delete().where(RecoveryCode.user == user_id).execute()
        user = _update_user(
            user_id,
            keep_an_admin=False,
            totp_secret=encrypted_secret,
            totp_enabled_at=enabled_at,
            totp_last_step=None,
        )
    return user


def claim_totp_step(user_id: int, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later step) was used already (a replay)."""
    with write_transaction():
        updated = (
            User.update(totp_last_step=step)
            .where(
                User.id == user_id,
                (User.totp_last_step.is_null()) | (User.totp_last_step < step),
            )
            .execute()
        )
    return updated == 1


def replace_recovery_codes(user_id: int, code_hashes: list[str]) -> None:
    """Replace the account's recovery codes by ``code_hashes``."""
    with write_transaction():
        RecoveryCode.delete().where(RecoveryCode.user == user_id).execute()
        for code_hash in code_hashes:
            RecoveryCode.create(user=user_id, code_hash=code_hash)


def recovery_codes(user_id: int) -> list[RecoveryCode]:
    """The account's unused recovery codes."""
    return list(RecoveryCode.select().where(RecoveryCode.user == user_id))


def spend_recovery_code(code_id: int) -> bool:
    """Delete one recovery code; False when another request spent it first."""
    with write_transaction():
        return RecoveryCode.delete().where(RecoveryCode.id == code_id).execute() == 1


def set_must_change_password(user_id: int, must_change: bool) -> None:
    """Mark (or unmark) the account's password as one to change at the next login."""
    with write_transaction():
        User.update(must_change_password=must_change).where(User.id == user_id).execute()


# -- sessions --------------------------------------------------------------------------------


def create_session(
    session_id: str, user_id: int, now: dt.datetime, browser: str, method: str
) -> AdminSession:
    """Record a new signed-in session."""
    with write_transaction():
        return AdminSession.create(
            id=session_id,
            user=user_id,
            started_at=now,
            last_seen_at=now,
            browser=browser[:32],
            method=method,
        )


def get_session(session_id: str, user_id: int) -> AdminSession | None:
    """The session ``session_id`` of the account ``user_id``, or None when it has ended."""
    if not isinstance(session_id, str) or len(session_id) > 64:
        return None
    return AdminSession.get_or_none(AdminSession.id == session_id, AdminSession.user == user_id)


def touch_session(session_id: str, now: dt.datetime) -> None:
    """Note that the session was used at ``now``."""
    with write_transaction():
        AdminSession.update(last_seen_at=now).where(AdminSession.id == session_id).execute()


def sessions_of(user_id: int) -> list[AdminSession]:
    """The account's active sessions, most recently used first."""
    return list(
        AdminSession.select()
        .where(AdminSession.user == user_id)
        .order_by(AdminSession.last_seen_at.desc(), AdminSession.started_at.desc())
    )


def end_session(session_id: str, user_id: int | None = None) -> bool:
    """End one session (of ``user_id`` only, when given); False when there was none."""
    query = AdminSession.delete().where(AdminSession.id == session_id)
    if user_id is not None:
        query = query.where(AdminSession.user == user_id)
    with write_transaction():
        return query.execute() == 1


def end_sessions_of(user_id: int) -> int:
    """End every session of the account (rows deleted and nonce rotated)."""
    with write_transaction():
        ended = AdminSession.delete().where(AdminSession.user == user_id).execute()
        User.update(session_nonce=new_session_nonce()).where(User.id == user_id).execute()
    return ended


def end_all_sessions() -> int:
    """End every session of every account."""
    with write_transaction():
        ended = AdminSession.delete().execute()
        for user in User.select(User.id):
            User.update(session_nonce=new_session_nonce()).where(User.id == user.id).execute()
    return ended


def purge_sessions(started_before: dt.datetime, idle_before: dt.datetime) -> int:
    """Delete sessions past their absolute or idle timeout."""
    with write_transaction():
        return (
            AdminSession.delete()
            .where(
                (AdminSession.started_at < started_before)
                | (AdminSession.last_seen_at < idle_before)
            )
            .execute()
        )
