"""Persistence: the only module with queries.

Every write that must be all-or-nothing goes through ``write_transaction``:
on SQLite it takes the write lock at BEGIN (``BEGIN IMMEDIATE``), so that
concurrent submissions wait for the busy timeout instead of failing half-way
with "database is locked".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from peewee import (
    JOIN,
    SQL,
    Database,
    IntegrityError,
    OperationalError,
    SqliteDatabase,
    Value,
    fn,
)

from portal.extensions import db
from portal.models import (
    ALL_MODELS,
    RESPONDENT_TABLES,
    ROLES,
    AccessCode,
    Answer,
    AuditEntry,
    Comment,
    CommentSelection,
    FormToken,
    LoginThrottle,
    ReportSnapshot,
    Response,
    ResultCounts,
    Survey,
    SurveyUnit,
    User,
)
from surveys.answers import Answers
from surveys.definition import Definition
from surveys.indicators import Counts, Flag, flags_and_combinations

# Crockford's base32 without the look-alikes I, L, O and U: 32 symbols, 5 bits each.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits: far beyond guessing under the code-entry rate limit
SLUG_BYTES = 16  # 128 bits


class StoreError(Exception):
    """A domain refusal from the store; views turn it into a message."""


class SurveyNotOpen(StoreError):
    """The survey is not (or no longer) accepting answers."""


class CodeRejected(StoreError):
    """The access code is unknown or has been used."""


class AlreadySubmitted(StoreError):
    """This form (link mode) has already been submitted."""


class WrongStatus(StoreError):
    """The survey is not in a status that allows the change (it may have just moved on)."""


class DatabaseBusy(StoreError):
    """The database stayed locked beyond the busy timeout; nothing was written."""


# -- connection ------------------------------------------------------------------------


def open_database(url: str, busy_timeout_ms: int = 5000) -> Database:
    """Create (not connect) the database for a ``sqlite:///path`` or ``postgresql://`` URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them.
        path = unquote(parsed.path)[1:]
        return SqliteDatabase(
            path or ":memory:",
            timeout=busy_timeout_ms / 1000,
            pragmas={
                "journal_mode": "wal",
                # With NORMAL a committed response may vanish after a power loss.
                "synchronous": "full",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_ms,
                "secure_delete": "on",
            },
        )
    if parsed.scheme in ("postgresql", "postgres"):
        from playhouse.pool import PooledPostgresqlDatabase

        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port,
            max_connections=20,
            stale_timeout=300,
            timeout=10,
        )
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r}")


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


@contextmanager
def write_transaction():
    """One all-or-nothing write; a lock held beyond the busy timeout raises DatabaseBusy."""
    try:
        with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
            yield
    except OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseBusy() from exc
        raise


def database_ok() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.execute_sql("SELECT 1").fetchone()
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return False
    return True


class BackupError(StoreError):
    """A backup could not be made."""


def backup_sqlite(path) -> None:
    """Copy the live SQLite database to ``path`` with the backup API, then check it.

    The backup API copies a consistent snapshot while the portal keeps
    writing; copying the file itself could catch a half-written page.
    """
    import sqlite3

    if not is_sqlite():
        raise BackupError("backup works on SQLite; for PostgreSQL use pg_dump (see README)")
    target = sqlite3.connect(path)
    try:
        db.connection().backup(target)
        result = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
    if result != "ok":
        raise BackupError(f"the copy failed its integrity check: {result}")
    os.chmod(path, 0o600)


def create_tables() -> None:
    """Create missing tables (idempotent). Respondent tables are WITHOUT ROWID in SQLite."""
    sqlite = is_sqlite()
    for model in RESPONDENT_TABLES:
        model._meta.without_rowid = sqlite
    db.create_tables(ALL_MODELS, safe=True)


# -- surveys ---------------------------------------------------------------------------


def new_slug() -> str:
    """An unguessable URL slug that does not start with "-" (the CLI would read an option)."""
    while True:
        slug = secrets.token_urlsafe(SLUG_BYTES)
        if not slug.startswith("-"):
            return slug


