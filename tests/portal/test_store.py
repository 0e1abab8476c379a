"""Atomic storage, code claims and database configuration."""

from __future__ import annotations

import threading

import pytest

from portal import store
from portal.extensions import db
from portal.store.models import AccessCode, Answer, Comment, InboxEntry, Response
from surveys.answers import validate
from surveys.definition import load_template
from tests.factories import complete_answers, make_app, make_survey, private_key

STAFF = load_template("staff_threats")


def answers(**overrides):
    data = complete_answers(STAFF, **overrides)
    return validate(STAFF, {k: v if isinstance(v, list) else [v] for k, v in data.items()})


@pytest.mark.sqlite_only
def test_sqlite_pragmas(app):
    with app.app_context(), db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert db.execute_sql("PRAGMA secure_delete").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("url", "path"),
    [("sqlite:////tmp/abs.sqlite3", "/tmp/abs.sqlite3"), ("sqlite:///rel.sqlite3", "rel.sqlite3")],
)
def test_sqlite_urls(url, path):
    assert store.open_database(url).database == path


def test_postgres_url_builds_a_pooled_database():
    database = store.open_database("postgresql://varna:s%40cret@db.example:6543/varna")
    assert database.database == "varna"
    assert database.connect_params["password"] == "s@cret"
    assert database.connect_params["port"] == 6543


def test_unknown_database_scheme():
    with pytest.raises(ValueError, match="unsupported"):
        store.open_database("mysql://x/y")


def test_failed_submission_leaves_nothing(app, monkeypatch):
    survey, codes = make_survey(app, access="codes", codes=1)

    def broken_entries(survey_id, sealed):
        InboxEntry.insert(id="x", survey=survey_id, sealed="half-written").execute()
        raise RuntimeError("crash while writing the inbox")

    monkeypatch.setattr(store.inbox, "_insert_entries", broken_entries)
    with app.app_context(), db.connection_context():
        with pytest.raises(RuntimeError):
            store.submit_response(
                survey,
                STAFF,
                answers(suggestions="hej"),
                store.Admission("code", codes[0]),
                app.config["SECRET_KEY"],
            )
        assert Response.select().count() == 0
        assert Answer.select().count() == 0
        assert Comment.select().count() == 0
        assert InboxEntry.select().count() == 0
        assert AccessCode.get().used is False


def test_two_simultaneous_submissions_with_one_code(app, tmp_path):
    survey, codes = make_survey(app, access="codes", codes=1)
    outcomes = []
    barrier = threading.Barrier(2)

    def attempt():
        with app.app_context(), db.connection_context():
            barrier.wait()
            try:
                store.submit_response(
                    survey,
                    STAFF,
                    answers(),
                    store.Admission("code", codes[0]),
                    app.config["SECRET_KEY"],
                )
                outcomes.append("ok")
            except store.CodeRejected:
                outcomes.append("rejected")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "rejected"]
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 1


def test_code_of_another_survey_is_rejected(app):
    survey, _ = make_survey(app, access="codes", codes=1)
    _, other_codes = make_survey(app, access="codes", codes=1)
    with app.app_context(), db.connection_context():
        assert not store.code_is_valid(survey, other_codes[0], app.config["SECRET_KEY"])
        with pytest.raises(store.CodeRejected):
            store.submit_response(
                survey,
                STAFF,
                answers(),
                store.Admission("code", other_codes[0]),
                app.config["SECRET_KEY"],
            )


def test_answers_carry_their_breakdown_values(app):
    survey, _ = make_survey(app)
    with app.app_context(), db.connection_context():
        store.submit_response(
            survey,
            STAFF,
            answers(role="manager", unit="na", years="gt10"),
            store.Admission("token", "t1"),
            "k",
        )
        store.set_status(survey, "closed", private_key(survey))
        rows = list(Answer.select())
    assert {(r.role, r.unit, r.years) for r in rows} == {("manager", "na", "gt10")}


def test_locked_database_raises_busy_and_writes_nothing(tmp_path):

    app = make_app(tmp_path, SQLITE_BUSY_TIMEOUT_MS=200)
    survey, _ = make_survey(app)
    import sqlite3

    blocker = sqlite3.connect(tmp_path / "varna.sqlite3")
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with app.app_context(), db.connection_context(), pytest.raises(store.DatabaseBusy):
            store.submit_response(survey, STAFF, answers(), store.Admission("token", "t"), "k")
    finally:
        blocker.rollback()
        blocker.close()
    with app.app_context(), db.connection_context():
        assert Response.select().count() == 0


def test_locked_database_shows_the_form_again_with_503(tmp_path):
    import sqlite3

    from tests.factories import open_form, submit

    app = make_app(tmp_path, SQLITE_BUSY_TIMEOUT_MS=200)
    survey, _ = make_survey(app)
    client = app.test_client()
    hidden = open_form(client, survey.slug)
    blocker = sqlite3.connect(tmp_path / "varna.sqlite3")
    blocker.execute("BEGIN IMMEDIATE")
    try:
        page = submit(client, survey.slug, complete_answers(STAFF, suggestions="Kvar?"), hidden)
    finally:
        blocker.rollback()
        blocker.close()
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert "Kvar?" in html
    assert "upptagen" in html
    # Sending again once the lock is gone works.
    assert submit(client, survey.slug, complete_answers(STAFF), hidden).status_code == 303


def test_no_connection_survives_app_start(app):
    """gunicorn forks after create_app: a pooled or open connection would be shared."""
    assert db.is_closed()
    assert not getattr(db.obj, "_connections", None)
    assert not getattr(db.obj, "_in_use", None)
