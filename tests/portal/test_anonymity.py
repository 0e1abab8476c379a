"""Nothing stored or logged identifies a respondent or links them to their code."""

from __future__ import annotations

import logging
import uuid

import pytest

from portal import codes as codes_module
from portal import store
from portal.extensions import db
from portal.store.models import RESPONDENT_TABLES, Response
from surveys.answers import validate
from surveys.definition import load_template
from tests.factories import complete_answers, make_survey, open_form, private_key, submit

STAFF = load_template("staff_threats")
USER_AGENT = "VarnaProbe/7.3 (distinctive-agent-5c1e)"
FORWARDED = "203.0.113.199"
REMOTE = "198.51.100.77"


def database_bytes(app, tmp_path) -> bytes:
    """Everything the database holds: the SQLite files byte for byte (free pages
    and the WAL included), or on PostgreSQL every row of every table as text."""
    if tmp_path.joinpath("varna.sqlite3").exists() and store.is_sqlite():
        return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("varna.sqlite3*")))
    with app.app_context(), db.connection_context():
        rows = [
            repr(row)
            for table in db.get_tables()
            for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608
        ]
    return "\n".join(rows).encode()


def test_no_address_agent_or_code_in_database_or_logs(app, client, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    survey, codes = make_survey(app, access="codes", codes=3)
    client.environ_base.update(
        REMOTE_ADDR=REMOTE,
        HTTP_USER_AGENT=USER_AGENT,
        HTTP_X_FORWARDED_FOR=FORWARDED,
        HTTP_REFERER="https://intranet.example/secret-page",
    )
    code = codes[1]
    hidden = open_form(client, survey.slug, code=code)
    answers = complete_answers(STAFF, suggestions="Mer stöd från chefer")
    assert submit(client, survey.slug, answers, hidden).status_code == 303
    bare_code = codes_module.normalise_code(code)
    needles = (USER_AGENT, FORWARDED, REMOTE, code, bare_code, "intranet.example")
    # While open the submission waits sealed in the inbox: not even its comment is legible.
    blob = database_bytes(app, tmp_path)
    for needle in (*needles, "Mer stöd"):
        assert needle.encode() not in blob, needle

    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        (response,) = Response.select()
        response_id = response.id
    blob = database_bytes(app, tmp_path)
    output = caplog.text + "".join(capfd.readouterr())
    for needle in needles:
        assert needle.encode() not in blob, needle
        assert needle not in output, needle
    assert response_id not in output
    assert "Mer stöd" not in output


def test_respondent_cookie_holds_no_identifier_beyond_the_visit(app, client):
    survey, _ = make_survey(app)
    page = client.get(f"/s/{survey.slug}")
    cookies = page.headers.getlist("Set-Cookie")
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie.startswith("varna=")
    assert "HttpOnly" in cookie
    assert "Expires" not in cookie
    assert "Max-Age" not in cookie


def test_respondent_tables_have_no_time_and_no_link_between_code_and_response(app):
    with app.app_context(), db.connection_context():
        database = db.obj
        for model in RESPONDENT_TABLES:
            table = model._meta.table_name
            for column in database.get_columns(table):
                name, kind = column.name.lower(), column.data_type.lower()
                assert not any(w in name for w in ("time", "date", "created", "ip", "agent")), (
                    table,
                    name,
                )
                assert not any(w in kind for w in ("time", "date")), (table, name)
            targets = {fk.dest_table for fk in database.get_foreign_keys(table)}
            assert targets <= {"survey", "response"}, (table, targets)
        for table in ("access_code", "form_token"):
            assert {fk.dest_table for fk in database.get_foreign_keys(table)} == {"survey"}
            names = {c.name for c in database.get_columns(table)}
            assert not names & {"response", "response_id"}
        for table in ("response", "comment"):
            names = {c.name for c in database.get_columns(table)}
            assert not names & {"code", "code_hash", "token_hash", "access_code_id"}
        assert "response_id" not in {c.name for c in database.get_columns("comment")}


@pytest.mark.sqlite_only
def test_respondent_tables_are_without_rowid(app):
    with app.app_context(), db.connection_context():
        for model in RESPONDENT_TABLES:
            sql = db.execute_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                (model._meta.table_name,),
            ).fetchone()[0]
            assert sql.rstrip().upper().endswith("WITHOUT ROWID"), sql


def _spearman(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    d2 = sum((x - y) ** 2 for x, y in zip(xs, ys, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_read_order_does_not_betray_submission_order(app, monkeypatch):
    survey, _ = make_survey(app)
    answers = validate(STAFF, {k: [v] for k, v in complete_answers(STAFF).items()})
    created: list[str] = []
    real_uuid4 = uuid.uuid4

    def recording_uuid4():
        value = real_uuid4()
        created.append(str(value))
        return value

    # Only the test knows the order of creation: it watches the ids being made.
    monkeypatch.setattr(store.rows.uuid, "uuid4", recording_uuid4)
    with app.app_context(), db.connection_context():
        definition = survey.definition()
        for i in range(1000):
            store.submit_response(
                survey, definition, answers, store.Admission("token", f"t{i}"), "secret"
            )
        store.set_status(survey, "closed", private_key(survey))
        # A plain read with no ORDER BY shows the storage order.
        read = [row[0] for row in db.execute_sql("SELECT id FROM response").fetchall()]
    # The inbox's entries and the comments draw ids too; keep the responses'.
    stored = set(read)
    created = [c for c in created if c in stored]
    assert sorted(read) == sorted(created)
    assert all(uuid.UUID(r).version == 4 for r in read)
    rank_in_read = {rid: i for i, rid in enumerate(read)}
    correlation = _spearman(list(range(len(created))), [rank_in_read[r] for r in created])
    assert abs(correlation) < 0.1
