"""Results: the disclosure-controlled report of a closed survey as snapshot data.

The first step of the one report pipeline: ``surveys.report`` builds the
report (every number has passed ``surveys.disclosure``), ``to_json_data``
turns it into plain data, the format frozen at publication (format 2, see
``SNAPSHOT_FORMAT``). Everything a reader sees or downloads (the board page,
HR's preview, CSV, XLSX, DOCX, the ``report`` command) is made from that
data by ``portal.reports.board_report``. No raw response and no hidden count
reaches the data: a suppressed figure is null, whatever the reason; the
reason stays inside the report object.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext

from portal import store
from portal.reports import scope
from portal.store.models import Survey
from surveys.definition import Text
from surveys.report import (
    ALL,
    BREAKDOWN_LABELS,
    TABLE_PARTS,
    GroupRow,
    Report,
    SurveyMeta,
    Table,
    Value,
    build,
)

# The one symbol of a figure that is not shown (rule V2), in data, on pages and in every file.
SUPPRESSED = "x"
# The version of the snapshot data (see portal/store/migrations/m0005_*.py for format 1).
SNAPSHOT_FORMAT = 2


# Reports kept per process: a closed survey never changes (it cannot reopen and its
# definition is frozen), so its report is built once, not on every page or language.
CACHED_REPORTS = 16


def survey_report(survey: Survey, invited: int | None = None) -> Report:
    """The report of a closed survey; raises store.ResultsNotAvailable otherwise."""
    cache: OrderedDict = current_app.extensions.setdefault("varna.reports", OrderedDict())
    key = (survey.id, survey.slug, invited)
    if survey.has_results and key in cache:
        cache.move_to_end(key)
        return cache[key]
    report = _build_report(survey, invited)
    cache[key] = report
    while len(cache) > CACHED_REPORTS:
        cache.popitem(last=False)
    return report


def _build_report(survey: Survey, invited: int | None) -> Report:
    definition = survey.definition()
    counts = store.result_counts(survey, definition)
    whole_only = not scope.breakdowns_published(survey)
    if whole_only:
        # Link mode: no group information reaches the report (portal/reports/scope.py).
        counts = scope.whole_survey_counts(counts)
    meta = SurveyMeta(
        slug=survey.slug,
        title=Text(survey.title_sv, survey.title_en),
        kind=survey.kind,
        min_group=survey.min_group,
        status=survey.status,
        template=survey.template,
        opens_on=survey.opens_on,
        closes_on=survey.closes_on,
    )
    # The protection is decided once per survey and kept beside its counts: every later
    # page, export and worker reads it (issue 15).
    mode = f"{'whole' if whole_only else 'breakdowns'}:k={survey.min_group}"
    protection = store.stored_protection(survey, mode)
    report = build(
        definition,
        counts,
        k=survey.min_group,
        survey_meta=meta,
        invited=invited,
        protection=protection,
        by_group=not whole_only,
    )
    if protection is None:
        store.keep_protection(survey, mode, dict(report.protection))
    return scope.whole_survey_only(report) if whole_only else report


# -- formatting ----------------------------------------------------------------------------


def text(value: Text | str, lang: str) -> str:
    """A definition text in ``lang``, or a report msgid translated into ``lang``."""
    if isinstance(value, Text):
        return value.get(lang)
    with force_locale(lang):
        return gettext(value)


def format_percent(number: int, lang: str, prefix: str = "") -> str:
    """``12 %`` in Swedish (non-breaking space), ``12%`` in English."""
    return f"{prefix}{number}{'%' if lang == 'en' else chr(0xA0) + '%'}"


def display(cell: Value, lang: str) -> str:
    """What a reader sees: the percentage, a band such as ``<15 %``, or ``x``."""
    if cell.band is not None:
        sign, bound = cell.band
        return format_percent(bound, lang, prefix=sign)
    if cell.percent is None:
        return SUPPRESSED
    return format_percent(cell.percent, lang)


def n_display(row: GroupRow, k: int) -> str:
    """The base n, ``<k`` for a group too small to show, or "x" for a group hidden whole
    so that a smaller group's n cannot be worked out from it."""
    if row.n is not None:
        return str(row.n)
    return SUPPRESSED if row.reason == "secondary" else f"<{k}"


