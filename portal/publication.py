"""What HR publishes: the frozen report snapshot, and the comments as HR sees them.

The snapshot holds only what passed disclosure control (the report object of
the results engine, as plain data) and the comments HR chose, so the board's
report survives the purge of the raw responses.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal import lifecycle, monitoring, store
from portal.models import Survey
from surveys.redact import redact

LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class ShownComment:
    """A comment as HR sees it: redacted, with its question and nothing else."""

    id: str
    text: str
    selected: bool


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
    by_question: dict[str, list[ShownComment]] = {}
    for comment, selected in store.survey_comments(survey):
        by_question.setdefault(comment.question, []).append(
            ShownComment(comment.id, redact(comment.text), selected)
        )
    groups = []
    for item in definition.items():
        if item.key in by_question:
            groups.append(CommentGroup(item.key, item.label(lang), tuple(by_question[item.key])))
    return groups


def report_snapshots(survey: Survey) -> dict[str, str]:
    """The published report in each language: suppressed figures and chosen comments."""
    from portal import results

    report = results.survey_report(survey, invited=monitoring.total_invited(survey))
    definition = survey.definition()
    chosen = store.selected_comments(survey)
    snapshots = {}
    for lang in LANGUAGES:
        comments = [(_label(definition, c.question, lang), redact(c.text)) for c in chosen]
        snapshots[lang] = lifecycle.snapshot_json(results.to_json_data(report, lang), comments)
    return snapshots


def _label(definition, key: str, lang: str) -> str:
    item = definition.item(key)
    return item.label(lang) if item else key