def create_survey(
    definition: Definition,
    *,
    title_sv: str,
    title_en: str,
    access: str,
    min_group: int = 5,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    invited: dict[str, int] | None = None,
    purge_after_months: int | None = None,
) -> Survey:
    """Create a draft survey with a frozen copy of ``definition`` and its unit rows."""
    survey = Survey(
        slug=new_slug(),
        template=definition.key,
        kind=definition.kind,
        title_sv=title_sv,
        title_en=title_en,
        status="draft",
        access=access,
        min_group=min_group,
        opens_on=opens_on,
        closes_on=closes_on,
        purge_after_months=purge_after_months,
        created_at=_now(),
    )
    survey.set_definition(definition.to_data())
    with write_transaction():
        survey.save()
        _write_units(survey, definition, invited or {})
    return survey


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def unit_question_key(definition: Definition) -> str | None:
    """The key of the question that declares the unit dimension, if any."""
    return next((q.key for q in definition.dimensions() if q.dimension == "unit"), None)


def _write_units(survey: Survey, definition: Definition, invited: dict[str, int]) -> None:
    """Mirror the unit question's options (without "prefer not to say") as SurveyUnit rows."""
    SurveyUnit.delete().where(SurveyUnit.survey == survey.id).execute()
    key = unit_question_key(definition)
    if key is None:
        return
    options = [o for o in definition.question(key).options if not o.prefer_not]
    rows = [
        {
            "survey": survey.id,
            "position": position,
            "key": option.key,
            "name_sv": option.label.sv,
            "name_en": option.label.en,
            "invited": invited.get(option.key),
        }
        for position, option in enumerate(options)
    ]
    if rows:
        SurveyUnit.insert_many(rows).execute()


def survey_units(survey: Survey) -> list[SurveyUnit]:
    """The survey's units in the order of the unit question."""
    return list(
        SurveyUnit.select().where(SurveyUnit.survey == survey.id).order_by(SurveyUnit.position)
    )


def update_draft(
    survey: Survey, fields: dict[str, Any], definition: Definition, invited: dict[str, int]
) -> None:
    """Save a draft's settings, definition and units; raises WrongStatus unless still a draft.

    The status is checked in the same UPDATE, so a draft that the schedule
    opened a moment ago is never changed after its definition was frozen.
    """
    values = {**fields, "definition_json": _definition_json(definition)}
    with write_transaction():
        changed = (
            Survey.update(**values)
            .where(Survey.id == survey.id, Survey.status == "draft")
            .execute()
        )
        if changed != 1:
            raise WrongStatus()
        _write_units(survey, definition, invited)
        if fields.get("access") == "link":
            # Codes of a draft switched to link mode can never admit anyone.
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
    for name, value in values.items():
        setattr(survey, name, value)


def _definition_json(definition: Definition) -> str:
    holder = Survey()
    holder.set_definition(definition.to_data())
    return holder.definition_json


def list_surveys(include_archived: bool = False) -> list[Survey]:
    """Every survey, newest first; archived ones only when asked for."""
    query = Survey.select().order_by(Survey.created_at.desc(), Survey.id.desc())
    if not include_archived:
        query = query.where(Survey.archived == False)  # noqa: E712 - peewee expression
    return list(query)


def surveys_titled(template: str, title_sv: str) -> list[Survey]:
    """The surveys of ``template`` with exactly this Swedish title, oldest first."""
    return list(
        Survey.select()
        .where(Survey.template == template, Survey.title_sv == title_sv)
        .order_by(Survey.id)
    )


def response_counts() -> dict[int, int]:
    """The number of responses of every survey that has any, by survey id."""
    query = Response.select(Response.survey, fn.COUNT(Response.id).alias("n")).group_by(
        Response.survey
    )
    return {row.survey_id: row.n for row in query}


def transition(
    survey: Survey, from_statuses: tuple[str, ...], to_status: str, today: dt.date
) -> bool:
    """Move ``survey`` to ``to_status`` if it is in one of ``from_statuses``.

    The status is tested in the UPDATE itself, so when several workers (or a
    worker and the cron ``tick``) apply the same transition at once, exactly
    one of them gets True. Closing deletes the survey's code hashes and form
    tokens: nothing can be admitted any more.
    """
    values: dict[str, Any] = {"status": to_status}
    if to_status == "published":
        values["published_on"] = today
    with write_transaction():
        changed = (
            Survey.update(**values)
            .where(Survey.id == survey.id, Survey.status.in_(from_statuses))
            .execute()
        )
        if changed == 1 and to_status in ("closed", "published"):
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
            FormToken.delete().where(FormToken.survey == survey.id).execute()
    if changed != 1:
        return False
    for name, value in values.items():
        setattr(survey, name, value)
    if to_status == "closed":
        shuffle_storage_order()
    return True


