"""Versioned, forward-only schema migrations.

The database records its schema version in the one-row table
``schema_version``. A database without that table but with a ``survey``
table predates versioning and is version 1. Each migration is a module
``mNNNN_<name>.py`` in this package with ``upgrade(migrator, database)``
using ``playhouse.migrate``; they run in order, each in its own transaction
with its version bump. New tables need no migration: ``store.create_tables``
creates whatever is missing after the upgrades (respondent tables WITHOUT
ROWID on SQLite).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from peewee import IntegerField, Model
from playhouse.migrate import SchemaMigrator

from portal import store
from portal.extensions import db

_MODULE = re.compile(r"^m(\d{4})_\w+$")


class SchemaVersion(Model):
    version = IntegerField()

    class Meta:
        database = db
        table_name = "schema_version"


def available() -> list[tuple[int, ModuleType]]:
    """The migrations shipped with the code, in version order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _MODULE.match(info.name)
        if match:
            found.append((int(match.group(1)), importlib.import_module(f"{__name__}.{info.name}")))
    return sorted(found, key=lambda pair: pair[0])


def latest_version() -> int:
    """The schema version this code expects."""
    versions = [version for version, _ in available()]
    return max(versions, default=1)


def current_version() -> int | None:
    """The database's schema version; None for an empty database."""
    tables = set(db.get_tables())
    if "schema_version" in tables:
        return SchemaVersion.select(SchemaVersion.version).scalar()
    return 1 if "survey" in tables else None


def migrate() -> tuple[int | None, int]:
    """Bring the database to the latest schema; returns (version before, version after)."""
    with store.write_transaction():
        if not store.is_sqlite():
            # One process migrates; the others wait here, then find nothing to do.
            db.execute_sql("SELECT pg_advisory_xact_lock(724011)")
        before = current_version()
        target = latest_version()
        if before is None:
            store.create_tables()
            store.ensure_root_node()
            db.create_tables([SchemaVersion])
            SchemaVersion.create(version=target)
            return None, target
        if "schema_version" not in db.get_tables():
            db.create_tables([SchemaVersion])
            SchemaVersion.create(version=before)
    if before > target:
        raise RuntimeError(
            f"the database has schema version {before}, newer than this code ({target})"
        )
    migrator = SchemaMigrator.from_database(db.obj)
    for version, module in available():
        if version <= before:
            continue
        with store.write_transaction():
            module.upgrade(migrator, db.obj)
            SchemaVersion.update(version=version).execute()
    store.create_tables()
    with store.write_transaction():
        store.ensure_root_node()
    return before, target
