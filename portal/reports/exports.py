"""The report's files: CSV, XLSX and DOCX, all made from the page model (``BoardReport``).

The last step of the one report pipeline: every file holds exactly the
figures of the page, with the same symbols ("x", bands, "fewer than 5"), the
same frozen comparison and the same method note, in the report's language.
The board's downloads and the ``report`` command write these same files.

Text is always written as text: a cell starting with "=" is neutralised in
CSV and a string in XLSX, never a formula, whoever typed it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from typing import Any

from flask_babel import gettext

from portal.reports.board_report import BoardReport, Cell, Headline, Heatmap, TableView
from portal.reports.results import SUPPRESSED
from portal.reports.spreadsheet import neutralise

# -- rows, shared by CSV and XLSX ---------------------------------------------------------


def export_header(report: BoardReport) -> list[str]:
    """The column names of the CSV and of each XLSX sheet of figures."""
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


def _count(cell: Cell) -> Any:
    """The count column: the count of an exact figure, "x" when hidden, empty for a band."""
    if cell.state == "exact":
        return cell.count
    return "" if cell.band else SUPPRESSED


def export_rows(report: BoardReport) -> Iterator[list[Any]]:
    """The figures of the page, one row per group and answer, exactly as shown."""
    parts = (
        (gettext("Indicator"), report.indicators),
        (gettext("Question"), report.questions),
        (gettext("Key figure"), report.key_figures),
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
                        _count(cell),
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


def summary_header(report: BoardReport) -> list[str]:
    header = [gettext("Headline indicator"), report.current_label, gettext("n")]
    if report.earlier is not None:
        header += [report.earlier.label, gettext("n (%(label)s)", label=report.earlier.label)]
    return header


def summary_rows(report: BoardReport) -> Iterator[list[Any]]:
    for headline in report.headlines:
        values: list[Any] = [headline.label, headline.cell.text, headline.n_text]
        if report.earlier is not None:
            values += [
                headline.earlier.text if headline.earlier else "",
                headline.earlier_n_text or "",
            ]
        yield values


def reference_header() -> list[str]:
    return [
        gettext("Headline indicator"),
        gettext("Reference figure"),
        gettext("Population"),
        gettext("Year"),
        gettext("Period"),
        gettext("Comparable"),
        gettext("Note"),
        gettext("Source"),
    ]


def reference_rows(report: BoardReport) -> Iterator[list[Any]]:
    for headline in report.headlines:
        for ref in headline.references:
            yield [
                headline.label,
                ref.text,
                ref.population,
                ref.year,
                ref.period or gettext("no period stated"),
                gettext("Yes") if ref.comparable else gettext("No"),
                ref.note or "",
                f"{ref.source} {ref.url}".strip(),
            ]


def method_lines(report: BoardReport) -> list[list[Any]]:
    """The report's facts and method note, one line each (the notes sheet, the CSV's end)."""
    lines: list[list[Any]] = [[report.title], [gettext("Period"), report.period]]
    lines.append([gettext("Respondents"), report.respondents])
    if report.response_rate_text:
        lines.append([gettext("Response rate"), report.response_rate_text])
    lines.append([gettext("Minimum group size (k)"), report.k])
    if report.earlier is not None:
        lines.append([gettext("Compared with"), report.earlier.name])
    lines += [[paragraph] for paragraph in (*report.method, *report.notes)]
    return lines


# -- CSV ------------------------------------------------------------------------------------


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


# -- XLSX -----------------------------------------------------------------------------------


def to_xlsx(reports: Sequence[BoardReport]) -> bytes:
    """A summary sheet, one sheet per breakdown, the comments and the notes.

    Written in openpyxl's write-only mode (streamed, several times faster).
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    first = reports[0]
    if first.headlines:
        sheet = workbook.create_sheet(_sheet_name(gettext("Summary"), used))
        _append(sheet, summary_header(first))
        for row in summary_rows(first):
            _append(sheet, row)
        for heatmap in first.heatmaps:
            _append(sheet, [])
            _append(sheet, [heatmap_caption(heatmap)])
            _append(
                sheet, [gettext("Headline indicator"), *(name for _, name, _ in heatmap.groups)]
            )
            _append(sheet, [gettext("n"), *(n for _, _, n in heatmap.groups)])
            for _, label, cells in heatmap.rows:
                _append(sheet, [label, *(c.text for c in cells)])
        if first.references:
            _append(sheet, [])
            _append(sheet, [gettext("Figures to compare with")])
            _append(sheet, reference_header())
            for row in reference_rows(first):
                _append(sheet, row)
    for report in reports:
        sheet = workbook.create_sheet(_sheet_name(report.breakdown_label, used))
        sheet.freeze_panes = "A2"
        _append(sheet, export_header(report))
        for row in export_rows(report):
            _append(sheet, row)
    if first.comments:
        sheet = workbook.create_sheet(_sheet_name(gettext("Comments"), used))
        _append(sheet, [gettext("Question"), gettext("Comment")])
        for question, texts in first.comments:
            for text in texts:
                _append(sheet, [question, text])
    sheet = workbook.create_sheet(_sheet_name(gettext("Notes"), used))
    for line in method_lines(first):
        _append(sheet, line)
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
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cells = []
    for value in values:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith("="):
                # openpyxl takes a string starting with "=" for a formula: force text.
                cell = WriteOnlyCell(sheet, value)
                cell.data_type = "s"
                value = cell
        cells.append(value)
    sheet.append(cells)


