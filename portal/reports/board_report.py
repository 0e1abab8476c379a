"""The board's report: snapshot data → one page model, for every way the report is read.

The one report pipeline. ``portal.reports.results`` turns the
disclosure-controlled report into snapshot data (frozen at publication,
``store.report_snapshot``); ``build`` turns that data into a ``BoardReport``
for one breakdown: the summary (headline indicators for all staff with last
time's figure and reference figures, heat maps by role and by unit), the
full tables formatted for the language with Babel, the comparison frozen in
the snapshot, the chart geometry and the method note. The board page, HR's
preview, the public page and every file (``portal.reports.exports``: CSV,
XLSX, DOCX, also written by the ``report`` command) are made from that one
object. The snapshot holds no suppressed number, so nothing built from it
can leak one; the band rule itself lives only in ``surveys.disclosure``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask_babel import force_locale, gettext

from portal import store
from portal.reports.results import SUPPRESSED
from portal.store.models import Status, Survey
from surveys import disclosure
from surveys.report import ALL, PERIOD, TABLE_PARTS

# The breakdowns of the summary's heat maps (headline indicators × groups), when present.
# A city-wide survey's report shows its districts side by side first.
HEATMAP_BREAKDOWNS = ("district", "role", "unit")
# Grey levels of the heat maps: a cell's value in five steps of 20 points.
HEAT_STEPS = 5

# Chart geometry (SVG user units). Bars live in a nested 0–100 coordinate
# system, so a bar's width attribute is its percentage.
CHART_WIDTH = 640
LABEL_WIDTH = 290
BAR_X = 300
BAR_WIDTH = 280
ROW_HEIGHT = 22
HEADING_HEIGHT = 24
LABEL_CHARS = 44
# The narrow chart for phones: each label on its own line above its bar, so that the text
# keeps its size on a 360 px screen (the wide chart, scaled down, would shrink it to ~7 px).
NARROW_WIDTH = 340
NARROW_BAR_WIDTH = 270
NARROW_ROW_HEIGHT = 40


class NotPublished(Exception):
    """The survey has no published report (unknown, unpublished, or without a snapshot)."""


class UnknownBreakdown(Exception):
    """The breakdown asked for is not in the report."""


# -- formatting ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def percent_text(value: int, lang: str) -> str:
    """A whole percentage for ``lang``: "12 %" (non-breaking space) in Swedish, "12%" in English."""
    return format_percent(value / 100, locale=lang)


@functools.lru_cache(maxsize=4096)
def number_text(value: int | float, lang: str) -> str:
    """A count or decimal for ``lang``: "1 234,5" in Swedish, "1,234.5" in English."""
    return format_decimal(value, locale=lang)


def band_text(band: tuple[str, int], lang: str) -> str:
    """A band such as "<15 %" or ">85 %"."""
    sign, bound = band
    return f"{sign}{percent_text(bound, lang)}"


def fewer_than(k: int) -> str:
    """The size of a group too small to show: "färre än 5" (never "<5", which reads as a range)."""
    return gettext("fewer than %(k)d", k=k)


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

    @property
    def shade(self) -> int | None:
        """The heat map's grey step (0 … HEAT_STEPS − 1) of the value; None for "x".

        A band is shaded as its bound, which is where its bar ends too.
        """
        value = self.percent if self.state == "exact" else self.band[1] if self.band else None
        if value is None:
            return None
        return min(HEAT_STEPS - 1, value * HEAT_STEPS // 100)


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
    narrow_y: int = 0
    narrow_value_x: float = 0


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, drawn by the template as inline SVG (wide, and narrow for phones)."""

    id: str
    height: int
    bars: tuple[Bar, ...]
    headings: tuple[tuple[str, int], ...]
    alt: str
    narrow_height: int = 0
    narrow_headings: tuple[tuple[str, int], ...] = ()


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
    anchor: str = ""
    # A matrix row's key figure: the matrix question and the row (listed under it).
    question: str | None = None
    row_label: str | None = None

    @property
    def key_row(self) -> str:
        """The question of a key-figure row (a matrix row: the row, under its question)."""
        return self.row_label if self.question and self.row_label else self.label

    @property
    def key_figure_label(self) -> str:
        """What the key figure counts ("Ja", "Minst en gång")."""
        return self.options[0][1] if self.options else ""

    @property
    def key_label(self) -> str:
        """The row of the key-figure table as text: its question and the key figure."""
        return f"{self.key_row}: {self.key_figure_label}"

    @property
    def has_suppressed(self) -> bool:
        return any(r.n is None or any(c.suppressed for c in r.cells) for r in self.rows)

    @property
    def has_small_group(self) -> bool:
        return any(r.n is None for r in self.rows)

    @property
    def has_band(self) -> bool:
        return any(c.state == "band" for r in self.rows for c in r.cells)

    @property
    def has_trend(self) -> bool:
        return any(r.earlier for r in self.rows)


