"""A customised survey through its life cycle: customise, answer, close, copy; file imports."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace

import pytest
from openpyxl import Workbook

from portal import store
from portal.extensions import db
from portal.reports import board_report, exports, results
from portal.services import dimension_import, lifecycle, monitoring, publication, templates
from portal.store.models import Survey
from surveys.customise import Customisation, LocalQuestion, Role
from surveys.definition import DefinitionError, Text
from tests.factories import (
    complete_answers,
    csrf_token,
    issue_codes,
    key_text,
    open_form,
    open_form_for,
    submit,
    with_key,
)

TODAY = dt.date(2026, 3, 10)


def _settings(**overrides) -> lifecycle.SurveySettings:
    values = {"title_sv": "Hot 2026", "title_en": "Threats 2026", "access": "link"}
    values.update(overrides)
    return lifecycle.SurveySettings(**values)


CUSTOM = Customisation(
    switched_off=("decision",),
    texts={"aim": Text("Var syftet att påverka ditt beslut?", "Was the aim to sway you?")},
    variables={"incident_system": Text("KIA", "KIA")},
    intro=Text("<p>Hej <strong>alla</strong></p>", "<p>Hello <strong>all</strong></p>"),
    roles=(Role(None, "Familjebehandlare", "Family therapist", 7), Role("manager", "Chef", "")),
    local=(
        LocalQuestion(
            key="local_1",
            section="safety",
            type="single",
            text=Text("Har ni larmknappar?", "Do you have alarm buttons?"),
            options=(Text("Ja", "Yes"), Text("Nej", "No")),
        ),
    ),
)


def _reload(survey: Survey) -> Survey:
    return Survey.get_by_id(survey.id)


def _reload_in(app, survey: Survey) -> Survey:
    with app.app_context(), db.connection_context():
        return _reload(survey)


def test_customised_survey_is_answered_reported_and_copied(app, client):
    with app.app_context(), db.connection_context():
        units = (lifecycle.UnitSetting("Norr", "North", 12), lifecycle.UnitSetting("Söder"))
        support = "Företagshälsovården: 010-123 45 67\nSkyddsombud: Kim, rum 12"
        survey = lifecycle.create_survey(
            "staff_threats",
            _settings(units=units, support_contacts=support, access="codes"),
            actor=None,
            today=TODAY,
        )
        lifecycle.customise_draft(survey, CUSTOM, actor=None)
        survey = _reload(survey)
        definition = survey.definition()
        assert definition.question("decision") is None
        assert "KIA" in definition.question("ia").text.sv
        assert [o.key for o in definition.question("role").options] == ["r1", "manager", "na"]
        assert [o.label.sv for o in definition.question("unit").options] == [
            "Norr",
            "Söder",
            "Vill inte uppge",
        ]
        assert lifecycle.current_roles(survey)[0].invited == 7
        lifecycle.open_survey(with_key(survey), actor=None, today=TODAY)
        with pytest.raises(lifecycle.LifecycleError):
            lifecycle.customise_draft(_reload(survey), Customisation(), actor=None)
    # Staff answer the customised form, the local question included.
    # (With codes: per-role response rates are given only for surveys answered with codes.)
    with app.app_context(), db.connection_context():
        code = issue_codes(_reload(survey), 1, app.config["SECRET_KEY"])[0]
    token = csrf_token(client.get(f"/s/{survey.slug}").get_data(as_text=True))
    page = client.post(
        f"/s/{survey.slug}", data={"csrf_token": token, "code": code, "action": "code"}
    ).get_data(as_text=True)
    assert "Har ni larmknappar?" in page
    assert "<strong>alla</strong>" in page
    for role in ("r1", "manager") * 5:
        hidden = open_form_for(app, client, _reload_in(app, survey))
        answers = complete_answers(definition, role=role, local_1="o1")
        assert submit(client, survey.slug, answers, hidden).status_code == 303
    with app.app_context(), db.connection_context():
        survey = _reload(survey)
        frozen = survey.definition_json
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=TODAY)
        assert _reload(survey).definition_json == frozen
        # Per role, as per unit: the customised roles with their numbers invited.
        rates = monitoring.role_rates(_reload(survey))
        assert [(r.key, r.invited, r.responses, r.rate) for r in rates] == [
            ("r1", 7, 5, 71),
            ("manager", None, 5, None),
        ]
        with app.test_request_context():
            data = results.to_json_data(results.survey_report(_reload(survey)), "sv")
            exported = exports.to_csv([board_report.build({"report": data}, "sv")])
        assert "local_1" in json.dumps(data)
        assert "Har ni larmknappar?" in exported
        copy = lifecycle.copy_survey(_reload(survey), actor=None, today=TODAY)
        assert copy.support_contacts == support
        assert copy.status == "draft"
        assert copy.opens_on is None
        assert copy.closes_on is None
        assert lifecycle.customisation(copy) == lifecycle.customisation(survey)
        assert copy.definition().to_data() == survey.definition().to_data()
        assert [(u.name_sv, u.invited) for u in store.survey_units(copy)] == [
            ("Norr", 12),
            ("Söder", None),
        ]
        assert store.response_count(copy) == 0


def test_a_copy_takes_the_settings_but_never_dates_codes_or_answers(app):
    from tests.factories import issue_codes

    with app.app_context(), db.connection_context():
        source = lifecycle.create_survey(
            "staff_threats",
            _settings(
                access="codes",
                min_group=6,
                purge_after_months=18,
                opens_on=TODAY,
                closes_on=TODAY + dt.timedelta(days=20),
                support_contacts="Skyddsombud Kim",
            ),
            actor=None,
            today=TODAY,
        )
        issue_codes(source, 4, app.config["SECRET_KEY"])
        assert store.code_counts(_reload(source))[0] == 4
        copy = lifecycle.copy_survey(_reload(source), actor=None, today=TODAY)
        assert (copy.access, copy.min_group, copy.purge_after_months) == ("codes", 6, 18)
        assert (copy.title_sv, copy.title_en) == (source.title_sv, source.title_en)
        assert copy.support_contacts == "Skyddsombud Kim"
        assert (copy.opens_on, copy.closes_on) == (None, None)
        assert store.code_counts(copy) == (0, 0)
        assert copy.slug != source.slug


def test_a_draft_without_customisation_keeps_its_definition_on_edit(app):
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
        before = survey.definition_json
        lifecycle.edit_draft(survey, _settings(title_sv="Ny"), actor=None, today=TODAY)
        assert _reload(survey).definition_json == before
        assert _reload(survey).customisation_json is None


def test_invalid_customisation_saves_nothing(app):
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
        before = survey.definition_json
        with pytest.raises(lifecycle.SettingsError) as caught:
            lifecycle.customise_draft(survey, Customisation(switched_off=("police",)), actor=None)
        assert "off.police" in caught.value.errors
        assert _reload(survey).definition_json == before


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_units_and_roles_from_csv_and_xlsx(app):
    csv_file = (
        "typ;namn;namn_en;antal\n"
        "enhet;Barn och unga;Children;40\n"
        "enhet;Vuxen;;25\n"
        "roll;Chef;Manager;6\n"
        "roll;Familjebehandlare;;9\n"
    ).encode("utf-8-sig")
    xlsx_file = _xlsx(
        [
            ["type", "name_sv", "name_en", "invited"],
            ["unit", "Barn och unga", "Children", 40],
            ["unit", "Vuxen", None, 25],
            ["role", "Chef", "Manager", 6],
            ["role", "Familjebehandlare", None, 9],
        ]
    )
    for name, raw in (("units.csv", csv_file), ("units.xlsx", xlsx_file)):
        dims = dimension_import.read_file(name, raw)
        assert [(u.name_sv, u.name_en, u.invited) for u in dims.units] == [
            ("Barn och unga", "Children", 40),
            ("Vuxen", "", 25),
        ]
        assert [(r.sv, r.invited) for r in dims.roles] == [("Chef", 6), ("Familjebehandlare", 9)]
        with app.app_context(), db.connection_context():
            survey = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
            lifecycle.import_dimensions(survey, dims.units, dims.roles, actor=None, today=TODAY)
            survey = _reload(survey)
            roles = survey.definition().question("role").options
            # "Chef" is the template's role "manager": it keeps its key.
            assert [o.key for o in roles] == ["manager", "r1", "na"]
            assert [(u.name_sv, u.invited) for u in store.survey_units(survey)] == [
                ("Barn och unga", 40),
                ("Vuxen", 25),
            ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "type,name_sv,invited\nunit,A,5\nteam,B,3\nunit,,2\nunit,A,x\n",
            [
                (3, "The type must be unit or role (enhet or roll)."),
                (4, "The Swedish name is missing."),
                (5, "The same name is on line %(line)d."),
                (5, "The number invited must be a positive whole number."),
            ],
        ),
        ("name,invited\nA,5\n", [(1, None)]),
        ("", [(0, "The file is empty.")]),
    ],
)
def test_bad_rows_are_listed_with_line_numbers_and_nothing_is_saved(app, content, expected):
    with pytest.raises(dimension_import.ImportFileError) as caught:
        dimension_import.read_file("units.csv", content.encode())
    found = [(e.line, e.message) for e in caught.value.errors]
    for line, message in expected:
        assert any(f[0] == line and (message is None or f[1] == message) for f in found), found


def test_bad_xlsx_rows_are_listed_with_their_line_numbers():
    workbook = _xlsx(
        [
            ["typ", "namn", "antal"],
            ["enhet", "A", 5],
            ["team", "B", 3],
            ["enhet", None, 2],
            ["roll", "C", -1],
        ]
    )
    with pytest.raises(dimension_import.ImportFileError) as caught:
        dimension_import.read_file("enheter.xlsx", workbook)
    assert [(e.line, e.message) for e in caught.value.errors] == [
        (3, "The type must be unit or role (enhet or roll)."),
        (4, "The Swedish name is missing."),
        (5, "The number invited must be a positive whole number."),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "type,name_sv\n" + "".join(f"unit,E{i}\n" for i in range(501)),
            "At most %(max)d rows can be imported.",
        ),
        ("type,name_sv\n" + "".join(f"role,R{i}\n" for i in range(41)), "At most %(max)d roles."),
        ("type,name_sv\n", "The file lists no units or roles."),
    ],
)
def test_a_file_beyond_the_limits_is_refused_whole(content, message):
    with pytest.raises(dimension_import.ImportFileError) as caught:
        dimension_import.read_file("enheter.csv", content.encode())
    assert [e.message for e in caught.value.errors] == [message]


def test_an_unknown_file_type_is_refused():
    with pytest.raises(dimension_import.ImportFileError):
        dimension_import.read_file("units.pdf", b"%PDF")
    with pytest.raises(dimension_import.ImportFileError):
        dimension_import.read_file("units.xlsx", b"not a zip")


def test_uploaded_template_overrides_the_shipped_one_with_cli_messages(app):
    from surveys.definition import TEMPLATE_DIR

    raw = (TEMPLATE_DIR / "exit.toml").read_bytes().replace(b"version = 1", b"version = 7")
    with app.app_context(), db.connection_context():
        with pytest.raises(DefinitionError, match="does not match the file name"):
            templates.upload("other.toml", raw, actor=None)
        with pytest.raises(DefinitionError, match="exit.toml: not valid TOML"):
            templates.upload("exit.toml", b"key = ", actor=None)
        templates.upload("exit.toml", raw, actor=None)
        assert templates.load("exit").version == 7
        survey = lifecycle.create_survey("exit", _settings(), actor=None, today=TODAY)
        assert survey.definition().version == 7
        assert templates.remove("exit", actor=None)
        assert templates.load("exit").version == 1
        # The survey keeps the version it was created from.
        assert _reload(survey).definition().version == 7


def test_cli_create_survey_from_an_earlier_one_with_a_units_file(app, runner, tmp_path):
    with app.app_context(), db.connection_context():
        source = lifecycle.create_survey(
            "staff_threats", _settings(min_group=7), actor=None, today=TODAY
        )
        lifecycle.customise_draft(source, CUSTOM, actor=None)
    units = tmp_path / "enheter.csv"
    units.write_text("type,name_sv,invited\nunit,Öster,30\nrole,Chef,4\n", encoding="utf-8")
    result = runner.invoke(
        args=["create-survey", "--from", source.slug, "--title", "Hot 2027", "--units-file", units]
    )
    assert result.exit_code == 0, result.output
    slug = result.output.split("Created draft survey ")[1].split()[0]
    with app.app_context(), db.connection_context():
        copy = store.get_survey(slug)
        assert copy.title_sv == "Hot 2027"
        assert copy.min_group == 7
        assert copy.definition().question("local_1") is not None
        assert [(u.name_sv, u.invited) for u in store.survey_units(copy)] == [("Öster", 30)]
        assert [o.key for o in copy.definition().question("role").options] == ["manager", "na"]


def test_cli_units_file_errors_are_listed_and_nothing_is_created(app, runner, tmp_path):
    units = tmp_path / "enheter.csv"
    units.write_text("type,name_sv,invited\nunit,Öster,-3\nteam,X,\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "create-survey",
            "--template",
            "staff_threats",
            "--title",
            "T",
            "--access",
            "link",
            "--units-file",
            units,
        ]
    )
    assert result.exit_code != 0
    assert "enheter.csv, line 2: The number invited must be a positive whole number." in (
        result.output
    )
    assert "enheter.csv, line 3: The type must be unit or role" in result.output
    with app.app_context(), db.connection_context():
        assert Survey.select().count() == 0


def test_cli_needs_a_template_or_an_earlier_survey(runner):
    result = runner.invoke(args=["create-survey", "--title", "T", "--access", "link"])
    assert result.exit_code != 0
    assert "either --template or --from" in result.output


def _answered_and_published(app, client, survey: Survey, count: int = 6) -> Survey:
    with app.app_context(), db.connection_context():
        lifecycle.open_survey(with_key(_reload(survey)), actor=None, today=TODAY)
        definition = _reload(survey).definition()
    for _ in range(count):
        hidden = open_form(client, survey.slug)
        assert submit(client, survey.slug, complete_answers(definition), hidden).status_code == 303
    with app.app_context(), db.connection_context():
        lifecycle.close_survey(
            _reload(survey), key_text=key_text(_reload(survey)), actor=None, today=TODAY
        )
        with app.test_request_context():
            lifecycle.publish_survey(
                _reload(survey), publication.report_snapshots, actor=None, today=TODAY
            )
        return _reload(survey)


def test_report_notes_left_out_indicators_and_changed_wording_in_the_trend(app, client):
    with app.app_context(), db.connection_context():
        first = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
        lifecycle.customise_draft(first, Customisation(local=CUSTOM.local), actor=None)
    first = _answered_and_published(app, client, first)
    with app.app_context(), db.connection_context():
        second = lifecycle.copy_survey(first, actor=None, today=TODAY, title_sv="Hot 2027")
        reworded = replace(
            CUSTOM.local[0], text=Text("Finns det larmknappar?", "Are there alarm buttons?")
        )
        custom = Customisation(
            switched_off=("decision",),
            texts={"aim": Text("Ville någon påverka dig?", "Did someone try to sway you?")},
            local=(reworded,),
        )
        lifecycle.customise_draft(second, custom, actor=None)
    second = _answered_and_published(app, client, second)
    with app.app_context(), db.connection_context(), app.test_request_context():
        report = board_report.load(second, "en")
    notes = " ".join(report.notes)
    assert "switched off a question it depends on" in notes
    assert "decision" in notes.lower()
    assert "worded differently" in notes
    assert "Did someone try to sway you?" in notes
    assert "decision_affected" not in [t.key for t in report.indicators]
    # Questions are matched by key: the reworded one still has its earlier figures.
    aim = next(t for t in report.questions if t.key == "aim")
    assert any(r.earlier for r in aim.rows)
    # So is a local question the copy carried over, reworded.
    assert "Are there alarm buttons?" in notes
    local = next(t for t in report.questions if t.key == "local_1")
    assert any(r.earlier for r in local.rows)


def test_hostile_local_question_text_is_inert_in_the_board_report_and_exports(app, client):
    from openpyxl import load_workbook

    from tests.factories import logged_in_as

    hostile = '=HYPERLINK("https://evil.example","x")<script>alert(1)</script>'
    local = LocalQuestion(
        key="local_1",
        section="safety",
        type="yesno",
        text=Text(hostile, hostile),
        note=Text("<p onclick='x()'>Not</p>", "<p>Note</p>"),
    )
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
        lifecycle.customise_draft(survey, Customisation(local=(local,)), actor=None)
    survey = _answered_and_published(app, client, survey)
    logged_in_as(app, client, "board")
    page = client.get(f"/board/{survey.slug}?lang=en").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    csv_text = client.get(f"/board/{survey.slug}.csv?lang=en").get_data(as_text=True)
    assert "local_1" in csv_text
    assert ',"=HYPERLINK' not in csv_text
    assert ",=HYPERLINK" not in csv_text
    book = load_workbook(io.BytesIO(client.get(f"/board/{survey.slug}.xlsx?lang=en").data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    labels = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert labels
    # Written as text, never as a formula (the XLSX writer's own protection).
    assert {c.data_type for c in labels} == {"s"}


def test_cli_checks_and_uploads_templates_with_the_loader_messages(app, runner, tmp_path):
    from surveys.definition import TEMPLATE_DIR

    raw = (TEMPLATE_DIR / "exit.toml").read_text(encoding="utf-8")
    bad = tmp_path / "exit.toml"
    bad.write_text(raw.replace("optional = true", "optional = 1", 1), encoding="utf-8")
    result = runner.invoke(args=["check-template", str(bad)])
    assert result.exit_code != 0
    assert "exit.toml, question 'next': optional must be true or false" in result.output
    good = tmp_path / "ours" / "exit.toml"
    good.parent.mkdir()
    good.write_text(raw.replace("version = 1", "version = 4", 1), encoding="utf-8")
    result = runner.invoke(args=["check-template", str(good)])
    assert result.exit_code == 0, result.output
    assert "template 'exit' version 4" in result.output
    result = runner.invoke(args=["upload-template", str(good)])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.connection_context():
        assert templates.load("exit").version == 4


def test_local_questions_are_protected_in_the_published_report_and_exports(app, client):
    """All 7 respondents answer yes to a local yes/no question: "7 of 7" (100 %) would tell
    each one's answer (P2). The published page, CSV and XLSX show the range instead, as for
    the template's questions: the same disclosure control, through the same pipeline."""
    from openpyxl import load_workbook

    from tests.factories import logged_in_as

    local = LocalQuestion("local_1", "safety", "yesno", Text("Rutin?", "Is there a routine?"))
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
        lifecycle.customise_draft(survey, Customisation(local=(local,)), actor=None)
    survey = _answered_and_published(app, client, survey, count=7)
    logged_in_as(app, client, "board")
    csv_text = client.get(f"/board/{survey.slug}.csv?lang=en").get_data(as_text=True)
    csv_rows = [line.split(",") for line in csv_text.splitlines() if ",local_1," in line]
    assert csv_rows, "the local question is not in the CSV"
    # Every row of the local question: the all-staff row only (7 is one group of each breakdown,
    # and a breakdown merged into one group is left out), its options and its key figure
    # ("yes", a yes/no question's), as ranges, never an exact count.
    assert [row[5:] for row in csv_rows] == [
        ["7", "Yes", "", ">85%"],
        ["7", "No", "", "<15%"],
        ["7", "Yes", "", ">85%"],
    ]
    assert [row[0] for row in csv_rows] == ["Question", "Question", "Key figure"]
    page = client.get(f"/board/{survey.slug}?lang=en").get_data(as_text=True)
    section = page[page.index('id="h-q-local_1-all"') :]
    section = section[: section.index("</section>")]
    assert "&gt;85%" in section
    assert "100%" not in section
    book = load_workbook(io.BytesIO(client.get(f"/board/{survey.slug}.xlsx?lang=en").data))
    local_rows = [
        [c.value for c in row]
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        if any(c.value == "local_1" for c in row)
    ]
    # The same cells as the CSV: the count empty, the share a range.
    assert [row[5:] for row in local_rows] == [
        [7, "Yes", None, ">85%"],
        [7, "No", None, "<15%"],
        [7, "Yes", None, ">85%"],
    ]
    from docx import Document
    from docx.table import Table

    document = Document(io.BytesIO(client.get(f"/board/{survey.slug}.docx?lang=en").data))
    body = list(document.element.body.iterchildren())
    caption = next(
        i
        for i, e in enumerate(body)
        if "Is there a routine? – All respondents" in e.xpath("string(.)")
    )
    table = Table(next(e for e in body[caption:] if e.tag.endswith("}tbl")), document)
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0][-2:] == ["Yes", "No"]
    assert cells[1][1:] == ["7", ">85%²", "<15%²"]


