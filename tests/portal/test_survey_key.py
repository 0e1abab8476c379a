"""Survey keys: the answers of a survey are sealed to a key whose private half only HR has.

The storage attacks (T1, T2 with the database's history) are in test_unlinkable.py;
these tests are the life cycle, the pages and the command line around the key: a
survey cannot open without one, the key is shown once and kept nowhere, a wrong or
replaced key changes nothing, and a survey closed without its key shows no results,
no comments and cannot be published until the key is entered.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portal import store
from portal.extensions import db
from portal.services import lifecycle
from portal.store import survey_key
from portal.store.models import AuditEntry, InboxEntry, Response, Survey
from tests.factories import (
    complete_answers,
    key_text,
    logged_in_as,
    make_survey,
    open_form,
    post_form,
    submit,
)

TODAY = dt.date(2026, 3, 10)
_KEY = re.compile(r"(?:[A-Z2-7]{4}-){12}[A-Z2-7]{4}")


@pytest.fixture
def hr(app, client):
    app.config["TODAY"] = TODAY
    logged_in_as(app, client, "hr")
    return client


def fresh(app, survey) -> Survey:
    with app.app_context(), db.connection_context():
        return store.get_survey(survey.slug)


def answer(app, survey, n: int, **answers) -> None:
    """``n`` staff answer through the form (link mode)."""
    client = app.test_client()
    for i in range(n):
        form = open_form(client, survey.slug)
        data = complete_answers(survey.definition(), suggestions=f"svar {i} slut", **answers)
        assert submit(client, survey.slug, form, data).status_code in (200, 303)


def test_a_draft_without_a_key_neither_opens_by_hand_nor_on_its_date(app):
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey(
            "staff_threats",
            lifecycle.SurveySettings("Hot", "Threats", "link", opens_on=TODAY),
            actor=None,
            today=TODAY,
        )
        with pytest.raises(lifecycle.LifecycleError) as refused:
            lifecycle.open_survey(survey, actor=None, today=TODAY)
        assert refused.value.message == lifecycle.NO_SURVEY_KEY
        assert lifecycle.apply_schedule(TODAY, purge=False) == []
        assert store.get_survey(survey.slug).status == "draft"
        lifecycle.make_survey_key(survey, actor=None)
        assert lifecycle.apply_schedule(TODAY, purge=False) == [(survey.slug, "survey_opened")]


def test_the_key_page_shows_the_key_once_and_the_portal_keeps_only_its_public_half(
    app, hr, tmp_path
):
    survey, _ = make_survey(app, status="draft", keyed=False)
    detail = f"/admin/surveys/{survey.slug}"
    html = hr.get(detail).get_data(as_text=True)
    assert "Enkätnyckel" in html
    assert "har ingen nyckel" in html
    assert "Öppna enkäten nu" not in html  # no open button before the key
    shown = post_form(hr, f"{detail}/key", {}, page=detail)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    (key,) = _KEY.findall(page)
    stored = fresh(app, survey)
    survey_key.parse(key, stored.seal_key)  # the key shown is this survey's
    mark = lifecycle.key_mark(stored)
    assert mark in page
    # Nowhere in the database, its WAL, the instance folder or the audit log.
    letters = key.replace("-", "")
    for path in (tmp_path / "instance").rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert key.encode() not in raw, path
            assert letters.encode() not in raw, path
    with app.app_context(), db.connection_context():
        entry = AuditEntry.select().order_by(AuditEntry.id.desc()).get()
        assert entry.action == "survey_key_made"
        assert entry.params() == {"mark": lifecycle.key_mark(stored)}
        assert letters not in entry.detail + entry.detail_params
    # The survey page afterwards shows the mark, never the key.
    html = hr.get(detail).get_data(as_text=True)
    assert mark in html
    assert key not in html
    assert "Öppna enkäten nu" in html
    # A new key replaces the old one, which then opens nothing.
    again = post_form(hr, f"{detail}/key", {}, page=detail).get_data(as_text=True)
    (new_key,) = _KEY.findall(again)
    assert new_key != key
    with pytest.raises(survey_key.WrongKey):
        survey_key.parse(key, fresh(app, survey).seal_key)


def test_the_key_cannot_be_replaced_once_the_survey_is_open(app, hr):
    survey, _ = make_survey(app, status="open")
    before = fresh(app, survey).seal_key
    detail = f"/admin/surveys/{survey.slug}"
    refused = post_form(hr, f"{detail}/key", {}, page=detail)
    assert refused.status_code == 409
    assert "innan enkäten öppnar" in refused.get_data(as_text=True)
    assert fresh(app, survey).seal_key == before
    assert hr.post(f"{detail}/key", data={}).status_code == 400  # no CSRF token


def test_closing_with_a_wrong_key_changes_nothing_and_says_why_in_the_users_language(app, hr):
    survey, _ = make_survey(app, status="open")
    answer(app, survey, 3)
    close = f"/admin/surveys/{survey.slug}/close"
    html = hr.get(close).get_data(as_text=True)
    assert 'name="survey_key"' in html
    assert lifecycle.key_mark(fresh(app, survey)) in html
    _, other_public = survey_key.new_key()
    other, _ = survey_key.new_key()
    for wrong, says in (("ABCD-EFGH", "52 bokstäver"), (other, "hör till en annan enkät")):
        refused = post_form(hr, close, {"survey_key": wrong})
        assert refused.status_code == 409
        assert says in refused.get_data(as_text=True)
        current = fresh(app, survey)
        assert current.status == "open"
        assert not current.awaiting_key
    hr.get(f"{close}?lang=en")  # the language is remembered for the visit
    refused = post_form(hr, close, {"survey_key": other})
    assert refused.status_code == 409
    assert "belongs to another survey" in refused.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert InboxEntry.select().count() == 3
        assert Response.select().count() == 0


def test_closing_with_the_key_opens_the_answers_at_once(app, hr):
    survey, _ = make_survey(app, status="open")
    answer(app, survey, 6, exp_threats="once", aim="some")
    close = f"/admin/surveys/{survey.slug}/close"
    sloppy = key_text(survey).lower().replace("-", " ")
    assert post_form(hr, close, {"survey_key": sloppy}).status_code == 303
    current = fresh(app, survey)
    assert current.status == "closed"
    assert not current.awaiting_key
    assert current.has_results
    with app.app_context(), db.connection_context():
        assert Response.select().count() == 6
        assert InboxEntry.select().count() == 0
    assert hr.get(f"/admin/surveys/{survey.slug}/results").status_code == 200


def test_a_survey_closed_without_its_key_shows_nothing_until_the_key_is_entered(app, hr):
    survey, _ = make_survey(app, status="open", min_group=3)
    answer(app, survey, 6, exp_threats="once", aim="some")
    detail = f"/admin/surveys/{survey.slug}"
    assert post_form(hr, f"{detail}/close", {"survey_key": ""}).status_code == 303
    current = fresh(app, survey)
    assert current.status == "closed"
    assert current.awaiting_key
    assert not current.has_results
    html = hr.get(detail).get_data(as_text=True)
    assert "Svaren är förseglade" in html
    assert "Stängd, svaren förseglade" in hr.get("/admin/surveys").get_data(as_text=True)
    # No results, comments, exports or publication while sealed; never a 500.
    for path in ("results", "comments", "results.csv", "results.json", "publish"):
        response = hr.get(f"{detail}/{path}")
        assert response.status_code in (200, 404, 409), (path, response.status_code)
        assert "svar 0 slut" not in response.get_data(as_text=True)
    refused = post_form(hr, f"{detail}/publish", {}, page=detail)
    assert refused.status_code == 409
    assert "förseglade" in refused.get_data(as_text=True)
    # A wrong key: nothing changes.
    other, _ = survey_key.new_key()
    refused = post_form(hr, f"{detail}/open-answers", {"survey_key": other}, page=detail)
    assert refused.status_code == 409
    assert fresh(app, survey).awaiting_key
    # The right key opens them, once.
    opened = post_form(hr, f"{detail}/open-answers", {"survey_key": key_text(survey)}, page=detail)
    assert opened.status_code == 303
    current = fresh(app, survey)
    assert not current.awaiting_key
    assert current.has_results
    with app.app_context(), db.connection_context():
        assert Response.select().count() == 6
        assert InboxEntry.select().count() == 0
        actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions[-2:] == ["survey_closed", "answers_opened"]
    assert hr.get(f"{detail}/results").status_code == 200
    again = post_form(hr, f"{detail}/open-answers", {"survey_key": key_text(survey)}, page=detail)
    assert again.status_code == 409


def test_the_scheduled_close_leaves_the_answers_sealed(app):
    app.config["TODAY"] = TODAY
    survey, _ = make_survey(app, status="draft")
    with app.app_context(), db.connection_context():
        Survey.update(closes_on=TODAY).where(Survey.id == survey.id).execute()
        store.set_status(store.get_survey(survey.slug), "open")
    answer(app, survey, 2)
    with app.app_context(), db.connection_context():
        applied = lifecycle.apply_schedule(TODAY + dt.timedelta(days=1), purge=False)
        assert applied == [(survey.slug, "survey_closed")]
        current = store.get_survey(survey.slug)
        assert current.awaiting_key
        assert InboxEntry.select().count() == 2
        assert lifecycle.open_answers(current, key_text(survey), actor=None) == 2


def test_the_command_line_makes_the_key_into_a_private_file_and_closes_with_it(
    app, runner, tmp_path
):
    survey, _ = make_survey(app, status="draft", keyed=False)
    key_file = tmp_path / "nyckel.txt"
    result = runner.invoke(args=["survey-key", survey.slug, "--key-out", str(key_file)])
    assert result.exit_code == 0, result.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "mark" in result.output
    assert _KEY.search(key_file.read_text()).group() not in result.output
    again = runner.invoke(args=["survey-key", survey.slug, "--key-out", str(key_file)])
    assert again.exit_code != 0
    assert "never overwritten" in again.output
    assert runner.invoke(args=["open-survey", survey.slug]).exit_code == 0
    answer(app, survey, 2)
    wrong = tmp_path / "fel.txt"
    wrong.write_text(survey_key.new_key()[0])
    refused = runner.invoke(args=["close-survey", survey.slug, "--key-file", str(wrong)])
    assert refused.exit_code != 0
    assert "another survey" in refused.output
    assert fresh(app, survey).status == "open"
    missing = runner.invoke(
        args=["close-survey", survey.slug, "--key-file", str(tmp_path / "saknas.txt")]
    )
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    closed = runner.invoke(args=["close-survey", survey.slug])
    assert closed.exit_code == 0
    assert "still sealed" in closed.output
    # Nothing of the sealed answers can be exported either.
    report = runner.invoke(args=["report", survey.slug, "--format", "json"])
    assert report.exit_code != 0
    assert "still sealed" in report.output
    opened = runner.invoke(args=["open-answers", survey.slug, "--key-file", str(key_file)])
    assert opened.exit_code == 0, opened.output
    assert "2 sealed answers" in opened.output
    assert fresh(app, survey).has_results


def test_a_legacy_survey_open_before_survey_keys_closes_as_before(app):
    """A survey opened before this version seals with the portal's key and mixes while open."""
    survey, _ = make_survey(app, status="open", keyed=False)
    answer(app, survey, 3)
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed")
        current = store.get_survey(survey.slug)
        assert current.has_results
        assert Response.select().count() == 3