@dataclass(frozen=True)
class Earlier:
    """The earlier survey the report is compared with, as frozen in the snapshot."""

    slug: str
    title: str
    label: str  # how the columns name it, e.g. "2025"
    data: Mapping[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        """The title, with the columns' label after it unless the title says it already."""
        return self.title if self.label in self.title else f"{self.title} ({self.label})"


@dataclass(frozen=True)
class Reference:
    """A published figure from elsewhere, shown beside a headline indicator (never mixed in)."""

    indicator: str
    text: str  # "48 %", or "ca 60 %" for a rounded share
    population: str
    year: int
    period: str | None
    comparable: bool
    note: str | None
    source: str
    url: str

    @property
    def description(self) -> str:
        """Population, year and period in one line."""
        period = self.period or gettext("no period stated")
        return f"{self.population}, {self.year}, {period}"


@dataclass(frozen=True)
class Headline:
    """One headline indicator for all staff: the figure, n, last time's figure, references."""

    key: str
    label: str
    cell: Cell
    n_text: str
    small: bool  # the group is too small to show (n is "fewer than k")
    earlier: Cell | None
    earlier_n_text: str | None
    references: tuple[Reference, ...]
    anchor: str


@dataclass(frozen=True)
class Heatmap:
    """Headline indicators (rows) × the groups of one breakdown (columns), as a real table."""

    breakdown: str
    label: str
    groups: tuple[tuple[str, str, str], ...]  # key, label, n of the group's respondents (text)
    rows: tuple[tuple[str, str, tuple[Cell, ...]], ...]  # key, label, one cell per group

    @property
    def has_suppressed(self) -> bool:
        return any(c.suppressed for _, _, cells in self.rows for c in cells)

    @property
    def has_band(self) -> bool:
        return any(c.state == "band" for _, _, cells in self.rows for c in cells)


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
    headlines: tuple[Headline, ...] = ()
    heatmaps: tuple[Heatmap, ...] = ()
    # A district's slice of a city-wide report (portal.reports.slices): the district's name.
    scope: str = ""
    # Each question's key figure in this breakdown (one group per row of each table); the
    # page shows them as one table, key figures by group (``key_groups``).
    key_figures: tuple[TableView, ...] = ()

    @property
    def breakdown_label(self) -> str:
        return dict(self.breakdowns).get(self.breakdown, self.breakdown)

    @property
    def tables(self) -> tuple[TableView, ...]:
        return (*self.indicators, *self.questions, *self.key_figures)

    @property
    def key_groups(self) -> tuple[Row, ...]:
        """The columns of the key-figure table: the groups of the breakdown."""
        return self.key_figures[0].rows if self.key_figures else ()

    @property
    def key_figures_intro(self) -> str:
        """What the key-figure table is, on the page and in the Word file alike."""
        return gettext(
            "For each question, the share who gave the answers that matter most (its key "
            "figure). The full distribution of the answers is shown for all respondents only."
        )

    @property
    def key_has_suppressed(self) -> bool:
        return any(t.has_suppressed for t in self.key_figures)

    @property
    def key_has_band(self) -> bool:
        return any(t.has_band for t in self.key_figures)

    @property
    def heat_step_text(self) -> str:
        """The heat map's step, "20 %"."""
        return percent_text(100 // HEAT_STEPS, self.lang)

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(r for h in self.headlines for r in h.references)

    @property
    def summary_has_suppressed(self) -> bool:
        shown = [h.cell for h in self.headlines] + [h.earlier for h in self.headlines if h.earlier]
        return any(c.suppressed for c in shown) or any(m.has_suppressed for m in self.heatmaps)

    @property
    def summary_has_band(self) -> bool:
        shown = [h.cell for h in self.headlines] + [h.earlier for h in self.headlines if h.earlier]
        return any(c.state == "band" for c in shown) or any(m.has_band for m in self.heatmaps)

    @property
    def summary_has_small_group(self) -> bool:
        return any(h.small for h in self.headlines)


# -- loading -------------------------------------------------------------------------------


def published_survey(slug: str) -> Survey:
    """The published survey at ``slug``; NotPublished for an unknown or unpublished one."""
    survey = store.get_survey(slug)
    if survey is None or survey.status != Status.PUBLISHED:
        raise NotPublished(slug)
    return survey


def snapshot(survey: Survey, lang: str) -> dict[str, Any]:
    """The frozen published report of ``survey`` in ``lang`` (``{"report": …, …}``)."""
    text = store.report_snapshot(survey, lang) if survey.status == Status.PUBLISHED else None
    if text is None:
        raise NotPublished(survey.slug)
    return json.loads(text)


def load(
    survey: Survey, lang: str, breakdown: str | None = None, *, comparison: bool = True
) -> BoardReport:
    """The board report of a published survey in ``lang`` for ``breakdown``.

    By default the exit questionnaire is shown per period, other surveys as a
    whole. With ``comparison``, the earlier survey frozen in the snapshot is set beside it.
    """
    return build(snapshot(survey, lang), lang, breakdown, comparison=comparison)


# -- building ------------------------------------------------------------------------------


def build(
    data: Mapping[str, Any],
    lang: str,
    breakdown: str | None = None,
    *,
    comparison: bool = True,
) -> BoardReport:
    """The report for one breakdown from snapshot data (``{"report": …, "comparison": …}``).

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
    earlier = _earlier(data.get("comparison")) if comparison else None
    earlier_tables = {
        part: _tables_by_key(earlier.data, part) if earlier else {} for part in TABLE_PARTS
    }
    views = {
        part: tuple(
            _table(t, breakdown, lang, k, earlier_tables[part].get(t.get("key")), part)
            for t in report.get(part) or ()
            # By group, the full distributions are not published (IL3): only the key
            # figures; a report published before them still shows what it published.
            if breakdown == ALL or part != "questions" or _rows(t, breakdown)
        )
        for part in TABLE_PARTS
    }
    # None in a district's slice whose respondents the city's report did not show exactly.
    known = report.get("respondents") is not None
    respondents = int(report.get("respondents") or 0)
    invited, rate = report.get("invited"), report.get("response_rate")
    comments = _comment_groups(data.get("comments") or ())
    tables = tuple(t for part in TABLE_PARTS for t in views[part])
    references = _references(data.get("references") or (), lang)
    return BoardReport(
        slug=str(survey.get("slug", "")),
        title=str(survey.get("title", "")),
        lang=lang,
        period=_period(
            survey.get("opened_on") or survey.get("opens_on"),
            survey.get("closed_on") or survey.get("closes_on"),
            lang,
        ),
        respondents=respondents,
        respondents_text=number_text(respondents, lang) if known else SUPPRESSED,
        invited_text=number_text(invited, lang) if invited else None,
        response_rate_text=percent_text(rate, lang) if rate is not None else None,
        k=k,
        breakdowns=breakdowns,
        breakdown=breakdown,
        indicators=views["indicators"],
        questions=views["questions"],
        method=method_text(
            k, respondents, tables, bool(comments), earlier, lang, bool(views["key_figures"])
        ),
        notes=tuple(str(n) for n in report.get("notes") or ())
        + _wording_notes(report, earlier_tables["questions"], earlier, lang),
        comments=comments,
        current_label=_current_label(survey, earlier),
        earlier=earlier,
        headlines=_headlines(report, earlier_tables["indicators"], references, k, lang, breakdown),
        heatmaps=tuple(
            _heatmap(report, b, label, k, lang)
            for b, label in breakdowns
            if b in HEATMAP_BREAKDOWNS
        ),
        scope=str(data.get("scope") or ""),
        key_figures=views["key_figures"],
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
    """The report of snapshot data in each of its breakdowns (with its frozen comparison)."""
    keys = list((data.get("report") or {}).get("breakdowns") or {})
    return [build(data, lang, key) for key in keys] or [build(data, lang)]


def headline_of(data: Mapping[str, Any], lang: str) -> Headline | None:
    """The first headline indicator for all staff, for the list of reports (None if none)."""
    report = data.get("report") or {}
    k = int((report.get("survey") or {}).get("min_group") or 5)
    headlines = _headlines(report, {}, (), k, lang, ALL)
    return headlines[0] if headlines else None


def _earlier(comparison: Any) -> Earlier | None:
    if not isinstance(comparison, Mapping) or not comparison.get("report"):
        return None
    return Earlier(
        slug=str(comparison.get("slug", "")),
        title=str(comparison.get("title", "")),
        label=str(comparison.get("label", "")),
        data=comparison["report"],
    )


def _current_label(survey: Mapping[str, Any], earlier: Earlier | None) -> str:
    """How the columns name this survey beside the earlier one: its year, or "This survey"."""
    day = survey.get("closed_on") or survey.get("closes_on")
    if earlier is not None and earlier.label.isdigit() and day:
        return str(dt.date.fromisoformat(str(day)).year)
    return gettext("This survey")


def _tables_by_key(report: Mapping[str, Any], part: str) -> dict[str, Mapping[str, Any]]:
    return {t.get("key"): t for t in report.get(part) or ()}


def _period(opens_on: str | None, closes_on: str | None, lang: str) -> str:
    days = [
        format_date(dt.date.fromisoformat(d), "long", locale=lang)
        for d in (opens_on, closes_on)
        if d
    ]
    return " – ".join(days)


def _cell(option: Mapping[str, Any], lang: str) -> Cell:
    """A cell from snapshot data: exact, a band (``{"sign", "bound"}``), or hidden."""
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
    band_data = option.get("band")
    if isinstance(band_data, Mapping):
        band = (str(band_data["sign"]), int(band_data["bound"]))
        return Cell(key, label, "band", None, None, band, band_text(band, lang), "")
    return Cell(key, label, "suppressed", None, None, None, SUPPRESSED, "")


def _n_text(row: Mapping[str, Any], k: int, lang: str) -> str:
    n = row.get("n")
    if isinstance(n, int):
        return number_text(n, lang)
    # A group hidden whole so that a smaller group's n stays unknown: "x", like its figures.
    return SUPPRESSED if row.get("n_display") == SUPPRESSED else fewer_than(k)


def _rows(table: Mapping[str, Any] | None, breakdown: str) -> Sequence[Mapping[str, Any]]:
    return ((table or {}).get("breakdowns") or {}).get(breakdown) or ()


def _table(
    table: Mapping[str, Any],
    breakdown: str,
    lang: str,
    k: int,
    earlier: Mapping[str, Any] | None,
    part: str,
) -> TableView:
    rows_data = _rows(table, breakdown)
    earlier_rows = {r.get("group"): r for r in _rows(earlier, breakdown)}
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
    chart_id = f"{part[0]}-{key}-{breakdown}"
    return TableView(
        key=key,
        label=label,
        kind=str(table.get("type", "")),
        base=str(table.get("base") or ""),
        shown_when=table.get("shown_when"),
        options=options,
        rows=tuple(rows),
        chart=chart(chart_id, label, tuple(rows)) if rows else None,
        prefer_not=prefer_not,
        anchor=f"h-{chart_id}",
        question=table.get("question") or None,
        row_label=table.get("row_label") or None,
    )


def _references(data: Sequence[Mapping[str, Any]], lang: str) -> tuple[Reference, ...]:
    references = []
    for item in data:
        value = percent_text(int(item["value"]), lang)
        references.append(
            Reference(
                indicator=str(item["indicator"]),
                text=gettext("about %(value)s", value=value) if item.get("approximate") else value,
                population=str(item.get("population") or ""),
                year=int(item["year"]),
                period=item.get("period") or None,
                comparable=bool(item.get("comparable", True)) and bool(item.get("period")),
                note=item.get("note") or None,
                source=str(item.get("source") or ""),
                url=str(item.get("url") or ""),
            )
        )
    return tuple(references)


def _headlines(
    report: Mapping[str, Any],
    earlier_tables: Mapping[str, Mapping[str, Any]],
    references: Sequence[Reference],
    k: int,
    lang: str,
    breakdown: str,
) -> tuple[Headline, ...]:
    """Every headline indicator for all staff, with last time's figure and reference figures."""
    headlines = []
    for table in report.get("indicators") or ():
        key = str(table.get("key", ""))
        rows = _rows(table, ALL)
        if not rows or not rows[0].get("options"):
            continue
        row = rows[0]
        before_rows = _rows(earlier_tables.get(key), ALL) if earlier_tables else ()
        before = before_rows[0] if before_rows and before_rows[0].get("options") else None
        headlines.append(
            Headline(
                key=key,
                label=str(table.get("label", "")),
                cell=_cell(row["options"][0], lang),
                n_text=_n_text(row, k, lang),
                small=not isinstance(row.get("n"), int),
                earlier=_cell(before["options"][0], lang) if before else None,
                earlier_n_text=_n_text(before, k, lang) if before else None,
                references=tuple(r for r in references if r.indicator == key),
                anchor=f"h-i-{key}-{breakdown}",
            )
        )
    return tuple(headlines)


def _heatmap(report: Mapping[str, Any], breakdown: str, label: str, k: int, lang: str) -> Heatmap:
    """The headline indicators by the groups of ``breakdown``: each cell as published."""
    tables = [t for t in report.get("indicators") or () if _rows(t, breakdown)]
    groups: dict[str, tuple[str, str]] = {}
    for table in tables:
        for row in _rows(table, breakdown):
            groups.setdefault(str(row.get("group")), (str(row.get("label", "")), ""))
    # The group's size: its respondents to the first indicator (the report's base for it).
    if tables:
        for row in _rows(tables[0], breakdown):
            key = str(row.get("group"))
            groups[key] = (groups[key][0], _n_text(row, k, lang))
    rows = []
    for table in tables:
        by_group = {str(r.get("group")): r for r in _rows(table, breakdown)}
        cells = []
        for key in groups:
            found = by_group.get(key)
            options = (found or {}).get("options") or ()
            cells.append(
                _cell(options[0], lang)
                if options
                else Cell(key, "", "suppressed", None, None, None, SUPPRESSED, "")
            )
        rows.append((str(table.get("key", "")), str(table.get("label", "")), tuple(cells)))
    return Heatmap(
        breakdown=breakdown,
        label=label,
        groups=tuple((key, name, n) for key, (name, n) in groups.items()),
        rows=tuple(rows),
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
    narrow_headings: list[tuple[str, int]] = []
    y = narrow_y = 0
    for row in rows:
        if not single and len(rows) > 1:
            size = f"(n = {row.n_text})"
            headings.append((f"{row.label} {size}", y + 16))
            # On a phone the group's name and its size take a line each, so that neither is cut.
            narrow_headings.append((_short(row.label), narrow_y + 16))
            narrow_headings.append((size, narrow_y + 32))
            y += HEADING_HEIGHT
            narrow_y += HEADING_HEIGHT + 16
        for cell in row.cells:
            label = row.label if single else cell.label
            full = label if single or len(rows) == 1 else f"{row.label} – {cell.label}"
            bars.append(_bar(label, cell, y, full, narrow_y))
            y += ROW_HEIGHT
            narrow_y += NARROW_ROW_HEIGHT
    entries = "; ".join(f"{b.full_label}: {b.text}" for b in bars)
    kind = gettext("Bar chart")
    alt = f"{kind}: {title} – {entries}."
    return Chart(
        chart_id,
        y + 4,
        tuple(bars),
        tuple(headings),
        alt,
        narrow_height=narrow_y + 4,
        narrow_headings=tuple(narrow_headings),
    )


def _short(label: str) -> str:
    """A label that fits the chart's label column (the chart's title gives it in full)."""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _bar(label: str, cell: Cell, y: int, full_label: str, narrow_y: int = 0) -> Bar:
    if cell.state == "exact":
        width = int(cell.percent or 0)
    elif cell.state == "band" and cell.band:
        width = cell.band[1]
    else:
        width = 0
    short = _short(label)
    return Bar(
        label=short,
        full_label=full_label,
        state=cell.state,
        width=width,
        text=cell.text,
        y=y,
        value_x=BAR_X + BAR_WIDTH * width / 100 + 6,
        narrow_y=narrow_y,
        narrow_value_x=NARROW_BAR_WIDTH * width / 100 + 6,
    )


# -- the method note -----------------------------------------------------------------------


def method_text(
    k: int,
    respondents: int,
    tables: Sequence[TableView],
    has_comments: bool,
    earlier: Earlier | None,
    lang: str,
    key_figures: bool = False,
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
            "smaller group, its size is shown as “fewer than %(k)d” and none of its percentages "
            "are shown.",
            k=k,
        ),
    ]
    if respondents:
        band = disclosure.band_width(respondents, 1)
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
                "A wider range, such as “<%(example)s”, can also stand in place of a figure "
                "from which such a range, or a hidden figure, could otherwise be worked out: "
                "it says less than the figure, but more than “x”.",
                example=percent_text(45, lang),
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
    if key_figures:
        paragraphs.append(
            gettext(
                "By group (role, unit and the like) the report shows each question's key "
                "figure, such as the share threatened at least once, with its n. The full "
                "distribution of the answers to every question is shown for all respondents "
                "only: fewer figures by group means fewer have to be hidden."
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
                "where the same protection was applied. HR chose it before publishing, and its "
                "figures were copied into this report then, so they never change.",
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
