"""Version 5: ``survey.customisation_json``, HR's changes to the template of a survey.

Roles, switched-off questions, wording, the incident system's name and local
questions are kept apart from the template, so a draft can be rebuilt from a
newer template and a new survey can start from an earlier one. Existing
surveys have none (NULL): their frozen definition is the template as it was.
The table of uploaded templates is new and created by ``store.create_tables``.
"""

from __future__ import annotations


def upgrade(migrator, database) -> None:
    """Add the nullable column; no existing row changes."""
    database.execute_sql('ALTER TABLE "survey" ADD COLUMN "customisation_json" TEXT')