def test_a_lost_key_leaves_only_deleting_the_sealed_answers(app, hr):
    survey, _ = make_survey(app, status="open")
    answer(app, survey, 4)
    detail = f"/admin/surveys/{survey.slug}"
    assert post_form(hr, f"{detail}/close", {"survey_key": ""}).status_code == 303
    purge = f"{detail}/purge"
    html = hr.get(purge).get_data(as_text=True)
    assert "förseglade" in html
    assert post_form(hr, purge, {"slug": survey.slug}).status_code == 303
    with app.app_context(), db.connection_context():
        assert InboxEntry.select().count() == 0
        assert Response.select().count() == 0
    current = fresh(app, survey)
    assert current.purged_on is not None
    assert not current.has_results
    assert "raderades oöppnade" in hr.get(detail).get_data(as_text=True)
    # The key, found again, opens nothing any more.
    refused = post_form(hr, f"{detail}/open-answers", {"survey_key": key_text(survey)}, page=detail)
    assert refused.status_code == 409
    for path in ("results", "comments", "publish"):
        assert hr.get(f"{detail}/{path}").status_code in (200, 404, 409)


@pytest.mark.parametrize(
    "hostile",
    ["\x00" * 52, "Å" * 52, "٣" * 52, "A" * 10_000, "<script>alert(1)</script>", "' OR 1=1 --"],
)
def test_hostile_key_text_is_refused_with_a_message_never_a_500(app, hr, hostile):
    survey, _ = make_survey(app, status="open")
    answer(app, survey, 1)
    detail = f"/admin/surveys/{survey.slug}"
    refused = post_form(hr, f"{detail}/close", {"survey_key": hostile})
    page = refused.get_data(as_text=True)
    if "\x00" in hostile:
        assert refused.status_code == 400  # refused before any view, in the user's language
        assert "<h1" in page
    else:
        assert refused.status_code == 409
        assert "52 bokstäver" in page
    assert "<script>alert" not in page
    assert fresh(app, survey).status == "open"
    assert post_form(hr, f"{detail}/close", {"survey_key": ""}).status_code == 303
    refused = post_form(hr, f"{detail}/open-answers", {"survey_key": hostile}, page=detail)
    assert refused.status_code == (400 if "\x00" in hostile else 409)
    assert fresh(app, survey).awaiting_key


