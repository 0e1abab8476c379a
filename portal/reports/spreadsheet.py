"""Cells for files that people open in spreadsheet programs (CSV, XLSX).

A cell starting with one of ``FORMULA_STARTS`` would run as a formula in Excel
or LibreOffice; survey titles and unit names are typed by people, so every
exported cell goes through :func:`neutralise`.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell that no spreadsheet will run as a formula (a leading apostrophe)."""
    cell = "" if value is None else str(value)
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell
