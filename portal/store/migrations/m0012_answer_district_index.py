"""Version 12: the covering index of the answers ends with ``district``.

A city-wide survey's report breaks down by district (issue 22), so the district
joins the breakdown columns of the one scan that aggregates a closed survey's
answers (``portal.store.counts.answer_cube``). Rebuilding the index with the
column last keeps that scan index-only; every other survey has district NULL
and keeps its plan.
"""

from __future__ import annotations

OLD_INDEX = "answer_survey_id_question_value_role_unit_years_period"
NEW_INDEX = "answer_survey_id_question_value_role_unit_years_period_district"


def upgrade(migrator, database) -> None:
    """Rebuild the covering index with the district column last."""
    if "answer" not in database.get_tables():
        return  # created whole by create_tables, with the new index
    database.execute_sql(f'DROP INDEX IF EXISTS "{OLD_INDEX}"')
    database.execute_sql(
        f'CREATE INDEX IF NOT EXISTS "{NEW_INDEX}" ON "answer" '
        '("survey_id", "question", "value", "role", "unit", "years", "period", "district")'
    )
