"""Answering a survey through the web form, in both access modes."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from portal import store
from portal.extensions import db
from portal.store.models import AccessCode, Answer, Comment, FormToken, InboxEntry, Response
from surveys.definition import load_template
from tests.factories import (
    complete_answers,
    csrf_token,
    make_survey,
    open_form,
    private_key,
    submit,
)

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
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))


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
    # The page with the error is shown; the answers of the other pages travel with it.
    assert _sent(html)["worry"] == ["often"]
    assert _sent(html)["suggestions"] == ["Bättre larm"]
    assert _shown(html) == ["experiences"]
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
    # The form shows the first page with errors; the role is on a later page.
    assert 'href="#role-' not in summary
    # Each row still has its own message beside it in the form.
    assert html.count("Välj ett av alternativen.") == 3
    answers.update(exp_threats="never", exp_violence="never", exp_online="never")
    html = submit(client, survey.slug, answers, hidden).get_data(as_text=True)
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#role-' in summary
    assert "Vilken roll har du? Välj ett av alternativen." in summary  # no "?:"
    assert html.count("Välj ett av alternativen.") == 1 + 1


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
    # "Already used — your answers were saved", not "check the spelling"; the code stays.
    assert entry.status_code == 409
    html = entry.get_data(as_text=True)
    assert "redan använts" in html
    assert "dina svar sparades" in html
    assert "stavningen" not in html
    assert f'value="{codes[0]}"' in html
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
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
    response = submit(client, survey.slug, complete_answers(STAFF), hidden)
    assert response.status_code == 410
    assert "kunde inte sparas" in response.get_data(as_text=True)
    assert responses(app) == 0


def test_closing_deletes_codes_and_tokens(app, client):
    survey, _ = make_survey(app, access="codes", codes=5)
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
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


@pytest.mark.parametrize(
    ("lang", "threats"),
    [
        (
            "sv",
            [
                "Den som har en kopia av databasen",
                "Den som dessutom har portalens hemliga nyckel",
                "men inte vad någon svarade",
                "Bara den som hade både enkätnyckeln och en kopia av databasen",
                "Den som övervakar nätverket",
                "En kollega med länken",
            ],
        ),
        (
            "en",
            [
                "Someone with a copy of the database",
                "Someone who also has the portal's secret key",
                "but not what anyone answered",
                "Only someone who had both the survey key and a copy of the database",
                "Someone who watches the network",
                "A colleague with the link",
            ],
        ),
    ],
)
def test_privacy_page_states_each_threat_model(client, lang, threats):
    """Issue 16: /privacy says in plain words what T1-T4 could learn, the limit of T2 too."""
    page = client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    for threat in threats:
        assert threat in page


# --- the paged form (issue 19) ---------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser would send from the answers form: hidden fields, checked boxes, texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "answers":
            self._in_form = True
        if not self._in_form or "name" not in a:
            return
        if tag == "input" and a.get("type") in ("hidden", "text"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "input" and a.get("type") in ("radio", "checkbox") and "checked" in a:
            self.fields.append((a["name"], a.get("value") or "on"))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        if tag == "form":
            self._in_form = False


def _page_state(html: str) -> list[tuple[str, str]]:
    """Every field of the answers form, as a browser without JavaScript would send it."""
    parser = _FormFields()
    parser.feed(html)
    return [(n, v.removeprefix("\n")) for n, v in parser.fields]


def _sent(html: str) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for name, value in _page_state(html):
        state.setdefault(name, []).append(value)
    return state


def _post_page(client, slug, html, answers, action):
    """Send one page as a browser without JavaScript would: hidden fields plus this page's."""
    data = MultiDict([(n, v) for n, v in _page_state(html) if n != "action"])
    for key, value in answers.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    data["action"] = action
    return client.post(f"/s/{slug}", data=data)


def _step(html):
    return re.search(r'<p class="step" id="step"[^>]*>([^<]+)</p>', html).group(1)


