"""HR survey pages in the browser: permissions, lifecycle, access codes, monitoring,
comments and retention."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
import uuid

import pytest

from portal import codes as codes_module
from portal import store
from portal.extensions import db
from portal.services import lifecycle, publication
from portal.store.models import AccessCode, AuditEntry, Comment, CommentSelection, Response, Survey
from tests.factories import (
    complete_answers,
    csrf_token,
    give_key,
    key_text,
    logged_in_as,
    make_app,
    make_survey,
    open_form,
    open_form_for,
    post_form,
    submit,
    with_key,
)

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def hr(app, client):
    app.config["TODAY"] = TODAY
    logged_in_as(app, client, "hr")
    return client


@pytest.fixture
def fake_snapshots(monkeypatch):
    """Publishing without the results engine: the snapshot content is not under test here."""
    monkeypatch.setattr(
        publication, "report_snapshots", lambda survey, **_: {"sv": '{"report": {}}', "en": "{}"}
    )


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def audit_actions(app) -> list[str]:
    with app.app_context(), db.connection_context():
        return [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]


def fresh(app, survey: Survey) -> Survey:
    with app.app_context(), db.connection_context():
        return Survey.get_by_id(survey.id)


def respond(client, survey: Survey, count: int, **answers) -> None:
    """Answer ``count`` times as staff (a separate client keeps the HR session apart)."""
    for _ in range(count):
        hidden = open_form(client, survey.slug)
        result = submit(
            client, survey.slug, complete_answers(survey.definition(), **answers), hidden
        )
        assert result.status_code == 303


def respond_with_codes(app, client, survey: Survey, count: int, **answers) -> None:
    """Answer ``count`` times with a fresh code each (a survey answered with codes)."""
    for _ in range(count):
        hidden = open_form_for(app, client, survey)
        result = submit(
            client, survey.slug, complete_answers(survey.definition(), **answers), hidden
        )
        assert result.status_code == 303


# -- permissions -----------------------------------------------------------------------------------

GET_PAGES = [
    "/admin/surveys",
    "/admin/surveys/new",
    "/admin/surveys/{slug}",
    "/admin/surveys/{slug}/edit",
    "/admin/surveys/{slug}/preview",
    "/admin/surveys/{slug}/poster",
    "/admin/surveys/{slug}/comments",
    "/admin/surveys/{slug}/purge",
    "/admin/surveys/{slug}/close",
    "/admin/surveys/{slug}/publish",
    "/admin/surveys/{slug}/archive",
    "/admin/surveys/{slug}/revoke",
]
POST_PAGES = [
    "/admin/surveys/new",
    "/admin/surveys/{slug}/edit",
    "/admin/surveys/{slug}/open",
    "/admin/surveys/{slug}/codes",
    "/admin/surveys/{slug}/comments",
    "/admin/surveys/{slug}/purge",
    "/admin/surveys/{slug}/retention",
    "/admin/surveys/{slug}/close",
    "/admin/surveys/{slug}/key",
    "/admin/surveys/{slug}/open-answers",
]


def test_logged_out_is_sent_to_login_and_board_gets_403(app, client):
    survey, _ = make_survey(app, status="draft")
    for template in GET_PAGES:
        path = template.format(slug=survey.slug)
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/admin/login" in response.headers["Location"], path
    logged_in_as(app, client, "board")
    token = csrf_token(page(client, "/admin/password"))
    for template in GET_PAGES:
        assert client.get(template.format(slug=survey.slug)).status_code == 403, template
    for template in POST_PAGES:
        path = template.format(slug=survey.slug)
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert fresh(app, survey).status == "draft"


def test_hr_and_admin_reach_the_pages(app, client):
    survey, _ = make_survey(app, status="draft")
    logged_in_as(app, client, "admin")
    html = page(client, "/admin/surveys")
    assert survey.slug in html
    assert page(client, "/admin/").count('href="/admin/surveys"') >= 1


def test_post_without_csrf_token_is_refused(app, hr):
    survey, _ = make_survey(app, status="draft")
    key_before = fresh(app, survey).seal_key
    for action in ("open", "key", "open-answers"):
        response = hr.post(f"/admin/surveys/{survey.slug}/{action}", data={})
        assert response.status_code == 400, action
    assert fresh(app, survey).status == "draft"
    # No key was made or replaced without the form's token.
    assert fresh(app, survey).seal_key == key_before


# -- create, edit, preview -------------------------------------------------------------------------


def test_the_staff_survey_is_the_first_and_default_template(app, hr):
    html = page(hr, "/admin/surveys/new")
    select = re.search(r'<select[^>]*name="template".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)</option>', select)
    assert options == [
        ("staff_threats", "Hot, våld och otillåten påverkan (medarbetarenkät)"),
        ("exit", "Avslutningsenkät"),  # the question bank's name, as in the survey's own title
    ]


def test_create_from_template_then_edit_units(app, hr):
    form = {
        "template": "staff_threats",
        "title_sv": "Hot och våld 2026",
        "title_en": "",
        "access": "codes",
        "min_group": "5",
        "opens_on": "",
        "closes_on": "",
    }
    response = post_form(hr, "/admin/surveys/new", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    slug = re.search(r"/admin/surveys/([^/]+)/edit", response.headers["Location"]).group(1)
    with app.app_context(), db.connection_context():
        survey = store.get_survey(slug)
        assert (survey.title_en, survey.access, survey.status) == (
            "Hot och våld 2026",
            "codes",
            "draft",
        )
    html = page(hr, f"/admin/surveys/{slug}/edit")
    assert 'value="Barn och unga"' in html  # the template's units, ready to edit
    edit = {
        "title_sv": "Hot 2026",
        "title_en": "Threats 2026",
        "access": "codes",
        "min_group": "4",
        "opens_on": "2026-04-01",
        "closes_on": "2026-04-30",
        "units-0-name_sv": "Norr",
        "units-0-name_en": "North",
        "units-0-invited": "25",
        "units-1-name_sv": "Söder",
        "units-1-invited": "",
    }
    response = post_form(hr, f"/admin/surveys/{slug}/edit", edit)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        survey = store.get_survey(slug)
        assert (survey.min_group, survey.opens_on) == (4, dt.date(2026, 4, 1))
        assert [(u.name_sv, u.name_en, u.invited) for u in store.survey_units(survey)] == [
            ("Norr", "North", 25),
            ("Söder", "Söder", None),
        ]
    assert "Norr" in page(hr, f"/admin/surveys/{slug}/preview")
    assert audit_actions(app)[-2:] == ["survey_created", "survey_edited"]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_validation_errors_beside_their_fields(app, hr, lang):
    hr.get(f"/admin/surveys?lang={lang}")
    form = {
        "template": "staff_threats",
        "title_sv": "",
        "access": "link",
        "min_group": "2",
        "closes_on": "not a date",
        "units-0-name_sv": "Norr",
        "units-1-name_sv": "norr",
    }
    response = post_form(hr, "/admin/surveys/new", form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field in ("title_sv", "min_group", "closes_on"):
        assert f'id="{field}-error"' in html, field
    expected = {
        "sv": ("Minsta gruppstorlek", "Skriv en titel"),
        "en": ("minimum group size must be between 3", "Enter a title."),
    }[lang]
    for text in expected:
        assert text in html
    with app.app_context(), db.connection_context():
        assert Survey.select().count() == 0


def test_duplicate_units_are_reported_at_the_unit_list(app, hr):
    form = {
        "template": "exit",
        "title_sv": "Avslut",
        "access": "link",
        "min_group": "5",
        "units-0-name_sv": "Norr",
        "units-1-name_sv": "norr",
    }
    response = post_form(hr, "/admin/surveys/new", form)
    assert response.status_code == 400
    assert "Varje enhet" in response.get_data(as_text=True)


def test_edit_is_refused_once_open(app, hr):
    survey, _ = make_survey(app, status="open")
    assert hr.get(f"/admin/surveys/{survey.slug}/edit").status_code == 409
    token = csrf_token(page(hr, f"/admin/surveys/{survey.slug}"))
    response = hr.post(
        f"/admin/surveys/{survey.slug}/edit",
        data={"csrf_token": token, "title_sv": "Nytt", "access": "link", "min_group": "5"},
    )
    assert response.status_code == 409
    assert fresh(app, survey).title_sv == "Testenkät"


def test_preview_shows_the_form_and_cannot_send(app, hr):
    survey, _ = make_survey(app, status="draft")
    html = page(hr, f"/admin/surveys/{survey.slug}/preview")
    assert 'name="exp_threats' in html
    assert 'method="post"' not in html.split('id="answers"')[1].split(">")[0]
    assert 'value="submit"' not in html
    # Staff still cannot open a draft.
    assert hr.get(f"/s/{survey.slug}").status_code == 403


# -- lifecycle -------------------------------------------------------------------------------------


def test_lifecycle_in_the_browser_and_refusal_to_reopen(app, hr, fake_snapshots):
    survey, _ = make_survey(app, status="draft")
    detail = f"/admin/surveys/{survey.slug}"
    assert post_form(hr, f"{detail}/open", {}, page=detail).status_code == 303
    assert fresh(app, survey).status == "open"
    assert "Stäng enkäten nu" in page(hr, detail)
    assert post_form(hr, f"{detail}/close", {}).status_code == 303
    html = page(hr, detail)
    assert "kan inte öppnas igen" in html
    refused = post_form(hr, f"{detail}/open", {}, page=detail)
    assert refused.status_code == 409
    assert "kan inte öppnas igen" in refused.get_data(as_text=True)
    assert post_form(hr, f"{detail}/publish", {}).status_code == 303
    refused = post_form(hr, f"{detail}/open", {}, page=detail)
    assert refused.status_code == 409
    assert "aldrig öppnas igen" in refused.get_data(as_text=True)
    assert post_form(hr, f"{detail}/archive", {}).status_code == 303
    assert fresh(app, survey).archived
    assert survey.slug not in page(hr, "/admin/surveys")
    assert survey.slug in page(hr, "/admin/surveys?archived=1")
    assert audit_actions(app)[-4:] == [
        "survey_opened",
        "survey_closed",
        "survey_published",
        "survey_archived",
    ]


def test_confirmation_page_changes_nothing_until_posted(app, hr):
    survey, _ = make_survey(app, status="open")
    html = page(hr, f"/admin/surveys/{survey.slug}/close")
    assert "Ja, stäng enkäten" in html
    assert fresh(app, survey).status == "open"


def test_schedule_runs_before_admin_pages(tmp_path):
    app = make_app(tmp_path, TODAY=TODAY)
    client = app.test_client()
    logged_in_as(app, client, "hr")
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey(
            "staff_threats",
            lifecycle.SurveySettings("Hot", "Threats", "link", opens_on=TODAY, closes_on=TODAY),
            actor=None,
            today=TODAY,
        )
        give_key(survey)
    page(client, "/admin/surveys")
    assert fresh(app, survey).status == "open"
    app.config["TODAY"] = TODAY + dt.timedelta(days=1)
    page(client, "/admin/surveys")
    assert fresh(app, survey).status == "closed"


# -- access ----------------------------------------------------------------------------------------


def test_link_mode_shows_link_and_inline_qr_svg(app, hr):
    survey, _ = make_survey(app, status="open")
    html = page(hr, f"/admin/surveys/{survey.slug}")
    assert f"http://127.0.0.1:5000/s/{survey.slug}" in html
    assert '<svg width="' in html
    assert 'class="qr"' in html
    poster = page(hr, f"/admin/surveys/{survey.slug}/poster")
    assert "<svg" in poster


def test_codes_are_shown_once_and_only_hashes_are_kept(app, hr):
    survey, _ = make_survey(app, access="codes", status="draft")
    detail = f"/admin/surveys/{survey.slug}"
    response = post_form(hr, f"{detail}/codes", {"count": "4"}, page=detail)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    codes = re.findall(r'<p class="slip-code">([0-9A-Z]{5}-[0-9A-Z]{5})</p>', html)
    assert len(codes) == 4
    assert "visas bara den här gången" in html
    # The CSV of the same batch travels inside this response only.
    encoded = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html).group(1)
    csv_text = base64.b64decode(encoded).decode("utf-8")
    assert all(code in csv_text for code in codes)
    # A second visit shows counts only; the database and the session hold no code.
    again = page(hr, detail)
    assert not any(code in again for code in codes)
    assert "Utdelade koder" in again
    with hr.session_transaction() as session:
        assert not any(code in str(dict(session)) for code in codes)
    with app.app_context(), db.connection_context():
        stored = " ".join(c.code_hash for c in AccessCode.select())
        assert AccessCode.select().count() == 4
        assert not any(codes_module.normalise_code(c) in stored for c in codes)
        assert store.code_is_valid(survey, codes[0], app.config["SECRET_KEY"])
    assert audit_actions(app)[-1] == "codes_generated"
    with app.app_context(), db.connection_context():
        details = [e.detail for e in AuditEntry.select()]
    assert not any(code in " ".join(details) for code in codes)


def test_code_count_is_validated_beside_the_field(app, hr):
    survey, _ = make_survey(app, access="codes", status="draft")
    detail = f"/admin/surveys/{survey.slug}"
    response = post_form(hr, f"{detail}/codes", {"count": "0"}, page=detail)
    assert response.status_code == 400
    assert 'id="count-error"' in response.get_data(as_text=True)


def test_revoke_unused_codes_with_confirmation(app, hr):
    survey, codes = make_survey(app, access="codes", status="open", codes=3)
    staff = app.test_client()
    hidden = open_form(staff, survey.slug, code=codes[0])
    submit(staff, survey.slug, complete_answers(survey.definition()), hidden)
    detail = f"/admin/surveys/{survey.slug}"
    confirm = page(hr, f"{detail}/revoke")
    assert "2 av 3" in confirm
    assert post_form(hr, f"{detail}/revoke", {}).status_code == 303
    with app.app_context(), db.connection_context():
        assert store.code_counts(survey) == (1, 1)
    assert audit_actions(app)[-1] == "codes_revoked"


# -- monitoring ------------------------------------------------------------------------------------


def test_while_open_only_the_total_is_shown(app, hr):
    survey, _ = make_survey(app, status="open", min_group=3)
    respond(app.test_client(), survey, 4, unit="children")
    html = page(hr, f"/admin/surveys/{survey.slug}")
    assert "<strong>4</strong>" in html
    assert "Svarsfrekvens per enhet" not in html
    assert "Barn och unga" not in html.split('id="responses-title"')[1].split("</section>")[0]


def _closed_with_units(app, units: dict[str, tuple[int, int]]):
    """A closed codes survey (k = 3) of ``units`` {name: (invited, respondents)}."""
    survey, _ = make_survey(app, status="draft", min_group=3)
    with app.app_context(), db.connection_context():
        settings = [lifecycle.UnitSetting(name, invited=n) for name, (n, _) in units.items()]
        lifecycle.edit_draft(
            survey,
            lifecycle.SurveySettings("Hot", "Threats", "codes", min_group=3, units=tuple(settings)),
            actor=None,
            today=TODAY,
        )
        lifecycle.open_survey(with_key(survey), actor=None, today=TODAY)
    staff = app.test_client()
    for number, (_, answers) in enumerate(units.values(), start=1):
        respond_with_codes(app, staff, survey, answers, unit=f"u{number}")
    with app.app_context(), db.connection_context():
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
    return survey


def test_after_close_no_unit_below_k_follows_from_the_rates(app, hr):
    """D4 and L5 (a survey answered with codes): a unit below k is merged as in the
    report, so its count is neither shown nor the total less the units shown."""
    survey = _closed_with_units(app, {"Norr": (8, 4), "Söder": (5, 2), "Väst": (6, 3)})
    html = page(hr, f"/admin/surveys/{survey.slug}")
    section = html.split("Svarsfrekvens per enhet")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)
    assert any("Norr" in r and "50\u00a0%" in r for r in rows)
    merged = [r for r in rows if "Söder och Väst" in r]
    assert len(merged) == 1
    assert "45\u00a0%" in merged[0]  # 5 of 11
    assert not any("Söder" in r and "Väst" not in r for r in rows)
    assert not re.search(r">\s*2\s*<", section)
    assert "av 19 inbjudna (47\u00a0%)" in html
    assert "räknas tillsammans med en annan enhet" in html
    english = page(hr, f"/admin/surveys/{survey.slug}?lang=en")
    assert "50%" in english.split("Response rate per unit")[1].split("</table>")[0]
    assert "of 19 invited (47%)" in english


def test_after_close_a_unit_that_would_stand_alone_below_k_gives_no_rates(app, hr):
    """Two units, one below k: merged into one group, the breakdown says nothing, and HR
    sees no per-unit rate (before, Söder = total − Norr)."""
    survey = _closed_with_units(app, {"Norr": (8, 4), "Söder": (5, 2)})
    html = page(hr, f"/admin/surveys/{survey.slug}")
    assert "av 13 inbjudna (46\u00a0%)" in html
    assert "Svarsfrekvens per enhet" not in html
    assert "Norr" not in html.split('id="responses-title"')[1].split("</section>")[0]


def test_a_link_survey_shows_hr_no_rates_per_unit_or_role(app, hr):
    # Made-up answers could lift a unit above k; its count would then tell how many
    # real people in it answered (tests/portal/test_abuse.py). Only the total is shown.
    survey, _ = make_survey(app, min_group=3)
    respond(app.test_client(), survey, 6, unit="children")
    with app.app_context(), db.connection_context():
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
    html = page(hr, f"/admin/surveys/{survey.slug}")
    section = html.split('id="responses-title"')[1].split("</section>")[0]
    assert "<strong>6</strong>" in section
    assert "delad länk" in section
    assert "Svarsfrekvens per" not in section
    assert "Barn och unga" not in section


# -- comments --------------------------------------------------------------------------------------


def closed_with_comments(app, responses: int, min_group: int = 3) -> tuple[Survey, list[str]]:
    survey, _ = make_survey(app, status="open", min_group=min_group)
    respond(app.test_client(), survey, responses)
    text_key = next(i.key for i in survey.definition().items() if i.kind == "text")
    ids = []
    with app.app_context(), db.connection_context():
        for n in range(3):
            ids.append(str(uuid.uuid4()))
            Comment.insert(
                id=ids[-1],
                survey=survey.id,
                question=text_key,
                text=f"Kommentar {n}: mejla mig på anna@example.se",
            ).execute()
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
    return survey, ids


def test_comments_hidden_below_the_threshold(app, hr):
    survey, _ = closed_with_comments(app, responses=9)
    html = page(hr, f"/admin/surveys/{survey.slug}/comments")
    assert "Kommentar 0" not in html
    assert 'name="comment"' not in html
    assert "minst 10" in html


def test_comments_while_open_are_not_shown(app, hr):
    survey, _ = make_survey(app, status="open")
    html = page(hr, f"/admin/surveys/{survey.slug}/comments")
    assert "först när enkäten har stängts" in html


def test_comments_redacted_shuffled_and_selectable(app, hr, fake_snapshots):
    survey, ids = closed_with_comments(app, responses=10)
    path = f"/admin/surveys/{survey.slug}/comments"
    html = page(hr, path)
    assert html.count('class="comment-text">Kommentar ') == 3
    assert "anna@example.se" not in html
    assert "[e-post]" in html
    shown = re.findall(r'name="comment" value="([^"]+)"', html)
    assert shown == sorted(ids)  # random-id order, not insertion order
    response = post_form(hr, path, {"comment": [ids[1], "not-an-id"]})
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert [c.comment_id for c in CommentSelection.select()] == [ids[1]]
    assert re.search(rf'value="{ids[1]}"[^>]*checked', page(hr, path))
    assert audit_actions(app)[-1] == "comments_selected"


# -- retention -------------------------------------------------------------------------------------


def test_purge_needs_the_typed_slug_and_keeps_the_snapshot(app, hr, fake_snapshots):
    survey, _ = closed_with_comments(app, responses=3)
    detail = f"/admin/surveys/{survey.slug}"
    purge = f"{detail}/purge"
    assert "först efter publicering" in page(hr, purge)
    assert post_form(hr, f"{detail}/publish", {}).status_code == 303
    wrong = post_form(hr, purge, {"slug": "wrong"})
    assert wrong.status_code == 400
    assert 'id="slug-error"' in wrong.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert Response.select().count() == 3
    assert post_form(hr, purge, {"slug": survey.slug}).status_code == 303
    with app.app_context(), db.connection_context():
        assert Response.select().count() == 0
        assert Comment.select().count() == 0
        assert store.report_snapshot(survey, "sv") == '{"report": {}}'
    assert "gallrades" in page(hr, detail)
    assert audit_actions(app)[-1] == "responses_purged"


def test_retention_setting(app, hr):
    survey, _ = make_survey(app, status="closed")
    purge = f"/admin/surveys/{survey.slug}/purge"
    bad = post_form(
        hr, f"/admin/surveys/{survey.slug}/retention", {"purge_after_months": "0"}, page=purge
    )
    assert bad.status_code == 400
    assert 'id="purge_after_months-error"' in bad.get_data(as_text=True)
    ok = post_form(
        hr, f"/admin/surveys/{survey.slug}/retention", {"purge_after_months": "12"}, page=purge
    )
    assert ok.status_code == 303
    assert fresh(app, survey).purge_after_months == 12


# -- results preview ------------------------------------------------------------------------------


def test_results_are_refused_before_close(app, hr):
    survey, _ = make_survey(app, status="open")
    response = hr.get(f"/admin/surveys/{survey.slug}/results")
    assert response.status_code == 409
    assert "först när enkäten har stängts" in response.get_data(as_text=True)


def test_published_results_come_from_the_snapshot_after_purge(app, hr, monkeypatch):
    report = {
        "respondents": 12,
        "response_rate": None,
        "breakdowns": {"all": "Alla svarande", "unit": "Enhet"},
        "indicators": [],
        "questions": [
            {
                "key": "exp_threats",
                "label": "Hot",
                "type": "single",
                "base": "",
                "shown_when": None,
                "breakdowns": {
                    "unit": [
                        {
                            "group": "children",
                            "label": "Barn och unga",
                            "n": None,
                            "n_display": "<5",
                            "options": [{"label": "Aldrig", "display": "x"}],
                        }
                    ]
                },
            }
        ],
        "notes": ["Grupper med färre än 5 svarande visas inte."],
    }
    snapshot = lifecycle.snapshot_json(report, [("Övrigt", "En vald kommentar")])
    monkeypatch.setattr(
        publication, "report_snapshots", lambda s, **_: {"sv": snapshot, "en": snapshot}
    )
    survey, _ = closed_with_comments(app, responses=3)
    detail = f"/admin/surveys/{survey.slug}"
    assert post_form(hr, f"{detail}/publish", {}).status_code == 303
    assert post_form(hr, f"{detail}/purge", {"slug": survey.slug}).status_code == 303
    # The board's page, with its breakdown selector: the unit figures are one click away.
    html = page(hr, f"{detail}/results?by=unit")
    for text in ("Barn och unga", "färre än 5", ">x<", "En vald kommentar", "Grupper med färre"):
        assert text in html


# -- hostile input ---------------------------------------------------------------------------------

PAYLOAD = '<script>alert("x")</script>'


def test_script_in_titles_and_unit_names_stays_text(app, hr):
    form = {
        "template": "staff_threats",
        "title_sv": PAYLOAD,
        "title_en": '=HYPERLINK("http://evil")',
        "access": "codes",
        "min_group": "5",
        "units-0-name_sv": "<img src=x onerror=alert(1)>",
    }
    response = post_form(hr, "/admin/surveys/new", form)
    assert response.status_code == 303
    slug = response.headers["Location"].split("/")[-2]
    for path in ("/admin/surveys", f"/admin/surveys/{slug}", f"/admin/surveys/{slug}/preview"):
        html = page(hr, path)
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    detail = f"/admin/surveys/{slug}"
    sheet = post_form(hr, f"{detail}/codes?lang=en", {"count": "1"}, page=detail)
    html = sheet.get_data(as_text=True)
    encoded = re.search(r"base64,([^\"]+)\"", html).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(encoded).decode("utf-8-sig"))))
    assert rows[0]["survey"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    "junk",
    [
        {"min_group": "abc"},
        {"min_group": "99999999999999999999"},
        {"opens_on": "2026-02-30"},
        {"template": "../../etc/passwd"},
        {"access": "everyone"},
        {"units-0-invited": "-4"},
        {"units-0-invited": "1e9"},
        {"title_sv": "x" * 5000},
    ],
)
def test_junk_input_gets_a_400_with_the_form(app, hr, junk):
    form = {"template": "exit", "title_sv": "Avslut", "access": "link", "min_group": "5"}
    response = post_form(hr, "/admin/surveys/new", {**form, **junk})
    assert response.status_code == 400
    assert 'class="error-message"' in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert Survey.select().count() == 0


def test_confirmation_pages_refuse_actions_that_do_not_apply(app, hr):
    survey, _ = make_survey(app, status="draft")
    for action in ("close", "publish", "archive", "revoke"):
        response = hr.get(f"/admin/surveys/{survey.slug}/{action}")
        assert response.status_code == 409, action
    assert hr.get(f"/admin/surveys/{survey.slug}/destroy").status_code == 404


def test_audit_page_shows_survey_actions_translated(app, client):
    logged_in_as(app, client, "admin")
    survey, _ = make_survey(app, access="codes", status="draft")
    detail = f"/admin/surveys/{survey.slug}"
    post_form(client, f"{detail}/codes", {"count": "7"}, page=detail)
    html = page(client, "/admin/audit")
    assert "Antal koder: 7" in html
    assert survey.slug in html


def test_a_survey_created_on_its_opening_date_goes_to_its_page_open(app, hr):
    form = {
        "template": "exit",
        "title_sv": "Avslut",
        "access": "link",
        "min_group": "5",
        "opens_on": TODAY.isoformat(),
    }
    response = post_form(hr, "/admin/surveys/new", form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#survey-key")
    detail = response.headers["Location"].split("#")[0]
    html = page(hr, detail)
    assert "så snart" in html  # it opens as soon as it has its key
    assert "Gör enkätnyckeln" in html
    assert "Stäng enkäten nu" not in html
    assert post_form(hr, f"{detail}/key", {}, page=detail).status_code == 200
    assert "Stäng enkäten nu" in page(hr, detail)  # the next page opened it on its date


def test_the_real_report_is_published_and_survives_the_purge(app, hr):
    """End to end with the results engine: 12 staff answer, HR closes, previews, picks a
    comment and publishes; after the purge the results page shows the same figures."""
    survey, ids = closed_with_comments(app, responses=12, min_group=5)
    detail = f"/admin/surveys/{survey.slug}"
    preview = page(hr, f"{detail}/results")
    assert "12" in preview
    assert post_form(hr, f"{detail}/comments", {"comment": [ids[2]]}).status_code == 303
    assert post_form(hr, f"{detail}/publish", {}).status_code == 303
    published = page(hr, f"{detail}/results")
    assert "Kommentar 2" in published
    assert "Kommentar 0" not in published
    assert post_form(hr, f"{detail}/purge", {"slug": survey.slug}).status_code == 303
    with app.app_context(), db.connection_context():
        assert Response.select().where(Response.survey == survey.id).count() == 0
        snapshot = json.loads(store.report_snapshot(fresh(app, survey), "sv"))
    assert snapshot["report"]["respondents"] == 12
    after = page(hr, f"{detail}/results")
    # The same page but for the token and the status message of the last action.
    strip = re.compile(r'name="csrf_token" value="[^"]*"|="status">[^<]*<')
    assert strip.sub("", after) == strip.sub("", published)


def test_header_and_footer_line_up_with_the_page_content(app, hr):
    """The wide administration pages widen their header and footer too; staff pages stay narrow."""
    html = page(hr, "/admin/surveys")
    assert '<main id="main" class="wrap wide admin"' in html
    assert '<div class="wrap wide header-row">' in html
    assert (
        html.split('<footer class="site-footer">')[1].lstrip().startswith('<div class="wrap wide">')
    )
    staff = app.test_client().get("/").get_data(as_text=True)
    assert '<div class="wrap header-row">' in staff
    assert staff.split('<footer class="site-footer">')[1].lstrip().startswith('<div class="wrap">')
