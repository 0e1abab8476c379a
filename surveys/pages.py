"""The survey form in pages: one section per page, then a summary to check.

Pure functions over a definition and the raw values submitted so far (item
key → string, or list for multiple choice, as ``answers.raw_values`` gives
them). A section whose questions are all hidden by their conditions is no
page at all, so someone who was never exposed skips the follow-up pages.
Nothing here is stored: the values travel in the form itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from surveys.answers import FieldError
from surveys.definition import Definition, Item, Section, Text, iter_visible

SUMMARY = "summary"


def pages(definition: Definition, values: Mapping[str, Any]) -> list[Section]:
    """The sections that have at least one visible question for ``values``, in order."""
    visible = {q.key for q in iter_visible(definition, values)}
    return [s for s in definition.sections if any(q.key in visible for q in s.questions)]


def page_keys(definition: Definition, values: Mapping[str, Any]) -> list[str]:
    """The keys of the pages, the summary last."""
    return [s.key for s in pages(definition, values)] + [SUMMARY]


def current_page(definition: Definition, values: Mapping[str, Any], requested: str) -> str:
    """``requested`` when it is a page for these values, else the nearest page before it.

    A page that was shown may vanish when an earlier answer changes (the
    follow-up pages when exposure becomes "never"); the form then goes on from
    the page before where it was, never further than the respondent went.
    """
    keys = page_keys(definition, values)
    if requested in keys:
        return requested
    order = [s.key for s in definition.sections] + [SUMMARY]
    if requested not in order:
        return keys[0]
    position = order.index(requested)
    earlier = [k for k in keys if order.index(k) < position]
    return earlier[-1] if earlier else keys[0]


def next_page(definition: Definition, values: Mapping[str, Any], page: str) -> str:
    """The page after ``page`` (the summary after the last section)."""
    keys = page_keys(definition, values)
    page = current_page(definition, values, page)
    return keys[min(keys.index(page) + 1, len(keys) - 1)]


def previous_page(definition: Definition, values: Mapping[str, Any], page: str) -> str:
    """The page before ``page`` (the first page stays the first)."""
    keys = page_keys(definition, values)
    page = current_page(definition, values, page)
    return keys[max(keys.index(page) - 1, 0)]


def items_on(definition: Definition, page: str) -> tuple[Item, ...]:
    """The items of the section ``page`` (none on the summary)."""
    for section in definition.sections:
        if section.key == page:
            return tuple(item for q in section.questions for item in q.items)
    return ()


def errors_on(
    definition: Definition, page: str, errors: Sequence[FieldError]
) -> tuple[FieldError, ...]:
    """The errors that belong to the items of ``page``."""
    keys = {item.key for item in items_on(definition, page)}
    return tuple(e for e in errors if e.item in keys)


def first_page_with_error(
    definition: Definition, values: Mapping[str, Any], errors: Sequence[FieldError]
) -> str:
    """The first page holding one of ``errors`` (the first page if none does)."""
    keys = page_keys(definition, values)
    for key in keys:
        if errors_on(definition, key, errors):
            return key
    return keys[0]


@dataclass(frozen=True)
class SummaryAnswer:
    """One answered item on the summary page: its text and the answer as shown."""

    item: Item
    label: Text
    answers: tuple[Text | str, ...]


@dataclass(frozen=True)
class SummarySection:
    key: str
    title: Text
    answers: tuple[SummaryAnswer, ...]


def summary(definition: Definition, values: Mapping[str, Any]) -> list[SummarySection]:
    """What will be sent, page by page: visible questions only, unanswered ones as ``()``."""
    visible = {q.key for q in iter_visible(definition, values)}
    sections = []
    for section in pages(definition, values):
        lines = []
        for question in section.questions:
            if question.key not in visible:
                continue
            for item in question.items:
                lines.append(SummaryAnswer(item, _item_label(item), _shown(item, values)))
        sections.append(SummarySection(section.key, section.title, tuple(lines)))
    return sections


def exposure_section(definition: Definition) -> str | None:
    """The key of the section with the first question that other questions depend on.

    In both templates that is where staff say what they were exposed to, and
    where support contacts are shown.
    """
    parents = {q.condition.question for q in definition.questions if q.condition}
    for section in definition.sections:
        if any(q.key in parents for q in section.questions):
            return section.key
    return None


def _item_label(item: Item) -> Text:
    question = item.question
    if item.row is None:
        return question.text
    return Text(item.row.label.sv, item.row.label.en)


def _shown(item: Item, values: Mapping[str, Any]) -> tuple[Text | str, ...]:
    value = values.get(item.key)
    chosen = value if isinstance(value, list | tuple) else ([value] if value else [])
    chosen = [v for v in chosen if isinstance(v, str) and v.strip()]
    if item.kind in ("text", "number"):
        return tuple(chosen[:1])
    shown: list[Text | str] = []
    for key in chosen:
        option = item.question.option(key)
        shown.append(option.label if option else key)
    return tuple(shown)


def carried(definition: Definition, values: Mapping[str, Any], page: str) -> list[tuple[str, str]]:
    """(name, value) of every answer not on ``page``, to carry in hidden fields."""
    on_page = {item.key for item in items_on(definition, page)}
    fields = []
    for item in definition.items():
        if item.key in on_page:
            continue
        value = values.get(item.key)
        for v in value if isinstance(value, list | tuple) else [value]:
            if isinstance(v, str) and v != "":
                fields.append((item.key, v))
    return fields
