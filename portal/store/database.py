"""The connection, transactions, schema creation, backups and storage order.

Every write that must be all-or-nothing goes through ``write_transaction``:
on SQLite it takes the write lock at BEGIN (``BEGIN IMMEDIATE``), so that
concurrent submissions wait for the busy timeout instead of failing half-way
with "database is locked".
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from peewee import (
    Database,
    OperationalError,
    SqliteDatabase,
)
from playhouse import db_url

from portal.extensions import db
from portal.store.errors import BackupError, DatabaseBusy
from portal.store.models import (
    ALL_MODELS,
    RESPONDENT_TABLES,
    Answer,
    Comment,
    Response,
)


def open_database(url: str, busy_timeout_ms: int = 5000) -> Database:
    """Create (not connect) the database for a ``sqlite:///path`` or ``postgresql://`` URL.

    URLs are parsed by ``playhouse.db_url`` (user and password percent-decoded).
    ``postgresql://`` gets a connection pool; SQLite gets the pragmas that
    the anonymity and reliability rules need.
    """
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them.
        return db_url.connect(
            url,
            timeout=busy_timeout_ms / 1000,
            pragmas={
                "journal_mode": "wal",
                # With NORMAL a committed response may vanish after a power loss.
                "synchronous": "full",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_ms,
                "secure_delete": "on",
            },
        )
    if scheme in ("postgresql", "postgres"):
        return db_url.connect(
            "postgresql+pool" + url[len(scheme) :],
            unquote_user=True,
            unquote_password=True,
            max_connections=20,
            stale_timeout=300,
            timeout=10,
        )
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


@contextmanager
def write_transaction():
    """One all-or-nothing write; a lock held beyond the busy timeout raises DatabaseBusy."""
    try:
        with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
            yield
    except OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseBusy() from exc
        raise


def database_ok() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.execute_sql("SELECT 1").fetchone()
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return False
    return True


def backup_sqlite(path) -> None:
    """Copy the live SQLite database to ``path`` with the backup API, then check it.

    The backup API copies a consistent snapshot while the portal keeps
    writing; copying the file itself could catch a half-written page.
    """
    import sqlite3

    if not is_sqlite():
        raise BackupError("backup works on SQLite; for PostgreSQL use pg_dump (see README)")
    target = sqlite3.connect(path)
    try:
        db.connection().backup(target)
        result = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
    if result != "ok":
        raise BackupError(f"the copy failed its integrity check: {result}")
    os.chmod(path, 0o600)


def create_tables() -> None:
    """Create missing tables (idempotent). Respondent tables are WITHOUT ROWID in SQLite."""
    sqlite = is_sqlite()
    for model in RESPONDENT_TABLES:
        model._meta.without_rowid = sqlite
    db.create_tables(ALL_MODELS, safe=True)


def compact() -> None:
    """Rebuild the database file after a purge so that freed pages are gone (SQLite)."""
    if is_sqlite():
        db.execute_sql("VACUUM")


def shuffle_storage_order() -> None:
    """Rewrite the respondent tables in the order of their random keys (PostgreSQL).

    PostgreSQL appends rows to the heap in insertion order, so the physical
    order of responses would betray the order of submission. CLUSTER on the
    primary key (random UUIDs) rewrites each table in random order. SQLite
    needs nothing: its respondent tables are WITHOUT ROWID, stored by key.
    """
    if is_sqlite():
        return
    for model in (Response, Answer, Comment):
        table = model._meta.table_name
        db.execute_sql(f'CLUSTER "{table}" USING "{table}_pkey"')
