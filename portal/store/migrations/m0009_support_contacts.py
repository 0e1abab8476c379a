"""Version 9: ``survey.support_contacts``, the support contacts HR enters for a survey.

Plain text (företagshälsovård, säkerhetssamordnare, skyddsombud with phone
numbers or addresses), shown to staff at the end of the exposure section and
on the thank-you page. NULL means the portal's default text.
"""

from __future__ import annotations


def upgrade(migrator, database) -> None:
    """Add the nullable column; existing surveys show the default text."""
    if any(c.name == "support_contacts" for c in database.get_columns("survey")):
        return  # a database rebuilt from the current models already has it
    database.execute_sql('ALTER TABLE "survey" ADD COLUMN "support_contacts" TEXT')