def _section(html):
    return re.search(r'<input type="hidden" name="page" value="([^"]+)">', html).group(1)


def _shown(html):
    """The section the server shows (the others are in the form, hidden)."""
    return re.findall(r'<section class="form-section"[^>]*data-page="(\w+)"(?! hidden)>', html)


def test_the_form_is_one_section_per_page_with_progress(app, client):
    survey, _ = make_survey(app)
    html = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    assert _section(html) == "experiences"
    assert _step(html) == "Steg 1 av 4"  # experiences, safety, background, summary
    assert _shown(html) == ["experiences"]
    # The other sections are in the form but hidden (the script pages without requests).
    assert re.search(r'data-page="safety" hidden>', html)
    # Required questions are marked before any error.
    assert "(obligatorisk)" in html
    assert 'value="back"' not in html


def test_paging_without_javascript_carries_answers_and_stores_nothing_before_send(app, client):
    survey, _ = make_survey(app)
    slug = survey.slug
    html = client.get(f"/s/{slug}").get_data(as_text=True)
    exp = {i.key: "never" for i in STAFF.question("exp").items}
    exp["exp_threats"] = "once"
    page = _post_page(client, slug, html, exp, "next")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Exposed: the follow-up pages appear, and the first page's answers ride along.
    assert _section(html) == "incidents"
    assert _shown(html) == ["incidents"]
    assert _step(html) == "Steg 2 av 6"
    assert _sent(html)["exp_threats"] == ["once"]
    page = _post_page(client, slug, html, {"aim": "some", "where": ["office", "phone"]}, "next")
    html = page.get_data(as_text=True)
    assert _section(html) == "followup"
    # Back keeps what was answered on every page.
    html = _post_page(client, slug, html, {"support": ["manager"]}, "back").get_data(as_text=True)
    assert _section(html) == "incidents"
    assert _sent(html)["aim"] == ["some"]
    assert _sent(html)["support"] == ["manager"]
    assert _sent(html)["exp_threats"] == ["once"]
    # Changing exposure to "never" removes the follow-up pages.
    html = _post_page(client, slug, html, {}, "back").get_data(as_text=True)
    assert _section(html) == "experiences"
    exp["exp_threats"] = "never"
    html = _post_page(client, slug, html, exp, "next").get_data(as_text=True)
    assert _section(html) == "safety"
    assert _step(html) == "Steg 2 av 4"
    assert responses(app) == 0
    assert count(app, FormToken) == 0


def test_next_checks_only_the_page_and_keeps_the_answers(app, client):
    survey, _ = make_survey(app)
    html = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    page = _post_page(client, survey.slug, html, {"exp_threats": "never"}, "next")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert _section(html) == "experiences"
    assert 'id="error-summary"' in html
    assert 'href="#exp_violence-never"' in html
    assert 'value="never" checked' in html
    assert "role" not in html.split('id="error-summary"')[1].split("</div>")[0]


def test_the_last_page_summarises_before_sending(app, client):
    survey, _ = make_survey(app)
    slug = survey.slug
    answers = complete_answers(STAFF, suggestions="Larm i <b>entrén</b>", worry="often")
    html = client.get(f"/s/{slug}").get_data(as_text=True)
    for _ in range(3):
        on_page = {k: v for k, v in answers.items() if f'name="{k}"' in html}
        html = _post_page(client, slug, html, on_page, "next").get_data(as_text=True)
    assert _section(html) == "summary"
    assert _step(html) == "Steg 4 av 4"
    assert "Kontrollera dina svar innan du skickar" in html
    assert "Ofta" in html
    assert "Larm i &lt;b&gt;entrén&lt;/b&gt;" in html
    assert 'value="goto:safety"' in html
    assert responses(app) == 0
    # "Change" goes back to that page with the answers.
    change = _post_page(client, slug, html, {}, "goto:safety").get_data(as_text=True)
    assert _section(change) == "safety"
    assert _sent(change)["worry"] == ["often"]
    sent = _post_page(client, slug, html, {}, "submit")
    assert sent.status_code == 303
    assert responses(app) == 1
    close(app, survey)
    with app.app_context(), db.connection_context():
        assert ("worry", "often") in {(a.question, a.value) for a in Answer.select()}


