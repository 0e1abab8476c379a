"""A district's slice of a city-wide survey's one published report.

A city-wide survey has ONE disclosure-controlled report. The district is one more
breakdown of it (``surveys.definition.unit_districts`` gives each unit's district), so
that all staff, the table by district and the table by unit are one linked system for
the disclosure engine, which is told which district each unit group lies in
(``Report.nesting``). A district's board and HR see a slice of that snapshot: the rows
of their district and of its units (a merged group of small units too: recoding merges
units only inside their district, ``surveys.report.recode``), and nothing else. Nothing
is recomputed or protected again, so no figure can appear here that was not published
in the city's report, and a figure hidden there stays hidden here. A district merged
with another small district (recoding of the districts) has no row of its own, so its
slice has no district row and no district summary.

What the slice leaves out: the all-staff figures and the breakdowns by role, years
and period (they describe the whole city), the comparison with an earlier survey
(city-wide figures), the comments HR selected (written by anyone in the city) and
the city report's notes (the number invited and the like). When the report has a
district breakdown, the district's row becomes the slice's "all" row, so its
summary and headline indicators are the district's.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from surveys.report import ALL, TABLE_PARTS

DISTRICT, UNIT = "district", "unit"
SLICED_BREAKDOWNS = (DISTRICT, UNIT)


def district_slice(
    data: Mapping[str, Any], keys: Collection[str], district_label: str = ""
) -> dict[str, Any]:
    """Snapshot data (``{"report": …}``) cut down to the groups in ``keys``.

    ``keys`` are the portal-unique keys of the district and units the reader may
    see. ``district_label`` names them on the page ("the slice of …").
    """
    report = copy.deepcopy(dict(data.get("report") or {}))
    keys = set(keys)
    own_district = _own_district(report, keys)
    tables = _tables(report)
    for table in tables:
        breakdowns = table.get("breakdowns") or {}
        kept: dict[str, Any] = {}
        if own_district is not None:
            row = next(
                (r for r in breakdowns.get(DISTRICT) or () if r.get("group") == own_district),
                None,
            )
            if row is not None:
                kept[ALL] = [{**row, "group": ALL}]
        for breakdown in SLICED_BREAKDOWNS:
            rows = [r for r in breakdowns.get(breakdown) or () if _within(r.get("group"), keys)]
            if rows:
                kept[breakdown] = rows
        table["breakdowns"] = kept
    for part in TABLE_PARTS:
        report[part] = [t for t in report.get(part) or () if t["breakdowns"]]
    present = {b for t in tables for b in t["breakdowns"]}
    labels = dict(report.get("breakdowns") or {})
    report["breakdowns"] = {b: labels.get(b, b) for b in (ALL, *SLICED_BREAKDOWNS) if b in present}
    if ALL in report["breakdowns"] and district_label:
        report["breakdowns"][ALL] = district_label
    report["respondents"] = _district_respondents(report, data, own_district)
    report["invited"] = None
    report["response_rate"] = None
    # The city report's notes describe the city (the number invited, which of its
    # breakdowns hide figures); the slice's method note (k and the band rule) stays.
    report["notes"] = []
    return {
        "report": report,
        "references": list(data.get("references") or ()),
        "scope": district_label,
    }


def _within(group: Any, keys: Collection[str]) -> bool:
    """Whether a published group lies wholly among ``keys``: one of them, or a merged group
    ("n4+n5") of only them."""
    if not isinstance(group, str) or not group:
        return False
    return group in keys or all(member in keys for member in group.split("+"))


def _tables(report: Mapping[str, Any]) -> list[Any]:
    """Every table of the report's data, headline indicators, questions and key figures."""
    return [t for part in TABLE_PARTS for t in report.get(part) or ()]


def _own_district(report: Mapping[str, Any], keys: set[str]) -> str | None:
    """The one district among ``keys``: from the district breakdown's rows, else from the
    options of the district question; None when there is not exactly one."""
    tables = _tables(report)
    found = {
        row.get("group")
        for table in tables
        for row in (table.get("breakdowns") or {}).get(DISTRICT) or ()
        if row.get("group") in keys
    }
    if not found:
        found = {
            option.get("key")
            for table in report.get("questions") or ()
            if table.get("key") == DISTRICT
            for row in (table.get("breakdowns") or {}).get(ALL) or ()
            for option in row.get("options") or ()
            if option.get("key") in keys
        }
    return found.pop() if len(found) == 1 else None


def _district_respondents(
    report: Mapping[str, Any], data: Mapping[str, Any], district: str | None
) -> int | None:
    """The district's respondents as the city's report published them (the district
    question's cell), or None when they are not published exactly."""
    if district is None:
        return None
    original = data.get("report") or {}
    for table in original.get("questions") or ():
        if table.get("key") != DISTRICT:
            continue
        for row in (table.get("breakdowns") or {}).get(ALL) or ():
            for option in row.get("options") or ():
                if option.get("key") == district and isinstance(option.get("count"), int):
                    return option["count"]
    return None
