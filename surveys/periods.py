"""Reporting periods of the exit questionnaire: half-years, pooled until they reach k.

An exit response keeps its reporting half-year only ("2025-H2"; rows from
before schema version 5 kept the month, which the migration turned into its
half-year; a month is still understood here). Reports pool each half-year
with the next until the pool has at least k respondents (rule D3,
``surveys.disclosure.pool_periods``). A last pool still below k is
*pending*: it waits for the next half-year, and the report shows it only as
a group below k.

Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from surveys.definition import Text
from surveys.disclosure import pool_periods

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_HALF_YEAR = re.compile(r"^\d{4}-H[12]$")
_MONTHS_SV = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Period:
    """One reporting period: a half-year, or consecutive half-years pooled together.

    ``key`` names it in exports ("2025-H1", or "2025-H2_2026-H1" when pooled);
    ``span`` is the months it covers ("jan–jun 2025"); ``label`` adds whether
    it is pooled or pending.
    """

    key: str
    span: Text
    label: Text
    half_years: tuple[str, ...]
    respondents: int
    pooled: bool
    pending: bool


@dataclass(frozen=True)
class Periods:
    """The periods of a report in time order, and the period of each month."""

    periods: tuple[Period, ...]
    of_month: Mapping[str, str]

    @property
    def pending(self) -> Period | None:
        """The last period, when it is still below k."""
        return self.periods[-1] if self.periods and self.periods[-1].pending else None

    @property
    def any_pooled(self) -> bool:
        return any(p.pooled for p in self.periods)


def half_year(month: str) -> str | None:
    """``"2025-07"`` → ``"2025-H2"``; a half-year stays itself; None for anything else."""
    if _HALF_YEAR.match(month or ""):
        return month
    match = _MONTH.match(month or "")
    if match is None:
        return None
    year, number = match.group(1), int(match.group(2))
    return f"{year}-H{1 if number <= 6 else 2}"


def reporting_periods(respondents_by_month: Mapping[str, int], k: int) -> Periods:
    """Half-years from the first to the last month with respondents, pooled until ≥ k.

    Half-years without respondents in between are part of the sequence, so
    that pooled periods are consecutive and their labels say what they cover.
    """
    by_half: dict[str, int] = {}
    for month, n in respondents_by_month.items():
        half = half_year(month)
        if half is not None and n > 0:
            by_half[half] = by_half.get(half, 0) + n
    if not by_half:
        return Periods((), {})
    halves = _consecutive(min(by_half), max(by_half))
    periods = []
    period_of_half = {}
    for pool in pool_periods([(h, by_half.get(h, 0)) for h in halves], k):
        period = _period(pool.labels, pool.n, pool.pending)
        periods.append(period)
        period_of_half.update(dict.fromkeys(pool.labels, period.key))
    of_month = {
        month: period_of_half[half]
        for month in respondents_by_month
        if (half := half_year(month)) in period_of_half
    }
    return Periods(tuple(periods), of_month)


def _consecutive(first: str, last: str) -> list[str]:
    """Every half-year from ``first`` to ``last`` ("2025-H2", "2026-H1", …)."""
    year, half = int(first[:4]), int(first[-1])
    halves = []
    while True:
        key = f"{year}-H{half}"
        halves.append(key)
        if key == last:
            return halves
        year, half = (year, 2) if half == 1 else (year + 1, 1)


def _period(halves: Sequence[str], respondents: int, pending: bool) -> Period:
    first, last = halves[0], halves[-1]
    key = first if len(halves) == 1 else f"{first}_{last}"
    span = Text(_span(first, last, _MONTHS_SV), _span(first, last, _MONTHS_EN))
    pooled = len(halves) > 1
    if pending:
        label = Text(f"{span.sv} (väntar på fler svar)", f"{span.en} (awaiting more responses)")
    elif pooled:
        label = Text(f"{span.sv} (sammanslagna halvår)", f"{span.en} (pooled half-years)")
    else:
        label = span
    return Period(key, span, label, tuple(halves), respondents, pooled, pending)


def _span(first: str, last: str, months: Sequence[str]) -> str:
    """ "jan–jun 2025", "jan–dec 2025" or "jul 2025–jun 2026"."""
    start_year, start = first[:4], months[0 if first.endswith("H1") else 6]
    end_year, end = last[:4], months[5 if last.endswith("H1") else 11]
    if start_year == end_year:
        return f"{start}–{end} {end_year}"
    return f"{start} {start_year}–{end} {end_year}"