def note_text(message: str, params: dict[str, Any], lang: str) -> str:
    """A method note in ``lang``; texts are translated, lists joined after translation."""
    with force_locale(lang):
        values = {key: _note_param(value, lang) for key, value in params.items()}
        return gettext(message, **values)


def _note_param(value: Any, lang: str) -> Any:
    if isinstance(value, tuple):
        return ", ".join(text(v, lang) for v in value)
    if isinstance(value, Text | str):
        return text(value, lang)
    return value


# -- JSON ----------------------------------------------------------------------------------


def select_breakdowns(data: dict[str, Any], by: str | None) -> dict[str, Any]:
    """Report data (as from ``to_json_data``) with only the breakdown ``by``, or all."""
    if by is None:
        return data

    def only(table: dict[str, Any]) -> dict[str, Any]:
        return {**table, "breakdowns": {b: r for b, r in table["breakdowns"].items() if b == by}}

    return {
        **data,
        "breakdowns": {b: label for b, label in data["breakdowns"].items() if b == by},
        **{part: [only(t) for t in data.get(part) or ()] for part in TABLE_PARTS},
    }


def to_json_data(
    report: Report, lang: str = "sv", by: str | None = None, survey: Survey | None = None
) -> dict[str, Any]:
    """The report as plain data for ``json.dumps``: published figures only.

    With ``survey``, the days it actually opened and closed are the report's period.
    """
    meta = report.survey
    k = report.k
    opened = survey.opened_on if survey is not None else None
    closed = survey.closed_on if survey is not None else None
    data = {
        "survey": {
            "slug": meta.slug,
            "title": meta.title.get(lang),
            "titles": {"sv": meta.title.sv, "en": meta.title.en},
            "template": meta.template,
            "kind": meta.kind,
            "status": meta.status,
            "min_group": meta.min_group,
            "opens_on": meta.opens_on.isoformat() if meta.opens_on else None,
            "closes_on": meta.closes_on.isoformat() if meta.closes_on else None,
            "opened_on": opened.isoformat() if opened else None,
            "closed_on": closed.isoformat() if closed else None,
        },
        "language": lang,
        "respondents": report.respondents,
        "invited": report.invited,
        "response_rate": report.response_rate,
        "breakdowns": {b: text(BREAKDOWN_LABELS[b], lang) for b in report.breakdowns},
        "indicators": [_table_json(t, lang, k) for t in report.indicators],
        "questions": [_table_json(t, lang, k) for t in report.questions],
        # By group, each question's key figure; ``questions`` are for all staff only.
        "key_figures": [_table_json(t, lang, k) for t in report.key_figures],
        "notes": [note_text(n.message, dict(n.params), lang) for n in report.notes],
    }
    return select_breakdowns(data, by)


def _table_json(table: Table, lang: str, k: int) -> dict[str, Any]:
    return {
        "key": table.key,
        "label": text(table.label, lang),
        "type": table.kind,
        "k_ext": table.k_ext,
        "base": text(table.base_note, lang),
        "shown_when": table.condition.get(lang) if table.condition else None,
        # A matrix row (key figures): its question's text and the row's own label.
        "question": table.question.get(lang) if table.question else None,
        "row_label": table.row_label.get(lang) if table.row_label else None,
        "breakdowns": {
            b: [_row_json(row, lang, k) for row in rows] for b, rows in table.breakdowns.items()
        },
    }


def _row_json(row: GroupRow, lang: str, k: int) -> dict[str, Any]:
    return {
        "group": row.key,
        "label": text(row.label, lang),
        "n": row.n,
        "n_display": n_display(row, k),
        "suppressed": SUPPRESSED if row.suppressed else None,
        "prefer_not": row.prefer_not,
        "options": [
            {
                "key": cell.key,
                "label": text(cell.label, lang),
                "count": cell.count,
                "percent": cell.percent,
                "band": {"sign": cell.band[0], "bound": cell.band[1]} if cell.band else None,
                "display": display(cell, lang),
                "suppressed": SUPPRESSED if cell.suppressed else None,
            }
            for cell in row.cells
        ],
    }


__all__ = ["ALL", "SUPPRESSED", "survey_report", "to_json_data"]
