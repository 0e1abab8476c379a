"""The board report: figures from the published snapshot, formatted, charted, compared
with the year before, exported, protected and behind the right doors."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from openpyxl import load_workbook

from portal import store
from portal.extensions import db
from portal.reports import board_report, exports
from portal.services import lifecycle
from portal.store.models import AuditEntry, ReportSnapshot, Survey
from surveys.definition import load_template, with_units
from tests.factories import csrf_token, login, make_app, make_user, post_form
from tests.portal.board_fixtures import (
    COMMENT,
    CURRENT_DAY,
    answer,
    current_survey,
    earlier_survey,
    get,
    key_figure_table,
    page_table,
    publish,
    snapshot_data,
    table,
)

pytest.importorskip("surveys.disclosure")

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One app with last year's survey and this year's, both published."""
    app = make_app(tmp_path_factory.mktemp("board"), TESTING=True, TODAY=CURRENT_DAY)
    earlier = earlier_survey(app)
    current = current_survey(app)
    for role in ("board", "hr", "admin"):
        make_user(app, f"{role}@example.se", role)
    return app, current, earlier


@pytest.fixture
def board(published):
    app, _, _ = published
    client = app.test_client()
    assert login(client, "board@example.se").status_code == 302
    return client


def chart_bars(page: str, chart_id: str) -> list[dict]:
    """The bars of one chart: width (None when there is no bar), kind and value label."""
    start = page.index(f'aria-labelledby="{chart_id}-title"')
    svg = page[start : page.index("</svg></div>", start)]
    bars = []
    for inner, value in re.findall(
        r'<svg x="300".*?>(.*?)</svg>\s*<text class="chart-value[^"]*"[^>]*>(.*?)</text>', svg, re.S
    ):
        bar = re.search(r'<rect class="bar (bar-\w+)" x="0" y="0" width="(\d+)"', inner)
        bars.append(
            {
                "kind": bar.group(1) if bar else None,
                "width": int(bar.group(2)) if bar else None,
                "text": html.unescape(value),
            }
        )
    return bars


def tables_of(data: dict):
    report = data["report"]
    for part, prefix in (("indicators", "i"), ("questions", "q")):
        for t in report[part]:
            yield prefix, t


# -- the figures ------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["all", "role", "unit", "years"])
def test_every_table_shows_the_snapshot_figures_with_counts_and_bases(published, board, by):
    app, current, _ = published
    data = snapshot_data(app, current)
    page = get(board, f"/board/{current.slug}?by={by}")
    checked = 0
    for prefix, t in tables_of(data):
        rows = t["breakdowns"].get(by)
        if not rows:
            continue
        shown = page_table(page, f"{prefix}-{t['key']}-{by}")
        for row in rows:
            got = shown[row["label"]]
            # A group too small to show says so in words: "<5" would read as a range; a
            # group hidden whole, n included, says "x" like every hidden figure.
            if row["n"] is not None:
                assert got["n"] == str(row["n"])
            elif row["n_display"] == "x":
                assert got["n"] == "x"
            else:
                assert got["n"] == "färre än 5"
            for option, cell in zip(row["options"], got["cells"], strict=True):
                assert cell["value"] == option["display"]
                if option["count"] is not None:
                    assert cell["count"] == str(option["count"])
                else:
                    assert cell["count"] is None
                checked += 1
    # By group (and for all staff), each question's key figure: one table, every cell with
    # its own n, exactly as in the snapshot.
    keyed = key_figure_table(page)
    for t in data["report"]["key_figures"]:
        (total,) = t["breakdowns"]["all"][0]["options"]
        label = t["row_label"] if t["question"] else t["label"]
        shown = keyed[f"{label}: {total['label']}"]
        for row in t["breakdowns"][by]:
            got = shown[row["label"]]
            (option,) = row["options"]
            assert got["value"] == option["display"]
            assert got["count"] == (str(option["count"]) if option["count"] is not None else None)
            if row["n"] is not None:
                assert got["n"] == str(row["n"])
            else:
                assert got["n"] == ("x" if row["n_display"] == "x" else "färre än 5")
            checked += 1
    assert checked > 100
    if by != "all":  # the full distributions are for all staff only
        assert not any(t["breakdowns"].get(by) for t in data["report"]["questions"])
        assert 'id="questions-title"' not in page


