"""The operator commands."""

from __future__ import annotations

import csv
import json
import re

from portal import codes as codes_module
from portal import store
from portal.extensions import db
from portal.store.models import AccessCode, ResultCounts, Survey


def slug_from(output: str) -> str:
    return re.search(r"/s/([A-Za-z0-9_-]+)", output).group(1)


def test_init_db_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Database ready" in result.output


def test_create_survey_with_link(app, runner):
    result = runner.invoke(
        args=[
            "create-survey",
            "--template",
            "staff_threats",
            "--title",
            "Hot 2026",
            "--access",
            "link",
        ]
    )
    assert result.exit_code == 0, result.output
    slug = slug_from(result.output)
    assert len(slug) >= 20
    with app.app_context(), db.connection_context():
        survey = Survey.get(Survey.slug == slug)
        assert survey.status == "draft"
        assert survey.min_group == 5
        assert survey.title_en == "Hot 2026"
        frozen = json.loads(survey.definition_json)
        assert frozen["key"] == "staff_threats"
        assert survey.definition().item("exp_threats") is not None


def test_create_survey_with_codes_writes_csv(app, runner, tmp_path):
    out = tmp_path / "codes.csv"
    result = runner.invoke(
        args=[
            "create-survey",
            "--template",
            "exit",
            "--title",
            "Avslut",
            "--access",
            "codes",
            "--codes",
            "25",
            "--codes-out",
            str(out),
            "--min-group",
            "7",
        ]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = [r["code"] for r in rows]
    assert len(codes) == 25 == len(set(codes))
    assert all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", c) for c in codes)
    slug = slug_from(result.output)
    with app.app_context(), db.connection_context():
        survey = Survey.get(Survey.slug == slug)
        assert survey.min_group == 7
        hashes = {c.code_hash for c in AccessCode.select()}
        assert len(hashes) == 25
        # Only keyed hashes are stored, never the codes.
        assert not any(codes_module.normalise_code(c) in hashes for c in codes)
        assert store.code_is_valid(survey, codes[0], app.config["SECRET_KEY"])


def test_create_survey_refuses_bad_input(runner, tmp_path):
    cases = [
        (["--template", "nope", "--title", "x", "--access", "link"], "unknown template"),
        (["--template", "exit", "--title", "x", "--access", "codes"], "--codes N"),
        (["--template", "exit", "--title", "x", "--access", "link", "--codes", "3"], "only for"),
        (["--template", "exit", "--title", "x", "--access", "link", "--min-group", "2"], "2"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["create-survey", *args])
        assert result.exit_code != 0
        assert message in result.output


def test_existing_codes_file_is_never_overwritten(runner, tmp_path):
    out = tmp_path / "codes.csv"
    out.write_text("precious")
    result = runner.invoke(
        args=[
            "create-survey",
            "--template",
            "exit",
            "--title",
            "x",
            "--access",
            "codes",
            "--codes",
            "2",
            "--codes-out",
            str(out),
        ]
    )
    assert result.exit_code != 0
    assert out.read_text() == "precious"


def test_open_and_close(app, runner):
    slug = slug_from(
        runner.invoke(
            args=["create-survey", "--template", "exit", "--title", "x", "--access", "link"]
        ).output
    )
    assert runner.invoke(args=["close-survey", slug]).exit_code != 0  # a draft cannot close
    refused = runner.invoke(args=["open-survey", slug])
    assert refused.exit_code != 0
    assert "no survey key" in refused.output
    key_file = app.instance_path + "/../survey-key.txt"
    made = runner.invoke(args=["survey-key", slug, "--key-out", key_file])
    assert made.exit_code == 0, made.output
    result = runner.invoke(args=["open-survey", slug])
    assert result.exit_code == 0
    assert "open" in result.output
    assert runner.invoke(args=["open-survey", slug]).exit_code != 0
    result = runner.invoke(args=["close-survey", slug])
    assert result.exit_code == 0
    assert "0 responses" in result.output
    with app.app_context(), db.connection_context():
        survey = Survey.get(Survey.slug == slug)
        assert survey.status == "closed"
        # Counted at closing, so that HR's first preview does not have to.
        assert ResultCounts.select().where(ResultCounts.survey == survey.id).exists()
    assert runner.invoke(args=["open-survey", "missing"]).exit_code != 0
