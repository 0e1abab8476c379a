"""Version 4: ``answer.period``, the exit questionnaire's month on each answer row.

Exit-questionnaire reports break down by half-year. The month is already on
the response; copying it onto the answer rows, like role, unit and years,
keeps every breakdown one scan of the covering index, with no join. The
index is rebuilt with the new column last, so staff surveys (period NULL)
keep their plan.
"""

from __future__ import annotations

OLD_INDEX = "answer_survey_id_question_value_role_unit_years"
NEW_INDEX = "answer_survey_id_question_value_role_unit_years_period"


def upgrade(migrator, database) -> None:
    """Add the column, fill it from the responses, and rebuild the covering index."""
    database.execute_sql('ALTER TABLE "answer" ADD COLUMN "period" VARCHAR(7)')
    database.execute_sql(
        'UPDATE "answer" SET "period" = (SELECT "response"."period" FROM "response" '
        'WHERE "response"."id" = "answer"."response_id") '
        'WHERE "survey_id" IN (SELECT "id" FROM "survey" WHERE "kind" = \'exit\')'
    )
    database.execute_sql(f'DROP INDEX IF EXISTS "{OLD_INDEX}"')
    database.execute_sql(
        f'CREATE INDEX IF NOT EXISTS "{NEW_INDEX}" ON "answer" '
        '("survey_id", "question", "value", "role", "unit", "years", "period")'
    )
