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
    AuditEntry,
    LoginThrottle,
    User,
)


def normalise_email(email: str) -> str:
    """E-mail addresses are compared and stored trimmed and lower-cased."""
    return email.strip().lower()


def new_session_nonce() -> str:
    """A fresh random session nonce: changing it ends every session of the account."""
    return secrets.token_urlsafe(24)


def create_user(email: str, password_hash: str, role: str, now: dt.datetime) -> User:
    """Create an active account; raises DuplicateEmail."""
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
    )
    try:
        with write_transaction():
            if User.select().where(User.email == email).exists():
                raise DuplicateEmail()
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
    return User.get_by_id(user.id)


def set_user_role(user_id: int, role: str) -> User:
    """Give the account ``role``; raises LastActiveAdmin when the last admin would go."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return _update_user(user_id, keep_an_admin=role != "admin", role=role)


def set_user_disabled(user_id: int, disabled: bool) -> User:
    """Disable or enable the account; raises LastActiveAdmin when the last admin would go."""
    return _update_user(user_id, keep_an_admin=disabled, disabled=disabled)


def set_password_hash(user_id: int, password_hash: str) -> User:
    """Store a new password hash; every existing session of the account ends."""
    return _update_user(user_id, keep_an_admin=False, password_hash=password_hash)


def rotate_session_nonce(user_id: int) -> None:
    """End every session of the account (logout)."""
    with write_transaction():
        User.update(session_nonce=new_session_nonce()).where(User.id == user_id).execute()


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