def test_follow_up_questions_of_another_page_are_not_left_to_the_script(app, client):
    survey, _ = make_survey(app)
    html = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    exp = {i.key: "never" for i in STAFF.question("exp").items} | {"exp_threats": "2to5"}
    html = _post_page(client, survey.slug, html, exp, "next").get_data(as_text=True)
    # aim depends on exp (previous page): shown, not hidden; police_by on police (this
    # page): shown without JavaScript too, left to the script to hide.
    assert re.search(r'id="q-aim" data-show-if="exp"', html)
    assert re.search(r'id="q-police_by" data-show-if="police"', html)
    # Not exposed: aim is hidden by the server, not only by the script.
    html = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    assert re.search(r'id="q-aim" hidden data-show-if="exp"', html)


# --- codes: /kod and clear messages ----------------------------------------------


def test_a_code_alone_opens_its_survey(app, client):
    make_survey(app, access="codes", codes=2)
    survey, codes = make_survey(app, access="codes", codes=2)
    home = client.get("/").get_data(as_text=True)
    assert 'action="/kod"' in home
    page = client.post(
        "/kod", data={"csrf_token": csrf_token(home), "code": codes[1].lower(), "action": "code"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'action="/s/{survey.slug}"' in html
    assert 'name="exp_threats"' in html
    # The code travels in the form body, never in the address.
    assert codes[1].lower() in html
    assert codes[1].lower() not in page.request.url


def test_kod_tells_used_from_unknown_and_keeps_the_code(app, client):
    survey, codes = make_survey(app, access="codes", codes=1)
    hidden = open_form(client, survey.slug, code=codes[0])
    assert submit(client, survey.slug, complete_answers(STAFF), hidden).status_code == 303
    form = client.get("/kod").get_data(as_text=True)
    before = {
        m: count(app, m) for m in (AccessCode, Response, Answer, Comment, FormToken, InboxEntry)
    }
    used = client.post("/kod", data={"csrf_token": csrf_token(form), "code": codes[0]})
    assert used.status_code == 409
    html = used.get_data(as_text=True)
    assert "redan använts" in html
    assert "dina svar sparades" in html
    assert f'value="{codes[0]}"' in html
    mistyped = codes[0][:-1] + ("A" if codes[0][-1] != "A" else "B")
    unknown = client.post("/kod", data={"csrf_token": csrf_token(form), "code": mistyped})
    assert unknown.status_code == 400
    html = unknown.get_data(as_text=True)
    assert "stavningen" in html
    assert "redan använts" not in html
    assert f'value="{mistyped}"' in html
    # Telling them apart stored nothing.
    assert {m: count(app, m) for m in before} == before


def test_code_entry_on_kod_is_rate_limited(app, client):
    app.config["CODE_FAILURES_PER_CLIENT"] = 3
    from portal.web import security

    security.register(app)
    form = client.get("/kod").get_data(as_text=True)
    statuses = [
        client.post(
            "/kod", data={"csrf_token": csrf_token(form), "code": "ABCDE-FGHJK"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert statuses[3:] == [429, 429]


@pytest.mark.parametrize("template", ["staff_threats", "exit"])
def test_every_question_is_marked_required_or_optional_before_any_error(app, client, template):
    survey, _ = make_survey(app, template=template)
    html = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    # Every section is in the form (the others hidden): each question's label is here.
    for question in survey.definition().questions:
        block = html.split(f'id="q-{question.key}"', 1)[1]
        label = re.search(r"<(legend|label)[^>]*>(.*?)</\1>", block, re.S).group(2)
        if question.required:
            assert '<span class="required">(obligatorisk)</span>' in label, question.key
        else:
            assert '<span class="optional">(frivillig)</span>' in label, question.key