def test_known_figures_in_swedish_and_english(published, board):
    _, current, _ = published
    sv = get(board, f"/board/{current.slug}")
    threats = page_table(sv, "q-exp_threats-all")["Alla svarande"]
    assert threats["n"] == "16"
    never, once, twice, more = threats["cells"]
    assert (never["value"], never["count"]) == (f"63{NBSP}%", "10")
    assert (once["value"], once["count"]) == (f"25{NBSP}%", "4")
    assert more["value"] == f"<10{NBSP}%"
    threatened = page_table(sv, "i-threatened-all")["Alla svarande"]["cells"][0]
    assert (threatened["value"], threatened["count"]) == (f"38{NBSP}%", "6")

    en = get(board, f"/board/{current.slug}?lang=en")
    threats = page_table(en, "q-exp_threats-all")["All respondents"]
    assert threats["cells"][0]["value"] == "63%"
    assert threats["cells"][3]["value"] == "<10%"
    assert f"{NBSP}%" not in en
    # The method note's example of a wider range follows the language too.
    assert "A wider range, such as “&lt;45%”" in en
    assert re.search(r"\d%", sv) is None


def test_babel_number_formats():
    assert board_report.percent_text(12, "sv") == f"12{NBSP}%"
    assert board_report.percent_text(12, "en") == "12%"
    assert board_report.number_text(1234.5, "sv") == f"1{NBSP}234,5"
    assert board_report.number_text(1234.5, "en") == "1,234.5"
    assert board_report.band_text(("<", 15), "sv") == f"<15{NBSP}%"
    assert board_report.fewer_than(5) == "fewer than 5"
    # The band rule lives in surveys.disclosure only: the page model has no copy of it.
    assert not hasattr(board_report, "band_width")


def test_header_headline_indicators_first_then_questions(published, board):
    _, current, _ = published
    page = get(board, f"/board/{current.slug}")
    assert "<h1>Testenkät</h1>" in page
    assert "<dt>Svarande</dt><dd>16</dd>" in page
    assert "<dd>5</dd>" in page  # k
    assert page.index('id="indicators-title"') < page.index('id="questions-title"')
    assert page.index('id="questions-title"') < page.index('id="comments-title"')
    assert page.index('id="comments-title"') < page.index('id="method-title"')
    # The survey has no print navigation in the document it prints.
    assert 'class="report-tools no-print"' in page
    assert "Skriv ut / spara som PDF" in page


def test_suppression_markers_and_footnotes(published, board):
    _, current, _ = published
    page = get(board, f"/board/{current.slug}?by=role")
    # The 2 managers are published together with the administrators (a merged group).
    keyed = key_figure_table(page)
    threats = keyed["Hot, direkta eller beslöjade: Minst en gång"]
    assert "Chef" not in threats
    assert threats["Chef och Administratör"]["n"] == "8"
    # Only 4 social workers were threatened: too few for the follow-up question.
    aim = next(row for label, row in keyed.items() if label.startswith("Uppfattade du"))
    small = aim["Socialsekreterare, barn och unga"]
    assert small["n"] == "färre än 5"
    assert '<sup class="fnref">1</sup>' in small["html"].split('class="unit-note"')[1]
    assert small["value"] == "x"
    assert not re.search(r"\(\d", small["html"])
    assert '<sup class="fnref">1</sup>' in small["html"].split('class="unit-note"')[0]
    start = page.index('id="key-figures-notes"')
    notes = page[start : page.index("</div>", start)]
    assert 'class="footnote-x"><sup>1</sup>' in notes
    assert "för få svarande" in notes or "skydda" in notes
    all_page = get(board, f"/board/{current.slug}")
    band = page_table(all_page, "q-exp_threats-all")["Alla svarande"]["cells"][3]
    assert '<sup class="fnref">2</sup>' in band["html"]
    start = all_page.index('id="t-q-exp_threats-all-notes"')
    assert 'class="footnote-band"><sup>2</sup>' in all_page[start : start + 2000]


