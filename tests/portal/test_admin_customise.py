"""HR shaping a draft through the pages: questions, roles, import, copy, templates; and the
formatted texts attacked on every page and export that shows them."""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import sanitize, store
from portal.extensions import db
from portal.services import lifecycle
from portal.store.models import Survey
from surveys.definition import TEMPLATE_DIR, load_template
from tests.factories import csrf_token, logged_in_as, with_key

TODAY = dt.date(2026, 3, 10)

PAYLOADS = (
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">klick</a>',
    '<p style="background:url(javascript:alert(1))" onmouseover="alert(2)">stil</p>',
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://evil.example"></iframe>',
)


SAFE_SCHEMES = ("http", "https", "mailto")


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from a page (escaped text is text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.found.append("inline script")
        if tag in ("img", "svg", "iframe", "object", "embed"):
            self.found.append(tag)
        if tag == "style":
            self.found.append("style element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name == "style":
                self.found.append(f"{tag} style")
            # Browsers ignore whitespace and control characters inside a URL's scheme.
            scheme = re.sub(r"[\x00-\x20]", "", value or "").lower()
            named = re.match(r"^([a-z][a-z0-9+.-]*):", scheme)
            if name in ("href", "src") and named and named.group(1) not in SAFE_SCHEMES:
                self.found.append(f"{tag} {name}=javascript:")


def _dangerous(html: str) -> list[str]:
    """Every executable or styling construct on the page that HR's text could have smuggled in."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def staff_template():
    return load_template("staff_threats")


@pytest.fixture
def hr(app, client):
    app.config["TODAY"] = TODAY
    logged_in_as(app, client, "hr")
    # The messages below are checked in English, on the staff pages and in the
    # administration (each keeps its own language in its own cookie).
    client.get("/privacy?lang=en")
    client.get("/admin/?lang=en")
    return client


def _draft(app) -> Survey:
    with app.app_context(), db.connection_context():
        return lifecycle.create_survey(
            "staff_threats",
            lifecycle.SurveySettings("Hot 2026", "Threats 2026", "link"),
            actor=None,
            today=TODAY,
        )


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _questions_form(html: str) -> dict[str, object]:
    """Every field of the questions page as the browser would send it unchanged."""
    data: dict[str, object] = {"csrf_token": csrf_token(html)}
    for name, value in re.findall(
        r'<input type="text" id="[^"]*" name="([^"]+)" value="([^"]*)"', html
    ):
        data[name] = _unescape(value)
    for name, value in re.findall(
        r'<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        data[name] = _unescape(value)
    for name, body in re.findall(r'<select id="[^"]*" name="([^"]+)">(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected', body)
        data[name] = chosen.group(1) if chosen else re.search(r'value="([^"]+)"', body).group(1)
    data["off"] = re.findall(r'name="off" value="([^"]+)" checked', html)
    return data


def _unescape(value: str) -> str:
    import html

    return html.unescape(value)


def test_hr_switches_off_rewords_renames_and_adds_a_local_question(app, hr):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/questions"
    html = _page(hr, path)
    # Fixed questions say why; optional ones can be switched off.
    assert "Other questions are shown depending on the answer to this one." in html
    assert 'name="off" value="decision"' in html
    assert 'name="off" value="police"' not in html
    data = _questions_form(html)
    data.update(
        {
            "off": ["decision"],
            "variable.incident_system.sv": "KIA",
            "variable.incident_system.en": "KIA",
            "text.aim.en": "Was the aim to sway you?",
            "local.new.section": "safety",
            "local.new.type": "single",
            "local.new.text.sv": "Har ni larmknappar?",
            "local.new.text.en": "Do you have alarm buttons?",
            "local.new.options.sv": "Ja\nNej",
            "local.new.options.en": "Yes\nNo",
            "local.new.key_options": "1",
        }
    )
    response = hr.post(path, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        definition = store.get_survey(survey.slug).definition()
    assert definition.question("decision") is None
    assert "KIA" in definition.question("ia").text.sv
    assert definition.question("aim").text.en == "Was the aim to sway you?"
    assert definition.question("aim").text.sv == staff_template().question("aim").text.sv
    assert definition.question("local_1").section == "safety"
    # HR chose "Ja" as the key figure by group.
    assert definition.question("local_1").key_figure.values == ("o1",)
    # The preview is the staff form, with the changes.
    preview = _page(hr, f"/admin/surveys/{survey.slug}/preview")
    assert "Do you have alarm buttons?" in preview
    assert "KIA" in preview
    # Saving the page again unchanged keeps everything (the local question too).
    again = _questions_form(_page(hr, path))
    assert hr.post(path, data=again).status_code == 303
    with app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).definition().to_data() == definition.to_data()


def test_errors_are_shown_beside_their_field_and_nothing_is_saved(app, hr):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/questions"
    data = _questions_form(_page(hr, path))
    data.update(
        {
            "text.aim.sv": "",
            "off": ["police"],
            "local.new.type": "single",
            "local.new.text.sv": "Lokal",
            "local.new.text.en": "Local",
            "local.new.options.sv": "Bara en",
            "local.new.options.en": "Only one",
        }
    )
    response = hr.post(path, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="aim-sv-error"' in html
    assert "Enter the text in both languages." in html
    assert 'id="off-police-error"' in html
    assert 'id="local-local_1-options-error"' in html
    assert "Give between 2 and 15 options, one per line." in html
    with app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).customisation_json is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1, x", "between 1 and 3"),
        ("7", "between 1 and 3"),
        ("1 2 3", "always counts everyone"),
    ],
)
def test_bad_key_options_are_shown_beside_their_field(app, hr, typed, message):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/questions"
    data = _questions_form(_page(hr, path))
    data.update(
        {
            "local.new.section": "safety",
            "local.new.type": "single",
            "local.new.text.sv": "Lokal",
            "local.new.text.en": "Local",
            "local.new.options.sv": "Ja\nNej\nVet ej",
            "local.new.options.en": "Yes\nNo\nDon't know",
            "local.new.key_options": typed,
        }
    )
    response = hr.post(path, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="local-local_1-key_options-error"' in html
    assert 'href="#local-local_1-key_options"' in html
    assert message in html
    # What HR typed is still in the field, as typed.
    assert f'name="local.new.key_options" value="{typed}"' in html
    with app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).customisation_json is None


def test_an_opened_survey_cannot_be_customised(app, hr):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/questions"
    data = _questions_form(_page(hr, path))
    with app.app_context(), db.connection_context():
        lifecycle.open_survey(with_key(store.get_survey(survey.slug)), actor=None, today=TODAY)
    assert hr.post(path, data=data).status_code == 409
    assert hr.get(path).status_code == 409


def test_roles_on_the_settings_page_keep_their_keys(app, hr):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/edit"
    html = _page(hr, path)
    assert re.search(r'name="roles-0-key" type="hidden" value="ss_children"', html)
    data = {"csrf_token": csrf_token(html), "title_sv": "Hot", "access": "link", "min_group": "5"}
    data.update(
        {
            "roles-0-key": "manager",
            "roles-0-name_sv": "Enhetschef",
            "roles-0-name_en": "Unit manager",
            "roles-0-invited": "4",
            "roles-1-key": "",
            "roles-1-name_sv": "Familjebehandlare",
        }
    )
    response = hr.post(path, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        options = store.get_survey(survey.slug).definition().question("role").options
    assert [(o.key, o.label.sv) for o in options] == [
        ("manager", "Enhetschef"),
        ("r1", "Familjebehandlare"),
        ("na", "Vill inte uppge"),
    ]
    duplicate = dict(data, **{"roles-1-name_sv": "enhetschef"})
    duplicate["csrf_token"] = csrf_token(_page(hr, path))
    response = hr.post(path, data=duplicate)
    assert response.status_code == 400
    assert "Each role may be listed only once." in response.get_data(as_text=True)


def test_import_page_lists_bad_rows_and_saves_nothing(app, hr):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/import"
    html = _page(hr, path)
    bad = b"type,name_sv,invited\nunit,Norr,10\nunit,,3\nfoo,Syd,2\n"
    response = hr.post(
        path,
        data={"csrf_token": csrf_token(html), "file": (io.BytesIO(bad), "enheter.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Line 3:" in text
    assert "Line 4:" in text
    with app.app_context(), db.connection_context():
        assert "Norr" not in [u.name_sv for u in store.survey_units(store.get_survey(survey.slug))]
    good = b"typ;namn;antal\nenhet;Norr;10\nroll;Chef;3\n"
    response = hr.post(
        path,
        data={"csrf_token": csrf_token(html), "file": (io.BytesIO(good), "enheter.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        units = store.survey_units(store.get_survey(survey.slug))
    assert [(u.name_sv, u.invited) for u in units] == [("Norr", 10)]


def test_new_survey_from_an_earlier_one(app, hr):
    survey = _draft(app)
    detail = _page(hr, f"/admin/surveys/{survey.slug}")
    response = hr.post(
        f"/admin/surveys/{survey.slug}/copy", data={"csrf_token": csrf_token(detail)}
    )
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert Survey.select().count() == 2
        copy = Survey.select().order_by(Survey.id.desc()).get()
    assert copy.slug != survey.slug
    assert response.headers["Location"].endswith(f"/admin/surveys/{copy.slug}/edit")


def test_an_administrator_uploads_a_template_with_the_cli_messages(app, client):
    app.config["TODAY"] = TODAY
    logged_in_as(app, client, "admin")
    html = _page(client, "/admin/templates")
    raw = (TEMPLATE_DIR / "exit.toml").read_bytes()
    bad = raw.replace(b'kind = "exit"', b'kind = "other"')
    response = client.post(
        "/admin/templates",
        data={"csrf_token": csrf_token(html), "file": (io.BytesIO(bad), "exit.toml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "exit.toml: kind must be one of staff, exit" in response.get_data(as_text=True)
    ours = raw.replace(b"version = 1", b"version = 3")
    response = client.post(
        "/admin/templates",
        data={"csrf_token": csrf_token(html), "file": (io.BytesIO(ours), "exit.toml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert store.uploaded_template("exit") is not None


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("exit.toml", b"key = ", "exit.toml: not valid TOML"),
        ("exit.toml", b"\xff\xfe not text", "exit.toml: the file is not UTF-8 text"),
        ("exit.txt", b"key = 'exit'", "exit.txt: the file name must end in .toml"),
        ("exit.toml", "duplicate", "exit.toml, question 'tenure': the key is used twice"),
        ("exit.toml", "optional_depended_on", "an optional question cannot be switched off"),
        ("other.toml", "shipped", "other.toml: key 'exit' does not match the file name"),
    ],
)
def test_the_upload_page_and_the_cli_give_the_same_message(
    app, client, runner, tmp_path, name, content, expected
):
    """Issue 20, point 6: the page says exactly what `check-template` and `upload-template`
    say about the same file (a TOML error, a file that is not text, a wrong name, a
    duplicated key, an optional question others depend on), and stores nothing."""
    import html as html_module

    raw = (TEMPLATE_DIR / "exit.toml").read_bytes()
    if content == "duplicate":
        content = raw + (
            b'\n[[sections]]\nkey = "more"\ntitle = { sv = "Mer", en = "More" }\n'
            b'[[sections.questions]]\nkey = "tenure"\ntype = "text"\n'
            b'text = { sv = "Annat", en = "Other" }\n'
        )
    elif content == "optional_depended_on":
        question = re.search(rb'key = "(\w+)"\n(?:.*\n)*?show_if = \{ question = "(\w+)"', raw)
        assert question, "the exit template has no conditional question"
        parent = question.group(2)
        content = raw.replace(
            f'key = "{parent.decode()}"\n'.encode(),
            f'key = "{parent.decode()}"\noptional = true\n'.encode(),
            1,
        )
    elif content == "shipped":
        content = raw
    path = tmp_path / name
    path.write_bytes(content)
    cli_messages = []
    for command in ("check-template", "upload-template"):
        result = runner.invoke(args=[command, str(path)])
        assert result.exit_code != 0, result.output
        cli_messages.append(result.output.strip().removeprefix("Error: "))
    assert cli_messages[0] == cli_messages[1]
    assert expected in cli_messages[0]
    logged_in_as(app, client, "admin")
    page = _page(client, "/admin/templates")
    response = client.post(
        "/admin/templates",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    shown = re.search(r"<p><code>(.*?)</code></p>", response.get_data(as_text=True), re.S)
    assert shown, "no problem shown on the page"
    assert html_module.unescape(shown.group(1)) == cli_messages[0]
    with app.app_context(), db.connection_context():
        assert store.uploaded_templates() == []


def test_hr_cannot_upload_templates(app, hr):
    assert hr.get("/admin/templates").status_code == 403


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formatted_texts_are_sanitised_on_every_page_that_shows_them(app, hr, client, payload):
    survey = _draft(app)
    path = f"/admin/surveys/{survey.slug}/questions"
    data = _questions_form(_page(hr, path))
    data.update(
        {
            "intro.sv": f"<p>Välkommen <strong>alla</strong></p>{payload}",
            "intro.en": f"<p>Welcome <strong>all</strong></p>{payload}",
            "local.new.section": "safety",
            "local.new.type": "text",
            "local.new.text.sv": f"Fråga {payload}",
            "local.new.text.en": f"Question {payload}",
            "local.new.note.sv": f"<ul><li>Punkt</li></ul>{payload}",
            "local.new.note.en": f"<ul><li>Point</li></ul>{payload}",
        }
    )
    assert hr.post(path, data=data).status_code == 303
    # The support contacts, on the draft's settings page.
    edit = f"/admin/surveys/{survey.slug}/edit"
    settings = {
        "csrf_token": csrf_token(_page(hr, edit)),
        "title_sv": "Hot 2026",
        "title_en": "Threats 2026",
        "access": "link",
        "min_group": "5",
        "support_contacts": f"Skyddsombud <b>Kim</b>\n{payload}\n<em>Ring</em> 010-123",
    }
    assert hr.post(edit, data=settings).status_code == 303
    pages = {
        "questions page": _page(hr, path),
        "settings page": _page(hr, edit),
        "preview": _page(hr, f"/admin/surveys/{survey.slug}/preview"),
    }
    with app.app_context(), db.connection_context():
        lifecycle.open_survey(with_key(store.get_survey(survey.slug)), actor=None, today=TODAY)
    pages["staff form"] = _page(client, f"/s/{survey.slug}")
    pages["staff form in Swedish"] = _page(client, f"/s/{survey.slug}?lang=sv")
    pages["thank-you page"] = _page(client, f"/s/{survey.slug}/thanks")
    for name, html in pages.items():
        assert _dangerous(html) == [], name
    # The allowed formatting survives on the pages staff see (and in HR's preview).
    assert "<strong>all</strong>" in pages["staff form"]
    assert "<li>Point</li>" in pages["staff form"]
    assert "<li>Punkt</li>" in pages["staff form in Swedish"]
    for name in ("preview", "staff form", "thank-you page"):
        assert "Skyddsombud <b>Kim</b>" in pages[name], name
        assert "<em>Ring</em> 010-123" in pages[name], name


def test_sanitize_keeps_the_subset_and_links():
    html = str(sanitize.formatted('<p>Ring <a href="https://x.se/stöd" onclick="x()">oss</a></p>'))
    assert html == '<p>Ring <a href="https://x.se/stöd" rel="noopener noreferrer">oss</a></p>'
    assert str(sanitize.formatted("Rad ett\n\nRad <två>")) == "<p>Rad ett</p><p>Rad &lt;två&gt;</p>"


def test_support_contacts_keep_their_line_breaks_and_only_the_subset():
    plain = "Företagshälsovården: 010-123\nSkyddsombud <Kim>\n\n112"
    assert str(sanitize.formatted(plain, line_breaks=True)) == (
        "<p>Företagshälsovården: 010-123<br>Skyddsombud &lt;Kim&gt;</p><p>112</p>"
    )
    # A break inside a tag is not a line break; a script is still text.
    tagged = 'Ring <a\nhref="https://x.se">oss</a>\n<script>alert(1)</script>'
    assert str(sanitize.formatted(tagged, line_breaks=True)) == (
        '<p>Ring <a href="https://x.se" rel="noopener noreferrer">oss</a><br>'
        "&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    # Without line_breaks (the introduction), lines of a paragraph flow together as before.
    assert str(sanitize.formatted("Rad ett\nrad två")) == "<p>Rad ett\nrad två</p>"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_inherited_support_contacts_are_sanitised(app, client, payload):
    """The organisation's support contacts, shown in surveys without their own."""
    survey = _draft(app)
    with app.app_context(), db.connection_context():
        with store.write_transaction():
            store.save_org_profile({"support_contacts": f"<strong>Avonova</strong>\n{payload}"})
        lifecycle.open_survey(with_key(store.get_survey(survey.slug)), actor=None, today=TODAY)
    for path in (f"/s/{survey.slug}", f"/s/{survey.slug}/thanks"):
        html = _page(client, path)
        assert _dangerous(html) == [], path
        assert "<strong>Avonova</strong>" in html, path


_FRAGMENTS = [
    "<script>",
    "</script>",
    "<a href='javascript:alert(1)'>",
    '<a href="https://ok.se">',
    "</a>",
    "<p style='x:y'>",
    "<b onmouseover=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<style>",
    "<!--",
    "-->",
    "<",
    ">",
    '"',
    "'",
    "java\tscript:",
    "&#106;avascript:",
    "<strong>",
    "</strong>",
    "<ul><li>",
    "text",
    "\n\n",
]


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map("".join))
@settings(max_examples=300, deadline=None)
def test_formatted_never_lets_code_or_styles_through(text):
    html = str(sanitize.formatted(text))
    assert _dangerous(html) == []
