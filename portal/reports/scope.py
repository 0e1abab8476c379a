"""Which breakdowns a survey may publish: the rule against ballot stuffing (threat T4).

In link mode anyone with the link can answer as often as they like, and no
count can tell a real respondent from a made-up one. A hostile colleague who
sends many responses with known answers into one unit (or role, years or
period) and then subtracts them from that group's published figures learns
the answers of the few real people left in it — however the small-count
suppression works, because the made-up responses lift the group above k.
Limits per client only slow this down (a phone, a home connection and a
colleague's computer are three clients) and invited counts only catch
clumsy stuffing (the attacker can stop at the unit's size).

So a link-mode survey publishes figures for all respondents together, never
by role, unit, years or period: the published groups are then the whole
survey, where made-up responses can only be subtracted to leave every real
respondent together. Breakdowns need access codes, where each response has
been admitted by a single-use code HR handed to one person. HR read this on
the create-survey page.

Nor does a link-mode survey publish how many answered per role, unit or
years (those questions' own tables), and HR's page gives no response rate
per unit or role for it: made-up responses would lift a small group above k
(merging values below k, as every report does, cannot tell), and the
group's count less the known fakes would show how many real people of it
answered — in a unit of one, whether that person did (rule D4 of
shared/disclosure-control.md: per-group counts only for groups of k real
respondents, which a link cannot vouch for). The report is built without them
(``surveys.report.build(by_group=False)``), so the disclosure engine protects
only what is published.

The rule works on the counts the report is built from (no group information
enters the disclosure engine) and on the report's list of breakdowns and
tables, so it holds for HR's results page, the published snapshot and every
export alike.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from portal.store.models import Survey
from surveys import N_
from surveys.indicators import Counts
from surveys.report import GROUP_WIDTH, Note, Report

LINK_MODE_NOTE = N_(
    "This survey was answered through a shared link, which anyone who has it can use "
    "more than once. So that no one can single out a colleague by sending made-up "
    "answers into a small group, its results are published for all respondents "
    "together only, not by role, unit, years or period, and how many answered in each "
    "role, unit or years group is not published either."
)


def breakdowns_published(survey: Survey) -> bool:
    """Whether results of ``survey`` may be published by role, unit, years and period."""
    return survey.access != "link"


def whole_survey_counts(counts: Counts) -> Counts:
    """``counts`` with every group (role, unit, years, period, district) merged into one."""
    cube: dict[tuple[str, str], int] = defaultdict(int)
    for item, value, *_groups, count in counts.cube:
        cube[(item, value)] += count
    flag_sums: list[int] | None = None
    for row in counts.flag_sums:
        # A row of flag sums starts with its group (role, unit, years, period, district).
        numbers = [int(v or 0) for v in row[GROUP_WIDTH:]]
        if flag_sums is None:
            flag_sums = numbers
        else:
            flag_sums = [a + b for a, b in zip(flag_sums, numbers, strict=True)]
    return dataclasses.replace(
        counts,
        cube=[(item, value, None, None, None, None, None, n) for (item, value), n in cube.items()],
        flag_sums=[(*(None,) * GROUP_WIDTH, *flag_sums)] if flag_sums is not None else [],
    )


def whole_survey_only(report: Report) -> Report:
    """``report`` (built without groups) with a note saying why it has no breakdown."""
    return dataclasses.replace(report, notes=(*report.notes, Note(LINK_MODE_NOTE)))
