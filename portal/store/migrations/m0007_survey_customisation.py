"""Version 7: ``survey.customisation_json``, HR's changes to the template of a survey.

Roles, switched-off questions, wording, the incident system's name and local
questions are kept apart from the template, so a draft can be rebuilt from a
newer template and a new survey can start from an earlier one. Existing
surveys have none (NULL): their frozen definition is the template as it was.
The table of uploaded templates is new and created by ``store.create_tables``.
"""

from __future__ import annotations


def upgrade(migrator, database) -> None:
    """Add the nullable column; no existing row changes.

    Skipped when the column exists (a development database from before this
    migration was renumbered at a merge).
    """
    if any(c.name == "customisation_json" for c in database.get_columns("survey")):
        return
    database.execute_sql('ALTER TABLE "survey" ADD COLUMN "customisation_json" TEXT')
