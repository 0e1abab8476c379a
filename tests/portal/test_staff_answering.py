"""Issue 19 around the form: printed slips, the printed address, support contacts, HR masking."""

from __future__ import annotations

import re
import uuid

import pytest

from portal import config, store
from portal.extensions import db
from portal.services import lifecycle
from portal.store.models import Comment, CommentSelection
from tests.factories import logged_in_as, make_survey, post_form, with_key
from tests.portal.test_admin_surveys import TODAY, closed_with_comments, page


@pytest.fixture
def hr(app, client):
    app.config["TODAY"] = TODAY
    logged_in_as(app, client, "hr")
    return client


# -- the printed address --------------------------------------------------------------------


def test_printed_links_default_to_where_the_portal_listens():
    assert config.default_base_url({}) == "http://127.0.0.1:5000"
    assert config.default_base_url({"VARNA_PORT": "8123"}) == "http://127.0.0.1:8123"
    assert (
        config.default_base_url({"VARNA_HOST": "10.0.0.5", "VARNA_PORT": "81"})
        == "http://10.0.0.5:81"
    )
    assert config.default_base_url({"VARNA_BIND": "127.0.0.1:8000"}) == "http://127.0.0.1:8000"
    every_interface = "0.0.0.0"  # noqa: S104 - a value under test, nothing binds here
    everywhere = config.default_base_url({"VARNA_HOST": every_interface, "VARNA_PORT": "80"})
    assert every_interface not in everywhere
    assert everywhere.endswith(":80")


def test_the_app_uses_the_port_when_no_base_url_is_set(tmp_path, monkeypatch):
    from tests.factories import make_app

    monkeypatch.delenv("VARNA_BASE_URL", raising=False)
    monkeypatch.setenv("VARNA_PORT", "8765")
    app = make_app(tmp_path)
    assert app.config["BASE_URL"] == "http://127.0.0.1:8765"


def test_under_gunicorn_printed_links_default_to_its_bind_address(tmp_path):
    """gunicorn listens on 127.0.0.1:8000 without VARNA_BIND: the slips must say so too."""
    import os
    import runpy
    from pathlib import Path
    from unittest import mock

    from tests.factories import make_app

    conf = Path(__file__).resolve().parents[2] / "portal" / "gunicorn.conf.py"
    with mock.patch.dict(os.environ):
        for name in ("VARNA_BIND", "VARNA_BASE_URL", "VARNA_HOST", "VARNA_PORT"):
            os.environ.pop(name, None)
        settings = runpy.run_path(str(conf))  # what gunicorn does before preloading the app
        app = make_app(tmp_path)
    assert settings["bind"] == "127.0.0.1:8000"
    assert app.config["BASE_URL"] == "http://127.0.0.1:8000"
    with mock.patch.dict(os.environ, {"VARNA_BIND": "127.0.0.1:8123"}):
        os.environ.pop("VARNA_BASE_URL", None)
        settings = runpy.run_path(str(conf))
        app = make_app(tmp_path / "other")
    assert settings["bind"] == "127.0.0.1:8123"
    assert app.config["BASE_URL"] == "http://127.0.0.1:8123"


# -- code slips -----------------------------------------------------------------------------


def test_slips_print_the_short_address_a_qr_code_and_no_personal_wording(app, hr):
    survey, _ = make_survey(app, access="codes", status="draft")
    detail = f"/admin/surveys/{survey.slug}"
    html = post_form(hr, f"{detail}/codes", {"count": "3"}, page=detail).get_data(as_text=True)
    slips = re.findall(r'<li class="slip">.*?</li>', html, re.S)
    assert len(slips) == 3
    for slip in slips:
        assert "Din kod:" in slip
        assert "http://127.0.0.1:5000/kod" in slip
        assert "<svg" in slip
        assert "kan inte kopplas till dina svar" in slip
        # The survey's long address is not printed: the code alone finds the survey.
        assert f"/s/{survey.slug}" not in slip
    assert "personliga" not in html
    # The QR code holds the short address only, never a code (codes never travel in URLs).
    import segno

    expected = segno.make("http://127.0.0.1:5000/kod", error="m", micro=False)
    assert (
        expected.svg_inline(scale=4, border=4, dark="#000", light="#fff").split("<path")[1][:200]
        in html
    )


# -- support contacts -----------------------------------------------------------------------


def test_support_contacts_are_edited_on_the_draft_and_shown_sanitised(app, hr, client):
    survey, _ = make_survey(app, status="draft")
    edit = f"/admin/surveys/{survey.slug}/edit"
    form = page(hr, edit)
    assert 'name="support_contacts"' in form
    assert "företagshälsovården" in form  # the default text, shown for reference
    # Bold is in the formatting subset HR may use (issue 20); an image is shown as text.
    text = "Företagshälsovården: 010-123 45 67\nSkyddsombud <b>Kim</b>: rum 3 <img src=x>"
    with app.app_context(), db.connection_context():
        fresh = store.get_survey(survey.slug)
        data = {
            "title_sv": fresh.title_sv,
            "title_en": fresh.title_en,
            "access": fresh.access,
            "min_group": str(fresh.min_group),
            "support_contacts": text,
        }
    assert post_form(hr, edit, data).status_code == 303
    with app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).support_contacts == text
        lifecycle.open_survey(with_key(store.get_survey(survey.slug)), actor=None, today=TODAY)
    thanks = client.get(f"/s/{survey.slug}/thanks").get_data(as_text=True)
    assert (
        "Företagshälsovården: 010-123 45 67<br>Skyddsombud <b>Kim</b>: rum 3 &lt;img src=x&gt;"
        in thanks
    )
    first_page = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    # The exposure section (the first page of the staff survey) ends with them.
    assert first_page.index('id="support-title"') > first_page.index('name="exp_selfharm"')
    assert "010-123 45 67" in first_page


