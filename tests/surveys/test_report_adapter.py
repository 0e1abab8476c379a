"""How the report reads a band given as a pair or as text."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from surveys.report import _band


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
