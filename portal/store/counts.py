"""Aggregation for reports: grouped queries over a closed survey's answers, and the kept counts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import (
    SQL,
    Value,
    fn,
)

from portal.extensions import db
from portal.store.database import write_transaction
from portal.store.errors import DatabaseBusy, ResultsNotAvailable
from portal.store.models import (
    RESULT_STATUSES,
    Answer,
    Response,
    ResultCounts,
    Survey,
)
from surveys import linked
from surveys.definition import Definition, Item
from surveys.indicators import Counts, Flag, flags_and_combinations

# Bump when the layout of the stored counts changes: older ones are then aggregated again.
COUNTS_FORMAT = 3  # 3: the district joined the groups (role, unit, years, period, district)


def result_counts(survey: Survey, definition: Definition) -> Counts:
    """Every count a report needs, for a closed or published survey.

    A closed survey never changes (rule D2), so its counts are aggregated once
    and kept (``ResultCounts``); later reports, in any process, read them.
    """
    current = (
        Survey.select(Survey.status, Survey.awaiting_key).where(Survey.id == survey.id).first()
    )
    if current is None or current.status not in RESULT_STATUSES or current.awaiting_key:
        raise ResultsNotAvailable(str(current.status if current else None))
    _, combinations = flags_and_combinations(definition)
    stored = _stored_counts(survey, combinations)
    if stored is not None:
        return stored
    counts = aggregate_counts(survey, definition)
    _store_counts(survey, counts)
    return counts


def stored_protection(survey: Survey, mode: str) -> dict[str, Any] | None:
    """What disclosure control decided for the kept counts of ``survey`` (``mode`` names
    the report: its k and whether breakdowns are published), or None when not kept yet
    or kept by an engine that decided differently (``surveys.linked.VERSION``)."""
    kept = _kept_protection(survey)
    found = kept.get(mode) if kept.get("version") == linked.VERSION else None
    return found if isinstance(found, dict) else None


def keep_protection(survey: Survey, mode: str, protection: dict[str, Any]) -> None:
    """Keep a report's protection beside its counts, so that every later page, export
    and worker reads it instead of protecting again. Needs the counts kept first; a busy
    database just skips keeping it."""
    try:
        with write_transaction():
            kept = _kept_protection(survey)
            if kept.get("version") != linked.VERSION:
                kept = {"version": linked.VERSION}
            kept[mode] = protection
            ResultCounts.update(protection_json=json.dumps(kept, separators=(",", ":"))).where(
                ResultCounts.survey == survey.id
            ).execute()
    except DatabaseBusy:
        return


def _kept_protection(survey: Survey) -> dict[str, Any]:
    raw = (
        ResultCounts.select(ResultCounts.protection_json)
        .where(ResultCounts.survey == survey.id)
        .scalar()
    )
    kept = json.loads(raw) if raw else {}
    return kept if isinstance(kept, dict) else {}


def aggregate_counts(survey: Survey, definition: Definition) -> Counts:
    """The counts of a survey, aggregated from its answers.

    Grouped queries only; no response is ever loaded into Python. One scan
    gives the cube of answers per (item, value, role, unit, years, period,
    district); the per-response conditions of ``surveys.indicators`` are
    counted per group by narrow queries that touch only the rows they look
    at. The period is the half-year of an exit response, the district the one
    chosen in a city-wide survey (None for other surveys).
    """
    flags, combinations = flags_and_combinations(definition)
    respondents = _respondents_per_group(survey, definition)
    return Counts(
        respondents=sum(respondents.values()),
        cube=tuple(answer_cube(survey)),
        combinations=combinations,
        flag_sums=_flag_sums(survey, definition, flags, combinations, respondents),
    )


def _stored_counts(survey: Survey, combinations: Sequence[tuple[int, ...]]) -> Counts | None:
    """The kept counts, unless made by a code version that counted differently."""
    row = ResultCounts.get_or_none(ResultCounts.survey == survey.id)
    if row is None:
        return None
    data = json.loads(row.counts_json)
    stored = tuple(tuple(c) for c in data.get("combinations", ()))
    if data.get("format") != COUNTS_FORMAT or stored != tuple(combinations):
        return None
    return Counts(
        respondents=data["respondents"],
        cube=tuple(tuple(r) for r in data["cube"]),
        combinations=stored,
        flag_sums=tuple(tuple(r) for r in data["flag_sums"]),
    )


def _store_counts(survey: Survey, counts: Counts) -> None:
    """Keep the counts of a closed, unpurged survey; a busy database just skips keeping them."""
    counts_json = json.dumps(
        {
            "format": COUNTS_FORMAT,
            "respondents": counts.respondents,
            "cube": counts.cube,
            "combinations": counts.combinations,
            "flag_sums": counts.flag_sums,
        },
        separators=(",", ":"),
    )
    try:
        with write_transaction():
            current = Survey.get_by_id(survey.id)
            if not current.has_results:
                return
            ResultCounts.insert(survey=survey.id, counts_json=counts_json).on_conflict(
                conflict_target=[ResultCounts.survey],
                # Counts made again: what was decided about the old ones no longer holds.
                update={ResultCounts.counts_json: counts_json, ResultCounts.protection_json: None},
            ).execute()
    except DatabaseBusy:
        return


# (role, unit, years, period, district): the breakdown values copied onto every answer row.
Group = tuple[str | None, str | None, str | None, str | None, str | None]


GROUP_COLUMNS = (Answer.role, Answer.unit, Answer.years, Answer.period, Answer.district)


def answer_cube(survey: Survey) -> list[tuple[Any, ...]]:
    """(item, value, role, unit, years, period, district, count) over every answer of
    the survey.

    One scan of the covering index on (survey, question, value, role, unit,
    years, period, district); each breakdown is a marginal of this cube.
    """
    dims = (Answer.question, Answer.value, *GROUP_COLUMNS)
    query = Answer.select(*dims, fn.COUNT(SQL("*"))).where(Answer.survey == survey.id)
    # Raw cursor rows: tens of thousands of small tuples, without peewee's per-row wrapper.
    return db.execute(query.group_by(*dims)).fetchall()


def _respondents_per_group(survey: Survey, definition: Definition) -> dict[Group, int]:
    """Respondents per group: every response answers each breakdown question once."""
    dimensions = definition.dimensions()
    if not dimensions:
        query = (
            Response.select(Response.period, fn.COUNT(SQL("*")))
            .where(Response.survey == survey.id)
            .group_by(Response.period)
        )
        return {(None, None, None, period, None): n for period, n in db.execute(query)}
    by_group = (
        Answer.select(*GROUP_COLUMNS, fn.COUNT(SQL("*")))
        .where(Answer.survey == survey.id, Answer.question == dimensions[0].key)
        .group_by(*GROUP_COLUMNS)
    )
    return {tuple(row[:-1]): row[-1] for row in db.execute(by_group)}


def _flag_sums(
    survey: Survey,
    definition: Definition,
    flags: Sequence[Flag],
    combinations: Sequence[tuple[int, ...]],
    respondents: dict[Group, int],
) -> tuple[tuple[Any, ...], ...]:
    """Rows (role, unit, years, period, district, respondents, count of each combination
    of flags)."""
    groups = sorted(respondents, key=repr)
    sums = {group: [respondents[group]] + [0] * len(combinations) for group in groups}
    done: dict[tuple[int, ...], list[tuple[Group, int]]] = {}
    for number, combination in enumerate(combinations):
        if combination not in done:
            done[combination] = list(
                _combination_counts(survey, definition, flags, combination, respondents)
            )
        for group, count in done[combination]:
            sums.setdefault(group, [0] * (1 + len(combinations)))[1 + number] = count
    return tuple((*group, *row) for group, row in sums.items())


def _pairs(f: Flag) -> set[tuple[str, str]]:
    return {(item, value) for items, values in f.terms for item in items for value in values}


def _combination_counts(
    survey: Survey,
    definition: Definition,
    flags: Sequence[Flag],
    combination: tuple[int, ...],
    respondents: dict[Group, int],
) -> Iterable[tuple[Group, int]]:
    """Responses per group for which every flag of ``combination`` holds."""
    chosen = [flags[i] for i in combination]
    # A flag implied by another (exposed ⇒ answered) adds nothing to the AND.
    kept = [f for f in chosen if not any(g is not f and _pairs(g) < _pairs(f) for g in chosen)]
    kept = list(dict.fromkeys(kept))
    if not kept:
        return respondents.items()
    if len(kept) == 1 and _always_answered(definition, kept[0]):
        return _by_complement(survey, definition, kept[0], respondents)
    if len(kept) == 1 and len(kept[0].terms) == 1:
        ((items, values),) = kept[0].terms
        query = (
            Answer.select(*GROUP_COLUMNS, fn.COUNT(Answer.response.distinct()))
            .where(
                Answer.survey == survey.id,
                Answer.question.in_(items),
                Answer.value.in_(values),
            )
            .group_by(*GROUP_COLUMNS)
        )
        return [(tuple(row[:-1]), row[-1]) for row in db.execute(query)]
    # One narrow index range per term, glued with UNION ALL: an OR of terms in one
    # WHERE would make the database scan every answer of the survey.
    parts = []
    for number, f in enumerate(kept):
        for items, values in f.terms:
            marks = [Value(int(n == number)).alias(f"f{n}") for n in range(len(kept))]
            parts.append(
                Answer.select(Answer.response, *GROUP_COLUMNS, *marks).where(
                    Answer.survey == survey.id,
                    Answer.question.in_(items),
                    Answer.value.in_(values),
                )
            )
    union: Any = parts[0]
    for part in parts[1:]:
        union = union + part  # UNION ALL
    rows = union.alias("t")
    having = [fn.MAX(rows.c[f"f{n}"]) == 1 for n in range(len(kept))]
    per_response = (
        Answer.select(*(fn.MAX(rows.c[c.name]).alias(c.name) for c in GROUP_COLUMNS))
        .from_(rows)
        .group_by(rows.c.response_id)
        .having(*having)
        .alias("r")
    )
    return _per_group(per_response)


def _always_answered(definition: Definition, f: Flag) -> bool:
    """Whether every response has one answer to each item of ``f``, mostly matching it.

    True for required, unconditional single-choice items (the ``exp`` matrix),
    where validation guarantees one row per item and response, when the flag
    holds for more options than it misses: then its complement is the
    cheaper count.
    """
    for items, values in f.terms:
        for key in items:
            item = definition.item(key)
            if item is None or item.kind != "single":
                return False
            if not item.question.required or item.question.condition is not None:
                return False
            if len(values) * 2 <= len(item.options):
                return False
    return len({i for items, _ in f.terms for i in items}) == sum(len(i) for i, _ in f.terms)


def _by_complement(
    survey: Survey, definition: Definition, f: Flag, respondents: dict[Group, int]
) -> Iterable[tuple[Group, int]]:
    """Respondents minus those whose every answer to the flag's items misses its values.

    For "answered the matrix other than prefer-not-to-say" this touches only
    the few "na" rows instead of every row of the matrix.
    """
    conditions = None
    items = 0
    for item_keys, values in f.terms:
        # The options that miss, listed (IN, not NOT IN), so the index seeks straight to them.
        options = {o.key for key in item_keys for o in _item(definition, key).options}
        missing = sorted(options - set(values))
        term = Answer.question.in_(item_keys) & Answer.value.in_(missing)
        conditions = term if conditions is None else (conditions | term)
        items += len(item_keys)
    misses = (
        Answer.select(*(fn.MAX(c).alias(c.name) for c in GROUP_COLUMNS))
        .where(Answer.survey == survey.id, conditions)
        .group_by(Answer.response)
        .having(fn.COUNT(SQL("*")) == items)
        .alias("r")
    )
    missed = dict(_per_group(misses))
    return [(group, count - missed.get(group, 0)) for group, count in respondents.items()]


def _per_group(per_response: Any) -> list[tuple[Group, int]]:
    """Count the rows of a one-row-per-response subquery per group."""
    columns = tuple(per_response.c[c.name] for c in GROUP_COLUMNS)
    query = Answer.select(*columns, fn.COUNT(SQL("*"))).from_(per_response).group_by(*columns)
    return [(tuple(row[:-1]), row[-1]) for row in db.execute(query)]


def _item(definition: Definition, key: str) -> Item:
    item = definition.item(key)
    if item is None:
        raise KeyError(f"the definition has no item {key!r}")
    return item