def publish(survey: Survey, snapshots: dict[str, str], today: dt.date) -> bool:
    """Publish a closed survey and store its report snapshots in the same transaction."""
    with write_transaction():
        changed = (
            Survey.update(status="published", published_on=today)
            .where(Survey.id == survey.id, Survey.status == "closed")
            .execute()
        )
        if changed != 1:
            return False
        ReportSnapshot.delete().where(ReportSnapshot.survey == survey.id).execute()
        for lang, text in snapshots.items():
            ReportSnapshot.insert(
                survey=survey.id, lang=lang, report_json=text, created=_now()
            ).execute()
    survey.status = "published"
    survey.published_on = today
    return True


def report_snapshot(survey: Survey, lang: str) -> str | None:
    """The published report of ``survey`` in ``lang`` as JSON text, or None."""
    return (
        ReportSnapshot.select(ReportSnapshot.report_json)
        .where(ReportSnapshot.survey == survey.id, ReportSnapshot.lang == lang)
        .scalar()
    )


def previous_published(survey: Survey) -> Survey | None:
    """The latest survey of the same template published before ``survey``, or None.

    "Before" is by publication date, then by creation (id) for the same date.
    """
    if survey.published_on is None:
        return None
    earlier = (Survey.published_on < survey.published_on) | (
        (Survey.published_on == survey.published_on) & (Survey.id < survey.id)
    )
    return (
        Survey.select()
        .where(
            Survey.template == survey.template,
            Survey.status == "published",
            Survey.id != survey.id,
            earlier,
        )
        .order_by(Survey.published_on.desc(), Survey.id.desc())
        .first()
    )


def list_published() -> list[Survey]:
    """Every published survey, latest publication first (archived ones included)."""
    return list(
        Survey.select()
        .where(Survey.status == "published")
        .order_by(Survey.published_on.desc(), Survey.id.desc())
    )


def set_public_results(survey: Survey, public: bool) -> None:
    """Switch the survey's public results page on or off."""
    with write_transaction():
        Survey.update(public_results=public).where(Survey.id == survey.id).execute()
    survey.public_results = public


def set_archived(survey: Survey) -> bool:
    """Archive a closed or published survey; False if it is not (or already archived)."""
    with write_transaction():
        changed = (
            Survey.update(archived=True)
            .where(
                Survey.id == survey.id,
                Survey.status.in_(("closed", "published")),
                Survey.archived == False,  # noqa: E712 - peewee expression
            )
            .execute()
        )
    if changed == 1:
        survey.archived = True
    return changed == 1


def set_purge_after(survey: Survey, months: int | None) -> None:
    """Set the survey's retention: purge raw responses ``months`` after publication."""
    with write_transaction():
        Survey.update(purge_after_months=months).where(Survey.id == survey.id).execute()
    survey.purge_after_months = months


def scheduled_surveys(today: dt.date) -> list[Survey]:
    """Surveys that may have a transition due: to open, to close, or to purge."""
    due_open = (
        (Survey.status == "draft") & Survey.opens_on.is_null(False) & (Survey.opens_on <= today)
    )
    due_close = (
        (Survey.status == "open") & Survey.closes_on.is_null(False) & (Survey.closes_on < today)
    )
    due_purge = (
        (Survey.status == "published")
        & Survey.purged_on.is_null(True)
        & Survey.purge_after_months.is_null(False)
    )
    return list(Survey.select().where(due_open | due_close | due_purge).order_by(Survey.id))


def purge_responses(survey: Survey, today: dt.date) -> dict[str, int] | None:
    """Delete the raw responses of a published survey; its report snapshots stay.

    Returns the number of rows deleted per table, or None when the survey is
    not published or was purged already. With ``secure_delete`` on, SQLite
    overwrites the deleted content.
    """
    with write_transaction():
        changed = (
            Survey.update(purged_on=today)
            .where(
                Survey.id == survey.id,
                Survey.status == "published",
                Survey.purged_on.is_null(True),
            )
            .execute()
        )
        if changed != 1:
            return None
        deleted = {
            "comments": Comment.delete().where(Comment.survey == survey.id).execute(),
            "answers": Answer.delete().where(Answer.survey == survey.id).execute(),
            "responses": Response.delete().where(Response.survey == survey.id).execute(),
        }
        ResultCounts.delete().where(ResultCounts.survey == survey.id).execute()
        AccessCode.delete().where(AccessCode.survey == survey.id).execute()
        FormToken.delete().where(FormToken.survey == survey.id).execute()
    survey.purged_on = today
    return deleted


