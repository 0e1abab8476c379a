"""The server's side of padded submissions (threat model T3): a padding field from
respond.js is checked and discarded; a malformed one is refused with nothing stored."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlencode

import pytest

from portal import store
from portal.extensions import db
from portal.web import padding
from surveys.definition import load_template
from tests.factories import complete_answers, make_survey, open_form, waiting_submissions

STAFF = load_template("staff_threats")
RESPOND_JS = Path(__file__).parents[2] / "portal" / "web" / "static" / "respond.js"


def padded_body(fields: dict, pad: str | None = None) -> bytes:
    """The url-encoded body with a padding field that makes it a whole block (or ``pad``)."""
    body = urlencode(list(fields.items()), doseq=True)
    if pad is None:
        unpadded = len(body) + len("&pad=")
        pad = "x" * (-unpadded % padding.PAD_BLOCK)
    return f"{body}&{urlencode({'pad': pad})}".encode()


def post(client, slug, body: bytes):
    return client.post(f"/s/{slug}", data=body, content_type="application/x-www-form-urlencoded")


def stored(app, survey):
    with app.app_context(), db.connection_context():
        return store.response_count(survey), waiting_submissions(survey)


def test_the_script_and_the_server_agree_on_the_block():
    script = RESPOND_JS.read_text()
    assert f"var PAD_BLOCK = {padding.PAD_BLOCK};" in script


def test_a_padded_submission_is_stored_without_its_padding(app, client, caplog):
    caplog.set_level(logging.WARNING)
    survey, _ = make_survey(app)
    fields = {**open_form(client, survey.slug), **complete_answers(STAFF), "action": "submit"}
    body = padded_body(fields)
    assert len(body) == padding.PAD_BLOCK
    response = post(client, survey.slug, body)
    assert response.status_code == 303
    count, [answers] = stored(app, survey)
    assert count == 1
    assert "pad" not in answers.choices
    assert "pad" not in answers.texts
    assert "not a whole number of blocks" not in caplog.text


def test_a_padded_body_of_the_wrong_size_is_accepted_and_logged_without_content(
    app, client, caplog
):
    caplog.set_level(logging.WARNING)
    survey, _ = make_survey(app)
    fields = {**open_form(client, survey.slug), **complete_answers(STAFF), "action": "submit"}
    response = post(client, survey.slug, padded_body(fields, pad="xxx"))
    assert response.status_code == 303  # answers are never lost over padding
    assert stored(app, survey)[0] == 1
    assert "not a whole number of blocks" in caplog.text
    assert "csrf" not in caplog.text


@pytest.mark.parametrize(
    "pad",
    ["abc", "x" * padding.PAD_BLOCK, "<script>", "xx\nxx"],
    ids=["letters", "too long", "markup", "line break"],
)
def test_a_malformed_padding_field_is_refused_and_nothing_stored(app, client, pad):
    survey, _ = make_survey(app)
    fields = {**open_form(client, survey.slug), **complete_answers(STAFF), "action": "submit"}
    response = post(client, survey.slug, padded_body(fields, pad=pad))
    assert response.status_code == 400
    assert stored(app, survey)[0] == 0


def test_two_padding_fields_are_refused(app, client):
    survey, _ = make_survey(app)
    fields = {**open_form(client, survey.slug), **complete_answers(STAFF), "action": "submit"}
    body = padded_body(fields) + b"&pad=xx"
    assert post(client, survey.slug, body).status_code == 400
    assert stored(app, survey)[0] == 0


def test_without_javascript_an_unpadded_submission_is_stored(app, client):
    survey, _ = make_survey(app)
    fields = {**open_form(client, survey.slug), **complete_answers(STAFF), "action": "submit"}
    body = urlencode(list(fields.items())).encode()
    assert len(body) % padding.PAD_BLOCK
    assert post(client, survey.slug, body).status_code == 303
    assert stored(app, survey)[0] == 1
