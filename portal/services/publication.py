"""What HR publishes: the frozen report snapshot, and the comments as HR sees them.

The snapshot holds only what passed disclosure control (the report object of
the results engine, as plain data), the comments HR chose, the comparison HR
chose (the earlier survey's published figures, copied) and the template's
reference figures, so the board's report survives the purge of the raw
responses and never changes after publication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portal import store
from portal.reports import results
from portal.services import lifecycle, monitoring
from portal.store.models import Status, Survey
from surveys import N_
from surveys.redact import redact, same_comment
from surveys.references import ReferenceFileError, load_references

LANGUAGES = ("sv", "en")
# ``compare_with`` values: the latest earlier survey (the default), or no comparison.
LATEST = None
NO_COMPARISON = ""


@dataclass(frozen=True)
class ShownComment:
    """A comment as HR sees it: redacted, with its question and nothing else.

    Identical comments (case and spacing aside) are shown once: ``id`` is the
    first of them, the one chosen for the report, and ``count`` says how many
    wrote it. ``masked`` is HR's masked version for the report, if any.
    """

    id: str
    text: str
    selected: bool
    count: int = 1
    masked: str | None = None

    @property
    def published(self) -> str:
        """The text as it would go into the report."""
        return self.masked or self.text


@dataclass(frozen=True)
class CommentGroup:
    """The comments answering one free-text question."""

    question: str
    label: str
    comments: tuple[ShownComment, ...]


def comment_groups(survey: Survey, lang: str) -> list[CommentGroup]:
    """The survey's comments per question in page order, each group in random order.

    Comment ids are random UUIDs and the rows are read in id order, so the
    order is shuffled and unrelated to when anyone answered; it stays the
    same between visits, so HR can work through a long list.
    """
    definition = survey.definition()
    grouped: dict[str, dict[str, ShownComment]] = {}
    for comment, selected, masked in store.survey_comments(survey):
        text = redact(comment.text)
        shown = grouped.setdefault(comment.question, {})
        key = same_comment(text)
        if key in shown:
            first = shown[key]
            # The group is chosen (and masked) as its chosen member, if any.
            lead = (comment.id, selected, masked) if selected and not first.selected else None
            shown[key] = ShownComment(
                lead[0] if lead else first.id,
                first.text,
                first.selected or selected,
                first.count + 1,
                lead[2] if lead else first.masked,
            )
        else:
            shown[key] = ShownComment(comment.id, text, selected, 1, masked)
    by_question = {q: list(c.values()) for q, c in grouped.items()}
    groups = []
    for item in definition.items():
        if item.key in by_question:
            groups.append(CommentGroup(item.key, item.label(lang), tuple(by_question[item.key])))
    return groups


RESULTS_AFTER_CLOSE = N_(
    "Results are shown only after the survey has closed: there are no interim results, so "
    "that nobody can work out individual answers by comparing figures over time."
)


def results_view(survey: Survey, lang: str, invited: int | None = None) -> dict[str, Any]:
    """What the results preview shows: snapshot data (``{"report": …, …}``) in ``lang``.

    A published survey shows its frozen snapshot (which survives the purge);
    a closed one the report as it would be published now, with the comments
    chosen so far and the default comparison. Refused before the survey has
    closed (rule D2).
    """
    if survey.status == Status.PUBLISHED:
        text = store.report_snapshot(survey, lang)
        if text is not None:
            return json.loads(text)
    if survey.awaiting_key:
        raise lifecycle.LifecycleError(lifecycle.ANSWERS_SEALED)
    if not survey.has_results:
        raise lifecycle.LifecycleError(RESULTS_AFTER_CLOSE)
    return json.loads(_snapshot(survey, lang, resolve_comparison(survey, LATEST), invited))


# -- the comparison ------------------------------------------------------------------------------

NOT_A_CHOICE = N_(
    "Choose one of the earlier published surveys of the same template, or no comparison."
)


def comparison_choices(survey: Survey) -> list[Survey]:
    """The surveys HR may compare the report with, latest first (the first is the default)."""
    return store.comparable_surveys(survey)


def resolve_comparison(survey: Survey, choice: str | None) -> Survey | None:
    """The survey to compare with: ``LATEST`` (None), ``NO_COMPARISON`` (""), or a slug.

    Raises LifecycleError for a slug that is not among ``comparison_choices``.
    """
    choices = comparison_choices(survey)
    if choice is LATEST:
        return choices[0] if choices else None
    if choice == NO_COMPARISON:
        return None
    for candidate in choices:
        if candidate.slug == choice:
            return candidate
    raise lifecycle.LifecycleError(NOT_A_CHOICE)


def comparison_label(earlier: Survey, survey: Survey, lang: str) -> str:
    """How the columns name the earlier survey: its year, or its title when the years match."""
    year, other_year = _year(earlier), _year(survey)
    if year and other_year and year != other_year:
        return str(year)
    return earlier.title(lang)


def _year(survey: Survey) -> int | None:
    day = survey.closed_on or survey.closes_on or survey.published_on
    return day.year if day else None


def _comparison(earlier: Survey | None, survey: Survey, lang: str) -> dict[str, Any] | None:
    """The earlier survey's published figures, copied into the snapshot (frozen)."""
    if earlier is None:
        return None
    text = store.report_snapshot(earlier, lang)
    if text is None:
        return None
    report = json.loads(text).get("report") or {}
    return {
        "slug": earlier.slug,
        "title": earlier.title(lang),
        "label": comparison_label(earlier, survey, lang),
        # Only its own figures: a comparison never carries the earlier report's comparison.
        "report": {
            key: report.get(key)
            for key in ("survey", "respondents", "breakdowns", "indicators", "questions")
        },
    }


# -- the snapshot --------------------------------------------------------------------------------

BAD_REFERENCES = N_(
    "The reference figures of this template cannot be read (%(error)s). Correct the file "
    "beside the template, or remove it, and publish again."
)


def report_snapshots(survey: Survey, compare_with: str | None = LATEST) -> dict[str, str]:
    """The published report in each language, with the comparison HR chose and references.

    ``compare_with`` is a slug of ``comparison_choices``, ``LATEST`` or ``NO_COMPARISON``.
    """
    earlier = resolve_comparison(survey, compare_with)
    return {lang: _snapshot(survey, lang, earlier) for lang in LANGUAGES}


def _snapshot(survey: Survey, lang: str, earlier: Survey | None, invited: int | None = None) -> str:
    report = results.survey_report(survey, invited=invited or monitoring.total_invited(survey))
    definition = survey.definition()
    comments = [
        (_label(definition, c.question, lang), getattr(c, "masked", None) or redact(c.text))
        for c in store.selected_comments(survey)
    ]
    data = results.to_json_data(report, lang, survey=survey)
    indicators = {t["key"] for t in data["indicators"]}
    try:
        references = [
            r.to_data(lang) for r in load_references(survey.template) if r.indicator in indicators
        ]
    except ReferenceFileError as exc:
        raise lifecycle.LifecycleError(BAD_REFERENCES, error=str(exc)) from exc
    return lifecycle.snapshot_json(data, comments, _comparison(earlier, survey, lang), references)


def _label(definition, key: str, lang: str) -> str:
    item = definition.item(key)
    return item.label(lang) if item else key
