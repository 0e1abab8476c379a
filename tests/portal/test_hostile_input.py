"""Random, malformed and hostile requests get 2xx/3xx/4xx, never a 5xx, and store nothing bad."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from portal import store
from portal.extensions import db
from portal.store.models import Comment, Response
from surveys.definition import load_template
from tests.factories import complete_answers, make_survey, open_form, private_key, submit

STAFF = load_template("staff_threats")
KEYS = [item.key for item in STAFF.items()] + ["csrf_token", "form_token", "code", "action", "lang"]

field_names = st.one_of(st.sampled_from(KEYS), st.text(max_size=40))
field_values = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "never",
            "once",
            "na",
            "submit",
            "code",
            "language",
            "",
            "-1",
            "1e9",
            "<script>alert(1)</script>",
            "javascript:alert(1)",
            '=HYPERLINK("x")',
            "\x00",
            "ä" * 3000,
        ]
    ),
)
forms = st.lists(st.tuples(field_names, field_values), max_size=30)
HYPOTHESIS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(form=forms, keep_csrf=st.booleans(), keep_token=st.booleans())
def test_random_forms_on_the_survey_never_fail(app, client, form, keep_csrf, keep_token):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    data = [(k, v) for k, v in form]
    if keep_csrf:
        data.append(("csrf_token", hidden["csrf_token"]))
    if keep_token:
        data.append(("form_token", hidden["form_token"]))
    page = client.post(f"/s/{survey.slug}", data=MultiDict(data))
    assert page.status_code < 500, page.get_data(as_text=True)[:500]


@HYPOTHESIS
@given(form=forms)
def test_random_forms_on_code_entry_never_fail(app, client, form):
    survey, _ = make_survey(app, access="codes", codes=1)
    hidden = open_form(client, survey.slug)
    data = [*form, ("csrf_token", hidden["csrf_token"])]
    assert client.post(f"/s/{survey.slug}", data=MultiDict(data)).status_code < 500


@HYPOTHESIS
@given(path=st.text(max_size=60), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]))
def test_random_paths_never_fail(client, path, method):
    assert client.open("/" + path, method=method).status_code < 500


@HYPOTHESIS
@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "application/json",
        ]
    ),
)
def test_random_bodies_never_fail(app, client, body, content_type):
    survey, _ = make_survey(app)
    page = client.post(f"/s/{survey.slug}", data=body, content_type=content_type)
    assert page.status_code < 500


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "{{ 7*7 }}",
    ],
)
def test_xss_in_free_text_is_stored_as_typed_and_inert(app, client, payload):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    answers = complete_answers(STAFF, suggestions=payload)
    del answers["role"]  # the form comes back with the text in it
    page = submit(client, survey.slug, answers, hidden).get_data(as_text=True)
    # The page with the error (background) carries the text escaped in the textarea of its
    # own (hidden) section, and its own page shows it: never markup, never evaluated.
    own_page = client.post(
        f"/s/{survey.slug}", data={**hidden, **answers, "action": "goto:safety"}
    ).get_data(as_text=True)
    assert f">{escape(payload)}</textarea>" in page
    assert f">{escape(payload)}</textarea>" in own_page
    for shown in (page, own_page):
        assert "<script>alert" not in shown
        assert "<img src=x" not in shown
        assert 'href="javascript:' not in shown
    answers["role"] = "na"
    assert submit(client, survey.slug, answers, hidden).status_code == 303
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert Comment.get().text == payload
        assert Response.select().count() == 1
