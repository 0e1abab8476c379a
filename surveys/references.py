"""Reference figures: published national or union figures to set beside a survey's own.

A template may have a data file beside it, ``<template>.references.toml``
(see ``staff_threats.references.toml``), that a municipality can edit. Each
figure names its indicator, population, year, period and source, and says
whether it is comparable with the survey's own indicator. The report shows
them beside the local figure, never mixed into it.

Standard library only.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surveys.definition import TEMPLATE_DIR, Text


class ReferenceFileError(ValueError):
    """A reference file that cannot be used: the message names the file and the entry."""


@dataclass(frozen=True)
class Reference:
    """One published figure to compare with a headline indicator."""

    indicator: str
    value: int
    year: int
    population: Text
    source: str
    period: Text | None = None
    approximate: bool = False
    comparable: bool = True
    note: Text | None = None
    url: str = ""
    checked: dt.date | None = None

    def to_data(self, lang: str) -> dict[str, Any]:
        """The figure as plain data in ``lang``, to be frozen into a published report."""
        return {
            "indicator": self.indicator,
            "value": self.value,
            "approximate": self.approximate,
            "year": self.year,
            "population": self.population.get(lang),
            "period": self.period.get(lang) if self.period else None,
            "comparable": self.comparable,
            "note": self.note.get(lang) if self.note else None,
            "source": self.source,
            "url": self.url,
            "checked": self.checked.isoformat() if self.checked else None,
        }


def references_path(template: str, directory: Path = TEMPLATE_DIR) -> Path:
    return directory / f"{template}.references.toml"


def load_references(template: str, directory: Path = TEMPLATE_DIR) -> tuple[Reference, ...]:
    """The reference figures of ``template``; none when it has no reference file."""
    path = references_path(template, directory)
    if not path.is_file():
        return ()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceFileError(f"{path.name}: {exc}") from exc
    entries = data.get("reference") or []
    if not isinstance(entries, list):
        raise ReferenceFileError(f"{path.name}: [[reference]] must be a list of tables")
    return tuple(
        _reference(entry, f"{path.name}, reference {i}") for i, entry in enumerate(entries, 1)
    )


def _reference(entry: Any, where: str) -> Reference:
    if not isinstance(entry, Mapping):
        raise ReferenceFileError(f"{where}: not a table")
    unknown = set(entry) - {
        "indicator",
        "value",
        "approximate",
        "year",
        "population",
        "period",
        "comparable",
        "note",
        "source",
        "url",
        "checked",
    }
    if unknown:
        raise ReferenceFileError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    value = entry.get("value")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ReferenceFileError(f"{where}: value must be a whole percentage from 0 to 100")
    year = entry.get("year")
    if not isinstance(year, int) or not 1900 <= year <= 2100:
        raise ReferenceFileError(f"{where}: year must be a year such as 2024")
    for key in ("indicator", "source"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ReferenceFileError(f"{where}: {key} is required")
    checked = entry.get("checked")
    if checked is not None and not isinstance(checked, dt.date):
        raise ReferenceFileError(f"{where}: checked must be a date such as 2026-11-20")
    comparable = entry.get("comparable", True)
    if not isinstance(comparable, bool):
        raise ReferenceFileError(f"{where}: comparable must be true or false")
    if comparable and checked is None:
        # A figure no one has read in its source is never shown as comparable.
        raise ReferenceFileError(
            f"{where}: a figure without a checked date is not verified: "
            "set comparable = false and say so in the note, or check it and add the date"
        )
    population = _text(entry.get("population"), f"{where}: population", required=True)
    if population is None:  # required=True returns a Text or raises
        raise ReferenceFileError(f"{where}: population is required")
    return Reference(
        indicator=entry["indicator"],
        value=value,
        year=year,
        population=population,
        source=entry["source"].strip(),
        period=_text(entry.get("period"), f"{where}: period"),
        approximate=bool(entry.get("approximate", False)),
        comparable=comparable,
        note=_text(entry.get("note"), f"{where}: note"),
        url=str(entry.get("url") or ""),
        checked=checked,
    )


def _text(value: Any, where: str, *, required: bool = False) -> Text | None:
    if value is None and not required:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(value.get(lang), str) and value[lang].strip() for lang in ("sv", "en")
    ):
        raise ReferenceFileError(f"{where} needs both sv and en texts")
    return Text(value["sv"].strip(), value["en"].strip())