def compact() -> None:
    """Rebuild the database file after a purge so that freed pages are gone (SQLite)."""
    if is_sqlite():
        db.execute_sql("VACUUM")


# -- monitoring and comments -------------------------------------------------------------


def unit_response_counts(survey: Survey, unit_key: str) -> dict[str, int]:
    """Respondents per answer of the unit question (for a closed survey's response rates)."""
    query = (
        Answer.select(Answer.value, fn.COUNT(Answer.response).alias("n"))
        .where(Answer.survey == survey.id, Answer.question == unit_key)
        .group_by(Answer.value)
    )
    return {row.value: row.n for row in query}


def survey_comments(survey: Survey) -> list[tuple[Comment, bool]]:
    """Every comment of the survey with whether HR selected it (order: by random id)."""
    query = (
        Comment.select(Comment, CommentSelection.comment.alias("chosen"))
        .join(CommentSelection, JOIN.LEFT_OUTER, on=CommentSelection.comment == Comment.id)
        .where(Comment.survey == survey.id)
        .order_by(Comment.id)
    )
    return [(c, c.chosen is not None) for c in query.objects()]


def set_comment_selection(survey: Survey, comment_ids: Iterable[str]) -> int:
    """Replace the survey's selected comments with ``comment_ids`` (its own only)."""
    wanted = {i for i in comment_ids if isinstance(i, str) and len(i) <= 36}
    with write_transaction():
        valid = [
            c.id
            for c in Comment.select(Comment.id).where(
                Comment.survey == survey.id, Comment.id.in_(list(wanted) or [""])
            )
        ]
        CommentSelection.delete().where(CommentSelection.survey == survey.id).execute()
        if valid:
            CommentSelection.insert_many(
                [{"comment": i, "survey": survey.id} for i in valid]
            ).execute()
    return len(valid)


def selected_comments(survey: Survey) -> list[Comment]:
    """The comments HR selected for the published report."""
    return list(
        Comment.select()
        .join(CommentSelection, on=CommentSelection.comment == Comment.id)
        .where(Comment.survey == survey.id)
        .order_by(Comment.id)
    )


def get_survey(slug: str) -> Survey | None:
    """The survey with ``slug``, or None."""
    if not isinstance(slug, str) or len(slug) > 64:
        return None
    return Survey.get_or_none(Survey.slug == slug)


def set_status(survey: Survey, status: str) -> None:
    """Change the status. Closing deletes the code hashes: they are no longer needed."""
    with write_transaction():
        Survey.update(status=status).where(Survey.id == survey.id).execute()
        if status in ("closed", "published"):
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
            FormToken.delete().where(FormToken.survey == survey.id).execute()
    survey.status = status
    if status == "closed":
        shuffle_storage_order()


def shuffle_storage_order() -> None:
    """Rewrite the respondent tables in the order of their random keys (PostgreSQL).

    PostgreSQL appends rows to the heap in insertion order, so the physical
    order of responses would betray the order of submission. CLUSTER on the
    primary key (random UUIDs) rewrites each table in random order. SQLite
    needs nothing: its respondent tables are WITHOUT ROWID, stored by key.
    """
    if is_sqlite():
        return
    for model in (Response, Answer, Comment):
        table = model._meta.table_name
        db.execute_sql(f'CLUSTER "{table}" USING "{table}_pkey"')


def response_count(survey: Survey) -> int:
    """The number of responses (the only figure shown while a survey is open)."""
    return Response.select().where(Response.survey == survey.id).count()


# -- results ---------------------------------------------------------------------------


