"""Writing respondent rows: responses, their answers and comments, in one prepared statement each.

Used by the mixer (``portal.store.inbox``), which moves sealed submissions
into these tables in shuffled batches, and by the bulk path of demo data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import Model

from portal.extensions import db
from portal.store.models import Answer, Comment, Response, Survey
from surveys.answers import Answers
from surveys.definition import Definition
from surveys.periods import half_year


def insert_responses(
    survey: Survey, definition: Definition, batch: Sequence[tuple[Answers, str | None]]
) -> None:
    """Insert responses with their answers and comments; the caller holds the transaction.

    The one writing path of real submissions (through the mixer) and of bulk
    (demo) data, so both store exactly the same rows. An exit response's
    period is stored as its half-year, whatever finer date the caller had.
    """
    responses: list[tuple[Any, ...]] = []
    answer_rows: list[tuple[Any, ...]] = []
    comments: list[tuple[Any, ...]] = []
    for answers, when in batch:
        period = half_year(when) if when else None
        response_id = str(uuid.uuid4())
        responses.append((response_id, survey.id, period))
        answer_rows.extend(_answer_rows(survey, definition, answers, response_id, period))
        comments.extend(
            (str(uuid.uuid4()), survey.id, key, text) for key, text in answers.texts.items()
        )
    insert_rows(Response, (Response.id, Response.survey, Response.period), responses)
    insert_rows(Answer, ANSWER_FIELDS, answer_rows)
    insert_rows(Comment, (Comment.id, Comment.survey, Comment.question, Comment.text), comments)


def insert_rows(model: type[Model], fields: Sequence[Any], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (tuples in the order of ``fields``) with one prepared statement.

    peewee builds the statement once, in the database's parameter style;
    ``executemany`` then binds every row without building SQL per value, which
    is what makes 100 000 responses a matter of seconds.
    """
    if not rows:
        return
    declared = [f.name for f in model._meta.sorted_fields]
    if sorted(declared.index(f.name) for f in fields) != [declared.index(f.name) for f in fields]:
        raise ValueError("fields must be given in the model's declaration order")
    # Sorted by primary key (random UUIDs): rows land next to each other in the
    # B-tree, in an order that owes nothing to the order of submission, and the
    # comments of a batch in an order independent of that of its responses.
    rows.sort()
    sql, _ = model.insert({field: None for field in fields}).sql()
    cursor = db.cursor()
    cursor.executemany(sql, rows)


# In the models' declaration order, which is the column order of peewee's INSERT.
ANSWER_FIELDS = (
    Answer.response,
    Answer.survey,
    Answer.question,
    Answer.value,
    Answer.role,
    Answer.unit,
    Answer.years,
    Answer.period,
    Answer.district,
)


def _answer_rows(
    survey: Survey,
    definition: Definition,
    answers: Answers,
    response_id: str,
    period: str | None,
) -> Iterable[tuple[Any, ...]]:
    """The answer rows of one response, in the order of ``ANSWER_FIELDS``."""
    dims = answers.dimension_values(definition)
    groups = (dims.get("role"), dims.get("unit"), dims.get("years"), period, dims.get("district"))
    for key, values in answers.choices.items():
        for value in values:
            yield (response_id, survey.id, key, value, *groups)
    for key, number in answers.numbers.items():
        yield (response_id, survey.id, key, str(number), *groups)
