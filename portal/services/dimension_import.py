"""Import a survey's units and roles, with the numbers invited, from a CSV or XLSX file.

The file has one header row and one row per unit or role; column names are
case-insensitive and may be in English or Swedish:

============  =========  =====================================================
column        Swedish    content
============  =========  =====================================================
``type``      ``typ``    ``unit`` / ``enhet`` or ``role`` / ``roll``
``name_sv``   ``namn``   the name in Swedish (required)
``name_en``   ``namn_en`` the name in English (optional; the Swedish one is used)
``invited``   ``antal``  the number of people invited (optional, a whole number)
============  =========  =====================================================

CSV files may be separated by commas, semicolons (Excel in Swedish) or tabs,
in UTF-8 (with or without BOM) or Windows-1252. Every row is checked before
anything is saved: the caller gets either the whole list or every problem with
its line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portal.services.lifecycle import MAX_INVITED, UnitSetting
from surveys import N_
from surveys.customise import MAX_ROLES, Role

MAX_ROWS = 500
MAX_NAME = 200
COLUMNS = {
    "type": "type",
    "typ": "type",
    "name_sv": "name_sv",
    "namn": "name_sv",
    "namn_sv": "name_sv",
    "name_en": "name_en",
    "namn_en": "name_en",
    "invited": "invited",
    "antal": "invited",
    "inbjudna": "invited",
}
TYPES = {"unit": "unit", "enhet": "unit", "role": "role", "roll": "role"}


@dataclass(frozen=True)
class RowError:
    """A problem on one line of the file (``line`` 0: the file as a whole)."""

    line: int
    message: str
    params: dict[str, Any]


class ImportFileError(ValueError):
    """The file cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors: Iterable[RowError]) -> None:
        self.errors = tuple(errors)
        super().__init__(f"{len(self.errors)} problem(s) in the file")


@dataclass(frozen=True)
class Dimensions:
    """The units and roles read from a file (an empty tuple: none listed)."""

    units: tuple[UnitSetting, ...]
    roles: tuple[Role, ...]


def read_file(filename: str, raw: bytes) -> Dimensions:
    """Read and check a whole CSV or XLSX file; raises ImportFileError listing every problem."""
    return parse_rows(file_rows(filename, raw))


def file_rows(filename: str, raw: bytes) -> list[tuple[int, list[str]]]:
    """The rows (line number, cells) of an uploaded CSV or XLSX file, by its name."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return xlsx_rows(raw)
    if name.endswith((".csv", ".txt")):
        return csv_rows(raw)
    raise ImportFileError([RowError(0, N_("Upload a CSV or XLSX file."), {})])


def table_rows(
    rows: list[tuple[int, list[str]]], columns: dict[str, str], missing_message: str
) -> list[tuple[int, dict[str, str]]]:
    """The body of a file with a header row: (line number, {column: value}) per non-empty row.

    ``columns`` maps the header names a file may use to column keys; ``type`` and
    ``name_sv`` are required (``missing_message`` names every column when one is not).
    """
    rows = [(line, cells) for line, cells in rows if any(c.strip() for c in cells)]
    if not rows:
        raise ImportFileError([RowError(0, N_("The file is empty."), {})])
    header_line, header = rows[0]
    named = [columns.get(h.strip().lower()) for h in header]
    missing = [c for c in ("type", "name_sv") if c not in named]
    if missing:
        raise ImportFileError(
            [RowError(header_line, missing_message, {"columns": ", ".join(missing)})]
        )
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(
            [RowError(0, N_("At most %(max)d rows can be imported."), {"max": MAX_ROWS})]
        )
    return [
        (line, {c: cells[i].strip() for i, c in enumerate(named) if c and i < len(cells)})
        for line, cells in rows[1:]
    ]


def csv_rows(raw: bytes) -> list[tuple[int, list[str]]]:
    """The rows (line number, cells) of a CSV file in UTF-8 or Windows-1252, any separator."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(";,\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error:
        raise ImportFileError(
            [RowError(reader.line_num, N_("The line cannot be read as CSV."), {})]
        ) from None


def xlsx_rows(raw: bytes) -> list[tuple[int, list[str]]]:
    """The rows (line number, cells) of the first sheet of an XLSX workbook."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ImportFileError(
            [RowError(0, N_("The file cannot be read as an XLSX workbook."), {})]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            if number > MAX_ROWS + 1:
                rows.append((number, ["…"]))
                break
            rows.append((number, [_cell(v) for v in row]))
        return rows
    finally:
        workbook.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_rows(rows: list[tuple[int, list[str]]]) -> Dimensions:
    """Check the rows (line number, cells) of a file with a header row."""
    body = table_rows(
        rows,
        COLUMNS,
        N_(
            "The first row must name the columns; %(columns)s is missing. "
            "The columns are type, name_sv, name_en and invited."
        ),
    )
    errors: list[RowError] = []
    units: list[UnitSetting] = []
    roles: list[Role] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, values in body:
        kind = TYPES.get(values.get("type", "").lower())
        name_sv, name_en = values.get("name_sv", ""), values.get("name_en", "")
        invited_text = values.get("invited", "")
        problems = []
        if kind is None:
            problems.append(N_("The type must be unit or role (enhet or roll)."))
        if not name_sv:
            problems.append(N_("The Swedish name is missing."))
        if len(name_sv) > MAX_NAME or len(name_en) > MAX_NAME:
            problems.append(N_("A name is longer than 200 characters."))
        invited = None
        if invited_text:
            if invited_text.isdigit() and 1 <= int(invited_text) <= MAX_INVITED:
                invited = int(invited_text)
            else:
                problems.append(N_("The number invited must be a positive whole number."))
        for lang, name in (("sv", name_sv), ("en", name_en or name_sv)):
            earlier = seen.setdefault((kind or "", lang, name.casefold()), line)
            if kind and name and earlier != line:
                errors.append(
                    RowError(line, N_("The same name is on line %(line)d."), {"line": earlier})
                )
                break
        errors.extend(RowError(line, p, {}) for p in problems)
        if problems:
            continue
        if kind == "unit":
            units.append(UnitSetting(name_sv, name_en, invited))
        else:
            roles.append(Role(None, name_sv, name_en, invited))
    if len(roles) > MAX_ROLES:
        errors.append(RowError(0, N_("At most %(max)d roles."), {"max": MAX_ROLES}))
    if errors:
        raise ImportFileError(errors)
    if not units and not roles:
        raise ImportFileError([RowError(0, N_("The file lists no units or roles."), {})])
    return Dimensions(tuple(units), tuple(roles))
