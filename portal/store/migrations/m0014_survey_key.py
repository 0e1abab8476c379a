"""Version 14: survey keys (``survey.seal_key``) and ``survey.awaiting_key``.

Surveys from before keep a NULL key: those already open go on sealing with
the portal's key and close as before; a draft gets its key before it opens.
"""

from __future__ import annotations

from peewee import SqliteDatabase


def upgrade(migrator, database) -> None:
    """Add the two columns; no survey has a key yet, none waits for one."""
    columns = {c.name for c in database.get_columns("survey")}
    if "seal_key" not in columns:
        database.execute_sql('ALTER TABLE "survey" ADD COLUMN "seal_key" TEXT')
    if "awaiting_key" not in columns:
        sqlite = isinstance(database, SqliteDatabase)
        kind, false = ("INTEGER", "0") if sqlite else ("BOOLEAN", "FALSE")
        database.execute_sql(
            f'ALTER TABLE "survey" ADD COLUMN "awaiting_key" {kind} NOT NULL DEFAULT {false}'
        )
