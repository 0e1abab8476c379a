"""The board's report: the published snapshot as a page, a chart, a method note and exports.

Everything here reads the frozen snapshot stored at publication
(``store.report_snapshot``), never the raw responses, so the report survives
their purge and shows exactly what passed disclosure control. The snapshot
holds no suppressed number, so nothing built from it can leak one.

``build`` turns the snapshot data into a ``BoardReport`` for one breakdown:
tables whose cells are formatted for the language with Babel, the figures of
the earlier survey of the same template beside them, and the geometry of each
bar chart. The page, the CSV and the XLSX are all made from that one object.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask_babel import force_locale, gettext

from portal import store
from portal.reports.spreadsheet import neutralise
from portal.store.models import Status, Survey
from surveys.report import ALL, PERIOD

SUPPRESSED = "x"
_BAND = re.compile(r"^\s*([<>])\s*(\d{1,3})")

# Chart geometry (SVG user units). Bars live in a nested 0–100 coordinate
# system, so a bar's width attribute is its percentage.
CHART_WIDTH = 640
LABEL_WIDTH = 290
BAR_X = 300
BAR_WIDTH = 280
ROW_HEIGHT = 22
HEADING_HEIGHT = 24
LABEL_CHARS = 44


class NotPublished(Exception):
    """The survey has no published report (unknown, unpublished, or without a snapshot)."""


class UnknownBreakdown(Exception):
    """The breakdown asked for is not in the report."""


# -- formatting ----------------------------------------------------------------------------


def percent_text(value: int, lang: str) -> str:
    """A whole percentage for ``lang``: "12 %" (non-breaking space) in Swedish, "12%" in English."""
    return format_percent(value / 100, locale=lang)


def number_text(value: int | float, lang: str) -> str:
    """A count or decimal for ``lang``: "1 234,5" in Swedish, "1,234.5" in English."""
    return format_decimal(value, locale=lang)


def band_text(band: tuple[str, int], lang: str) -> str:
    """A band such as "<15 %" or ">85 %"."""
    sign, bound = band
    return f"{sign}{percent_text(bound, lang)}"


def band_width(n: int, k_ext: int = 1) -> int:
    """The band B(n): the smallest multiple of 5 strictly above 100·k_ext/n (rule P2)."""
    return (100 * k_ext // (5 * n) + 1) * 5


# -- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One published figure: exact (count and percentage), a band, or suppressed ("x")."""

    key: str
    label: str
    state: str  # "exact", "band" or "suppressed"
    count: int | None
    percent: int | None
    band: tuple[str, int] | None
    text: str
    # The count of an exact figure; a band's or a hidden cell's count is never published.
    count_text: str

    @property
    def suppressed(self) -> bool:
        return self.state == "suppressed"


@dataclass(frozen=True)
class Row:
    """One group of the breakdown with its base n, its cells and the earlier survey's."""

    key: str
    label: str
    n: int | None
    n_text: str
    cells: tuple[Cell, ...]
    earlier_n_text: str | None = None
    earlier: tuple[Cell | None, ...] = ()


@dataclass(frozen=True)
class Bar:
    """One bar of a chart; ``width`` is in percent (0–100)."""

    label: str
    full_label: str
    state: str
    width: int
    text: str
    y: int
    value_x: float


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, drawn by the template as inline SVG."""

    id: str
    height: int
    bars: tuple[Bar, ...]
    headings: tuple[tuple[str, int], ...]
    alt: str


@dataclass(frozen=True)
class TableView:
    """An indicator or question in one breakdown: table rows and a chart."""

    key: str
    label: str
    kind: str
    base: str
    shown_when: str | None
    options: tuple[tuple[str, str], ...]
    rows: tuple[Row, ...]
    chart: Chart | None
    prefer_not: str | None = None

    @property
    def has_suppressed(self) -> bool:
        return any(r.n is None or any(c.suppressed for c in r.cells) for r in self.rows)

    @property
    def has_band(self) -> bool:
        return any(c.state == "band" for r in self.rows for c in r.cells)

    @property
    def has_trend(self) -> bool:
        return any(r.earlier for r in self.rows)


@dataclass(frozen=True)
class Earlier:
    """The earlier published survey of the same template, for the trend."""

    slug: str
    title: str
    label: str  # how the columns name it, e.g. "2025"
    data: Mapping[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        """The title, with the columns' label after it unless the title says it already."""
        return self.title if self.label in self.title else f"{self.title} ({self.label})"


