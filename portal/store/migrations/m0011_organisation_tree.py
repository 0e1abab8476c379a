"""Version 11 (issue 22): the organisation tree.

Today's single organisation becomes the root node of the new ``org_node``
table, and every existing survey and account is put under it
(``survey.node_id``, ``admin_user.node_id``). Answers gain ``district``, the
district a respondent chose in a city-wide survey (None in every earlier
survey), and access codes the district they were handed out in. The
organisation's own pages (``org_profile``) need no migration:
``store.create_tables`` creates the table and empty fields show defaults.
"""

from __future__ import annotations

from portal.store.models import OrgNode, Survey, User
from portal.store.organisation import ensure_root_node


def upgrade(migrator, database) -> None:
    """Add the columns (one plain ALTER TABLE each), create the tree and attach everything."""
    tables = set(database.get_tables())
    for table, column, kind in (
        ("survey", "node_id", "INTEGER"),
        ("admin_user", "node_id", "INTEGER"),
        ("answer", "district", "VARCHAR(64)"),
        ("access_code", "district", "VARCHAR(64)"),
    ):
        if table not in tables:
            continue  # created whole by create_tables, with the column
        if any(c.name == column for c in database.get_columns(table)):
            continue  # a database rebuilt from the current models already has it
        database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
    if "survey" in tables:
        database.execute_sql('CREATE INDEX IF NOT EXISTS "survey_node_id" ON "survey" ("node_id")')
    OrgNode.create_table(safe=True)
    root = ensure_root_node()
    # Only the one column is written, so the models' later columns do not matter here.
    if "survey" in tables:
        Survey.update(node_id=root.id).where(Survey.node_id.is_null()).execute()
    if "admin_user" in tables:
        User.update(node_id=root.id).where(User.node_id.is_null()).execute()
