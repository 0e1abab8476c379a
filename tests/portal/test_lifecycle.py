"""The survey lifecycle rules, the date schedule, retention and their CLI commands."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from portal import store
from portal.extensions import db
from portal.services import lifecycle, monitoring, publication
from portal.store.models import (
    AccessCode,
    Answer,
    AuditEntry,
    Comment,
    ReportSnapshot,
    Response,
    ResultCounts,
    Survey,
    SurveyUnit,
)
from tests.factories import (
    complete_answers,
    give_key,
    key_text,
    make_survey,
    open_form,
    open_form_for,
    submit,
)

TODAY = dt.date(2026, 3, 10)


def settings(**overrides) -> lifecycle.SurveySettings:
    values = {"title_sv": "Hot 2026", "title_en": "Threats 2026", "access": "link"}
    values.update(overrides)
    return lifecycle.SurveySettings(**values)


def create(app, **overrides) -> Survey:
    """A draft as HR creates it, with its survey key made (``give_key``)."""
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey(
            "staff_threats", settings(**overrides), actor=None, today=TODAY
        )
        give_key(survey)
        return survey


def reload(app, survey: Survey) -> Survey:
    with app.app_context(), db.connection_context():
        return Survey.get_by_id(survey.id)


def actions(app) -> list[tuple[str, str]]:
    with app.app_context(), db.connection_context():
        entries = AuditEntry.select().order_by(AuditEntry.id)
        # The subject is "Title (slug)".
        return [(e.action, e.subject.rsplit("(", 1)[-1].rstrip(")")) for e in entries]


def answer(app, client, survey: Survey, count: int, **answers) -> None:
    definition = survey.definition()
    for _ in range(count):
        hidden = open_form(client, survey.slug)
        response = submit(client, survey.slug, complete_answers(definition, **answers), hidden)
        assert response.status_code == 303, response.get_data(as_text=True)


# -- creating and editing --------------------------------------------------------------------------


def test_create_keeps_template_units_and_records_invited(app):
    units = (lifecycle.UnitSetting("Barn och unga", "Children and young people", 40),)
    survey = create(app, units=units)
    with app.app_context(), db.connection_context():
        rows = store.survey_units(survey)
        # Only the first unit was named: the definition now offers exactly that one.
        assert [(u.name_sv, u.name_en, u.invited) for u in rows] == [
            ("Barn och unga", "Children and young people", 40)
        ]
        question = survey.definition().question("unit")
        assert [o.key for o in question.options] == ["u1", "na"]
    assert actions(app) == [("survey_created", survey.slug)]


def test_create_without_units_keeps_the_template_list(app):
    survey = create(app)
    with app.app_context(), db.connection_context():
        keys = [u.key for u in store.survey_units(survey)]
    assert keys == ["children", "adults", "finance", "elderly_disability", "other"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_group": 2}, "min_group"),
        ({"title_sv": "  "}, "title_sv"),
        ({"access": "magic"}, "access"),
        ({"closes_on": TODAY - dt.timedelta(days=1)}, "closes_on"),
        (
            {"opens_on": TODAY + dt.timedelta(days=5), "closes_on": TODAY + dt.timedelta(days=2)},
            "closes_on",
        ),
        ({"units": (lifecycle.UnitSetting("Norr"), lifecycle.UnitSetting("norr"))}, "units"),
        ({"units": (lifecycle.UnitSetting("Norr", invited=0),)}, "units"),
    ],
)
def test_invalid_settings_name_the_field(app, overrides, field):
    with pytest.raises(lifecycle.SettingsError) as caught:
        create(app, **overrides)
    assert field in caught.value.errors


def test_k_lower_bound_is_three_and_default_five(app):
    assert lifecycle.SurveySettings("a", "b", "link").min_group == 5
    assert create(app, min_group=3).min_group == 3


def test_edit_only_in_draft(app):
    survey = create(app)
    with app.app_context(), db.connection_context():
        lifecycle.edit_draft(
            survey,
            settings(
                title_sv="Nytt namn",
                min_group=7,
                units=(lifecycle.UnitSetting("Norr", "North", 12), lifecycle.UnitSetting("Söder")),
            ),
            actor=None,
            today=TODAY,
        )
        fresh = Survey.get_by_id(survey.id)
        assert fresh.title_sv == "Nytt namn"
        assert fresh.min_group == 7
        assert [(u.key, u.name_en, u.invited) for u in store.survey_units(fresh)] == [
            ("u1", "North", 12),
            ("u2", "Söder", None),
        ]
        lifecycle.open_survey(fresh, actor=None, today=TODAY)
        frozen = fresh.definition_json
        with pytest.raises(lifecycle.LifecycleError, match="Only a draft"):
            lifecycle.edit_draft(fresh, settings(title_sv="Sent"), actor=None, today=TODAY)
        assert Survey.get_by_id(survey.id).definition_json == frozen
        assert Survey.get_by_id(survey.id).title_sv == "Nytt namn"


def test_a_draft_opened_meanwhile_is_not_edited(app):
    survey = create(app)
    with app.app_context(), db.connection_context():
        stale = Survey.get_by_id(survey.id)
        lifecycle.open_survey(survey, actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError):
            lifecycle.edit_draft(stale, settings(title_sv="Sent"), actor=None, today=TODAY)
        assert Survey.get_by_id(survey.id).title_sv == "Hot 2026"


# -- transitions -----------------------------------------------------------------------------------


def test_full_lifecycle_and_refusal_to_reopen(app):
    survey = create(app)
    with app.app_context(), db.connection_context():
        lifecycle.open_survey(survey, actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError, match="already open"):
            lifecycle.open_survey(survey, actor=None, today=TODAY)
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError, match="cannot be reopened"):
            lifecycle.open_survey(survey, actor=None, today=TODAY)
        lifecycle.publish_survey(survey, lambda s: {"sv": "{}"}, actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError, match="never be reopened"):
            lifecycle.open_survey(survey, actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError):
            lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
        lifecycle.archive_survey(survey, actor=None)
        fresh = Survey.get_by_id(survey.id)
        assert (fresh.status, fresh.archived, fresh.published_on) == ("published", True, TODAY)
        assert store.list_surveys() == []
        assert [s.id for s in store.list_surveys(include_archived=True)] == [survey.id]
    assert [a for a, _ in actions(app)] == [
        "survey_created",
        "survey_opened",
        "survey_closed",
        "survey_published",
        "survey_archived",
    ]


def test_only_closed_or_published_surveys_are_archived(app):
    survey = create(app)
    with app.app_context(), db.connection_context(), pytest.raises(lifecycle.LifecycleError):
        lifecycle.archive_survey(survey, actor=None)


def test_opening_after_the_closing_date_is_refused(app):
    survey = create(app, closes_on=TODAY)
    with app.app_context(), db.connection_context():
        with pytest.raises(lifecycle.LifecycleError, match="closing date"):
            lifecycle.open_survey(survey, actor=None, today=TODAY + dt.timedelta(days=1))
        assert Survey.get_by_id(survey.id).status == "draft"


# -- the schedule ----------------------------------------------------------------------------------


def test_schedule_opens_and_closes_on_the_dates(app):
    opens, closes = TODAY + dt.timedelta(days=2), TODAY + dt.timedelta(days=9)
    survey = create(app, opens_on=opens, closes_on=closes)
    with app.app_context(), db.connection_context():
        assert lifecycle.apply_schedule(opens - dt.timedelta(days=1)) == []
        assert lifecycle.apply_schedule(opens) == [(survey.slug, "survey_opened")]
        assert lifecycle.apply_schedule(opens) == []  # idempotent
        assert lifecycle.apply_schedule(closes) == []  # open through the closing day
        assert lifecycle.apply_schedule(closes + dt.timedelta(days=1)) == [
            (survey.slug, "survey_closed")
        ]
        assert lifecycle.apply_schedule(closes + dt.timedelta(days=2)) == []
        assert Survey.get_by_id(survey.id).status == "closed"
    audit = actions(app)
    assert audit.count(("survey_opened", survey.slug)) == 1
    assert audit.count(("survey_closed", survey.slug)) == 1


def test_a_draft_past_its_closing_date_does_not_open(app):
    survey = create(app, opens_on=TODAY, closes_on=TODAY)
    with app.app_context(), db.connection_context():
        assert lifecycle.apply_schedule(TODAY + dt.timedelta(days=1)) == []
        assert Survey.get_by_id(survey.id).status == "draft"


def test_transition_is_applied_once_by_concurrent_callers(app):
    survey = create(app, opens_on=TODAY)
    with app.app_context(), db.connection_context():
        first, second = Survey.get_by_id(survey.id), Survey.get_by_id(survey.id)
        assert store.transition(first, ("draft",), "open", TODAY)
        assert not store.transition(second, ("draft",), "open", TODAY)
        assert lifecycle.apply_survey_schedule(second, TODAY) is None


def test_respondent_request_applies_the_schedule(tmp_path):
    from tests.factories import make_app

    app = make_app(tmp_path, TODAY=TODAY)
    survey = create(app, opens_on=TODAY, closes_on=TODAY + dt.timedelta(days=3))
    client = app.test_client()
    assert client.get(f"/s/{survey.slug}").status_code == 200
    assert reload(app, survey).status == "open"
    app.config["TODAY"] = TODAY + dt.timedelta(days=4)
    assert client.get(f"/s/{survey.slug}").status_code == 410
    assert reload(app, survey).status == "closed"


def test_tick_command(app, runner):
    survey = create(app, opens_on=TODAY, closes_on=TODAY + dt.timedelta(days=1))
    result = runner.invoke(args=["tick", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"{survey.slug}: opened" in result.output
    result = runner.invoke(args=["tick", "--today", "2026-03-12"])
    assert f"{survey.slug}: closed" in result.output
    with app.app_context(), db.connection_context():
        assert ResultCounts.select().where(ResultCounts.survey == survey.id).exists()
    result = runner.invoke(args=["tick", "--today", "2026-03-12"])
    assert "Nothing due" in result.output


# -- CLI transitions -----------------------------------------------------------------------------


def test_cli_refuses_to_reopen_and_publishes_and_archives(app, runner, monkeypatch):
    monkeypatch.setattr(publication, "report_snapshots", lambda s, **_: {"sv": "{}", "en": "{}"})
    survey, _ = make_survey(app, status="draft")
    assert runner.invoke(args=["open-survey", survey.slug]).exit_code == 0
    assert runner.invoke(args=["close-survey", survey.slug]).exit_code == 0
    refused = runner.invoke(args=["open-survey", survey.slug])
    assert refused.exit_code != 0
    assert "cannot be reopened" in refused.output
    assert runner.invoke(args=["archive-survey", "nope"]).exit_code != 0
    published = runner.invoke(args=["publish-survey", survey.slug])
    assert published.exit_code == 0, published.output
    refused = runner.invoke(args=["open-survey", survey.slug])
    assert "never be reopened" in refused.output
    assert runner.invoke(args=["publish-survey", survey.slug]).exit_code != 0
    archived = runner.invoke(args=["archive-survey", survey.slug])
    assert archived.exit_code == 0, archived.output
    fresh = reload(app, survey)
    assert (fresh.status, fresh.archived) == ("published", True)
    assert [a for a, _ in actions(app)][-4:] == [
        "survey_opened",
        "survey_closed",
        "survey_published",
        "survey_archived",
    ]


# -- codes -----------------------------------------------------------------------------------------


def test_codes_batches_counts_and_revocation(app, client):
    survey = create(app, access="codes")
    secret = app.config["SECRET_KEY"]
    with app.app_context(), db.connection_context():
        first = lifecycle.generate_codes(survey, 3, secret, actor=None)
        lifecycle.generate_codes(survey, 2, secret, actor=None)
        lifecycle.open_survey(survey, actor=None, today=TODAY)
    hidden = open_form(client, survey.slug, code=first[0])
    submit(client, survey.slug, complete_answers(survey.definition()), hidden)
    with app.app_context(), db.connection_context():
        assert store.code_counts(survey) == (5, 1)
        assert lifecycle.revoke_unused_codes(survey, actor=None) == 4
        assert store.code_counts(survey) == (1, 1)
        assert not store.code_is_valid(survey, first[1], secret)
        with pytest.raises(lifecycle.LifecycleError):
            lifecycle.generate_codes(survey, 0, secret, actor=None)
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError, match="before the survey closes"):
            lifecycle.generate_codes(survey, 1, secret, actor=None)
        assert AccessCode.select().count() == 0
    audit = actions(app)
    assert ("codes_generated", survey.slug) in audit
    assert ("codes_revoked", survey.slug) in audit


def test_codes_csv_neutralises_formulas():
    from portal.services.access import codes_csv

    text = codes_csv(["ABCDE-FGHJK"], "https://x/s/y", '=HYPERLINK("evil")')
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "code,link,survey"
    assert lines[1].startswith("ABCDE-FGHJK,https://x/s/y,")
    assert "'=HYPERLINK" in lines[1]


# -- monitoring ------------------------------------------------------------------------------------


def test_unit_rates_only_after_close_and_small_units_merged(app, client):
    units = (
        lifecycle.UnitSetting("Norr", invited=10),
        lifecycle.UnitSetting("Söder", invited=8),
        lifecycle.UnitSetting("Väster", invited=6),
        lifecycle.UnitSetting("Öster", invited=4),
    )
    by_access = {}
    for access in ("codes", "link"):
        survey = create(app, units=units, min_group=3, access=access)
        with app.app_context(), db.connection_context():
            lifecycle.open_survey(survey, actor=None, today=TODAY)
        for unit, count in (("u1", 5), ("u2", 4), ("u3", 2), ("u4", 1)):
            for _ in range(count):
                hidden = open_form_for(app, client, survey)
                answers = complete_answers(survey.definition(), unit=unit)
                assert submit(client, survey.slug, answers, hidden).status_code == 303
        with app.app_context(), db.connection_context():
            assert monitoring.unit_rates(survey) is None
            total = monitoring.overall(survey)
            assert (total.responses, total.invited, total.rate) == (12, 28, 43)
            lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
            rates = monitoring.unit_rates(reload(app, survey))
            by_access[access] = {r.name_sv: (r.responses, r.rate) for r in rates}
    # Units below k are merged as the report merges them (Väster's 2 and Öster's 1).
    assert by_access["codes"] == {
        "Norr": (5, 50),
        "Söder": (4, 50),
        "Väster och Öster": (3, 30),
    }
    # A link survey's counts per unit could be lifted by made-up answers (the stuffing
    # attack in test_abuse): only the total is given.
    assert by_access["link"] == {}


# -- comments --------------------------------------------------------------------------------------


def test_comments_are_redacted_and_in_random_order(app):
    survey = create(app, min_group=3)
    with app.app_context(), db.connection_context():
        text_key = next(i.key for i in survey.definition().items() if i.kind == "text")
        inserted = []
        for n in range(12):
            comment_id = str(uuid.uuid4())
            inserted.append(comment_id)
            Comment.insert(
                id=comment_id,
                survey=survey.id,
                question=text_key,
                text=f"kommentar {n} ring 070-123 45 67",
            ).execute()
        groups = publication.comment_groups(survey, "sv")
        again = publication.comment_groups(survey, "sv")
    shown = [c.id for c in groups[0].comments]
    # The order is that of the random ids: unrelated to insertion, stable between visits.
    assert shown == sorted(inserted) == [c.id for c in again[0].comments]
    assert all("[telefonnummer]" in c.text and "070" not in c.text for c in groups[0].comments)


def test_comment_threshold_is_k_and_never_under_ten(app):
    survey = create(app, min_group=12)
    assert monitoring.comment_threshold(survey) == 12
    survey = create(app, min_group=3)
    assert monitoring.comment_threshold(survey) == monitoring.K_TEXT
    assert not monitoring.comments_visible(survey, 50)  # still a draft


# -- retention -------------------------------------------------------------------------------------


def closed_with_answers(app, client, count=6, **answers) -> Survey:
    survey = create(app, min_group=3)
    with app.app_context(), db.connection_context():
        lifecycle.open_survey(survey, actor=None, today=TODAY)
    answer(app, client, survey, count, **answers)
    with app.app_context(), db.connection_context():
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
    return survey


def test_purge_keeps_the_published_snapshot_and_deletes_raw_rows(app, client):
    survey = closed_with_answers(app, client)
    with app.app_context(), db.connection_context():
        with pytest.raises(lifecycle.LifecycleError, match="after publication"):
            lifecycle.purge_responses(survey, actor=None, today=TODAY)
        snapshot = lifecycle.snapshot_json({"respondents": 6}, [("Fråga", "en kommentar")])
        lifecycle.publish_survey(
            survey, lambda s: {"sv": snapshot, "en": snapshot}, actor=None, today=TODAY
        )
        deleted = lifecycle.purge_responses(survey, actor=None, today=TODAY)
        assert deleted["responses"] == 6
        for model in (Response, Answer, Comment):
            assert model.select().where(model.survey == survey.id).count() == 0
        kept = json.loads(store.report_snapshot(survey, "sv"))
        assert kept == {
            "format": 2,
            "report": {"respondents": 6},
            "comments": [{"question": "Fråga", "text": "en kommentar"}],
            "comparison": None,
            "references": [],
        }
        assert ReportSnapshot.select().count() == 2
        assert SurveyUnit.select().where(SurveyUnit.survey == survey.id).count() == 5
        with pytest.raises(lifecycle.LifecycleError, match="already"):
            lifecycle.purge_responses(survey, actor=None, today=TODAY)
    assert ("responses_purged", survey.slug) in actions(app)


def test_automatic_purge_after_n_months(app, client, runner):
    survey = closed_with_answers(app, client, count=3)
    with app.app_context(), db.connection_context():
        lifecycle.set_retention(survey, 6, actor=None)
        lifecycle.publish_survey(survey, lambda s: {"sv": "{}"}, actor=None, today=TODAY)
        assert lifecycle.purge_due_on(survey) == dt.date(2026, 9, 10)
        assert lifecycle.apply_schedule(dt.date(2026, 9, 9)) == []
    result = runner.invoke(args=["tick", "--today", "2026-09-10"])
    assert f"{survey.slug}: responses purged" in result.output
    with app.app_context(), db.connection_context():
        assert Response.select().count() == 0
        assert Survey.get_by_id(survey.id).purged_on == dt.date(2026, 9, 10)
        with pytest.raises(lifecycle.SettingsError):
            lifecycle.set_retention(survey, 0, actor=None)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 11, 15), 3, dt.date(2027, 2, 15)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
    ],
)
def test_add_months(day, months, expected):
    assert lifecycle.add_months(day, months) == expected


def test_scheduled_transitions_are_logged_at_the_due_moment_not_the_request(app):
    survey = create(app, opens_on=dt.date(2026, 3, 12), closes_on=dt.date(2026, 3, 20))
    with app.app_context(), db.connection_context():
        lifecycle.apply_schedule(dt.date(2026, 3, 15))
        lifecycle.apply_schedule(dt.date(2026, 3, 25))
        entries = {
            e.action: (e.at, e.actor_id, e.detail)
            for e in AuditEntry.select().where(AuditEntry.subject.contains(survey.slug))
        }
    # Midnight in Stockholm (UTC+1 in March), whenever the request came.
    assert entries["survey_opened"] == (
        dt.datetime(2026, 3, 11, 23, 0),
        None,
        lifecycle.ON_ITS_DATE,
    )
    assert entries["survey_closed"] == (
        dt.datetime(2026, 3, 20, 23, 0),
        None,
        lifecycle.ON_ITS_DATE,
    )


def test_current_date_follows_the_clock_in_stockholm(tmp_path):
    from portal.clock import today
    from tests.factories import install_clock, make_app

    app = make_app(tmp_path)
    clock = install_clock(app)
    clock.now = dt.datetime(2026, 6, 30, 22, 30)  # 00:30 on 1 July in Stockholm
    with app.app_context():
        assert today() == dt.date(2026, 7, 1)