@dataclass(frozen=True)
class BoardReport:
    """What the board page and the exports show for one breakdown."""

    slug: str
    title: str
    lang: str
    period: str
    respondents: int
    respondents_text: str
    invited_text: str | None
    response_rate_text: str | None
    k: int
    breakdowns: tuple[tuple[str, str], ...]
    breakdown: str
    indicators: tuple[TableView, ...]
    questions: tuple[TableView, ...]
    method: tuple[str, ...]
    notes: tuple[str, ...]
    comments: tuple[tuple[str, tuple[str, ...]], ...]
    current_label: str
    earlier: Earlier | None

    @property
    def breakdown_label(self) -> str:
        return dict(self.breakdowns).get(self.breakdown, self.breakdown)

    @property
    def tables(self) -> tuple[TableView, ...]:
        return (*self.indicators, *self.questions)


# -- loading -------------------------------------------------------------------------------


def published_survey(slug: str) -> Survey:
    """The published survey at ``slug``; NotPublished for an unknown or unpublished one."""
    survey = store.get_survey(slug)
    if survey is None or survey.status != Status.PUBLISHED:
        raise NotPublished(slug)
    return survey


def snapshot(survey: Survey, lang: str) -> dict[str, Any]:
    """The frozen published report of ``survey`` in ``lang`` (``{"report": …, "comments": …}``)."""
    text = store.report_snapshot(survey, lang) if survey.status == Status.PUBLISHED else None
    if text is None:
        raise NotPublished(survey.slug)
    return json.loads(text)


def earlier_survey(survey: Survey, lang: str) -> Earlier | None:
    """The latest earlier published survey of the same template with its snapshot, if any."""
    previous = store.previous_published(survey)
    if previous is None:
        return None
    text = store.report_snapshot(previous, lang)
    if text is None:
        return None
    data = json.loads(text).get("report") or {}
    return Earlier(
        slug=previous.slug,
        title=previous.title(lang),
        label=_survey_label(previous, survey, lang),
        data=data,
    )


def _survey_label(survey: Survey, other: Survey, lang: str) -> str:
    """A short name for a survey beside another: its year, or its title when the years match."""
    year, other_year = _year(survey), _year(other)
    if year and other_year and year != other_year:
        return str(year)
    return survey.title(lang)


def _year(survey: Survey) -> int | None:
    day = survey.closes_on or survey.published_on
    return day.year if day else None


def load(
    survey: Survey, lang: str, breakdown: str | None = None, *, trend: bool = True
) -> BoardReport:
    """The board report of a published survey in ``lang`` for ``breakdown``.

    By default the exit questionnaire is shown per period, other surveys as a
    whole. With ``trend``, the earlier published survey of the same template is set beside it.
    """
    data = snapshot(survey, lang)
    earlier = earlier_survey(survey, lang) if trend else None
    current_label = _survey_label(survey, survey, lang)
    if earlier is not None and earlier.label.isdigit() and _year(survey):
        current_label = str(_year(survey))
    return build(data, lang, breakdown, earlier=earlier, current_label=current_label)


# -- building ------------------------------------------------------------------------------


def build(
    data: Mapping[str, Any],
    lang: str,
    breakdown: str | None = None,
    *,
    earlier: Earlier | None = None,
    current_label: str = "",
) -> BoardReport:
    """The report for one breakdown from snapshot data (``{"report": …, "comments": …}``).

    Raises UnknownBreakdown when ``breakdown`` is not among the report's.
    """
    report = data.get("report") or {}
    survey = report.get("survey") or {}
    breakdowns = tuple((str(k), str(v)) for k, v in (report.get("breakdowns") or {}).items())
    keys = [k for k, _ in breakdowns]
    if breakdown is None:
        # The exit questionnaire is read per period (half-years); other surveys as a whole.
        breakdown = next((b for b in (PERIOD, ALL) if b in keys), keys[0] if keys else ALL)
    elif breakdown not in keys:
        raise UnknownBreakdown(breakdown)
    k = int(survey.get("min_group") or 5)
    earlier_tables = _tables_by_key(earlier.data) if earlier else {}
    views = {
        part: tuple(
            _table(t, breakdown, lang, k, earlier_tables.get(t.get("key")), part)
            for t in report.get(part) or ()
        )
        for part in ("indicators", "questions")
    }
    respondents = int(report.get("respondents") or 0)
    invited, rate = report.get("invited"), report.get("response_rate")
    comments = _comment_groups(data.get("comments") or ())
    tables = (*views["indicators"], *views["questions"])
    return BoardReport(
        slug=str(survey.get("slug", "")),
        title=str(survey.get("title", "")),
        lang=lang,
        period=_period(survey.get("opens_on"), survey.get("closes_on"), lang),
        respondents=respondents,
        respondents_text=number_text(respondents, lang),
        invited_text=number_text(invited, lang) if invited else None,
        response_rate_text=percent_text(rate, lang) if rate is not None else None,
        k=k,
        breakdowns=breakdowns,
        breakdown=breakdown,
        indicators=views["indicators"],
        questions=views["questions"],
        method=method_text(k, respondents, tables, bool(comments), earlier, lang),
        notes=tuple(str(n) for n in report.get("notes") or ())
        + _wording_notes(report, earlier_tables, earlier, lang),
        comments=comments,
        current_label=current_label or gettext("This survey"),
        earlier=earlier,
    )


