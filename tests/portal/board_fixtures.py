"""Published surveys with known answers, for the board report tests (plain functions)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid

from portal import store
from portal.extensions import db
from portal.services import lifecycle, publication
from portal.store.models import Comment, Survey
from tests.factories import complete_answers, key_text, make_survey, open_form_for, submit

EARLIER_DAY = dt.date(2025, 3, 10)
CURRENT_DAY = dt.date(2026, 3, 10)
COMMENT = "Larmknapparna på kontoret behöver testas oftare."


def answer(app, survey: Survey, times: int, **overrides) -> None:
    """Answer ``times`` through the web form as staff (a client of its own, a code each)."""
    client = app.test_client()
    for _ in range(times):
        hidden = open_form_for(app, client, survey)
        result = submit(
            client, survey.slug, complete_answers(survey.definition(), **overrides), hidden
        )
        assert result.status_code == 303, result.get_data(as_text=True)


def publish(app, survey: Survey, day: dt.date, comment: str | None = None) -> Survey:
    """Close and publish ``survey`` on ``day`` (with one selected comment if given)."""
    with app.test_request_context(), db.connection_context():
        survey = Survey.get_by_id(survey.id)
        if comment is not None:
            text_key = next(i.key for i in survey.definition().items() if i.kind == "text")
            comment_id = str(uuid.uuid4())
            Comment.insert(
                id=comment_id, survey=survey.id, question=text_key, text=comment
            ).execute()
        lifecycle.close_survey(survey, key_text=key_text(survey), actor=None, today=day)
        if comment is not None:
            store.set_comment_selection(survey, [comment_id])
        lifecycle.publish_survey(survey, publication.report_snapshots, actor=None, today=day)
        return Survey.get_by_id(survey.id)


def current_survey(app) -> Survey:
    """16 respondents: 8 social workers (children) of whom 4 were threatened once,
    6 administrators (none threatened) and 2 managers (both threatened 2–5 times)."""
    survey, _ = make_survey(app, access="codes")
    answer(app, survey, 4, exp_threats="once")
    answer(app, survey, 4)
    answer(app, survey, 6, role="admin", unit="other")
    answer(app, survey, 2, role="manager", unit="other", exp_threats="2to5")
    return publish(app, survey, CURRENT_DAY, comment=COMMENT)


def earlier_survey(app) -> Survey:
    """20 respondents the year before: 10 social workers (children), 5 of them threatened
    once; 10 administrators, 3 of them threatened once."""
    survey, _ = make_survey(app, access="codes")
    answer(app, survey, 5, exp_threats="once")
    answer(app, survey, 5)
    answer(app, survey, 3, role="admin", unit="other", exp_threats="once")
    answer(app, survey, 7, role="admin", unit="other")
    return publish(app, survey, EARLIER_DAY)


def snapshot_data(app, survey: Survey, lang: str = "sv") -> dict:
    """The stored snapshot of ``survey`` in ``lang``."""
    with app.app_context(), db.connection_context():
        return json.loads(store.report_snapshot(survey, lang))


def table(data: dict, key: str) -> dict:
    """The indicator or question ``key`` of snapshot data."""
    report = data["report"]
    return next(t for t in (*report["indicators"], *report["questions"]) if t["key"] == key)


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# -- reading the page --------------------------------------------------------------------------

_TD = re.compile(r'<td class="numeric[^"]*"[^>]*>(.*?)</td>', re.S)
_VALUE = re.compile(r'<span class="(?:value[^"]*|suppressed)">(.*?)</span>')
_COUNT = re.compile(r'<span class="count">\((.*?)\)</span>')
# The earlier figure; the comparison's name before it is for screen readers only (it is named
# once, in the caption).
_EARLIER = re.compile(
    r'<span class="earlier"><span class="visually-hidden">[^<]*</span>(.*?)</span>$', re.S
)


def key_figure_table(page: str) -> dict[str, dict]:
    """The page's table of key figures by group: row (question: key figure) → one cell per
    group, each with its value, count (None unless exact) and n as shown."""
    start = page.index('aria-describedby="key-figures-notes"')
    body = page[start : page.index("</table>", start)]
    groups = [
        html.unescape(g)
        for g in re.findall(r'<th scope="col" class="numeric">(.*?)</th>', body, re.S)
    ]
    rows = {}
    for label, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
        found = {}
        for group, cell in zip(groups, _TD.findall(cells), strict=True):
            n = re.search(r'<span class="unit-note">[^=]*= ([^<]*)', cell)
            found[group] = {
                "value": html.unescape(_VALUE.search(cell).group(1)),
                "count": html.unescape(m.group(1)) if (m := _COUNT.search(cell)) else None,
                "n": html.unescape(n.group(1)).strip() if n else None,
                "html": cell,
            }
        rows[html.unescape(re.sub("<[^>]+>", "", label))] = found
    return rows


def page_table(page: str, table_id: str) -> dict[str, dict]:
    """The rows of one table of the page: group label → n, and per cell value, count, earlier."""
    start = page.index(f'aria-describedby="t-{table_id}-notes"')
    body = page[start : page.index("</table>", start)]
    rows = {}
    for label, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
        tds = _TD.findall(cells)
        n_cell, option_cells = tds[0], tds[1:]
        rows[html.unescape(label)] = {
            "n": html.unescape(re.match(r"[^<]*", n_cell).group(0)).strip(),
            "n_html": n_cell,
            "cells": [
                {
                    "value": html.unescape(_VALUE.search(c).group(1)),
                    "count": html.unescape(m.group(1)) if (m := _COUNT.search(c)) else None,
                    "earlier": html.unescape(re.sub("<[^>]+>", "", e.group(1)))
                    if (e := _EARLIER.search(c.strip()))
                    else None,
                    "html": c,
                }
                for c in option_cells
            ],
        }
    return rows
