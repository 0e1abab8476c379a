"""Migration 5 (sign-in): a database of schema version 4 upgrades without loss."""

from __future__ import annotations

import sqlite3

import pytest

from portal import store
from portal.extensions import db
from portal.store import migrations
from tests.factories import login, make_app, make_user

NEW_COLUMNS = ("totp_secret", "totp_enabled_at", "totp_last_step", "must_change_password")


@pytest.mark.sqlite_only
def test_a_version_4_database_gains_the_sign_in_columns(tmp_path):
    path = tmp_path / "varna.sqlite3"
    app = make_app(tmp_path)
    make_user(app, "kim@example.se", "hr")
    # Back to version 4: without the new columns and tables.
    old = sqlite3.connect(path)
    for column in NEW_COLUMNS:
        old.execute(f'ALTER TABLE "admin_user" DROP COLUMN "{column}"')
    old.execute('DROP TABLE "admin_session"')
    old.execute('DROP TABLE "recovery_code"')
    old.execute("UPDATE schema_version SET version = 4")
    old.commit()
    old.close()

    app = make_app(tmp_path)
    with app.app_context(), db.connection_context():
        assert migrations.current_version() == migrations.latest_version() >= 5
        columns = {c.name for c in db.get_columns("admin_user")}
        assert set(NEW_COLUMNS) <= columns
        assert {"admin_session", "recovery_code"} <= set(db.get_tables())
        user = store.get_user_by_email("kim@example.se")
        assert user.role == "hr"
        assert not user.must_change_password
        assert not user.has_totp
    client = app.test_client()
    assert login(client, "kim@example.se").headers["Location"] == "/admin/"
    assert client.get("/admin/sessions").status_code == 200
