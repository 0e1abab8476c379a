"""Validate a submitted form against a survey definition.

The form arrives as plain data (field name → list of submitted strings), so
this module knows nothing of HTTP. Field names are the item keys of the
definition. Answers to questions whose condition is not met are dropped, as if
they had never been sent: without JavaScript every question is on the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from surveys import N_
from surveys.definition import PREFER_NOT, Definition, Item, Text, iter_visible
from surveys.redact import clean_text

# Longer than any option key or number, shorter than anything worth parsing.
_MAX_CHOICE_LENGTH = 64


@dataclass(frozen=True)
class FieldError:
    """A problem with one item; ``message`` is a msgid with %(name)s parameters."""

    item: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


class InvalidAnswers(ValueError):
    """The form has errors; ``errors`` lists them in page order."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__(f"{len(self.errors)} invalid answer(s)")


@dataclass(frozen=True)
class Answers:
    """Clean answers, ready to store."""

    choices: Mapping[str, tuple[str, ...]]
    numbers: Mapping[str, int]
    texts: Mapping[str, str]

    def dimension_values(self, definition: Definition) -> dict[str, str | None]:
        """The option chosen for each breakdown dimension (role, unit, years), or None."""
        result: dict[str, str | None] = {}
        for question in definition.dimensions():
            chosen = self.choices.get(question.key)
            result[question.dimension] = chosen[0] if chosen else None  # type: ignore[index]
        return result


def raw_values(form: Mapping[str, Sequence[str]], definition: Definition) -> dict[str, Any]:
    """The submitted values of every item, as typed, to show the form again.

    Single values become a string and multiple-choice values a list; unknown
    fields are left out.
    """
    values: dict[str, Any] = {}
    for item in definition.items():
        submitted = [v for v in form.get(item.key, ()) if isinstance(v, str)]
        if item.kind == "multiple":
            values[item.key] = submitted
        elif submitted:
            values[item.key] = submitted[0]
    return values


def validate(definition: Definition, form: Mapping[str, Sequence[str]]) -> Answers:
    """Return the clean answers in ``form``, or raise InvalidAnswers listing every problem."""
    errors: list[FieldError] = []
    choices: dict[str, tuple[str, ...]] = {}
    numbers: dict[str, int] = {}
    texts: dict[str, str] = {}
    # Conditions are evaluated on the valid choices made so far, in page order.
    for question in iter_visible(definition, choices):
        for item in question.items:
            submitted = [v.strip() for v in form.get(item.key, ()) if isinstance(v, str)]
            submitted = [v for v in submitted if v]
            if not submitted:
                if question.required:
                    errors.append(_required(item))
                continue
            try:
                if item.kind == "single":
                    choices[item.key] = (_single(item, submitted),)
                elif item.kind == "multiple":
                    choices[item.key] = _multiple(item, submitted)
                elif item.kind == "number":
                    numbers[item.key] = _number(item, submitted)
                else:
                    text = _text(item, submitted)
                    if text:
                        texts[item.key] = text
                    elif question.required:
                        errors.append(_required(item))
            except _Invalid as exc:
                errors.append(FieldError(item.key, exc.message, exc.params))
    errors.extend(_district_mismatch(definition, choices))
    if errors:
        raise InvalidAnswers(errors)
    return Answers(choices, numbers, texts)


def _district_mismatch(
    definition: Definition, choices: Mapping[str, tuple[str, ...]]
) -> list[FieldError]:
    """A city-wide survey: the unit chosen must belong to the district chosen (either may be
    "prefer not to say")."""
    by_dimension = {q.dimension: q for q in definition.dimensions()}
    district, unit = by_dimension.get("district"), by_dimension.get("unit")
    if district is None or unit is None:
        return []
    chosen_district = (choices.get(district.key) or (None,))[0]
    chosen_unit = unit.option((choices.get(unit.key) or ("",))[0])
    if chosen_unit is None or chosen_unit.prefer_not or chosen_district in (None, PREFER_NOT):
        return []
    if chosen_unit.parent == chosen_district:
        return []
    return [
        FieldError(
            unit.key,
            N_("The unit you chose is not in the district you chose. Choose one of its units."),
        )
    ]


