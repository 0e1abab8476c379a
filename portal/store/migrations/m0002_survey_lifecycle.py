"""Version 2: survey lifecycle and retention columns on ``survey``.

``archived`` hides a finished survey from the default list, ``published_on``
starts the retention clock, ``purge_after_months`` is the survey's retention
setting and ``purged_on`` records that its raw responses were deleted. The
new tables (survey units, comment selections, report snapshots) are created
by ``store.create_tables`` after the upgrade.
"""

from __future__ import annotations

from peewee import DateField, IntegerField, SqliteDatabase
from playhouse.migrate import migrate


def upgrade(migrator, database) -> None:
    """Add the lifecycle columns; existing surveys are not archived and never purged."""
    # A NOT NULL column is added in one ALTER TABLE with its default. peewee's
    # add_column would add it nullable and then set NOT NULL, which SQLite can
    # only do by rebuilding the table: dropping the old "survey" table would
    # cascade to every response.
    false = "0" if isinstance(database, SqliteDatabase) else "FALSE"
    kind = "INTEGER" if isinstance(database, SqliteDatabase) else "BOOLEAN"
    database.execute_sql(
        f'ALTER TABLE "survey" ADD COLUMN "archived" {kind} NOT NULL DEFAULT {false}'
    )
    migrate(
        migrator.add_column("survey", "published_on", DateField(null=True)),
        migrator.add_column("survey", "purge_after_months", IntegerField(null=True)),
        migrator.add_column("survey", "purged_on", DateField(null=True)),
    )
