"""What HR may see of participation (rule D4 of shared/disclosure-control.md).

While a survey is open: the total number of responses only, and the overall
response rate when the number invited is known. After it closes: response
rates per published group of units (and roles), as the report publishes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal import store
from portal.reports import results
from portal.store.models import Survey
from surveys.definition import Text
from surveys.report import ALL

K_TEXT = 10  # disclosure-control.md: no free text before 10 respondents, whatever k is


@dataclass(frozen=True)
class Overall:
    """The total number of responses and, when known, the number invited."""

    responses: int
    invited: int | None

    @property
    def rate(self) -> int | None:
        """The response rate in whole per cent (halves up), when the number invited is known."""
        return _percent(self.responses, self.invited)


@dataclass(frozen=True)
class UnitRate:
    """One unit's participation after close; ``responses`` is None when hidden."""

    key: str
    name_sv: str
    name_en: str
    invited: int | None
    responses: int | None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_sv

    @property
    def rate(self) -> int | None:
        return None if self.responses is None else _percent(self.responses, self.invited)


def _percent(part: int, whole: int | None) -> int | None:
    if not whole:
        return None
    return (200 * part + whole) // (2 * whole)


def total_invited(survey: Survey) -> int | None:
    """The sum of the units' invited counts when every unit has one, else None."""
    units = store.survey_units(survey)
    if not units or any(u.invited is None for u in units):
        return None
    return sum(u.invited for u in units if u.invited is not None)


def overall(survey: Survey) -> Overall:
    """The total responses (always allowed) and the number invited."""
    return Overall(store.response_count(survey), total_invited(survey))


def unit_rates(survey: Survey) -> list[UnitRate] | None:
    """Per-unit participation of a closed or published survey; None while it is open.

    After close, HR see what the report itself publishes of the unit question (L5 of
    shared/disclosure-control.md: these figures are part of the same protected
    system): units below k merged into named groups, a group's count only where the
    report shows it exactly. So no unit's count follows from this page and the report
    together, and "prefer not to say" is never shown here.
    """
    if not survey.has_results:
        return None
    key = store.unit_question_key(survey.definition())
    units = store.survey_units(survey)
    if key is None or not units:
        return []
    return _published_rates(
        survey, key, "unit", [(u.key, u.name_sv, u.name_en, u.invited) for u in units]
    )


def role_rates(survey: Survey) -> list[UnitRate] | None:
    """Per-role participation of a closed survey, shown only when HR entered numbers invited.

    The same rule as for units: what the report publishes of the role question.
    """
    if not survey.has_results:
        return None
    from portal.services.lifecycle import current_roles

    roles = current_roles(survey)
    question = next((q for q in survey.definition().dimensions() if q.dimension == "role"), None)
    if question is None or not any(r.invited for r in roles):
        return []
    return _published_rates(
        survey,
        question.key,
        "role",
        [(r.key or "", r.sv, r.en or r.sv, r.invited) for r in roles],
    )


def _published_rates(
    survey: Survey,
    question: str,
    breakdown: str,
    entries: list[tuple[str, str, str, int | None]],
) -> list[UnitRate]:
    """One rate per group the report publishes for ``question`` (a breakdown question)."""
    report = results.survey_report(survey)
    table = next((t for t in report.questions if t.key == question), None)
    if table is None:
        return []
    (row,) = table.breakdowns[ALL]
    cells = {c.key: c for c in row.cells}
    group_of = report.groups_of.get(breakdown, {})
    rates = []
    for cell_key, cell in cells.items():
        members = [e for e in entries if group_of.get(e[0], e[0]) == cell_key]
        if not members:
            continue
        invited = [e[3] for e in members]
        label = cell.label
        name_sv = label.sv if isinstance(label, Text) else members[0][1]
        name_en = label.en if isinstance(label, Text) else members[0][2]
        rates.append(
            UnitRate(
                cell_key,
                name_sv,
                name_en,
                None if any(i is None for i in invited) else sum(i for i in invited if i),
                cell.count,
            )
        )
    return rates


def comments_visible(survey: Survey, responses: int) -> bool:
    """Free text is shown only for a closed survey with enough respondents."""
    return survey.has_results and responses >= comment_threshold(survey)


def comment_threshold(survey: Survey) -> int:
    """The respondents needed before any comment is shown: k, and never under K_TEXT."""
    return max(survey.min_group, K_TEXT)
