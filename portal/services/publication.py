"""What HR publishes: the frozen report snapshot, and the comments as HR sees them.

The snapshot holds only what passed disclosure control (the report object of
the results engine, as plain data) and the comments HR chose, so the board's
report survives the purge of the raw responses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portal import store
from portal.reports import results
from portal.services import lifecycle, monitoring
from portal.store.models import RESULT_STATUSES, Status, Survey
from surveys import N_
from surveys.redact import redact, same_comment

LANGUAGES = ("sv", "en")


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


def results_view(survey: Survey, lang: str) -> dict[str, Any]:
    """What the results preview shows: ``{"report": …, "comments": […]}`` in ``lang``.

    A published survey shows its frozen snapshot (which survives the purge);
    a closed one the report as it would be published now, with the comments
    chosen so far. Refused before the survey has closed (rule D2).
    """
    if survey.status == Status.PUBLISHED:
        text = store.report_snapshot(survey, lang)
        if text is not None:
            return json.loads(text)
    if survey.status not in RESULT_STATUSES or survey.purged_on is not None:
        raise lifecycle.LifecycleError(RESULTS_AFTER_CLOSE)
    return json.loads(_snapshot(survey, lang))


def report_snapshots(survey: Survey) -> dict[str, str]:
    """The published report in each language: suppressed figures and chosen comments."""
    return {lang: _snapshot(survey, lang) for lang in LANGUAGES}


def _snapshot(survey: Survey, lang: str) -> str:
    report = results.survey_report(survey, invited=monitoring.total_invited(survey))
    definition = survey.definition()
    comments = [
        (_label(definition, c.question, lang), getattr(c, "masked", None) or redact(c.text))
        for c in store.selected_comments(survey)
    ]
    return lifecycle.snapshot_json(results.to_json_data(report, lang), comments)


def _label(definition, key: str, lang: str) -> str:
    item = definition.item(key)
    return item.label(lang) if item else key