def test_no_suppressed_number_anywhere(published, board):
    """A hidden figure is "x" in the page and the exports, whatever the page or file."""
    app, current, _ = published
    data = snapshot_data(app, current)
    for by in ("all", "role", "unit", "years"):
        page = get(board, f"/board/{current.slug}?by={by}")
        for prefix, t in tables_of(data):
            rows = t["breakdowns"].get(by) or ()
            if not rows:
                continue
            shown = page_table(page, f"{prefix}-{t['key']}-{by}")
            for row in rows:
                for option, cell in zip(row["options"], shown[row["label"]]["cells"], strict=True):
                    if option["count"] is None:
                        assert cell["count"] is None
                        assert not re.search(r"\(\d", cell["html"])
                    if option["suppressed"]:
                        assert cell["value"] == "x"
        # Never an exact 0 % or 100 % (those would be bands or hidden).
        assert not re.search(rf"(?<![\d<>]){{1}}(0|100){NBSP}%", re.sub("<[^>]+>", " ", page))
    # The two managers (threatened 2–5 times) are never a group of their own in any file:
    # they are published together with the administrators.
    rows = list(csv.reader(io.StringIO(get(board, f"/board/{current.slug}.csv").lstrip("\ufeff"))))
    assert not [row for row in rows[1:] if row[4] == "Chef"]
    assert [row for row in rows[1:] if row[4] == "Chef och Administratör"]
    book = load_workbook(io.BytesIO(board.get(f"/board/{current.slug}.xlsx").data))
    for sheet in book.worksheets[1:]:  # after the summary: the figures of each breakdown
        for values in sheet.iter_rows(min_row=2, values_only=True):
            assert not (len(values) > 8 and values[4] == "Chef")
    # The total's "2–5 times" (2 of 16) is a range: with "more than 5 times" empty, its
    # exact count would tell that nobody was threatened more often.
    threats = page_table(get(board, f"/board/{current.slug}"), "q-exp_threats-all")
    assert threats["Alla svarande"]["cells"][2]["value"] == f"<15{NBSP}%"
    assert "(2)" not in threats["Alla svarande"]["cells"][2]["html"]


def test_svg_bar_widths_match_the_percentages(published, board):
    app, current, _ = published
    data = snapshot_data(app, current)
    for by in ("all", "role"):
        page = get(board, f"/board/{current.slug}?by={by}")
        for prefix, t in tables_of(data):
            rows = t["breakdowns"].get(by) or ()
            if not rows:
                continue
            bars = chart_bars(page, f"{prefix}-{t['key']}-{by}")
            options = [o for row in rows for o in row["options"]]
            assert len(bars) == len(options)
            for bar, option in zip(bars, options, strict=True):
                assert bar["text"] == option["display"]
                if option["percent"] is not None:
                    assert bar == {
                        "kind": "bar-exact",
                        "width": option["percent"],
                        "text": bar["text"],
                    }
                elif option["suppressed"]:
                    assert bar["kind"] is None
                    assert bar["text"] == "x"
                else:
                    bound = int(re.search(r"\d+", option["display"]).group(0))
                    assert bar["kind"] == "bar-band"
                    assert bar["width"] == bound
    page = get(board, f"/board/{current.slug}")
    assert 'role="img" aria-labelledby="q-exp_threats-all-title"' in page
    assert "Stapeldiagram: Hur ofta" in html.unescape(page)
    alt = f"Hot, direkta eller beslöjade – Aldrig: 63{NBSP}%; 1 gång: 25{NBSP}%"
    assert alt in html.unescape(page)
    by_role = html.unescape(get(board, f"/board/{current.slug}?by=role"))
    assert f"Socialsekreterare, barn och unga: 50{NBSP}%" in by_role


def test_the_earlier_survey_is_named_without_repeating_its_year():
    assert board_report.Earlier("a", "Testenkät", "2025", {}).name == "Testenkät (2025)"
    assert board_report.Earlier("a", "Hot och våld 2025", "2025", {}).name == "Hot och våld 2025"
    # Two surveys of the same year are told apart by title: not "Testenkät (Testenkät)".
    assert board_report.Earlier("a", "Testenkät", "Testenkät", {}).name == "Testenkät"