class ResultsNotAvailable(StoreError):
    """Results are computed only from a closed data set (rule D2: no interim results)."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"results are only available for closed surveys; this one is {status}")


RESULT_STATUSES = ("closed", "published")


# Bump when the layout of the stored counts changes: older ones are then aggregated again.
COUNTS_FORMAT = 2


def result_counts(survey: Survey, definition: Definition) -> Counts:
    """Every count a report needs, for a closed or published survey.

    A closed survey never changes (rule D2), so its counts are aggregated once
    and kept (``ResultCounts``); later reports, in any process, read them.
    """
    status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
    if status not in RESULT_STATUSES:
        raise ResultsNotAvailable(str(status))
    _, combinations = flags_and_combinations(definition)
    stored = _stored_counts(survey, combinations)
    if stored is not None:
        return stored
    counts = aggregate_counts(survey, definition)
    _store_counts(survey, counts)
    return counts


def aggregate_counts(survey: Survey, definition: Definition) -> Counts:
    """The counts of a survey, aggregated from its answers.

    Grouped queries only; no response is ever loaded into Python. One scan
    gives the cube of answers per (item, value, role, unit, years, period);
    the per-response conditions of ``surveys.indicators`` are counted per
    group by narrow queries that touch only the rows they look at. The
    period is the month of an exit response (None for other surveys).
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
            if current.status not in RESULT_STATUSES or current.purged_on is not None:
                return
            ResultCounts.insert(survey=survey.id, counts_json=counts_json).on_conflict(
                conflict_target=[ResultCounts.survey],
                update={ResultCounts.counts_json: counts_json},
            ).execute()
    except DatabaseBusy:
        return


# (role, unit, years, period): the breakdown values copied onto every answer row.
Group = tuple[str | None, str | None, str | None, str | None]
GROUP_COLUMNS = (Answer.role, Answer.unit, Answer.years, Answer.period)


