"""Schema versions: a database of the previous schema upgrades without loss."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from portal import create_app, store
from portal.extensions import db
from portal.store import migrations
from portal.store.models import Answer, Response, Survey

V1_SCHEMA = Path(__file__).parent / "data" / "schema_v1.sqlite.sql"


def test_fresh_database_is_at_the_latest_version(app):
    with app.app_context(), db.connection_context():
        assert migrations.current_version() == migrations.latest_version()


def test_migrating_twice_changes_nothing(app, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert f"schema version {migrations.latest_version()}" in result.output


@pytest.mark.sqlite_only
def test_a_version_1_database_upgrades_without_loss(tmp_path):
    path = tmp_path / "varna.sqlite3"
    legacy = sqlite3.connect(path)
    legacy.executescript(V1_SCHEMA.read_text())
    legacy.execute(
        "INSERT INTO survey (id, slug, template, kind, title_sv, title_en, definition_json, "
        "status, access, min_group, created_at) VALUES (1, 'old-slug', 'exit', 'exit', 'Gammal', "
        "'Old', ?, 'closed', 'link', 5, '2026-01-01 00:00:00')",
        (_exit_json(),),
    )
    legacy.execute(
        "INSERT INTO response (id, survey_id, period) VALUES "
        "('6f1c2a4e-0000-4000-8000-000000000001', 1, '2026-01'), "
        "('6f1c2a4e-0000-4000-8000-000000000002', 1, '2025-09')"
    )
    legacy.execute(
        "INSERT INTO answer (response_id, survey_id, question, value, role, unit, years) "
        "VALUES ('6f1c2a4e-0000-4000-8000-000000000001', 1, 'ending', 'resigned', "
        "'manager', 'children', 'lt2'), "
        "('6f1c2a4e-0000-4000-8000-000000000002', 1, 'ending', 'retired', "
        "'admin', 'children', 'gt10')"
    )
    legacy.commit()
    legacy.close()

    app = create_app(
        {"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{path}"}
    )
    with app.app_context(), db.connection_context():
        assert migrations.current_version() == migrations.latest_version()
        survey = Survey.get(Survey.slug == "old-slug")
        assert survey.title_en == "Old"
        assert survey.definition().key == "exit"
        assert Response.select().count() == 2
        assert store.response_count(survey) == 2
        assert Answer.select().count() == 2
        # Version 2: lifecycle columns with their defaults, and the new tables.
        assert (survey.archived, survey.published_on, survey.purge_after_months) == (
            False,
            None,
            None,
        )
        assert store.survey_units(survey) == []
        assert {"survey_unit", "comment_selection", "report_snapshot"} <= set(db.get_tables())
        # Version 4: the exit response's period is copied onto its answers, and the
        # covering index ends with it. Version 6: the month became its half-year.
        by_response = {a.response_id[-1]: a.period for a in Answer.select()}
        assert by_response == {"1": "2026-H1", "2": "2025-H2"}
        assert sorted(r.period for r in Response.select()) == ["2025-H2", "2026-H1"]
        indexes = {
            name
            for (name,) in db.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'answer'"
            )
        }
        # Version 12: and then with the district (city-wide surveys).
        assert "answer_survey_id_question_value_role_unit_years_period_district" in indexes
        assert "answer_survey_id_question_value_role_unit_years_period" not in indexes
        assert "answer_survey_id_question_value_role_unit_years" not in indexes
        # Respondent tables keep their storage property after the upgrade.
        for table in ("response", "inbox_entry"):
            sql = db.execute_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
            ).fetchone()[0]
            assert sql.rstrip().endswith("WITHOUT ROWID"), table


def _exit_json() -> str:
    import json

    from surveys.definition import load_template

    return json.dumps(load_template("exit").to_data())


def test_a_newer_database_is_refused(app):
    with app.app_context(), db.connection_context():
        migrations.SchemaVersion.update(version=999).execute()
        with pytest.raises(RuntimeError, match="newer than this code"):
            migrations.migrate()
