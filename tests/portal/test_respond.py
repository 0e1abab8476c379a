"""Answering a survey through the web form, in both access modes."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import store
from portal.extensions import db
from portal.store.models import AccessCode, Answer, Comment, FormToken, InboxEntry, Response
from surveys.definition import load_template
from tests.factories import complete_answers, csrf_token, make_survey, open_form, submit

STAFF = load_template("staff_threats")


def count(app, model):
    with app.app_context(), db.connection_context():
        return model.select().count()


def responses(app):
    """Acknowledged responses: mixed into the tables or still sealed in the inbox."""
    return count(app, Response) + count(app, InboxEntry)


def close(app, survey):
    """Close the survey, which mixes every waiting submission into the tables."""
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed")


def test_link_mode_end_to_end(app, client):
    survey, _ = make_survey(app)
    page = client.get(f"/s/{survey.slug}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Testenkät" in html
    assert "Dina svar är anonyma" in html  # the statement before the first question
    assert 'name="exp_threats"' in html
    assert '<html lang="sv">' in html

    hidden = open_form(client, survey.slug)
    response = submit(
        client, survey.slug, complete_answers(STAFF, exp_threats="once", aim="some"), hidden
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{survey.slug}/thanks")
    thanks = client.get(response.headers["Location"])
    assert "Tack för dina svar" in thanks.get_data(as_text=True)
    assert responses(app) == 1
    close(app, survey)
    with app.app_context(), db.connection_context():
        stored = {(a.question, a.value) for a in Answer.select()}
    assert ("exp_threats", "once") in stored
    assert ("aim", "some") in stored


def test_english(app, client):
    survey, _ = make_survey(app)
    html = client.get(f"/s/{survey.slug}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Test survey" in html
    assert "Your answers are anonymous" in html
    # Remembered for the visit.
    assert '<html lang="en">' in client.get("/privacy").get_data(as_text=True)


def test_language_switch_keeps_answers(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    data = {
        **hidden,
        "exp_threats": "2to5",
        "suggestions": "Mer personal",
        "lang": "en",
        "action": "language",
    }
    page = client.post(f"/s/{survey.slug}", data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="en">' in html
    assert 'value="2to5" checked' in html
    assert "Mer personal" in html
    assert responses(app) == 0


def test_validation_errors_keep_answers_and_link_to_fields(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    answers = complete_answers(STAFF, suggestions="Bättre larm", worry="often")
    del answers["exp_violence"]
    page = submit(client, survey.slug, answers, hidden)
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert 'id="error-summary"' in html
    assert 'href="#exp_violence-never"' in html
    assert "Välj ett av alternativen." in html
    assert 'value="often" checked' in html
    assert "Bättre larm" in html
    assert responses(app) == 0


def test_error_summary_names_a_matrix_once_and_links_each_unanswered_row(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    answers = complete_answers(STAFF)
    for key in ("exp_threats", "exp_violence", "exp_online", "role"):
        del answers[key]
    html = submit(client, survey.slug, answers, hidden).get_data(as_text=True)
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    stem = STAFF.question("exp").text.sv
    assert summary.count(stem) == 1
    assert "Välj ett av alternativen på var och en av de här raderna:" in summary
    for key in ("exp_threats", "exp_violence", "exp_online"):
        assert f'href="#{key}-never"' in summary
        assert STAFF.item(key).row.label.sv in summary
    assert 'href="#role-' in summary
    assert "Vilken roll har du? Välj ett av alternativen." in summary  # no "?:"
    # Each row still has its own message beside it in the form (and the role one in the summary).
    assert html.count("Välj ett av alternativen.") == 4 + 1


def test_validation_errors_in_english(app, client):
    survey, _ = make_survey(app)
    client.get("/?lang=en")
    hidden = open_form(client, survey.slug)
    answers = complete_answers(STAFF)
    del answers["role"]
    html = submit(client, survey.slug, answers, hidden).get_data(as_text=True)
    assert "Choose one of the options." in html
    assert "There is a problem" in html


def test_oversized_text_is_refused_and_kept(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    page = submit(client, survey.slug, complete_answers(STAFF, suggestions="å" * 2500), hidden)
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "2\u00a0500" in html or "2500" in html
    assert "å" * 2500 in html
    assert responses(app) == 0


def test_double_submit_of_one_form_creates_one_response(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    answers = complete_answers(STAFF)
    assert submit(client, survey.slug, answers, hidden).status_code == 303
    second = submit(client, survey.slug, answers, hidden)
    assert second.status_code == 409
    assert "redan" in second.get_data(as_text=True)
    assert responses(app) == 1


def test_reloading_the_thank_you_page_creates_nothing(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    location = submit(client, survey.slug, complete_answers(STAFF), hidden).headers["Location"]
    for _ in range(3):
        assert client.get(location).status_code == 200
    assert responses(app) == 1


def test_forged_form_token_is_refused(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    hidden["form_token"] = "made-up"
    assert submit(client, survey.slug, complete_answers(STAFF), hidden).status_code == 400
    assert responses(app) == 0


def test_codes_mode_end_to_end(app, client):
    survey, codes = make_survey(app, access="codes", codes=3)
    page = client.get(f"/s/{survey.slug}")
    html = page.get_data(as_text=True)
    assert 'name="code"' in html
    assert 'name="exp_threats"' not in html
    # Case-insensitive, spaces and dashes tolerated.
    typed = codes[0].lower().replace("-", " ")
    hidden = open_form(client, survey.slug, code=typed)
    response = submit(client, survey.slug, complete_answers(STAFF), hidden)
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert AccessCode.select().where(AccessCode.used == True).count() == 1  # noqa: E712
    assert responses(app) == 1


def test_used_code_is_refused(app, client):
    survey, codes = make_survey(app, access="codes", codes=1)
    hidden = open_form(client, survey.slug, code=codes[0])
    assert submit(client, survey.slug, complete_answers(STAFF), hidden).status_code == 303
    again = submit(client, survey.slug, complete_answers(STAFF), hidden)
    assert again.status_code == 409
    assert "redan använts" in again.get_data(as_text=True)
    # Entering it again is refused at the door.
    page = client.get(f"/s/{survey.slug}")
    entry = client.post(
        f"/s/{survey.slug}",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "code": codes[0],
            "action": "code",
        },
    )
    assert entry.status_code == 400
    assert responses(app) == 1


@pytest.mark.parametrize("code", ["", "ABCDE-FGHJK", "x" * 500, "ÅÄÖ"])
def test_wrong_code_gets_a_clear_message(app, client, code):
    survey, _ = make_survey(app, access="codes", codes=1)
    page = client.get(f"/s/{survey.slug}")
    response = client.post(
        f"/s/{survey.slug}",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "code": code,
            "action": "code",
        },
    )
    assert response.status_code == 400
    assert 'class="error-summary"' in response.get_data(as_text=True)


def test_submit_without_code_in_codes_mode(app, client):
    survey, _ = make_survey(app, access="codes", codes=1)
    hidden = open_form(client, survey.slug)
    assert submit(client, survey.slug, complete_answers(STAFF), hidden).status_code == 400
    assert responses(app) == 0


def test_closed_and_draft_surveys_say_so(app, client):
    closed, _ = make_survey(app, status="closed")
    draft, _ = make_survey(app, status="draft")
    page = client.get(f"/s/{closed.slug}")
    assert page.status_code == 410
    assert "stängd" in page.get_data(as_text=True)
    page = client.get(f"/s/{draft.slug}")
    assert page.status_code == 403
    assert "inte öppnat" in page.get_data(as_text=True)
    assert client.get("/s/no-such-survey").status_code == 404


def test_survey_closed_while_answering_refuses_with_message(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed")
    response = submit(client, survey.slug, complete_answers(STAFF), hidden)
    assert response.status_code == 410
    assert "kunde inte sparas" in response.get_data(as_text=True)
    assert responses(app) == 0


def test_closing_deletes_codes_and_tokens(app, client):
    survey, _ = make_survey(app, access="codes", codes=5)
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed")
    assert count(app, AccessCode) == 0
    assert count(app, FormToken) == 0


def test_comments_are_stored_apart_and_redacted(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    text = "<script>alert(1)</script> mejla anna.svensson@example.se"
    submit(client, survey.slug, complete_answers(STAFF, suggestions=text), hidden)
    close(app, survey)
    with app.app_context(), db.connection_context():
        (comment,) = Comment.select()
        assert comment.question == "suggestions"
        assert "anna.svensson" not in comment.text
        assert "<script>" in comment.text
        assert not Answer.select().where(Answer.question == "suggestions").exists()


def test_exit_survey_keeps_the_half_year_only(app, client):
    """An exit response's time is its reporting half-year, never the month or the day."""
    app.config["TODAY"] = dt.date(2026, 8, 14)
    survey, _ = make_survey(app, template="exit")
    hidden = open_form(client, survey.slug)
    exit_definition = load_template("exit")
    assert submit(client, survey.slug, complete_answers(exit_definition), hidden).status_code == 303
    close(app, survey)
    with app.app_context(), db.connection_context():
        (response,) = Response.select()
        periods = {a.period for a in Answer.select()}
    assert response.period == "2026-H2"
    assert periods == {"2026-H2"}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_information_pages_render(client, lang):
    """The front page and the privacy page, in both languages (a stray % once made one a 500)."""
    assert client.get(f"/?lang={lang}").status_code == 200
    privacy = client.get(f"/privacy?lang={lang}")
    assert privacy.status_code == 200
    assert "<15 %”" in privacy.get_data(as_text=True)
