"""The adapter between the report and surveys.disclosure: what it publishes of a cell."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from surveys.report import _band, _most_protected, _value


@dataclass(frozen=True)
class FakeCell:
    count: int | None
    percent: int | None
    band: object
    reason: str | None


@dataclass(frozen=True)
class FakeGroup:
    group: str
    n: int | None
    reason: str | None
    cells: dict


@pytest.mark.parametrize(
    ("band", "expected"),
    [(None, None), (("<", 15), ("<", 15)), ("<15", ("<", 15)), (">85 %", (">", 85))],
)
def test_band_forms(band, expected):
    assert _band(band) == expected


def test_only_a_cell_without_reason_is_exact():
    assert _value("o", "l", FakeCell(4, 50, None, None)).count == 4
    hidden = _value("o", "l", FakeCell(4, 50, None, "secondary"))
    assert (hidden.count, hidden.percent, hidden.suppressed) == (None, None, True)
    banded = _value("o", "l", FakeCell(0, 0, ("<", 15), "band"))
    assert (banded.count, banded.percent, banded.band) == (None, None, ("<", 15))


def test_the_most_protected_version_of_a_shared_total_is_published():
    shown = FakeGroup("all", 20, None, {"a": FakeCell(5, 25, None, None)})
    hidden = FakeGroup("all", 20, None, {"a": FakeCell(None, None, None, "audit")})
    merged = _most_protected([shown, hidden])
    assert merged.cells["a"].count is None
    assert _most_protected([shown]) is shown