def test_without_contacts_the_default_text_is_shown(app, client):
    survey, _ = make_survey(app)
    thanks = client.get(f"/s/{survey.slug}/thanks").get_data(as_text=True)
    assert "Stöd om du behöver det" in thanks
    assert "företagshälsovården" in thanks
    english = client.get(f"/s/{survey.slug}/thanks?lang=en").get_data(as_text=True)
    assert "occupational health service" in english


def test_overlong_support_contacts_are_refused_beside_the_field(app, hr):
    survey, _ = make_survey(app, status="draft")
    edit = f"/admin/surveys/{survey.slug}/edit"
    data = {"title_sv": "T", "access": "link", "min_group": "5", "support_contacts": "x" * 2001}
    response = post_form(hr, edit, data)
    assert response.status_code == 400
    assert 'id="support_contacts-error"' in response.get_data(as_text=True)


# -- HR masking and identical comments ------------------------------------------------------


def test_hr_masks_part_of_a_comment_and_the_report_gets_the_masked_text(app, hr):
    survey, ids = closed_with_comments(app, responses=10)
    path = f"/admin/surveys/{survey.slug}/comments"
    html = page(hr, path)
    assert f'name="mask-{ids[0]}"' in html
    masked = "Kommentar 0: mejla mig på […]"
    response = post_form(hr, path, {"comment": [ids[0]], f"mask-{ids[0]}": masked})
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        (selection,) = CommentSelection.select()
        assert selection.masked_text == masked
        # The original stays (until the purge); the report takes the masked text.
        assert "anna@example.se" in Comment.get_by_id(ids[0]).text
        from portal.services import publication

        snapshot = publication._snapshot(store.get_survey(survey.slug), "sv", None)
    assert masked in snapshot
    assert "[e-post]" not in snapshot
    assert "Maskerad för rapporten." in page(hr, path)


def test_an_edit_that_is_not_masking_is_refused_and_nothing_saved(app, hr):
    survey, ids = closed_with_comments(app, responses=10)
    path = f"/admin/surveys/{survey.slug}/comments"
    page(hr, path)
    response = post_form(
        hr, path, {"comment": [ids[0]], f"mask-{ids[0]}": "Kommentar 0: allt är bra"}
    )
    assert response.status_code in (400, 409)
    assert "kan bara maskeras" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert CommentSelection.select().count() == 0


def test_identical_comments_are_shown_once_with_their_number(app, hr):
    survey, _ = closed_with_comments(app, responses=10)
    text_key = next(i.key for i in survey.definition().items() if i.kind == "text")
    with app.app_context(), db.connection_context():
        for text in ("Mer personal", "mer  personal", "Mer personal"):
            Comment.insert(
                id=str(uuid.uuid4()), survey=survey.id, question=text_key, text=text
            ).execute()
    html = page(hr, f"/admin/surveys/{survey.slug}/comments")
    assert html.lower().count('class="comment-text">mer') == 1
    assert "Skriven av 3 personer" in html


def _every_row(app) -> str:
    """Every row of every table, as text."""
    with app.app_context(), db.connection_context():
        return "\n".join(
            repr(row)
            for table in db.get_tables()
            for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608
        )


def test_the_unmasked_original_stays_only_until_the_purge(app, hr):
    """HR masks a part no redaction catches; the report keeps the masked text for good,
    while the original is in no row of any table once the raw responses are purged."""
    survey, _ = closed_with_comments(app, responses=10)
    text_key = next(i.key for i in survey.definition().items() if i.kind == "text")
    comment_id = str(uuid.uuid4())
    with app.app_context(), db.connection_context():
        Comment.insert(
            id=comment_id,
            survey=survey.id,
            question=text_key,
            text="Det hände på avdelning Solrosen i våras",
        ).execute()
    detail = f"/admin/surveys/{survey.slug}"
    masked = "Det hände på avdelning […] i våras"
    form = {"comment": [comment_id], f"mask-{comment_id}": masked}
    assert post_form(hr, f"{detail}/comments", form).status_code == 303
    assert "Solrosen" in _every_row(app)  # kept for HR until the purge
    assert post_form(hr, f"{detail}/publish", {}).status_code == 303
    assert post_form(hr, f"{detail}/purge", {"slug": survey.slug}).status_code == 303
    rows = _every_row(app)
    assert "Solrosen" not in rows
    assert masked in rows  # in the published report
    with app.app_context(), db.connection_context():
        assert CommentSelection.select().count() == 0
        assert masked in store.report_snapshot(survey, "sv")
    assert masked in page(hr, f"{detail}/results")
