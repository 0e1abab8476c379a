"""One database connection per worker on SQLite, given back cleanly after every request."""

from __future__ import annotations

import pytest
from peewee import SqliteDatabase

from portal.extensions import db

pytestmark = pytest.mark.sqlite_only


def _count_connects(monkeypatch) -> list[int]:
    opened: list[int] = []
    real = SqliteDatabase._connect

    def counting(self):
        opened.append(1)
        return real(self)

    monkeypatch.setattr(SqliteDatabase, "_connect", counting)
    return opened


def test_requests_reuse_one_sqlite_connection(app, client, monkeypatch):
    opened = _count_connects(monkeypatch)
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert len(opened) == 1


def test_the_old_behaviour_is_one_connection_per_request(app, client, monkeypatch):
    # The switch that the benchmark compares against (bench/connections.py).
    app.config["CLOSE_CONNECTION_PER_REQUEST"] = True
    opened = _count_connects(monkeypatch)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert len(opened) == 3


def test_a_transaction_left_open_by_a_failed_request_is_rolled_back(app, client):
    @app.get("/_test/begin-and-fail")
    def begin_and_fail():
        db.execute_sql("BEGIN IMMEDIATE")  # takes the write lock, never committed
        raise RuntimeError("the request fails inside a transaction")

    response = client.get("/_test/begin-and-fail")
    assert response.status_code == 500
    assert not db.is_closed()
    assert not db.connection().in_transaction
    # The write lock is gone: another connection can write at once.
    other = SqliteDatabase(db.obj.database, timeout=0.1)
    other.execute_sql("CREATE TABLE probe (x)")
    other.close()
    assert client.get("/healthz").status_code == 200


def test_a_request_never_closes_a_connection_it_did_not_open(app, client):
    # As on PostgreSQL, where a request gives its connection back at teardown: a
    # request context pushed inside a command's own connection leaves that one alone.
    app.config["CLOSE_CONNECTION_PER_REQUEST"] = True
    with app.app_context(), db.connection_context():
        with app.test_request_context():
            db.execute_sql("SELECT 1")
        assert not db.is_closed()
        db.execute_sql("SELECT 1")
    assert client.get("/healthz").status_code == 200