def test_trend_shows_last_years_figures_beside_this_years(published, board):
    app, current, earlier = published
    before = snapshot_data(app, earlier)
    page = get(board, f"/board/{current.slug}")
    assert "<dd>Testenkät (2025)</dd>" in page
    assert "2026" in page
    for prefix, t in tables_of(snapshot_data(app, current)):
        old = {o["key"]: o for o in table(before, t["key"])["breakdowns"]["all"][0]["options"]}
        shown = page_table(page, f"{prefix}-{t['key']}-all")["Alla svarande"]
        for option, cell in zip(t["breakdowns"]["all"][0]["options"], shown["cells"], strict=True):
            if option["key"] in old:
                assert cell["earlier"] == old[option["key"]]["display"]
            else:  # a group last year's survey did not publish (the roles merged differently)
                assert cell["earlier"] == "– ingen tidigare siffra"
    # Last year 8 of 20 were threatened; this year 6 of 16.
    threatened = page_table(page, "i-threatened-all")["Alla svarande"]
    assert threatened["cells"][0]["earlier"] == f"40{NBSP}%"
    assert threatened["cells"][0]["value"] == f"38{NBSP}%"
    # The comparison is named once, in the caption; screen readers hear it with each figure.
    assert re.sub("<[^>]+>", " ", threatened["n_html"]).split() == ["16", "2025:", "20"]
    assert page.count("Varje siffra för 2026, med siffran för 2025 under.") == len(
        list(tables_of(snapshot_data(app, current)))
    )
    never, once, _, more = page_table(page, "q-exp_threats-all")["Alla svarande"]["cells"]
    assert (never["value"], never["earlier"]) == (f"63{NBSP}%", f"60{NBSP}%")
    # Last year's figure as last year's snapshot published it (a range there).
    earlier_once = table(before, "exp_threats")["breakdowns"]["all"][0]["options"][1]
    assert (once["value"], once["earlier"]) == (f"25{NBSP}%", earlier_once["display"])
    assert more["earlier"] == f"<10{NBSP}%"
    # The earlier survey itself has no earlier one: no trend there.
    assert 'class="earlier"' not in get(board, f"/board/{earlier.slug}")


