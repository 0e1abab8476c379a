"""Version 13: ``result_counts.protection_json``, what disclosure control decided.

The protection of a closed survey's report (``surveys.linked``) is kept beside
its counts so that later reports read it instead of protecting again; a column
of its own, so that reading or keeping it never parses or rewrites the counts.
NULL: not decided yet (the next report decides and keeps it).
"""

from __future__ import annotations


def upgrade(migrator, database) -> None:
    """Add the nullable column; kept counts get their protection at their next report."""
    if "result_counts" not in database.get_tables():
        return  # an older database: create_tables makes the table with the column
    if any(c.name == "protection_json" for c in database.get_columns("result_counts")):
        return
    database.execute_sql('ALTER TABLE "result_counts" ADD COLUMN "protection_json" TEXT')