def test_a_local_free_text_question_reaches_the_board_only_as_redacted_chosen_comments(app, client):
    """A local free-text question's answers are comments like the template's: HR sees them
    redacted under the local question's wording, and the board gets only those chosen."""
    import re

    from tests.factories import logged_in_as, post_form

    local = LocalQuestion(
        "local_1", "safety", "text", Text("Något mer om larmen?", "Anything more on alarms?")
    )
    with app.app_context(), db.connection_context():
        survey = lifecycle.create_survey("staff_threats", _settings(), actor=None, today=TODAY)
        lifecycle.customise_draft(survey, Customisation(local=(local,)), actor=None)
        lifecycle.open_survey(with_key(_reload(survey)), actor=None, today=TODAY)
        definition = _reload(survey).definition()
    texts = ["Knappen i rum 3 fungerar inte, ring mig på 070-123 45 67", "Larmet är bra"]
    for n in range(10):
        hidden = open_form(client, survey.slug)
        extra = {"local_1": texts[n]} if n < len(texts) else {}
        answers = complete_answers(definition, **extra)
        assert submit(client, survey.slug, answers, hidden).status_code == 303
    with app.app_context(), db.connection_context():
        lifecycle.close_survey(
            _reload(survey), key_text=key_text(_reload(survey)), actor=None, today=TODAY
        )
    logged_in_as(app, client, "hr")
    path = f"/admin/surveys/{survey.slug}/comments"
    html = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "Anything more on alarms?" in html
    assert "070-123 45 67" not in html
    assert "Knappen i rum 3 fungerar inte" in html
    chosen = re.search(r'name="comment" value="([^"]+)"[^>]*>\s*<label[^>]*>.*?Larmet är bra', html)
    assert chosen, html
    assert post_form(client, path, {"comment": [chosen.group(1)]}).status_code == 303
    with app.app_context(), db.connection_context(), app.test_request_context():
        lifecycle.publish_survey(
            _reload(survey), publication.report_snapshots, actor=None, today=TODAY
        )
    board = app.test_client()
    logged_in_as(app, board, "board")
    page = board.get(f"/board/{survey.slug}?lang=en").get_data(as_text=True)
    assert "Larmet är bra" in page
    assert "Anything more on alarms?" in page
    assert "Knappen i rum 3" not in page
