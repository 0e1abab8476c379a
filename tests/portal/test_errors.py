"""Every bad request gets a clear 4xx page in the visitor's language, never a 500."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.store.models import Response
from surveys.definition import load_template
from tests.factories import complete_answers, make_app, make_survey, open_form, submit

STAFF = load_template("staff_threats")


def responses(app):
    with app.app_context(), db.connection_context():
        return Response.select().count()


def test_post_without_csrf_token_is_refused(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    del hidden["csrf_token"]
    page = submit(client, survey.slug, complete_answers(STAFF), hidden)
    assert page.status_code == 400
    assert "Formuläret" in page.get_data(as_text=True)
    assert responses(app) == 0


def test_csrf_token_of_another_session_is_refused(app, client):
    survey, _ = make_survey(app)
    other = app.test_client()
    foreign = open_form(other, survey.slug)["csrf_token"]
    hidden = open_form(client, survey.slug)
    hidden["csrf_token"] = foreign
    assert submit(client, survey.slug, complete_answers(STAFF), hidden).status_code == 400
    assert responses(app) == 0


def test_csrf_error_in_english(app, client):
    survey, _ = make_survey(app)
    client.get("/?lang=en")
    page = client.post(f"/s/{survey.slug}", data={"action": "submit"})
    assert page.status_code == 400
    assert "The form has expired" in page.get_data(as_text=True)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method(app, client, method):
    survey, _ = make_survey(app)
    page = getattr(client, method)(f"/s/{survey.slug}")
    assert page.status_code == 405
    assert "<h1>" in page.get_data(as_text=True)


def test_unknown_action_is_a_bad_request(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    page = client.post(f"/s/{survey.slug}", data={**hidden, "action": "explode"})
    assert page.status_code == 400


def test_unknown_option_key(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    page = submit(client, survey.slug, complete_answers(STAFF, role="ceo"), hidden)
    assert page.status_code == 400
    assert "inte ett av alternativen" in page.get_data(as_text=True)
    assert responses(app) == 0


def test_oversized_body(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    page = submit(client, survey.slug, {"suggestions": "x" * 400_000}, hidden)
    assert page.status_code == 413
    assert "För mycket data" in page.get_data(as_text=True)


def test_non_utf8_body(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    body = (
        f"csrf_token={hidden['csrf_token']}&form_token={hidden['form_token']}"
        "&action=submit&suggestions="
    ).encode() + b"\xff\xfe\xc3\x28"
    page = client.post(
        f"/s/{survey.slug}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert page.status_code == 400
    assert responses(app) == 0


def test_duplicated_fields(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    data = complete_answers(STAFF)
    data["exp_threats"] = ["never", "once", "more5"]
    assert submit(client, survey.slug, data, hidden).status_code == 400
    assert responses(app) == 0


def test_unknown_page(client):
    page = client.get("/nowhere")
    assert page.status_code == 404
    assert "Sidan finns inte" in page.get_data(as_text=True)


def test_internal_error_is_a_page_not_a_trace(tmp_path):
    app = make_app(tmp_path)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    page = app.test_client().get("/boom")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "kaboom" not in html
    assert "Något gick fel" in html
