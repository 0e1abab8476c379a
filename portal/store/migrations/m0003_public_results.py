"""Version 3: ``survey.public_results``, the switch for a survey's public results page.

When HR turn it on, the headline indicators of a published survey (all staff
only) are shown without login, so that staff see that their answers mattered.
"""

from __future__ import annotations

from peewee import SqliteDatabase


def upgrade(migrator, database) -> None:
    """Add the switch; every existing survey starts with its public page off."""
    # As in migration 2: a NOT NULL column with its default in one ALTER TABLE,
    # so that SQLite never rebuilds (and cascades from) the survey table.
    false = "0" if isinstance(database, SqliteDatabase) else "FALSE"
    kind = "INTEGER" if isinstance(database, SqliteDatabase) else "BOOLEAN"
    database.execute_sql(
        f'ALTER TABLE "survey" ADD COLUMN "public_results" {kind} NOT NULL DEFAULT {false}'
    )
