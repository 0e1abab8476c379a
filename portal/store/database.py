"""The connection, transactions, schema creation, backups and storage order.

Every write that must be all-or-nothing goes through ``write_transaction``:
on SQLite it takes the write lock at BEGIN (``BEGIN IMMEDIATE``), so that
concurrent submissions wait for the busy timeout instead of failing half-way
with "database is locked".
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager, suppress

from peewee import (
    Database,
    DatabaseError,
    InterfaceError,
    Model,
    OperationalError,
    SqliteDatabase,
)
from playhouse import db_url

from portal.extensions import db
from portal.store.errors import BackupError, DatabaseBusy
from portal.store.models import (
    ALL_MODELS,
    RESPONDENT_TABLES,
    AccessCode,
    Answer,
    Comment,
    FormToken,
    InboxEntry,
    Response,
)

log = logging.getLogger(__name__)


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
    """One all-or-nothing write; raises DatabaseBusy when the database cannot take it now.

    A lock held beyond the busy timeout, a connection lost to a PostgreSQL
    restart (OperationalError or InterfaceError) and a full disk ("database or
    disk is full", PostgreSQL's DiskFull, both OperationalError) all roll the
    transaction back: the caller shows the retry page with the answers kept.
    """
    try:
        with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
            yield
    except (OperationalError, InterfaceError) as exc:
        if not is_sqlite():
            # The connection may be broken: never hand it back to the pool.
            discard_connection()
        raise DatabaseBusy() from exc


# The driver errors that mean "unreachable, restarting or full": retry in a moment.
UNAVAILABLE = (OperationalError, InterfaceError)


def discard_connection() -> None:
    """Close this thread's connection for good (a pooled one is not returned to the pool)."""
    # The connection is being thrown away: an error closing it changes nothing.
    with suppress(Exception):
        if hasattr(db.obj, "manual_close"):
            db.obj.manual_close()
        else:
            db.close()


def connect_checked() -> None:
    """Open this request's connection; a pooled PostgreSQL connection is checked first.

    After a PostgreSQL restart the pool still holds connections to the old
    server; each fails on first use. One cheap query finds out, and a broken
    connection is discarded and replaced before the request uses it.
    """
    db.connect(reuse_if_open=True)
    if is_sqlite():
        return
    try:
        db.execute_sql("SELECT 1").fetchone()
    except (OperationalError, InterfaceError):
        discard_connection()
        db.connect(reuse_if_open=True)


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


def truncate_wal() -> bool:
    """SQLite: copy the write-ahead log into the database and empty it; False if a reader
    kept it from finishing (or on PostgreSQL, where there is nothing to do here)."""
    if not is_sqlite():
        return False
    busy, _log, _done = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def scrub_after_close() -> None:
    """Remove what a close left behind of the earlier storage (outside any transaction).

    PostgreSQL keeps the old versions of rewritten and deleted rows (with their
    transaction ids) until a vacuum. The small tables that tied admissions to
    sealed entries (the inbox, codes, form tokens) are rewritten into new files
    with ``VACUUM FULL``; the response tables get a plain ``VACUUM``, which
    frees the old versions without locking out other surveys' writers (a
    full rewrite of three million answer rows takes about a minute). What
    may linger in their free space until it is reused is at most which rows
    were mixed in one batch while the survey was open, never a code.
    SQLite keeps the frames of every commit in the write-ahead log until a
    checkpoint resets it; ``wal_checkpoint(TRUNCATE)`` copies them into the
    database file (where ``secure_delete`` has zeroed deleted content) and
    empties the log. A reader holding an old snapshot can keep the
    checkpoint from finishing: ``flask tick`` tries again.
    """
    if is_sqlite():
        truncate_wal()
        return
    connection = db.connection()
    autocommit = connection.autocommit
    connection.autocommit = True  # VACUUM cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            for model in REWRITTEN_AT_CLOSE:
                cursor.execute(f'VACUUM FULL "{model._meta.table_name}"')
            for model in VACUUMED_AT_CLOSE:
                cursor.execute(f'VACUUM "{model._meta.table_name}"')
        retire_wal()
    finally:
        connection.autocommit = autocommit


def retire_wal() -> bool:
    """PostgreSQL, after a close: let go of the WAL segments written while it was open.

    Those segments hold every admission's commit (a code row and the sealed
    inbox as it was), which the secret key reads (threat model T2). A switch
    to a new segment and a checkpoint make every older segment unneeded, and
    PostgreSQL then deletes it — with ``wal_recycle = off``; with the default
    ``on`` it renames it for reuse and its content stays until overwritten.
    Needs a superuser (or ``pg_checkpoint`` and EXECUTE on ``pg_switch_wal``).
    When this cannot be done, or recycling keeps the content, a warning (no
    content) tells the operator what the DBA must do. True when done.
    """
    # The caller's connection is in autocommit mode: CHECKPOINT cannot run in a
    # transaction. peewee turns the driver's errors into its own.
    try:
        db.execute_sql("SELECT pg_switch_wal()")
        db.execute_sql("CHECKPOINT")
    except DatabaseError as exc:
        log.warning(
            "the WAL segments written while the survey was open were not retired (%s): "
            "the DBA should run SELECT pg_switch_wal(); CHECKPOINT; "
            "(README, Unlinkable storage)",
            type(exc).__name__,
        )
        return False
    if db.execute_sql("SHOW wal_recycle").fetchone()[0] != "off":
        log.warning(
            "PostgreSQL runs with wal_recycle = on: the WAL segments written while the "
            "survey was open keep their content until overwritten; set wal_recycle = off "
            "(README, Unlinkable storage)"
        )
        return False
    return True


REWRITTEN_AT_CLOSE: tuple[type[Model], ...] = (InboxEntry, AccessCode, FormToken)
VACUUMED_AT_CLOSE: tuple[type[Model], ...] = (Response, Answer, Comment)
