"""Results end to end: web submissions → closed survey → exported report; demo data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from portal import store
from portal.extensions import db
from portal.reports import results
from portal.reports.spreadsheet import neutralise
from portal.store.models import Answer
from surveys.definition import load_template, with_units
from tests.factories import (
    SURVEY_KEYS,
    complete_answers,
    make_survey,
    open_form_for,
    private_key,
    submit,
)

# The report protects every number with surveys.disclosure (written separately).
pytest.importorskip("surveys.disclosure")

STAFF = load_template("staff_threats")
NBSP = "\u00a0"


def answer_through_the_form(client, survey, **overrides) -> None:
    hidden = open_form_for(client.application, client, survey)
    page = submit(client, survey.slug, complete_answers(STAFF, **overrides), hidden)
    assert page.status_code == 303, page.get_data(as_text=True)


def close(runner, slug: str) -> None:
    """Close with the survey key, read from standard input as an operator would pipe it."""
    result = runner.invoke(
        args=["close-survey", slug, "--key-file", "-"], input=SURVEY_KEYS[slug] + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "still sealed" not in result.output


def export(runner, slug: str, *args: str) -> str:
    result = runner.invoke(args=["report", slug, *args])
    assert result.exit_code == 0, result.output
    return result.output


def groups(data, key: str, breakdown: str):
    """The groups of a table: by group, a question's rows are its key figure's."""
    tables = {t["key"]: t for t in (*data["indicators"], *data["questions"])}
    if breakdown not in tables[key]["breakdowns"]:
        tables = {t["key"]: t for t in data["key_figures"]}
    return {g["group"]: g for g in tables[key]["breakdowns"][breakdown]}


def options(group):
    return {o["key"]: o for o in group["options"]}


@pytest.fixture
def known_survey(app, client, runner):
    """16 responses through the web form: 8 social workers (4 threatened), 6 administrators
    (none threatened) and 2 managers (both threatened); then closed."""
    survey, _ = make_survey(app, access="codes")
    for i in range(8):
        threatened = "once" if i < 4 else "never"
        answer_through_the_form(client, survey, exp_threats=threatened)
    for _ in range(6):
        answer_through_the_form(client, survey, role="admin", unit="other")
    for _ in range(2):
        answer_through_the_form(client, survey, role="manager", unit="other", exp_threats="2to5")
    close(runner, survey.slug)
    return survey


def test_exported_json_has_exact_counts_and_suppression(known_survey, runner):
    data = json.loads(export(runner, known_survey.slug, "--format", "json"))
    assert data["survey"]["slug"] == known_survey.slug
    assert data["survey"]["min_group"] == 5
    assert data["respondents"] == 16

    (total,) = groups(data, "exp_threats", "all").values()
    assert total["n"] == 16
    assert options(total)["never"] == {
        "key": "never",
        "label": "Aldrig",
        "count": 10,
        "percent": 63,
        "band": None,
        "display": f"63{NBSP}%",
        "suppressed": None,
    }
    assert options(total)["once"]["count"] == 4
    assert options(total)["once"]["display"] == f"25{NBSP}%"

    # The total has nobody at "more than 5 times": all or nothing, so a band (n = 16 → 10).
    assert options(total)["more5"]["count"] is None
    assert options(total)["more5"]["display"] == f"<10{NBSP}%"
    assert options(total)["more5"]["band"] == {"sign": "<", "bound": 10}

    by_role = groups(data, "exp_threats", "role")
    # The two managers are below k: they are published only together with the
    # administrators (global recoding), never as a group of their own.
    assert "manager" not in by_role
    assert "admin" not in by_role
    merged = by_role["manager+admin"]
    assert merged["n"] == 8
    assert merged["label"] == "Chef och Administratör"
    # By group the report shows the key figure, threatened at least once, not every option.
    (figure,) = merged["options"]
    assert figure["key"] == "key_figure"
    assert figure["label"] == "Minst en gång"
    assert figure["count"] in (2, None)
    assert all(set(t["breakdowns"]) == {"all"} for t in data["questions"])

    # A follow-up answered by fewer than k of a group shows nothing for it.
    for group in groups(data, "aim", "role").values():
        if group["n"] is None:
            assert group["n_display"] == "<5"
            assert group["suppressed"] == "x"
            assert all(o["display"] == "x" and o["count"] is None for o in group["options"])

    # The social workers are shown exactly unless the line rule had to hide them too.
    children = by_role["ss_children"]
    if children["n"] is not None and options(children)["key_figure"]["count"] is not None:
        assert children["n"] == 8
        assert options(children)["key_figure"]["count"] == 4
        assert options(children)["key_figure"]["display"] == f"50{NBSP}%"
    # No role group may reveal the managers: a shown 0 % or 100 % would be a band.
    for group in by_role.values():
        for option in group["options"]:
            assert option["display"] not in (f"0{NBSP}%", f"100{NBSP}%")

    assert data["indicators"][0]["label"] == "Hotade under de senaste 12 månaderna"
    threatened = groups(data, "threatened", "role")
    assert set(threatened) >= {"ss_children", "manager+admin"}
    assert "manager" not in threatened
    (overall,) = groups(data, "threatened", "all").values()
    assert (overall["n"], overall["options"][0]["count"]) == (16, 6)


def test_no_export_contains_a_suppressed_number(known_survey, runner):
    data = json.loads(export(runner, known_survey.slug, "--format", "json", "--lang", "en"))
    for table in (*data["indicators"], *data["questions"], *data["key_figures"]):
        for breakdown in table["breakdowns"].values():
            for group in breakdown:
                if group["suppressed"]:
                    assert group["n"] is None
                    assert group["prefer_not"] is None
                for option in group["options"]:
                    if option["display"] == "x" or option["display"][0] in "<>":
                        assert option["count"] is None
                        assert option["percent"] is None
    text = export(runner, known_survey.slug, "--format", "csv", "--by", "role", "--lang", "en")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    # Neither the two managers nor their answers can be read off the export: they are
    # only in the merged group with the administrators.
    assert not [r for r in rows if r["Group"] == "Manager"]
    merged = [r for r in rows if r["Group"] == "Manager and Administrator"]
    assert merged
    assert all(r["n"] == "8" for r in merged if r["Question"].startswith("Threats"))
    assert "reason" not in text.lower()
    assert "primary" not in text.lower()


def test_english_and_swedish_display(known_survey, runner):
    data = json.loads(export(runner, known_survey.slug, "--lang", "en", "--by", "all"))
    (total,) = groups(data, "exp_threats", "all").values()
    assert options(total)["never"]["display"] == "63%"
    assert options(total)["never"]["label"] == "Never"
    assert data["indicators"][0]["label"] == "Threatened in the last 12 months"
    assert set(data["questions"][0]["breakdowns"]) == {"all"}


def test_csv_export_with_bom_and_one_row_per_option(known_survey, runner, tmp_path):
    out = tmp_path / "report.csv"
    result = runner.invoke(
        args=["report", known_survey.slug, "--format", "csv", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    # The board's own CSV (one pipeline), in the report's language.
    threats = [
        r
        for r in rows
        if r["Nyckel"] == "exp_threats"
        and r["Redovisning"] == "Alla svarande"
        and r["Del"] == "Fråga"
    ]
    # By group, the key figure: one row per group.
    key = [r for r in rows if r["Nyckel"] == "exp_threats" and r["Del"] == "Nyckeltal"]
    assert key
    assert {r["Svar"] for r in key} == {"Minst en gång"}
    assert [r["Svar"] for r in threats][0] == "Aldrig"
    assert len(threats) == 4
    assert threats[0]["n"] == "16"
    assert threats[0]["Andel"] == f"63{NBSP}%"


def test_csv_neutralises_formulas(app, runner):
    definition = with_units(STAFF, ['=HYPERLINK("http://evil")', "+Vuxen", "Barn"])
    with app.app_context(), db.connection_context():
        survey = store.create_survey(definition, title_sv="T", title_en="T", access="codes")
        store.set_status(survey, "open")
        store.set_status(survey, "closed", private_key(survey))
    text = export(runner, survey.slug, "--format", "csv", "--by", "unit")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    labels = {r["Grupp"] for r in rows}
    assert '\'=HYPERLINK("http://evil")' in labels
    assert "'+Vuxen" in labels
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise(value):
    assert neutralise(value) == f"'{value}"
    assert neutralise("<5") == "<5"


@pytest.mark.parametrize("status", ["draft", "open"])
def test_report_of_an_unclosed_survey_is_refused(app, runner, status):
    survey, _ = make_survey(app, status=status)
    result = runner.invoke(args=["report", survey.slug])
    assert result.exit_code != 0
    assert f"the survey is {status}" in result.output
    assert "only available once it is closed" in result.output
    with app.app_context(), db.connection_context(), pytest.raises(store.ResultsNotAvailable):
        store.result_counts(survey, STAFF)


def test_report_of_an_unknown_survey(runner):
    result = runner.invoke(args=["report", "nope"])
    assert result.exit_code != 0
    assert "no survey" in result.output


def test_demo_data_fills_an_open_survey_whose_report_builds(app, runner):
    survey, _ = make_survey(app, access="codes")
    result = runner.invoke(args=["demo-data", survey.slug, "--responses", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "300" in result.output
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 300
        # Every response has its breakdown values, as real submissions do.
        assert not Answer.select().where(Answer.role.is_null()).exists()
    close(runner, survey.slug)
    data = json.loads(export(runner, survey.slug))
    assert data["respondents"] == 300
    threatened = groups(data, "threatened", "role")
    children, admin = threatened["ss_children"], threatened["admin"]
    if children["n"] and admin["n"]:
        assert children["options"][0]["percent"] > (admin["options"][0]["percent"] or 0)


def test_a_published_survey_exports_its_published_report_even_after_the_purge(
    app, known_survey, runner
):
    before = json.loads(export(runner, known_survey.slug))
    before_csv = export(runner, known_survey.slug, "--format", "csv")
    assert runner.invoke(args=["publish-survey", known_survey.slug]).exit_code == 0
    published = json.loads(export(runner, known_survey.slug))
    published_csv = export(runner, known_survey.slug, "--format", "csv")
    assert published_csv == before_csv
    assert published["respondents"] == before["respondents"] == 16
    assert published["questions"] == before["questions"]
    with app.app_context(), db.connection_context():
        survey = store.get_survey(known_survey.slug)
        store.purge_responses(survey, dt.date.today())
    after = json.loads(export(runner, known_survey.slug))
    assert after == published
    only_roles = json.loads(export(runner, known_survey.slug, "--by", "role"))
    assert set(only_roles["breakdowns"]) == {"role"}
    assert all(set(t["breakdowns"]) <= {"role"} for t in only_roles["questions"])
    assert export(runner, known_survey.slug, "--format", "csv") == published_csv


def test_a_closed_surveys_report_is_built_once_per_process(app, known_survey, monkeypatch):
    calls = []
    real = store.result_counts
    monkeypatch.setattr(store, "result_counts", lambda *a: calls.append(1) or real(*a))
    with app.app_context(), db.connection_context():
        survey = store.get_survey(known_survey.slug)
        first = results.survey_report(survey)
        assert results.survey_report(survey) is first
        assert results.survey_report(survey, invited=20).response_rate == 80
    assert len(calls) == 2  # once per distinct invited count


def test_the_protection_is_decided_once_and_read_back_by_every_later_report(
    app, known_survey, runner, monkeypatch
):
    """Issue 15: the protected report of a closed survey is built once, kept beside its
    counts, and read back (not protected again) by later reports in any process."""
    from surveys import linked

    first = json.loads(export(runner, known_survey.slug, "--format", "json"))
    with app.app_context(), db.connection_context():
        survey = store.get_survey(known_survey.slug)
        kept = store.stored_protection(survey, f"breakdowns:k={survey.min_group}")
    assert kept  # the figures not shown exactly, with their ranges
    assert all(len(state) == 3 for state in kept.values())

    # Another process: nothing cached; disclosure control must not run again.
    app.extensions.pop("varna.reports", None)

    def protect_again(self):
        raise AssertionError("the kept protection was not used")

    monkeypatch.setattr(linked.System, "protect", protect_again)
    again = json.loads(export(runner, known_survey.slug, "--format", "json"))
    assert again == first

    # Counts made again (another counting version): what was decided no longer holds.
    from portal.store.counts import _store_counts

    with app.app_context(), db.connection_context():
        counts = store.result_counts(survey, survey.definition())
        _store_counts(survey, counts)
        assert store.stored_protection(survey, f"breakdowns:k={survey.min_group}") is None
        store.keep_protection(survey, f"breakdowns:k={survey.min_group}", kept)

    # Kept by an older engine: decided again, not trusted.
    monkeypatch.setattr(linked, "VERSION", linked.VERSION + 1)
    with app.app_context(), db.connection_context():
        assert store.stored_protection(survey, f"breakdowns:k={survey.min_group}") is None


def _closed_with_a_small_unit(app, client, runner, access: str):
    """A closed survey answered by 6 in children, 6 in adults and 2 in finance."""
    survey, _ = make_survey(app, access=access)
    for unit, times in (("children", 6), ("adults", 6), ("finance", 2)):
        for _ in range(times):
            answer_through_the_form(client, survey, unit=unit)
    close(runner, survey.slug)
    with app.app_context(), db.connection_context():
        return store.get_survey(survey.slug)


def test_hr_participation_after_close_is_what_the_report_publishes(app, client, runner):
    """L5: HR's response counts per unit after close are part of the protected system. A
    unit below k is merged as in the report, so the two pages together never give it."""
    from portal.services import monitoring

    survey = _closed_with_a_small_unit(app, client, runner, "codes")
    with app.test_request_context(), db.connection_context():
        rates = {r.key: r for r in monitoring.unit_rates(survey)}
        report = results.survey_report(survey)
    assert "finance" not in rates
    merged = rates["children+finance"]
    # "Barn och unga och Ekonomiskt bistånd" would not say where one unit ends.
    assert merged.name_sv == "Barn och unga samt Ekonomiskt bistånd"
    assert merged.name_en == "Children and young people as well as Financial assistance"
    assert merged.responses == 8
    (row,) = next(t for t in report.questions if t.key == "unit").breakdowns["all"]
    published = {c.key: c.count for c in row.cells}
    for key, rate in rates.items():
        assert rate.responses == published[key]


def test_a_link_mode_report_gives_no_count_per_unit(app, client, runner):
    """A link-mode survey publishes no breakdown and no table of its breakdown questions:
    made-up answers could lift a unit above k (tests/portal/test_abuse.py), so neither
    the report nor HR's rates give a count per unit, and a unit below k follows from
    nothing. Only the total is published."""
    from portal.services import monitoring

    survey = _closed_with_a_small_unit(app, client, runner, "link")
    with app.test_request_context(), db.connection_context():
        report = results.survey_report(survey)
        rates = monitoring.unit_rates(survey)
        data = results.to_json_data(report)
    assert report.breakdowns == ("all",)
    assert report.respondents == 14
    tables = {t.key for t in (*report.indicators, *report.questions)}
    assert not tables & {"role", "unit", "years"}
    assert rates == []
    assert "finance" not in json.dumps(data)