def answer_cube(survey: Survey) -> list[tuple[Any, ...]]:
    """(item, value, role, unit, years, period, count) over every answer of the survey.

    One scan of the covering index on (survey, question, value, role, unit,
    years, period); each breakdown is a marginal of this cube.
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
        return {(None, None, None, period): n for period, n in db.execute(query)}
    query = (
        Answer.select(*GROUP_COLUMNS, fn.COUNT(SQL("*")))
        .where(Answer.survey == survey.id, Answer.question == dimensions[0].key)
        .group_by(*GROUP_COLUMNS)
    )
    return {tuple(row[:-1]): row[-1] for row in db.execute(query)}


def _flag_sums(
    survey: Survey,
    definition: Definition,
    flags: Sequence[Flag],
    combinations: Sequence[tuple[int, ...]],
    respondents: dict[Group, int],
) -> tuple[tuple[Any, ...], ...]:
    """Rows (role, unit, years, period, respondents, count of each combination of flags)."""
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
    union = parts[0]
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
        options = {o.key for key in item_keys for o in definition.item(key).options}
        misses = sorted(options - set(values))
        term = Answer.question.in_(item_keys) & Answer.value.in_(misses)
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


# -- access codes and form tokens --------------------------------------------------------


def normalise_code(code: str) -> str:
    """Upper-case, without spaces and dashes, with look-alikes mapped (O→0, I/L→1)."""
    cleaned = "".join(c for c in code.upper() if c not in " -\t\u00a0\u2010\u2011\u2013")
    return cleaned.translate(str.maketrans("OIL", "011"))


def keyed_hash(secret_key: str, kind: str, value: str) -> str:
    """HMAC-SHA256, so a stolen database does not let anyone test guesses offline."""
    return hmac.new(secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def format_code(code: str) -> str:
    """Show a code in two groups for reading aloud and typing: ``ABCDE-FGHJK``."""
    return f"{code[:5]}-{code[5:]}"


def code_counts(survey: Survey) -> tuple[int, int]:
    """(issued, used) codes of the survey that are still on record."""
    query = AccessCode.select(AccessCode.used, fn.COUNT(AccessCode.code_hash).alias("n")).where(
        AccessCode.survey == survey.id
    )
    counts = {bool(row.used): row.n for row in query.group_by(AccessCode.used)}
    return counts.get(False, 0) + counts.get(True, 0), counts.get(True, 0)


def revoke_unused_codes(survey: Survey) -> int:
    """Delete every unused code of the survey; returns how many."""
    with write_transaction():
        return (
            AccessCode.delete()
            .where(AccessCode.survey == survey.id, AccessCode.used == False)  # noqa: E712
            .execute()
        )


def generate_codes(survey: Survey, count: int, secret_key: str) -> list[str]:
    """Create ``count`` new single-use codes; only their hashes are stored."""
    codes = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    ordered = sorted(codes)
    rows = [
        {"code_hash": keyed_hash(secret_key, "code", c), "survey": survey.id, "used": False}
        for c in ordered
    ]
    with write_transaction():
        for start in range(0, len(rows), 500):
            AccessCode.insert_many(rows[start : start + 500]).execute()
    return [format_code(c) for c in ordered]


def code_is_valid(survey: Survey, code: str, secret_key: str) -> bool:
    """Whether ``code`` admits to ``survey`` (known and unused); it is not claimed."""
    normalised = normalise_code(code)
    if len(normalised) != CODE_LENGTH:
        return False
    digest = keyed_hash(secret_key, "code", normalised)
    return (
        AccessCode.select()
        .where(
            AccessCode.code_hash == digest,
            AccessCode.survey == survey.id,
            AccessCode.used == False,  # noqa: E712 - peewee expression
        )
        .exists()
    )


# -- submitting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    """What admits a submission: a code (codes mode) or a one-time form token (link mode)."""

    kind: str  # "code" or "token"
    value: str


def submit_response(
    survey: Survey,
    definition: Definition,
    answers: Answers,
    admission: Admission,
    secret_key: str,
    today: dt.date | None = None,
) -> None:
    """Store one response with its answers and comments, and spend its admission, atomically.

    Raises SurveyNotOpen, CodeRejected, AlreadySubmitted or DatabaseBusy; in
    every case nothing is written.
    """
    try:
        with write_transaction():
            # Re-read the status inside the transaction: the survey may have closed meanwhile.
            status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
            if status != "open":
                raise SurveyNotOpen()
            _spend_admission(survey, admission, secret_key)
            _insert_responses(survey, definition, [(answers, _period(survey, today))])
    except IntegrityError as exc:
        # Two submissions of one form token race to the same primary key.
        raise AlreadySubmitted() from exc


def _spend_admission(survey: Survey, admission: Admission, secret_key: str) -> None:
    if admission.kind == "code":
        digest = keyed_hash(secret_key, "code", normalise_code(admission.value))
        claimed = (
            AccessCode.update(used=True)
            .where(
                AccessCode.code_hash == digest,
                AccessCode.survey == survey.id,
                AccessCode.used == False,  # noqa: E712 - peewee expression
            )
            .execute()
        )
        if claimed != 1:
            raise CodeRejected()
    elif admission.kind == "token":
        digest = keyed_hash(secret_key, "form-token", admission.value)
        if FormToken.select().where(FormToken.token_hash == digest).exists():
            raise AlreadySubmitted()
        FormToken.insert(token_hash=digest, survey=survey.id).execute()
    else:
        raise ValueError(f"unknown admission {admission.kind!r}")


def _period(survey: Survey, today: dt.date | None) -> str | None:
    """Exit questionnaires keep the month only; other surveys keep no time at all."""
    if survey.kind != "exit":
        return None
    return (today or dt.date.today()).strftime("%Y-%m")


def _insert_responses(
    survey: Survey, definition: Definition, batch: Sequence[tuple[Answers, str | None]]
) -> None:
    """Insert responses with their answers and comments; the caller holds the transaction.

    The one writing path of real submissions and of bulk (demo) data, so both
    store exactly the same rows.
    """
    responses: list[tuple[Any, ...]] = []
    answer_rows: list[tuple[Any, ...]] = []
    comments: list[tuple[Any, ...]] = []
    for answers, period in batch:
        response_id = str(uuid.uuid4())
        responses.append((response_id, survey.id, period))
        answer_rows.extend(_answer_rows(survey, definition, answers, response_id, period))
        comments.extend(
            (str(uuid.uuid4()), survey.id, key, text) for key, text in answers.texts.items()
        )
    _insert_rows(Response, (Response.id, Response.survey, Response.period), responses)
    _insert_rows(Answer, ANSWER_FIELDS, answer_rows)
    _insert_rows(Comment, (Comment.id, Comment.survey, Comment.question, Comment.text), comments)


def _insert_rows(model: type, fields: Sequence[Any], rows: list[tuple[Any, ...]]) -> None:
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
    # Sorted by primary key, rows land next to each other in the B-tree.
    rows.sort()
    sql, _ = model.insert({field: None for field in fields}).sql()
    cursor = db.cursor()
    cursor.executemany(sql, rows)


def submit_responses(
    survey: Survey,
    definition: Definition,
    answers_iter: Iterable[tuple[Answers, str | None]],
    *,
    batch_size: int = 5000,
) -> int:
    """Store many validated responses (answers, period) for an operator command (demo data).

    No admission is spent: only an operator can call this. Each batch of
    ``batch_size`` responses is one all-or-nothing transaction, and the survey
    must be open when each batch is written. Returns the number stored.
    """
    stored = 0
    batch: list[tuple[Answers, str | None]] = []

    def flush() -> None:
        nonlocal stored
        with write_transaction():
            status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
            if status != "open":
                raise SurveyNotOpen()
            _insert_responses(survey, definition, batch)
        stored += len(batch)
        batch.clear()

    with _large_cache():
        for entry in answers_iter:
            batch.append(entry)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    return stored


@contextmanager
def _large_cache(kib: int = 262_144):
    """A larger SQLite page cache for a bulk write: index pages stay in memory between batches."""
    if not is_sqlite():
        yield
        return
    previous = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    db.execute_sql(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(previous)}")


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
    groups = (dims.get("role"), dims.get("unit"), dims.get("years"), period)
    for key, values in answers.choices.items():
        for value in values:
            yield (response_id, survey.id, key, value, *groups)
    for key, number in answers.numbers.items():
        yield (response_id, survey.id, key, str(number), *groups)


# -- admin accounts --------------------------------------------------------------------


class DuplicateEmail(StoreError):
    """An account with this e-mail address exists already."""


class LastActiveAdmin(StoreError):
    """The change would leave no active administrator."""


class UnknownUser(StoreError):
    """No account with this id."""


def normalise_email(email: str) -> str:
    """E-mail addresses are compared and stored trimmed and lower-cased."""
    return email.strip().lower()


def new_session_nonce() -> str:
    """A fresh random session nonce: changing it ends every session of the account."""
    return secrets.token_urlsafe(24)


def create_user(email: str, password_hash: str, role: str, now: dt.datetime) -> User:
    """Create an active account; raises DuplicateEmail."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = normalise_email(email)
    user = User(
        email=email,
        password_hash=password_hash,
        role=role,
        disabled=False,
        session_nonce=new_session_nonce(),
        created_at=now,
    )
    try:
        with write_transaction():
            if User.select().where(User.email == email).exists():
                raise DuplicateEmail()
            user.save()
    except IntegrityError as exc:
        # Two simultaneous creations of one address: the unique index decides.
        raise DuplicateEmail() from exc
    return user


