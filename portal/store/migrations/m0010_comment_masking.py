"""Version 10: ``comment_selection.masked_text``, HR's masked version of a chosen comment.

HR may replace parts of a comment with "[…]" before it goes into the report;
the original stays in ``comment`` only until the purge deletes it (and, by
cascade, the selection). NULL means the comment is published as redacted.
"""

from __future__ import annotations


def upgrade(migrator, database) -> None:
    """Add the nullable column; existing selections publish their comments as before."""
    if "comment_selection" not in database.get_tables():
        return  # an older database: create_tables makes the table with the column
    if any(c.name == "masked_text" for c in database.get_columns("comment_selection")):
        return
    database.execute_sql('ALTER TABLE "comment_selection" ADD COLUMN "masked_text" TEXT')
