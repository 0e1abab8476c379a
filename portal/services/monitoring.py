"""What HR may see of participation (rule D4 of shared/disclosure-control.md).

While a survey is open: the total number of responses only, and the overall
response rate when the number invited is known. After it closes: response
rates per unit, only for units with at least *k* respondents. Nothing here
reads an answer other than the unit a respondent chose.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal import store
from portal.store.models import RESULT_STATUSES, Survey

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

    A unit with fewer than *k* respondents is hidden. What the shown units
    leave of the total is spread over the hidden units and "prefer not to
    say" (which every unit question offers, and which is never shown here),
    so no hidden unit's count follows exactly by subtraction.
    """
    if survey.status not in RESULT_STATUSES or survey.purged_on is not None:
        return None
    key = store.unit_question_key(survey.definition())
    units = store.survey_units(survey)
    if key is None or not units:
        return []
    counts = store.unit_response_counts(survey, key)
    shown = {u.key for u in units if counts.get(u.key, 0) >= survey.min_group}
    return [
        UnitRate(
            u.key,
            u.name_sv,
            u.name_en,
            u.invited,
            counts.get(u.key, 0) if u.key in shown else None,
        )
        for u in units
    ]


def comments_visible(survey: Survey, responses: int) -> bool:
    """Free text is shown only for a closed survey with enough respondents."""
    return survey.status in RESULT_STATUSES and responses >= comment_threshold(survey)


def comment_threshold(survey: Survey) -> int:
    """The respondents needed before any comment is shown: k, and never under K_TEXT."""
    return max(survey.min_group, K_TEXT)
