"""Version 6: exit responses keep their reporting half-year, not the month.

A month with a role, a unit and years in the profession often picks out one
person from the HR system's leaving dates; the reports only ever use the
half-year. Every ``YYYY-MM`` period on ``response`` and ``answer`` becomes
``YYYY-H1`` (January–June) or ``YYYY-H2``. The sealed inbox
(``inbox_entry``) is a new table, created by ``store.create_tables``.
"""

from __future__ import annotations

HALF_YEAR = (
    "substr(\"period\", 1, 4) || '-H' || "
    "CASE WHEN CAST(substr(\"period\", 6, 2) AS INTEGER) <= 6 THEN '1' ELSE '2' END"
)
IS_MONTH = "\"period\" LIKE '____-__' AND \"period\" NOT LIKE '%H%'"


def upgrade(migrator, database) -> None:
    """Replace every stored month by its half-year."""
    for table in ("response", "answer"):
        database.execute_sql(
            f'UPDATE "{table}" SET "period" = {HALF_YEAR} WHERE {IS_MONTH}'  # noqa: S608 - constants
        )