# -- DOCX -----------------------------------------------------------------------------------

WORD_LANGUAGES = {"sv": "sv-SE", "en": "en-GB"}


def heatmap_caption(heatmap: Heatmap) -> str:
    return gettext("Headline indicators by %(breakdown)s", breakdown=heatmap.label.lower())


def to_docx(report: BoardReport) -> bytes:
    """The report as a Word document for a tjänsteutlåtande: every table a real Word table.

    The summary (headline indicators with last time's and reference figures,
    the heat maps), then every table of the report's breakdown, each with its
    footnotes, then the comments and the method note, in the report's
    language. Header rows repeat on every page and rows never split.
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(20))
    section.top_margin = section.bottom_margin = Mm(20)
    normal = document.styles["Normal"]
    normal.font.size = Pt(10)
    _set_language(normal, WORD_LANGUAGES.get(report.lang, "sv-SE"))
    document.core_properties.title = report.title
    document.core_properties.language = WORD_LANGUAGES.get(report.lang, "sv-SE")

    document.add_heading(report.title, level=0)
    facts = [
        (gettext("Period"), report.period),
        (gettext("Respondents"), report.respondents_text),
    ]
    if report.invited_text:
        facts.append((gettext("Invited"), report.invited_text))
    if report.response_rate_text:
        facts.append((gettext("Response rate"), report.response_rate_text))
    facts.append((gettext("Minimum group size"), str(report.k)))
    facts.append((gettext("Shown by"), report.breakdown_label))
    if report.earlier is not None:
        facts.append((gettext("Compared with"), report.earlier.name))
    for name, value in facts:
        if value:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{name}: ").bold = True
            paragraph.add_run(value)

    if report.headlines:
        document.add_heading(gettext("Summary"), level=1)
        _word_table(
            document,
            gettext("Headline indicators for all staff"),
            summary_header(report),
            [
                [h.label, _cell_text(h.cell), h.n_text + _small_mark(h)]
                + (
                    [_cell_text(h.earlier) if h.earlier else "", h.earlier_n_text or ""]
                    if report.earlier is not None
                    else []
                )
                for h in report.headlines
            ],
        )
        for heatmap in report.heatmaps:
            _word_table(
                document,
                heatmap_caption(heatmap),
                [gettext("Headline indicator"), *(name for _, name, _ in heatmap.groups)],
                [[gettext("n"), *(n for _, _, n in heatmap.groups)]]
                + [[label, *(_cell_text(c) for c in cells)] for _, label, cells in heatmap.rows],
            )
        _footnotes(
            document,
            report.k,
            report.summary_has_suppressed or report.summary_has_small_group,
            report.summary_has_band,
        )
        if report.references:
            document.add_heading(gettext("Figures to compare with"), level=2)
            document.add_paragraph(references_intro())
            _word_table(
                document,
                gettext("Reference figures"),
                reference_header(),
                [[str(v) for v in row] for row in reference_rows(report)],
            )

    if report.indicators:
        heading = gettext("Headline indicators")
        document.add_heading(f"{heading} – {report.breakdown_label}", level=1)
        for table in report.indicators:
            _report_table(document, report, table)
    if report.key_figures:
        document.add_heading(f"{gettext('Key figures')} – {report.breakdown_label}", level=1)
        document.add_paragraph(report.key_figures_intro)
        _word_table(
            document,
            f"{gettext('Key figures')} – {report.breakdown_label}",
            [gettext("Question"), *(group.label for group in report.key_groups)],
            _key_figure_rows(report),
        )
        _footnotes(document, report.k, report.key_has_suppressed, report.key_has_band)
    if report.questions:
        heading = gettext("Every question")
        document.add_heading(f"{heading} – {report.breakdown_label}", level=1)
        for table in report.questions:
            _report_table(document, report, table)

    if report.comments:
        document.add_heading(gettext("Selected comments"), level=1)
        for question, texts in report.comments:
            document.add_heading(question, level=3)
            for text in texts:
                document.add_paragraph(text, style="List Bullet")

    document.add_heading(gettext("Method"), level=1)
    for method in report.method:
        document.add_paragraph(method)
    if report.notes:
        document.add_heading(gettext("Notes from the results"), level=2)
        for note in report.notes:
            document.add_paragraph(note, style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _key_figure_rows(report: BoardReport) -> list[list[str]]:
    """The key-figure table's rows for Word: a matrix's rows under a row with its question."""
    rows: list[list[str]] = []
    question = None
    for table in report.key_figures:
        if table.question and table.question != question:
            rows.append([table.question, *("" for _ in report.key_groups)])
        question = table.question
        rows.append(
            [
                table.key_label,
                *(
                    f"{_cell_text(row.cells[0])}\n{gettext('n')} = "
                    f"{row.n_text}{'¹' if row.n is None else ''}"
                    for row in table.rows
                ),
            ]
        )
    return rows


def references_intro() -> str:
    return gettext(
        "Published figures from elsewhere, for comparison only: they are not part of this "
        "survey's results. A figure measured for another population, with another question "
        "or without a stated period is marked as not comparable."
    )


def _cell_text(cell: Cell) -> str:
    """A figure with its footnote mark: "x¹" hidden, "<15 %²" a band, "25 % (4)" exact."""
    if cell.state == "exact":
        return f"{cell.text} ({cell.count_text})"
    if cell.state == "band":
        return f"{cell.text}²"
    return f"{SUPPRESSED}¹"


def _small_mark(headline: Headline) -> str:
    return "¹" if headline.small else ""


def _report_table(document: Any, report: BoardReport, table: TableView) -> None:
    document.add_heading(table.label, level=3)
    if table.shown_when:
        document.add_paragraph(f"{gettext('Asked when:')} {table.shown_when}")
    if table.base:
        document.add_paragraph(table.base)
    if not table.rows:
        document.add_paragraph(gettext("This question is not broken down this way."))
        return
    trend = report.earlier is not None and table.has_trend
    header = [report.breakdown_label, gettext("n")]
    header += [label for _, label in table.options]
    rows = []
    for row in table.rows:
        values = [row.label, row.n_text + ("¹" if row.n is None else "")]
        for index, cell in enumerate(row.cells):
            text = _cell_text(cell)
            if trend:
                before = row.earlier[index] if index < len(row.earlier) else None
                text += f"\n{before.text if before else '–'}"
            values.append(text)
        if trend:
            values[1] += f"\n{row.earlier_n_text or '–'}"
        rows.append(values)
    caption = f"{table.label} – {report.breakdown_label}"
    if trend:
        caption += ". " + trend_note(report)
    _word_table(document, caption, header, rows)
    notes = []
    if table.prefer_not:
        notes.append(
            gettext(
                "“Prefer not to say”, not included in the percentages: %(count)s.",
                count=table.prefer_not,
            )
        )
    for note in notes:
        document.add_paragraph(note)
    _footnotes(document, report.k, table.has_suppressed, table.has_band)


def trend_note(report: BoardReport) -> str:
    """The one place a table names the comparison: its header."""
    return gettext(
        "Each figure of %(current)s, with the figure of %(earlier)s below it.",
        current=report.current_label,
        earlier=report.earlier.label if report.earlier else "",
    )


def suppressed_footnote(k: int) -> str:
    return gettext(
        "x: not shown, to protect the anonymity of the respondents (the group is too small, "
        "or the figure could reveal the answers of a small group). “fewer than %(k)d”: a "
        "group of fewer than %(k)d respondents, whose figures are not shown.",
        k=k,
    )


def band_footnote() -> str:
    return gettext(
        "A range is shown instead of a figure that would reveal that (almost) everyone or no "
        "one in the group gave that answer."
    )


def _footnotes(document: Any, k: int, suppressed: bool, band: bool) -> None:
    from docx.shared import Pt

    for mark, shown, text in (
        ("¹", suppressed, suppressed_footnote(k)),
        ("²", band, band_footnote()),
    ):
        if shown:
            paragraph = document.add_paragraph()
            run = paragraph.add_run(f"{mark} {text}")
            run.font.size = Pt(8.5)


def _word_table(
    document: Any, caption: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """A Word table with a caption, a header row repeated on each page, rows kept whole."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement

    document.add_paragraph(caption, style="Caption")
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(str(text)).bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = str(text)
    for index, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        keep = OxmlElement("w:cantSplit")
        properties.append(keep)
        if index == 0:
            repeat = OxmlElement("w:tblHeader")
            properties.append(repeat)
    for row in table.rows[1:]:
        for cell in row.cells[1:]:
            for paragraph in cell.paragraphs:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT  # figures line up


def _set_language(style: Any, code: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = style.element.get_or_add_rPr()
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), code)
    properties.append(language)