def get_user(user_id: Any) -> User | None:
    """The account with ``user_id``, or None (also for ids that are not integers)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    if not 0 < user_id < 2**63:
        return None
    return User.get_or_none(User.id == user_id)


def get_user_by_email(email: str) -> User | None:
    """The account with ``email`` (any case), or None."""
    # PostgreSQL refuses NUL in text: such an address cannot exist anyway.
    if not isinstance(email, str) or len(email) > 254 or "\x00" in email:
        return None
    return User.get_or_none(User.email == normalise_email(email))


def list_users() -> list[User]:
    """Every account, by e-mail address."""
    return list(User.select().order_by(User.email))


def user_count() -> int:
    """The number of accounts (active or not)."""
    return User.select().count()


def _other_active_admins(user_id: int) -> int:
    return (
        User.select()
        .where(User.role == "admin", User.disabled == False, User.id != user_id)  # noqa: E712
        .count()
    )


def _update_user(user_id: int, keep_an_admin: bool, **fields: Any) -> User:
    """Change an account and rotate its session nonce, in one transaction."""
    with write_transaction():
        user = get_user(user_id)
        if user is None:
            raise UnknownUser()
        # Checked inside the transaction, so two admins demoting each other at
        # once cannot both succeed.
        is_admin = user.role == "admin" and not user.disabled
        if keep_an_admin and is_admin and _other_active_admins(user.id) == 0:
            raise LastActiveAdmin()
        fields["session_nonce"] = new_session_nonce()
        User.update(**fields).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def set_user_role(user_id: int, role: str) -> User:
    """Give the account ``role``; raises LastActiveAdmin when the last admin would go."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return _update_user(user_id, keep_an_admin=role != "admin", role=role)


