"""File modes (security.md rule 15, issue 16): nothing the portal writes is readable by
other local users — the instance folder 0700; the database, its WAL, shared memory and
journal, the secret key and backups 0600; the umask is set before any of them exists."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from portal import create_app, files, store
from portal.extensions import db
from surveys.definition import load_template
from tests.factories import FAST_ARGON2, complete_answers, make_survey, open_form, submit


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """Start as a careless service manager would: umask 022 (files 0644, folders 0755)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.sqlite_only
def test_instance_folder_database_wal_key_and_backup_are_private(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True, **FAST_ARGON2})
    # Neither a secret key nor a database URL was given: both are made in the instance folder.
    database = instance / "varna.sqlite3"
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(database) == 0o600
    survey, _ = make_survey(app)
    client = app.test_client()
    hidden = open_form(client, survey.slug)
    assert submit(client, survey.slug, complete_answers(load_template("staff_threats")), hidden)
    wal = instance / "varna.sqlite3-wal"
    with app.app_context(), db.connection_context():
        # A reader keeps the WAL and shared-memory files while the connection is open.
        assert wal.exists()
        assert mode(wal) == 0o600
        assert mode(instance / "varna.sqlite3-shm") == 0o600
        backup = tmp_path / "copy.sqlite3"
        store.backup_sqlite(backup)
    assert mode(backup) == 0o600
    # A rollback journal (used by the backup copy and by tools) is private too.
    connection = sqlite3.connect(backup)
    connection.execute("PRAGMA journal_mode = DELETE")
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("CREATE TABLE probe (x)")
    journal = tmp_path / "copy.sqlite3-journal"
    assert journal.exists()
    assert mode(journal) == 0o600
    connection.rollback()
    connection.close()
    # The umask stays for everything the process creates later.
    probe = tmp_path / "later.txt"
    probe.write_text("x")
    assert mode(probe) == 0o600


@pytest.mark.sqlite_only
def test_files_left_readable_by_an_earlier_version_are_tightened(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "secret_key").write_text("an-old-key")
    database = instance / "varna.sqlite3"
    sqlite3.connect(database).close()
    for path in (instance / "secret_key", database):
        path.chmod(0o644)
    instance.chmod(0o755)
    create_app({"INSTANCE_PATH": str(instance), "TESTING": True, **FAST_ARGON2})
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(database) == 0o600


def test_sqlite_path_of_a_url():
    assert str(files.sqlite_path("sqlite:////srv/varna/db.sqlite3")) == "/srv/varna/db.sqlite3"
    assert files.sqlite_path("sqlite://") is None
    assert files.sqlite_path("postgresql://varna@db/varna") is None
