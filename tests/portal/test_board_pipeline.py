"""The one report pipeline (issue 18): the Word file, the frozen and chosen comparison, the
real period, reference figures, the report list's headline figure and format-1 snapshots."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from docx import Document

from portal import store
from portal.extensions import db
from portal.services import lifecycle, publication
from portal.store.migrations import m0008_report_period_and_frozen_comparison as m0008
from portal.store.models import Survey
from surveys.references import ReferenceFileError, load_references
from tests.factories import key_text, login, make_app, make_survey, make_user, with_key
from tests.portal.board_fixtures import (
    CURRENT_DAY,
    answer,
    current_survey,
    earlier_survey,
    get,
    snapshot_data,
)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("pipeline"))
    earlier = earlier_survey(app)
    current = current_survey(app)
    make_user(app, "board@example.se", "board")
    board = app.test_client()
    assert login(board, "board@example.se").status_code == 302
    return app, current, earlier, board


def test_the_word_file_holds_the_summary_and_every_table_as_word_tables(published):
    app, current, _, board = published
    response = board.get(f"/board/{current.slug}.docx?by=role")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert document.paragraphs[0].text == "Testenkät"
    assert "Sammanfattning" in text
    assert "Metod" in text
    data = snapshot_data(app, current)["report"]
    tables = document.tables
    # The summary, two heat maps, the references, then one table per indicator broken down
    # by role and one of every question's key figure by role (the full distributions are
    # for all staff only).
    by_role = [t for t in data["indicators"] if "role" in t["breakdowns"]]
    assert not [t for t in data["questions"] if "role" in t["breakdowns"]]
    assert len(tables) == 4 + len(by_role) + 1
    keyed = tables[4 + len(by_role)]
    assert keyed.rows[0].cells[0].text == "Fråga"
    # One row per key figure, and one naming each matrix question above its rows.
    questions = {t["question"] for t in data["key_figures"] if t["question"]}
    assert len(keyed.rows) == 1 + len(data["key_figures"]) + len(questions)
    assert [r.cells[0].text for r in keyed.rows].count("Hur väl stämmer följande påståenden?") == 1
    summary = tables[0]
    assert [c.text for c in summary.rows[0].cells] == [
        "Huvudindikator",
        "2026",
        "n",
        "2025",
        "n (2025)",
    ]
    threatened = summary.rows[1].cells
    assert threatened[1].text == "38\u00a0% (6)"
    assert threatened[3].text == "40\u00a0% (8)"
    # Header rows repeat on every page; no row splits over a page break.
    assert (
        summary.rows[0]._tr.trPr.find(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader"
        )
        is not None
    )
    # The two managers only with the administrators; a follow-up answered by fewer than
    # k of a group: "fewer than 5" and "x" with its footnote, never a number.
    roles = [t for t in tables if t.rows[0].cells[0].text == "Roll"]
    assert not [r for t in roles for r in t.rows if r.cells[0].text == "Chef"]
    assert [r for t in roles for r in t.rows if r.cells[0].text == "Chef och Administratör"]
    small = [r for t in roles for r in t.rows if r.cells[1].text.startswith("färre än 5¹")]
    assert small
    assert all(c.text.startswith("x¹") for r in small for c in r.cells[2:])
    assert "x: visas inte" in text
    assert "Siffror att jämföra med" in text
    assert "SOU 2024:1" in "\n".join(c.text for row in tables[3].rows for c in row.cells)
    english = Document(io.BytesIO(board.get(f"/board/{current.slug}.docx?lang=en").data))
    assert "Summary" in "\n".join(p.text for p in english.paragraphs)
    assert board.get(f"/board/{current.slug}.docx?by=salary").status_code == 400


def test_the_comparison_is_frozen_at_publication(published):
    """Publishing a newer survey of the same template does not change a published report."""
    app, current, earlier, board = published
    before = get(board, f"/board/{current.slug}")
    newer, _ = make_survey(app)
    answer(app, newer, 5)
    with app.test_request_context(), db.connection_context():
        newer = Survey.get_by_id(newer.id)
        lifecycle.close_survey(newer, key_text=key_text(newer), actor=None, today=CURRENT_DAY)
        lifecycle.publish_survey(
            newer,
            lambda s: publication.report_snapshots(s, compare_with=current.slug),
            actor=None,
            today=CURRENT_DAY + dt.timedelta(days=1),
        )

    def without_token(page: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]*"|content="[^"]*" name="csrf', "", page)

    assert without_token(get(board, f"/board/{current.slug}")) == without_token(before)
    data = snapshot_data(app, current)
    assert data["comparison"]["slug"] == earlier.slug
    assert data["comparison"]["label"] == "2025"
    newer_data = snapshot_data(app, newer)
    assert newer_data["comparison"]["slug"] == current.slug
    # Only its own figures: the earlier report's comparison is not carried along.
    assert "comparison" not in newer_data["comparison"]["report"]


def test_hr_chooses_no_comparison_or_is_refused_a_foreign_one(published):
    app, current, _, _ = published
    survey, _ = make_survey(app)
    answer(app, survey, 5)
    with app.test_request_context(), db.connection_context():
        survey = Survey.get_by_id(survey.id)
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=CURRENT_DAY)
        assert [s.slug for s in publication.comparison_choices(survey)][:1] != []
        with pytest.raises(lifecycle.LifecycleError):
            publication.report_snapshots(survey, compare_with="not-a-survey")
        snapshots = publication.report_snapshots(survey, compare_with=publication.NO_COMPARISON)
    assert json.loads(snapshots["sv"])["comparison"] is None
    make_user(app, "hr@example.se", "hr")
    hr = app.test_client()
    assert login(hr, "hr@example.se").status_code == 302
    page = get(hr, f"/admin/surveys/{survey.slug}/publish")
    assert 'name="compare_with"' in page
    assert 'value="none"' in page
    from tests.factories import post_form

    response = post_form(hr, f"/admin/surveys/{survey.slug}/publish", {"compare_with": "x"})
    assert response.status_code == 400
    with app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).status == "closed"


def test_reference_figures_are_dated_sourced_and_say_when_not_comparable(published, tmp_path):
    references = load_references("staff_threats")
    assert {r.source for r in references} >= {"SOU 2024:1"}
    assert all(r.year and r.population.sv and r.population.en for r in references)
    ssr = next(r for r in references if r.value == 66)
    assert ssr.period is None
    assert not ssr.comparable
    (tmp_path / "bad.references.toml").write_text('[[reference]]\nindicator = "x"\nvalue = 140\n')
    with pytest.raises(ReferenceFileError, match="value"):
        load_references("bad", tmp_path)
    app, current, _, board = published
    page = get(board, f"/board/{current.slug}?lang=sv")
    summary = page[page.index('id="summary-title"') : page.index('id="toc-title"')]
    assert "48\u00a0%" in summary
    assert "SOU 2024:1" in summary
    assert "inte jämförbar" in summary
    # Never mixed into the local figure: the snapshot's own figures do not contain it.
    assert "48" not in json.dumps(snapshot_data(app, current)["report"]["indicators"][0])


def test_the_report_list_shows_each_headline_figure(published):
    _, current, earlier, board = published
    page = get(board, "/board/?lang=sv")
    assert "Hotade under de senaste 12 månaderna" in page
    assert "38\u00a0%" in page
    assert "40\u00a0%" in page


def test_a_format_1_snapshot_is_upgraded_once():
    old = {
        "report": {
            "survey": {"opens_on": "2026-01-01", "closes_on": "2026-01-31"},
            "indicators": [],
            "questions": [
                {
                    "key": "q",
                    "breakdowns": {
                        "all": [
                            {
                                "options": [
                                    {"count": None, "display": "<15\u00a0%", "suppressed": None},
                                    {"count": None, "display": "x", "suppressed": "x"},
                                    {"count": 3, "percent": 30, "display": "30\u00a0%"},
                                ]
                            }
                        ]
                    },
                }
            ],
        },
        "comments": [],
    }
    new = m0008.upgrade_snapshot(old)
    options = new["report"]["questions"][0]["breakdowns"]["all"][0]["options"]
    assert [o["band"] for o in options] == [{"sign": "<", "bound": 15}, None, None]
    assert new["format"] == 2
    assert new["report"]["survey"]["closed_on"] == "2026-01-31"


def test_the_report_command_writes_the_boards_files(published, tmp_path):
    app, current, _, _ = published
    runner = app.test_cli_runner()
    out = tmp_path / "r.docx"
    result = runner.invoke(args=["report", current.slug, "--format", "docx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert Document(str(out)).paragraphs[0].text == "Testenkät"
    result = runner.invoke(args=["report", current.slug, "--format", "xlsx"])
    assert result.exit_code != 0
    assert "--output" in result.output


# Last: a new app points the shared database proxy at another file.
def test_the_period_is_when_the_survey_really_opened_and_closed(tmp_path):
    app = make_app(tmp_path)
    survey, _ = make_survey(app, status="draft")
    with app.test_request_context(), db.connection_context():
        survey = Survey.get_by_id(survey.id)
        lifecycle.open_survey(with_key(survey), actor=None, today=dt.date(2026, 2, 3))
        lifecycle.close_survey(
            survey, key_text=key_text(survey), actor=None, today=dt.date(2026, 2, 20)
        )
        survey = Survey.get_by_id(survey.id)
        assert (survey.opened_on, survey.closed_on) == (dt.date(2026, 2, 3), dt.date(2026, 2, 20))
        data = publication.results_view(survey, "sv")
    assert data["report"]["survey"]["opened_on"] == "2026-02-03"
    assert data["report"]["survey"]["closed_on"] == "2026-02-20"