def test_csv_and_xlsx_hold_exactly_the_page_figures(published, board):
    app, current, _ = published
    data = snapshot_data(app, current)
    response = board.get(f"/board/{current.slug}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header, body = rows[0], rows[1:]
    assert header[:9] == [
        "Del",
        "Nyckel",
        "Fråga",
        "Redovisning",
        "Grupp",
        "n",
        "Svar",
        "Antal",
        "Andel",
    ]
    book = load_workbook(io.BytesIO(board.get(f"/board/{current.slug}.xlsx").data))
    names = book.sheetnames
    assert names[:5] == ["Sammanfattning", "Alla svarande", "Roll", "Enhet", "År i yrket"]
    assert names[-2:] == ["Kommentarer", "Noter"]
    xlsx_rows = []
    for sheet in book.worksheets[1:5]:
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == header
        xlsx_rows += [["" if v is None else str(v) for v in row] for row in values[1:]]
    assert xlsx_rows == body

    breakdown_labels = {
        "all": "Alla svarande",
        "role": "Roll",
        "unit": "Enhet",
        "years": "År i yrket",
    }
    for by, label in breakdown_labels.items():
        page = get(board, f"/board/{current.slug}?by={by}")
        tables: dict[tuple[str, str], tuple[dict, list]] = {}  # each table read once
        keyed = key_figure_table(page)
        checked = 0
        for row in (r for r in body if r[3] == label and r[0] == "Nyckeltal"):
            table = next(t for t in data["report"]["key_figures"] if t["key"] == row[1])
            shown_label = table["row_label"] if table["question"] else table["label"]
            cell = keyed[f"{shown_label}: {row[6]}"][row[4]]
            assert (row[5], row[8]) == (cell["n"], cell["value"])
            assert row[7] == (cell["count"] or ("" if cell["value"] != "x" else "x"))
            checked += 1
        assert checked == sum(len(row) for row in keyed.values())
        for row in (r for r in body if r[3] == label and r[6] != "Vill inte uppge"):
            if row[0] == "Nyckeltal":
                continue
            prefix = "i" if row[0] == "Indikator" else "q"
            if (prefix, row[1]) not in tables:
                tables[prefix, row[1]] = (
                    page_table(page, f"{prefix}-{row[1]}-{by}"),
                    _options(page, prefix, row[1], by),
                )
            table, options = tables[prefix, row[1]]
            shown = table[row[4]]
            assert row[5] == shown["n"]
            cell = next(
                c for c, (key, opt) in zip(shown["cells"], options, strict=False) if opt == row[6]
            )
            assert row[8] == cell["value"]
            assert row[7] == (cell["count"] or ("" if cell["value"] != "x" else "x"))
            # No earlier figure (a group last year's survey did not have): empty in the file.
            assert row[10] == (cell["earlier"] or "").replace("– ingen tidigare siffra", "")
    comments = list(book["Kommentarer"].iter_rows(values_only=True))
    assert comments[1][1] == COMMENT
    notes = [r[0] for r in book["Noter"].iter_rows(values_only=True)]
    assert notes[0] == "Testenkät"
    assert any(str(n).startswith("Rapporten visar") for n in notes)


def _options(page: str, prefix: str, key: str, by: str) -> list[tuple[str, str]]:
    start = page.index(f'aria-describedby="t-{prefix}-{key}-{by}-notes"')
    head = page[start : page.index("</thead>", start)]
    labels = re.findall(r'<th scope="col" class="numeric">([^<]*)', head)[1:]
    return [(label, html.unescape(label)) for label in labels]


def test_exports_write_text_as_text():
    """Labels that look like formulas are neutralised in CSV and stay strings in XLSX."""
    data = {
        "report": {
            "survey": {"slug": "s", "title": "=cmd|' /C calc'!A0", "min_group": 5},
            "respondents": 20,
            "breakdowns": {"all": "Alla"},
            "indicators": [],
            "questions": [
                {
                    "key": "q",
                    "label": "+SUM(1,2)",
                    "type": "single",
                    "breakdowns": {
                        "all": [
                            {
                                "group": "all",
                                "label": "@all",
                                "n": 20,
                                "options": [
                                    {
                                        "key": "a",
                                        "label": "=1+2",
                                        "count": 8,
                                        "percent": 40,
                                        "display": "40 %",
                                        "suppressed": None,
                                    },
                                ],
                            }
                        ]
                    },
                }
            ],
            "notes": ["-note"],
        },
        "comments": [{"question": "Förslag", "text": '=HYPERLINK("http://x")'}],
    }
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        report = board_report.build(data, "sv")
        text = exports.to_csv([report])
        book = load_workbook(io.BytesIO(exports.to_xlsx([report])))
    row = list(csv.reader(io.StringIO(text[1:])))[1]
    assert row[2] == "'+SUM(1,2)"
    assert row[4] == "'@all"
    assert row[6] == "'=1+2"
    sheet = book.worksheets[0]
    cells = list(sheet.iter_rows(min_row=2, max_row=2))[0]
    assert cells[6].value == "=1+2"
    assert cells[6].data_type == "s"
    assert cells[7].value == 8
    assert cells[8].value == f"40{NBSP}%"
    comments = book.worksheets[1]
    assert comments.cell(2, 2).value.startswith("=HYPERLINK")
    assert comments.cell(2, 2).data_type == "s"
    assert book.worksheets[2].cell(1, 1).data_type == "s"


def test_method_and_comments(published, board):
    app, current, _ = published
    page = get(board, f"/board/{current.slug}")
    start = page.index('id="method-title"')
    method = html.unescape(page[start:])
    assert "minst 5 svarande" in method
    # B(16) = 10: the survey's own numbers in the band rule.
    assert "16 svarande" in method
    assert f"<10{NBSP}%" in method
    assert f">90{NBSP}%" in method
    # Wider ranges are explained too, without saying which figures they stand for.
    assert f"Ett bredare intervall, till exempel ”<45{NBSP}%”" in method
    full = page[page.index('id="toc-title"') : page.index('id="comments-title"')]
    hidden = full.count('<span class="suppressed">x</span>')
    assert hidden > 0
    assert f"I den här vyn döljs {hidden} uppgifter" in method
    assert "sekundär" not in method.lower()
    start = page.index('id="comments-title"')
    comments = page[start : page.index("</section>", start)]
    assert COMMENT in comments
    assert comments.count("<li>") == 1
    assert "<table" not in comments


# -- access ------------------------------------------------------------------------------------


def test_logged_out_goes_to_login_and_roles_board_hr_admin_get_the_report(published):
    app, current, _ = published
    client = app.test_client()
    for suffix in ("", ".csv", ".xlsx"):
        response = client.get(f"/board/{current.slug}{suffix}")
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]
    for role in ("board", "hr", "admin"):
        client = app.test_client()
        assert login(client, f"{role}@example.se").status_code == 302
        assert client.get(f"/board/{current.slug}").status_code == 200
        assert client.get("/board/").status_code == 200
        assert current.slug in get(client, "/board/")


