"""Counting for results in the database, the bulk storage path and demo data."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from portal import store
from portal.extensions import db
from portal.store.models import Answer, Response, Survey
from surveys.answers import validate
from surveys.definition import load_template
from surveys.periods import half_year
from tests.factories import complete_answers, counts_from_answers, make_survey, private_key

STAFF = load_template("staff_threats")


@pytest.mark.parametrize("status", ["draft", "open"])
def test_counts_of_an_unclosed_survey_are_refused(app, status):
    survey, _ = make_survey(app, status=status)
    with (
        app.app_context(),
        db.connection_context(),
        pytest.raises(store.ResultsNotAvailable) as refused,
    ):
        store.result_counts(survey, STAFF)
    assert refused.value.status == status


def test_demo_data_spreads_exit_responses_over_the_half_years(app, runner):
    """Twelve months of demo leavers land in two or three half-years, never in months."""
    survey, _ = make_survey(app, template="exit")
    result = runner.invoke(args=["demo-data", survey.slug, "--responses", "120", "--seed", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        periods = {r.period for r in Response.select(Response.period)}
    assert 2 <= len(periods) <= 3
    assert all(re.fullmatch(r"\d{4}-H[12]", p) for p in periods)


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_demo_data_only_for_open_surveys(app, runner, status):
    survey, _ = make_survey(app, status=status)
    result = runner.invoke(args=["demo-data", survey.slug, "--responses", "5"])
    assert result.exit_code != 0
    assert "only be added to an open survey" in result.output


def test_sql_counts_equal_a_naive_count(app):
    """The grouped queries give exactly the counts of the responses, computed in Python."""
    from portal.services.demo import demo_answers

    for template in ("staff_threats", "exit"):
        survey, _ = make_survey(app, template=template)
        with app.app_context(), db.connection_context():
            definition = survey.definition()
            generated = list(demo_answers(survey, 250, seed=11))
            store.submit_responses(survey, definition, generated)
            store.set_status(survey, "closed", private_key(survey))
            counts = store.result_counts(survey, definition)
        expected = counts_from_answers(
            definition, [a for a, _ in generated], [p and half_year(p) for _, p in generated]
        )
        assert counts.respondents == expected.respondents == 250
        assert sorted(counts.cube) == sorted(expected.cube)
        assert sorted(map(tuple, counts.flag_sums)) == sorted(expected.flag_sums)


def test_sql_counts_of_a_city_wide_survey_equal_a_naive_count(app):
    """The district is a group column like role and unit: per district in the cube and in
    the flag sums, None in every other survey."""
    from surveys import demo
    from surveys.definition import unit_districts, with_districts

    city = with_districts(
        STAFF,
        [("n1", "Norr", "North"), ("n2", "Söder", "South")],
        [
            ("n3", "Mottagningen (Norr)", "Intake (North)", "n1"),
            ("n4", "Familjeenheten (Norr)", "Family unit (North)", "n1"),
            ("n5", "Mottagningen (Söder)", "Intake (South)", "n2"),
        ],
    )
    generated = list(demo.demo_responses(city, 200, 7, dt.date(2026, 11, 1)))
    with app.app_context(), db.connection_context():
        survey = store.create_survey(city, title_sv="Staden", title_en="City", access="codes")
        store.set_status(survey, "open")
        store.submit_responses(survey, city, generated)
        store.set_status(survey, "closed", private_key(survey))
        counts = store.aggregate_counts(survey, city)
    expected = counts_from_answers(city, [a for a, _ in generated])
    assert counts.respondents == expected.respondents == 200
    assert sorted(counts.cube) == sorted(expected.cube)
    assert sorted(map(tuple, counts.flag_sums)) == sorted(expected.flag_sums)
    # (item, value, role, unit, years, period, district, count): the unit's own district.
    districts = {*unit_districts(city).values(), "na"}
    assert {row[6] for row in counts.cube} <= districts
    assert {row[6] for row in counts.cube} >= {"n1", "n2"}
    assert {row[3] for row in counts.flag_sums} == {None}  # no period in a staff survey
    assert {row[4] for row in counts.flag_sums} >= {"n1", "n2"}
    for row in counts.cube:
        if row[3] in unit_districts(city) and row[6] != "na":
            assert unit_districts(city)[row[3]] == row[6]


def test_counts_of_a_survey_without_districts_have_no_district(app):
    from portal.services.demo import demo_answers

    survey, _ = make_survey(app)
    with app.app_context(), db.connection_context():
        store.submit_responses(survey, STAFF, demo_answers(survey, 20, seed=5))
        store.set_status(survey, "closed", private_key(survey))
        counts = store.result_counts(survey, STAFF)
    assert {row[6] for row in counts.cube} == {None}
    assert {row[4] for row in counts.flag_sums} == {None}
    assert all(len(row) == 8 for row in counts.cube)


def test_bulk_batches_are_all_or_nothing(app, monkeypatch):
    survey, _ = make_survey(app)
    good = validate(STAFF, {k: [v] for k, v in complete_answers(STAFF).items()})

    def entries():
        for _ in range(3):
            yield good, None
        raise RuntimeError("generator failed in the second batch")

    with app.app_context(), db.connection_context():
        with pytest.raises(RuntimeError):
            store.submit_responses(survey, STAFF, entries(), batch_size=2)
        # The first batch (2) was committed; the unfinished second one left nothing.
        assert store.response_count(survey) == 2
        assert Answer.select().where(Answer.question == "exp_threats").count() == 2


def test_bulk_refuses_a_closed_survey(app):
    survey, _ = make_survey(app, status="closed")
    good = validate(STAFF, {k: [v] for k, v in complete_answers(STAFF).items()})
    with app.app_context(), db.connection_context(), pytest.raises(store.SurveyNotOpen):
        store.submit_responses(survey, STAFF, [(good, None)])
    with app.app_context(), db.connection_context():
        assert Survey.get_by_id(survey.id).responses.count() == 0


def test_demo_responses_are_the_same_in_worker_processes(monkeypatch):
    import datetime as dt

    from surveys import demo

    monkeypatch.setattr(demo, "CHUNK", 40)
    today = dt.date(2026, 11, 22)
    alone = list(demo.demo_responses(STAFF, 100, 5, today, workers=1))
    shared = list(demo.demo_responses(STAFF, 100, 5, today, workers=2))
    assert len(alone) == 100
    assert alone == shared
    assert alone != list(demo.demo_responses(STAFF, 100, 6, today, workers=1))


def test_slugs_never_start_with_a_dash(monkeypatch):
    """A slug such as "-H3x…" would be read as an option by every command taking a slug."""
    values = iter(["-abc", "-def", "ghi"])
    monkeypatch.setattr(store.surveys.secrets, "token_urlsafe", lambda n: next(values))
    assert store.new_slug() == "ghi"


def test_counts_are_aggregated_once_and_kept_until_the_purge(app, monkeypatch):
    """A closed survey never changes: its counts are kept, and read by later reports."""
    from portal.services.demo import demo_answers
    from portal.store.models import ResultCounts

    survey, _ = make_survey(app)
    with app.app_context(), db.connection_context():
        store.submit_responses(survey, STAFF, demo_answers(survey, 60, seed=3))
        assert not ResultCounts.select().exists()
        store.set_status(survey, "closed", private_key(survey))
        first = store.result_counts(survey, STAFF)
        assert ResultCounts.select().count() == 1

        def no_scan(*args):
            raise AssertionError("the kept counts should have been read")

        monkeypatch.setattr(store, "aggregate_counts", no_scan)
        assert store.result_counts(survey, STAFF) == first
        monkeypatch.undo()

        # Counts kept by a version that counted other conditions are aggregated again.
        row = ResultCounts.get()
        stale = json.loads(row.counts_json)
        stale["combinations"] = [[0]]
        ResultCounts.update(counts_json=json.dumps(stale)).execute()
        assert store.result_counts(survey, STAFF) == first
        assert json.loads(ResultCounts.get().counts_json)["combinations"] != [[0]]
        # So are counts kept in the layout before the district joined the groups (format 2:
        # rows of four group values), which the report would read at the wrong positions.
        old = json.loads(ResultCounts.get().counts_json)
        old["format"] = 2
        old["cube"] = [row[:6] + row[7:] for row in old["cube"]]
        old["flag_sums"] = [row[:4] + row[5:] for row in old["flag_sums"]]
        ResultCounts.update(counts_json=json.dumps(old)).execute()
        assert store.result_counts(survey, STAFF) == first
        assert json.loads(ResultCounts.get().counts_json)["format"] == store.COUNTS_FORMAT == 3

        store.set_status(survey, "published", private_key(survey))
        store.purge_responses(survey, dt.date(2026, 6, 1))
        assert not ResultCounts.select().exists()
