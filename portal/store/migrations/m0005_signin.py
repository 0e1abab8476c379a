"""Version 5 (sign-in, issue 21): second factor and forced password change on accounts.

Adds to ``admin_user`` the encrypted TOTP secret, when it was confirmed, the
last time step used (no code is accepted twice) and whether the password must
be changed at the next login. The new tables ``admin_session`` and
``recovery_code`` need no migration: ``store.create_tables`` creates them.
Existing accounts start without a second factor; administrators are asked to
enrol one at their next login.
"""

from __future__ import annotations

from peewee import SqliteDatabase


def upgrade(migrator, database) -> None:
    """Add the four columns; one plain ALTER TABLE each, so SQLite never rebuilds the table."""
    if "admin_user" not in database.get_tables():
        return  # a database from before accounts: create_tables makes the whole table
    sqlite = isinstance(database, SqliteDatabase)
    false = "0" if sqlite else "FALSE"
    boolean = "INTEGER" if sqlite else "BOOLEAN"
    timestamp = "DATETIME" if sqlite else "TIMESTAMP"
    for column, kind in (
        ("totp_secret", "TEXT"),
        ("totp_enabled_at", timestamp),
        ("totp_last_step", "INTEGER"),
        ("must_change_password", f"{boolean} NOT NULL DEFAULT {false}"),
    ):
        database.execute_sql(f'ALTER TABLE "admin_user" ADD COLUMN "{column}" {kind}')