def test_unknown_unpublished_and_bad_breakdown(published, board):
    app, current, _ = published
    from tests.factories import make_survey

    closed, _ = make_survey(app, status="closed")
    for path in (
        "/board/nope",
        f"/board/{closed.slug}",
        f"/board/{closed.slug}.csv",
        "/board/nope.xlsx",
    ):
        response = board.get(path)
        assert response.status_code == 404, path
        assert "Rapporten finns inte" in response.get_data(as_text=True)
    response = board.get(f"/board/{current.slug}?by=salary")
    assert response.status_code == 400


def test_other_roles_cannot_switch_the_public_page(published, board):
    _, current, _ = published
    token = csrf_token(get(board, "/admin/password"))
    response = board.post(
        f"/admin/surveys/{current.slug}/public-results", data={"csrf_token": token, "public": "1"}
    )
    assert response.status_code == 403


def test_public_page_is_off_until_hr_switches_it_on(published):
    app, current, _ = published
    visitor = app.test_client()
    assert visitor.get(f"/results/{current.slug}").status_code == 404
    hr = app.test_client()
    assert login(hr, "hr@example.se").status_code == 302
    detail = f"/admin/surveys/{current.slug}"
    assert "Slå på den publika sidan" in get(hr, detail)
    assert (
        post_form(hr, f"{detail}/public-results", {"public": "1"}, page=detail).status_code == 303
    )
    try:
        page = get(visitor, f"/results/{current.slug}")
        # The summary of the headline indicators for all staff, nothing by group.
        assert 'id="summary-title"' in page
        row = re.search(r"Hotade under de senaste 12 månaderna</th>(.*?)</tr>", page, re.S).group(1)
        assert re.sub(r"<[^>]+>", " ", row).split() == ["38", "%", "16"]
        for absent in (
            'id="questions-title"',
            'id="indicators-title"',
            'id="comments-title"',
            "heatmap",
            COMMENT,
            "?by=role",
            ".csv",
        ):
            assert absent not in page
        assert "Roll" not in re.sub(r"<[^>]+>", " ", page.split('id="summary-title"')[1])
        with app.app_context(), db.connection_context():
            actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
        assert actions[-1] == "public_results_on"
    finally:
        assert (
            post_form(hr, f"{detail}/public-results", {"public": "0"}, page=detail).status_code
            == 303
        )
    assert visitor.get(f"/results/{current.slug}").status_code == 404
    with app.app_context(), db.connection_context():
        assert (
            AuditEntry.select().order_by(AuditEntry.id.desc()).first().action
            == "public_results_off"
        )


def test_public_page_needs_a_published_survey(app, client):
    from tests.factories import logged_in_as, make_survey

    survey, _ = make_survey(app, status="closed")
    with app.app_context(), db.connection_context():
        store.set_public_results(survey, True)
    assert client.get(f"/results/{survey.slug}").status_code == 404
    logged_in_as(app, client, "hr")
    detail = f"/admin/surveys/{survey.slug}"
    token = csrf_token(get(client, detail))
    response = client.post(f"{detail}/public-results", data={"csrf_token": token, "public": "1"})
    assert response.status_code == 409


