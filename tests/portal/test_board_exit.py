"""The exit questionnaire's board report: by half-year, pooled until k, reasons ranked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from tests.factories import login, make_app, make_survey, make_user
from tests.portal.board_fixtures import answer, get, page_table, publish, snapshot_data, table

pytest.importorskip("surveys.disclosure")

# Month answered → main reasons given then.
ANSWERS = {
    dt.date(2025, 3, 14): ["workload"] * 4 + ["threats"] * 3 + ["pay"] * 3,
    dt.date(2025, 9, 2): ["workload"] * 2 + ["pay"],
    dt.date(2026, 2, 20): ["threats"] * 2 + ["workload"] * 2,
    dt.date(2026, 8, 5): ["workload", "threats"],
}
PUBLISHED_ON = dt.date(2026, 9, 1)
FIRST = "jan–jun 2025"
POOLED = "jul 2025–jun 2026 (sammanslagna halvår)"
PENDING = "jul–dec 2026 (väntar på fler svar)"


@pytest.fixture(scope="module")
def exit_report(tmp_path_factory):
    """An exit questionnaire answered through the form in four months, then published."""
    app = make_app(tmp_path_factory.mktemp("exit"), TESTING=True)
    survey, _ = make_survey(app, template="exit", access="codes")
    for day, reasons in ANSWERS.items():
        app.config["TODAY"] = day
        for reason in reasons:
            threat_role = "decisive" if reason == "threats" else "none"
            answer(app, survey, 1, main_reason=reason, threat_role=threat_role)
    app.config["TODAY"] = PUBLISHED_ON
    survey = publish(app, survey, PUBLISHED_ON)
    make_user(app, "board@example.se", "board")
    client = app.test_client()
    assert login(client, "board@example.se").status_code == 302
    return app, survey, client


def test_the_page_opens_by_period_with_pooled_and_pending_periods(exit_report):
    app, survey, client = exit_report
    page = get(client, f"/board/{survey.slug}")
    assert '<a href="/board/' in page
    assert 'by=period#toc-title" aria-current="page">Period</a>' in page
    rows = page_table(page, "i-exit_threat_reason-period")
    assert list(rows) == [FIRST, POOLED, PENDING]
    assert rows[FIRST]["n"] == "10"
    assert rows[FIRST]["cells"][0]["value"] == "30\u00a0%"
    assert rows[FIRST]["cells"][0]["count"] == "3"
    assert rows[POOLED]["n"] == "7"
    assert rows[PENDING]["n"] == "färre än 5"
    assert rows[PENDING]["cells"][0]["value"] == "x"
    # The method note explains the pooling and names the period still waiting.
    assert "Ett halvår med färre än 5 svarande slås ihop med nästa" in page
    assert "Den senaste perioden, jul–dec 2026, har ännu färre än 5 svarande" in page
    # The months themselves appear nowhere.
    assert not re.search(r"202[56]-(0[1-9]|1[0-2])\b", page)


def test_the_whole_survey_is_one_click_away(exit_report):
    _, survey, client = exit_report
    page = get(client, f"/board/{survey.slug}?by=all")
    rows = page_table(page, "i-exit_threat_reason-all")
    assert rows["Alla svarande"]["n"] == "19"
    # The share who named threats, violence or unauthorized influence among their reasons.
    named = page_table(page, "i-threats_named-all")["Alla svarande"]
    assert (named["n"], named["cells"][0]["value"], named["cells"][0]["count"]) == (
        "19",
        "32\u00a0%",
        "6",
    )
    assert "Angav hot, våld eller otillåten påverkan bland skälen" in page


def test_reasons_for_leaving_are_ranked_by_share(exit_report):
    app, survey, client = exit_report
    data = snapshot_data(app, survey)
    options = table(data, "main_reason")["breakdowns"]["all"][0]["options"]
    published = [o for o in options if o["count"] is not None]
    assert published[0]["key"] == "workload"
    counts = [o["count"] for o in published]
    assert counts == sorted(counts, reverse=True)
    assert all(o["count"] is None for o in options[len(published) :])
    page = get(client, f"/board/{survey.slug}?by=all")
    start = page.index('aria-describedby="t-q-main_reason-all-notes"')
    header = page[start : page.index("</thead>", start)]
    first_option = re.findall(r'<th scope="col" class="numeric">([^<]+)', header)[0]
    assert first_option == "Arbetsbelastning"
    assert "listas efter hur stor andel av alla svarande som valt dem" in page


def test_exports_carry_the_periods(exit_report):
    _, survey, client = exit_report
    response = client.get(f"/board/{survey.slug}.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    labels = {cell for row in rows for cell in row}
    assert {FIRST, POOLED, PENDING} <= labels


def test_the_report_command_exports_the_period_breakdown(exit_report):
    app, survey, _ = exit_report
    result = app.test_cli_runner().invoke(
        args=["report", survey.slug, "--by", "period", "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data["breakdowns"]) == ["period"]
    reason = next(t for t in data["indicators"] if t["key"] == "exit_threat_reason")
    groups = [(r["group"], r["n"]) for r in reason["breakdowns"]["period"]]
    assert groups == [("2025-H1", 10), ("2025-H2_2026-H1", 7), ("2026-H2", None)]