class _Invalid(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


CHOOSE_ONE = N_("Choose one of the options.")
CHOOSE_IN_ROWS = N_("Choose one of the options in each of these rows:")


def _required(item: Item) -> FieldError:
    if item.kind == "multiple":
        return FieldError(item.key, N_("Choose at least one option."))
    if item.kind in ("number", "text"):
        return FieldError(item.key, N_("Please answer this question."))
    return FieldError(item.key, CHOOSE_ONE)


@dataclass(frozen=True)
class SummaryLine:
    """One line of a form's error summary: what is wrong, where (``item``), under which label.

    ``rows`` lists the matrix rows (item key, row label) a line stands for, if several.
    """

    item: str
    label: Text
    error: FieldError
    rows: tuple[tuple[str, Text], ...] = ()


def error_summary(definition: Definition, errors: Sequence[FieldError]) -> list[SummaryLine]:
    """The lines of the error summary, in page order.

    Rows of a matrix left unanswered together make one line under the
    question's text, listing the rows, instead of repeating the question for
    every row; each row keeps its own message beside it in the form. Any other
    error has a line of its own.
    """
    lines: list[SummaryLine] = []
    rows: list[Item] = []

    def flush() -> None:
        if len(rows) == 1:
            lines.append(_line(rows[0], FieldError(rows[0].key, CHOOSE_ONE)))
        elif rows:
            first = rows[0]
            listed = tuple((r.key, r.row.label) for r in rows if r.row is not None)
            error = FieldError(first.key, CHOOSE_IN_ROWS)
            lines.append(SummaryLine(first.key, first.question.text, error, listed))
        rows.clear()

    for error in errors:
        item = definition.item(error.item)
        if item is None:
            continue
        if item.row is not None and error.message == CHOOSE_ONE and not error.params:
            if rows and rows[0].question is not item.question:
                flush()
            rows.append(item)
            continue
        flush()
        lines.append(_line(item, error))
    flush()
    return lines


def _line(item: Item, error: FieldError) -> SummaryLine:
    return SummaryLine(item.key, Text(item.label("sv"), item.label("en")), error)


def _single(item: Item, submitted: list[str]) -> str:
    if len(submitted) > 1:
        raise _Invalid(N_("Choose only one option."))
    (value,) = submitted
    if len(value) > _MAX_CHOICE_LENGTH or item.question.option(value) is None:
        raise _Invalid(N_("The answer is not one of the options. Choose one of those shown."))
    return value


def _multiple(item: Item, submitted: list[str]) -> tuple[str, ...]:
    if len(set(submitted)) != len(submitted):
        raise _Invalid(N_("An option was sent twice. Check your choices and send again."))
    keys = {o.key for o in item.options}
    if any(len(v) > _MAX_CHOICE_LENGTH or v not in keys for v in submitted):
        raise _Invalid(N_("The answer is not one of the options. Choose one of those shown."))
    exclusive = [o for o in item.options if o.exclusive and o.key in submitted]
    if exclusive and len(submitted) > 1:
        raise _Invalid(
            N_("“%(option)s” cannot be combined with other options."),
            option=exclusive[0].label,
        )
    maximum = item.question.max_choices
    if maximum is not None and len(submitted) > maximum:
        raise _Invalid(N_("Choose at most %(max)d options."), max=maximum)
    # Store in the definition's order, whatever order the browser sent.
    return tuple(o.key for o in item.options if o.key in submitted)


def _number(item: Item, submitted: list[str]) -> int:
    if len(submitted) > 1:
        raise _Invalid(N_("Give only one number."))
    text = submitted[0].replace(" ", "").replace("\u00a0", "").replace("\u2212", "-")
    if len(text) > 12 or not text.lstrip("-").isdigit():
        raise _Invalid(N_("Write a whole number, for example 12."))
    value = int(text)
    low, high = item.question.min, item.question.max
    if (low is not None and value < low) or (high is not None and value > high):
        raise _Invalid(N_("Give a number from %(min)d to %(max)d."), min=low, max=high)
    return value


def _text(item: Item, submitted: list[str]) -> str:
    if len(submitted) > 1:
        raise _Invalid(N_("The answer was sent twice. Send the form again."))
    limit = item.question.max_length
    text = clean_text(submitted[0], limit)
    # Length is checked on what the respondent typed, before redaction changes it.
    typed = len(submitted[0])
    if typed > limit:
        raise _Invalid(
            N_("Your answer has %(length)d characters; the limit is %(max)d. Please shorten it."),
            length=typed,
            max=limit,
        )
    return text