# -- from the snapshot only ----------------------------------------------------------------------


def test_report_survives_the_purge_and_shows_any_breakdown_of_the_snapshot(app, client):
    """A purged survey still has its report; a breakdown such as "period" appears by itself."""
    app.config["TODAY"] = CURRENT_DAY
    survey = current_survey(app)
    from tests.factories import logged_in_as

    logged_in_as(app, client, "board")
    before = get(client, f"/board/{survey.slug}")
    with app.test_request_context(), db.connection_context():
        survey = Survey.get_by_id(survey.id)
        lifecycle.purge_responses(survey, actor=None, today=CURRENT_DAY)
        assert Survey.get_by_id(survey.id).purged_on is not None
        data = json.loads(store.report_snapshot(survey, "sv"))
        data["report"]["breakdowns"]["period"] = "Period (sammanslagen)"
        threatened = table(data, "threatened")
        threatened["breakdowns"]["period"] = [
            {
                "group": "2026H1",
                "label": "Första halvåret 2026",
                "n": 16,
                "n_display": "16",
                "options": [
                    {
                        "key": "threatened",
                        "label": "Hotade",
                        "count": 6,
                        "percent": 38,
                        "display": f"38{NBSP}%",
                        "suppressed": None,
                    }
                ],
            }
        ]
        ReportSnapshot.update(report_json=json.dumps(data)).where(
            ReportSnapshot.survey == survey.id, ReportSnapshot.lang == "sv"
        ).execute()
    after = get(client, f"/board/{survey.slug}?by=all")
    assert page_table(after, "q-exp_threats-all") == page_table(before, "q-exp_threats-all")
    assert f'href="/board/{survey.slug}?by=period#toc-title"' in after
    assert "Period (sammanslagen)" in after
    page = get(client, f"/board/{survey.slug}?by=period")
    rows = page_table(page, "i-threatened-period")
    assert rows["Första halvåret 2026"]["cells"][0]["value"] == f"38{NBSP}%"
    assert "Frågan redovisas inte på det här sättet." in page
    book = load_workbook(io.BytesIO(client.get(f"/board/{survey.slug}.xlsx").data))
    assert "Period (sammanslagen)" in book.sheetnames


def test_script_in_a_title_unit_name_or_comment_stays_text_on_the_board_page(tmp_path):
    payload = "<script>alert(1)</script>"
    app = make_app(tmp_path, TESTING=True, TODAY=CURRENT_DAY)
    with app.app_context(), db.connection_context():
        definition = with_units(load_template("staff_threats"), [f"Enhet {payload}", "Vuxen"])
        survey = store.create_survey(
            definition, title_sv=f"Hot {payload}", title_en=f"Threats {payload}", access="link"
        )
        store.set_status(survey, "open")
    answer(app, survey, 6, unit=definition.question("unit").options[0].key)
    survey = publish(app, survey, CURRENT_DAY, comment=f"Bra {payload}")
    make_user(app, "board@example.se", "board")
    client = app.test_client()
    assert login(client, "board@example.se").status_code == 302
    for lang in ("sv", "en"):
        page = get(client, f"/board/{survey.slug}?lang={lang}")
        assert payload not in page
        assert html.escape(payload) in page or "&lt;script&gt;" in page


def test_a_group_hidden_whole_shows_x_for_its_n_not_fewer_than_k():
    """A group hidden so that a smaller group's n cannot be worked out has n >= k: its n
    says "x" on the page and in every file, never "fewer than 5", which would be false."""
    hidden = {"n": None, "n_display": "x"}
    small = {"n": None, "n_display": "<5"}
    assert board_report._n_text(hidden, 5, "sv") == "x"
    assert board_report._n_text(small, 5, "sv") == board_report.fewer_than(5)
    assert board_report._n_text({"n": 1234}, 5, "sv") == f"1{NBSP}234"