def set_user_disabled(user_id: int, disabled: bool) -> User:
    """Disable or enable the account; raises LastActiveAdmin when the last admin would go."""
    return _update_user(user_id, keep_an_admin=disabled, disabled=disabled)


def set_password_hash(user_id: int, password_hash: str) -> User:
    """Store a new password hash; every existing session of the account ends."""
    return _update_user(user_id, keep_an_admin=False, password_hash=password_hash)


def rotate_session_nonce(user_id: int) -> None:
    """End every session of the account (logout)."""
    with write_transaction():
        User.update(session_nonce=new_session_nonce()).where(User.id == user_id).execute()


def record_login(user_id: int, now: dt.datetime, new_hash: str | None = None) -> None:
    """Note a successful login; ``new_hash`` replaces a hash made with old parameters."""
    fields: dict[str, Any] = {"last_login_at": now}
    if new_hash is not None:
        fields["password_hash"] = new_hash
    with write_transaction():
        User.update(**fields).where(User.id == user_id).execute()


# -- audit log -------------------------------------------------------------------------


def add_audit_entry(
    *,
    at: dt.datetime,
    actor: User | None,
    action: str,
    subject: str = "",
    detail: str = "",
    params: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (``params`` fill the placeholders of ``detail``)."""
    entry = AuditEntry(
        at=at,
        actor=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        action=action,
        subject=subject[:255],
        detail=detail,
        detail_params=json.dumps(params, ensure_ascii=False, sort_keys=True) if params else "",
    )
    with write_transaction():
        entry.save()
    return entry


def audit_entries(
    page: int = 1, per_page: int = 50, action: str | None = None
) -> tuple[list[AuditEntry], int]:
    """One page of the audit log, newest first, and the number of matching entries."""
    query = AuditEntry.select()
    if action:
        query = query.where(AuditEntry.action == action)
    total = query.count()
    rows = list(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).paginate(max(page, 1), per_page)
    )
    return rows, total


# -- login throttling ------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleState:
    """The failures counted for one key and, when locked, until when."""

    failures: int
    first_failure_at: dt.datetime
    last_failure_at: dt.datetime
    locked_until: dt.datetime | None


def throttle_states(keys: Iterable[str]) -> dict[str, ThrottleState]:
    """The recorded state of each of ``keys`` that has one."""
    rows = LoginThrottle.select().where(LoginThrottle.key.in_(list(keys)))
    return {row.key: _throttle_state(row) for row in rows}


def _throttle_state(row: LoginThrottle) -> ThrottleState:
    return ThrottleState(
        failures=row.failures,
        first_failure_at=row.first_failure_at,
        last_failure_at=row.last_failure_at,
        locked_until=row.locked_until,
    )


def record_throttle_failure(
    key: str, now: dt.datetime, advance: Callable[[ThrottleState], ThrottleState]
) -> ThrottleState:
    """Count one failure for ``key``; ``advance`` computes the new state from the old.

    A new key starts from zero failures. Read and write happen in one
    transaction (the row locked on PostgreSQL, the database on SQLite), so
    concurrent workers never lose a count.
    """
    with write_transaction():
        # Another worker may insert the same key at once: the conflict is ignored
        # and both then count on the one row.
        LoginThrottle.insert(
            key=key, failures=0, first_failure_at=now, last_failure_at=now, locked_until=None
        ).on_conflict_ignore().execute()
        query = LoginThrottle.select().where(LoginThrottle.key == key)
        if not is_sqlite():
            query = query.for_update()
        new = advance(_throttle_state(query.get()))
        LoginThrottle.update(
            failures=new.failures,
            first_failure_at=new.first_failure_at,
            last_failure_at=new.last_failure_at,
            locked_until=new.locked_until,
        ).where(LoginThrottle.key == key).execute()
    return new


def clear_throttle(key: str) -> None:
    """Forget the failures of ``key`` (after a successful login)."""
    with write_transaction():
        LoginThrottle.delete().where(LoginThrottle.key == key).execute()


def purge_throttle(now: dt.datetime, idle_before: dt.datetime) -> int:
    """Delete rows whose last failure is older than ``idle_before`` and that are not locked."""
    with write_transaction():
        return (
            LoginThrottle.delete()
            .where(
                LoginThrottle.last_failure_at < idle_before,
                (LoginThrottle.locked_until.is_null()) | (LoginThrottle.locked_until <= now),
            )
            .execute()
        )