def test_the_command_line_makes_no_key_it_cannot_keep(app, runner, tmp_path):
    """A key is made only once there is a file to keep it in: the draft's key is not
    replaced by one nobody has, and a refused key leaves no empty file behind."""
    draft, _ = make_survey(app, status="draft")
    before = fresh(app, draft).seal_key
    nowhere = tmp_path / "saknas" / "nyckel.txt"
    result = runner.invoke(args=["survey-key", draft.slug, "--key-out", str(nowhere)])
    assert result.exit_code == 2
    assert "cannot be written" in result.output
    assert fresh(app, draft).seal_key == before
    opened, _ = make_survey(app, status="open")
    target = tmp_path / "nyckel.txt"
    refused = runner.invoke(args=["survey-key", opened.slug, "--key-out", str(target)])
    assert refused.exit_code == 1
    assert "before the survey opens" in refused.output
    assert not target.exists()
    unknown = runner.invoke(args=["survey-key", "no-such-survey", "--key-out", str(target)])
    assert unknown.exit_code == 1
    assert not target.exists()


def test_a_key_file_that_is_not_text_is_a_clear_error_and_changes_nothing(app, runner, tmp_path):
    survey, _ = make_survey(app, status="open")
    binary = tmp_path / "nyckel.bin"
    binary.write_bytes(b"\xff\xfe\x00 not a key")
    for command in ("close-survey", "open-answers"):
        result = runner.invoke(args=[command, survey.slug, "--key-file", str(binary)])
        assert result.exit_code == 2, (command, result.output)
        assert "cannot be read as a survey key" in result.output
        assert not isinstance(result.exception, UnicodeDecodeError)
    assert fresh(app, survey).status == "open"