def _wording_notes(
    report: Mapping[str, Any],
    earlier_tables: Mapping[str, Mapping[str, Any]],
    earlier: Earlier | None,
    lang: str,
) -> tuple[str, ...]:
    """The trend matches questions by key; it says which were worded differently before."""
    if earlier is None:
        return ()
    changed = [
        str(t.get("label", ""))
        for t in report.get("questions") or ()
        if t.get("key") in earlier_tables
        and earlier_tables[t.get("key")].get("label") != t.get("label")
    ]
    if not changed:
        return ()
    with force_locale(lang):
        return (
            gettext(
                "These questions were worded differently in %(earlier)s, so compare their "
                "figures with care: %(questions)s.",
                earlier=earlier.name,
                questions="; ".join(changed),
            ),
        )


def every_breakdown(data: Mapping[str, Any], lang: str) -> list[BoardReport]:
    """The report of snapshot data in each of its breakdowns (no trend)."""
    keys = list((data.get("report") or {}).get("breakdowns") or {})
    return [build(data, lang, key) for key in keys] or [build(data, lang)]


def _tables_by_key(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {t.get("key"): t for part in ("indicators", "questions") for t in report.get(part) or ()}


def _period(opens_on: str | None, closes_on: str | None, lang: str) -> str:
    days = [
        format_date(dt.date.fromisoformat(d), "long", locale=lang)
        for d in (opens_on, closes_on)
        if d
    ]
    return " – ".join(days)


def _cell(option: Mapping[str, Any], lang: str) -> Cell:
    """A cell from snapshot data; a band is recognised by its display text ("<15 %")."""
    count, percent = option.get("count"), option.get("percent")
    label = str(option.get("label", ""))
    key = str(option.get("key", label))
    if count is not None and percent is not None:
        return Cell(
            key,
            label,
            "exact",
            count,
            percent,
            None,
            percent_text(percent, lang),
            number_text(count, lang),
        )
    match = _BAND.match(str(option.get("display") or ""))
    if match and option.get("suppressed") is None:
        band = (match.group(1), int(match.group(2)))
        return Cell(key, label, "band", None, None, band, band_text(band, lang), "")
    return Cell(key, label, "suppressed", None, None, None, SUPPRESSED, "")


def _n_text(row: Mapping[str, Any], k: int, lang: str) -> str:
    n = row.get("n")
    return number_text(n, lang) if isinstance(n, int) else str(row.get("n_display") or f"<{k}")


def _table(
    table: Mapping[str, Any],
    breakdown: str,
    lang: str,
    k: int,
    earlier: Mapping[str, Any] | None,
    part: str,
) -> TableView:
    rows_data = (table.get("breakdowns") or {}).get(breakdown) or ()
    earlier_rows = {
        r.get("group"): r for r in ((earlier or {}).get("breakdowns") or {}).get(breakdown) or ()
    }
    rows = []
    for row in rows_data:
        cells = tuple(_cell(o, lang) for o in row.get("options") or ())
        before = earlier_rows.get(row.get("group")) if earlier is not None else None
        previous: tuple[Cell | None, ...] = ()
        earlier_n = None
        if earlier is not None:
            by_key = {o.get("key"): o for o in (before or {}).get("options") or ()}
            previous = tuple(_cell(by_key[c.key], lang) if c.key in by_key else None for c in cells)
            earlier_n = _n_text(before, k, lang) if before else None
        rows.append(
            Row(
                key=str(row.get("group", "")),
                label=str(row.get("label", "")),
                n=row.get("n") if isinstance(row.get("n"), int) else None,
                n_text=_n_text(row, k, lang),
                cells=cells,
                earlier_n_text=earlier_n,
                earlier=previous,
            )
        )
    options = tuple((c.key, c.label) for c in rows[0].cells) if rows else ()
    prefer_not = None
    totals = [r for r in rows_data if r.get("group") == ALL]
    if totals and isinstance(totals[0].get("prefer_not"), int) and table.get("type") != "indicator":
        prefer_not = number_text(totals[0]["prefer_not"], lang)
    key = str(table.get("key", ""))
    label = str(table.get("label", ""))
    return TableView(
        key=key,
        label=label,
        kind=str(table.get("type", "")),
        base=str(table.get("base") or ""),
        shown_when=table.get("shown_when"),
        options=options,
        rows=tuple(rows),
        chart=chart(f"{part[0]}-{key}-{breakdown}", label, tuple(rows)) if rows else None,
        prefer_not=prefer_not,
    )


def _comment_groups(
    comments: Sequence[Mapping[str, Any]],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The chosen comments per question, in the order given (already shuffled at publication)."""
    groups: dict[str, list[str]] = {}
    for comment in comments:
        groups.setdefault(str(comment.get("question", "")), []).append(str(comment.get("text", "")))
    return tuple((q, tuple(texts)) for q, texts in groups.items())


# -- the chart -----------------------------------------------------------------------------


def chart(chart_id: str, title: str, rows: Sequence[Row]) -> Chart:
    """The bars of one table: one per group for a single figure, else one per option per group.

    A suppressed figure has no bar and the label "x" (rule V2); a band is
    drawn hatched up to its bound, labelled with the band.
    """
    single = all(len(r.cells) == 1 for r in rows)
    bars: list[Bar] = []
    headings: list[tuple[str, int]] = []
    y = 0
    for row in rows:
        if not single and len(rows) > 1:
            headings.append((f"{row.label} (n = {row.n_text})", y + 16))
            y += HEADING_HEIGHT
        for cell in row.cells:
            label = row.label if single else cell.label
            full = label if single or len(rows) == 1 else f"{row.label} – {cell.label}"
            bars.append(_bar(label, cell, y, full))
            y += ROW_HEIGHT
    entries = "; ".join(f"{b.full_label}: {b.text}" for b in bars)
    kind = gettext("Bar chart")
    alt = f"{kind}: {title} – {entries}."
    return Chart(chart_id, y + 4, tuple(bars), tuple(headings), alt)


def _bar(label: str, cell: Cell, y: int, full_label: str) -> Bar:
    if cell.state == "exact":
        width = int(cell.percent or 0)
    elif cell.state == "band" and cell.band:
        width = cell.band[1]
    else:
        width = 0
    short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"
    return Bar(
        label=short,
        full_label=full_label,
        state=cell.state,
        width=width,
        text=cell.text,
        y=y,
        value_x=BAR_X + BAR_WIDTH * width / 100 + 6,
    )


# -- the method note -----------------------------------------------------------------------


def method_text(
    k: int,
    respondents: int,
    tables: Sequence[TableView],
    has_comments: bool,
    earlier: Earlier | None,
    lang: str,
) -> tuple[str, ...]:
    """The method section in plain language with this survey's own numbers (rule V3).

    It says how many figures are hidden in general terms, never which of them
    were hidden to protect another.
    """
    hidden = sum(1 for t in tables for r in t.rows for c in r.cells if c.suppressed)
    ranges = sum(1 for t in tables for r in t.rows for c in r.cells if c.state == "band")
    paragraphs = [
        gettext(
            "The report shows only figures for groups of at least %(k)d respondents. For a "
            "smaller group, its size is shown as “<%(k)d” and none of its percentages are shown.",
            k=k,
        ),
    ]
    if respondents:
        band = band_width(respondents)
        paragraphs.append(
            gettext(
                "A percentage that would show that (almost) everyone or no one in a group gave an "
                "answer is shown as a range instead, and the smaller the group, the wider the "
                "range. For a group of %(n)s respondents, a share under %(low)s is shown as "
                "“<%(low)s” and a share over %(high)s as “>%(high)s”. For physical violence the "
                "ranges are wider still.",
                n=number_text(respondents, lang),
                low=percent_text(band, lang),
                high=percent_text(100 - band, lang),
            )
        )
    paragraphs.append(
        gettext(
            "“x” marks a figure that is not shown. A figure is hidden when its group is too "
            "small, or when it could otherwise be worked out from the figures that are shown, "
            "for example by subtracting them from the total. Both kinds look the same, so "
            "that nothing can be learnt from which figures are hidden."
        )
    )
    paragraphs.append(
        gettext(
            "In this view, %(hidden)s figures are hidden and %(ranges)s are shown as a range.",
            hidden=number_text(hidden, lang),
            ranges=number_text(ranges, lang),
        )
    )
    paragraphs.append(
        gettext(
            "Percentages are whole numbers, rounded from the exact counts, so they need not add "
            "up to 100. Each percentage is of the respondents who were shown the question and "
            "answered it (the base, n); “prefer not to say” is left out of the percentages."
        )
    )
    if earlier is not None:
        paragraphs.append(
            gettext(
                "The earlier figures (%(label)s) come from the published report of “%(title)s”, "
                "where the same protection was applied.",
                label=earlier.label,
                title=earlier.title,
            )
        )
    if has_comments:
        paragraphs.append(
            gettext(
                "The comments were chosen by HR among the free-text answers, with names and "
                "other identifying details removed. They are shown without any other answer "
                "of the person who wrote them."
            )
        )
    return tuple(paragraphs)


# -- exports -------------------------------------------------------------------------------


def export_header(report: BoardReport) -> list[str]:
    """The column names of the CSV and of each XLSX sheet."""
    header = [
        gettext("Part"),
        gettext("Key"),
        gettext("Question"),
        gettext("Breakdown"),
        gettext("Group"),
        gettext("n"),
        gettext("Answer"),
        gettext("Count"),
        gettext("Percentage"),
    ]
    if report.earlier is not None:
        header += [
            gettext("n (%(label)s)", label=report.earlier.label),
            gettext("Percentage (%(label)s)", label=report.earlier.label),
        ]
    return header


def export_rows(report: BoardReport) -> Iterator[list[Any]]:
    """The figures of the page, one row per group and answer, exactly as shown."""
    parts = (
        (gettext("Indicator"), report.indicators),
        (gettext("Question"), report.questions),
    )
    for part, tables in parts:
        for table in tables:
            for row in table.rows:
                for index, cell in enumerate(row.cells):
                    values: list[Any] = [
                        part,
                        table.key,
                        table.label,
                        report.breakdown_label,
                        row.label,
                        row.n if row.n is not None else row.n_text,
                        cell.label,
                        cell.count if cell.state == "exact" else ("" if cell.band else SUPPRESSED),
                        cell.text,
                    ]
                    if report.earlier is not None:
                        before = row.earlier[index] if index < len(row.earlier) else None
                        values += [row.earlier_n_text or "", before.text if before else ""]
                    yield values
            if table.prefer_not is not None:
                yield [
                    part,
                    table.key,
                    table.label,
                    report.breakdown_label,
                    "",
                    "",
                    gettext("Prefer not to say"),
                    table.prefer_not,
                    "",
                ]


def to_csv(reports: Sequence[BoardReport]) -> str:
    """Every breakdown's figures as CSV: UTF-8 with BOM, cells neutralised against formulas."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(v) for v in export_header(reports[0])])
    for report in reports:
        for row in export_rows(report):
            writer.writerow([neutralise(v) for v in row])
    return out.getvalue()


def to_xlsx(reports: Sequence[BoardReport]) -> bytes:
    """One sheet per breakdown, a comments sheet when there are comments, and a notes sheet.

    Text is always written as text: a cell starting with "=" is a string in
    the file, never a formula, whoever typed it.
    """
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    first = reports[0]
    for report in reports:
        sheet = workbook.create_sheet(_sheet_name(report.breakdown_label, used))
        _append(sheet, export_header(report))
        for row in export_rows(report):
            _append(sheet, row)
        sheet.freeze_panes = "A2"
    if first.comments:
        sheet = workbook.create_sheet(_sheet_name(gettext("Comments"), used))
        _append(sheet, [gettext("Question"), gettext("Comment")])
        for question, texts in first.comments:
            for text in texts:
                _append(sheet, [question, text])
    sheet = workbook.create_sheet(_sheet_name(gettext("Notes"), used))
    _append(sheet, [first.title])
    _append(sheet, [gettext("Period"), first.period])
    _append(sheet, [gettext("Respondents"), first.respondents])
    if first.response_rate_text:
        _append(sheet, [gettext("Response rate"), first.response_rate_text])
    _append(sheet, [gettext("Minimum group size (k)"), first.k])
    for paragraph in (*first.method, *first.notes):
        _append(sheet, [paragraph])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(label: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", label).strip()[:28] or "Sheet"
    name, number = base, 2
    while name.lower() in used:
        name, number = f"{base} {number}", number + 1
    used.add(name.lower())
    return name


def _append(sheet: Any, values: Sequence[Any]) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            # openpyxl takes a string starting with "=" for a formula: force text.
            cell.data_type = "s"
