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
import os
import secrets
import uuid
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from peewee import (
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
    AccessCode,
    Answer,
    Comment,
    FormToken,
    Response,
    Survey,
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
) -> Survey:
    """Create a draft survey with a frozen copy of ``definition``."""
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
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    )
    survey.set_definition(definition.to_data())
    with write_transaction():
        survey.save()
    return survey


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


def result_counts(survey: Survey, definition: Definition) -> Counts:
    """Every count a report needs, for a closed or published survey.

    Grouped queries only; no response is ever loaded into Python. One scan
    gives the cube of answers per (item, value, role, unit, years); the
    per-response conditions of ``surveys.indicators`` are counted per (role,
    unit, years) by narrow queries that touch only the rows they look at.
    """
    status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
    if status not in RESULT_STATUSES:
        raise ResultsNotAvailable(str(status))
    flags, combinations = flags_and_combinations(definition)
    respondents = _respondents_per_group(survey, definition)
    return Counts(
        respondents=sum(respondents.values()),
        cube=tuple(answer_cube(survey)),
        combinations=combinations,
        flag_sums=_flag_sums(survey, definition, flags, combinations, respondents),
    )


Group = tuple[str | None, str | None, str | None]


def answer_cube(survey: Survey) -> list[tuple[str, str, str | None, str | None, str | None, int]]:
    """(item, value, role, unit, years, count) over every answer of the survey.

    One scan of the covering index on (survey, question, value, role, unit,
    years); each breakdown is a marginal of this cube.
    """
    dims = (Answer.question, Answer.value, Answer.role, Answer.unit, Answer.years)
    query = Answer.select(*dims, fn.COUNT(SQL("*"))).where(Answer.survey == survey.id)
    # Raw cursor rows: tens of thousands of small tuples, without peewee's per-row wrapper.
    return db.execute(query.group_by(*dims)).fetchall()


def _respondents_per_group(survey: Survey, definition: Definition) -> dict[Group, int]:
    """Respondents per (role, unit, years): every response answers each breakdown question once."""
    dimensions = definition.dimensions()
    if not dimensions:
        return {(None, None, None): response_count(survey)}
    columns = (Answer.role, Answer.unit, Answer.years)
    query = (
        Answer.select(*columns, fn.COUNT(SQL("*")))
        .where(Answer.survey == survey.id, Answer.question == dimensions[0].key)
        .group_by(*columns)
    )
    return {(role, unit, years): n for role, unit, years, n in db.execute(query)}


def _flag_sums(
    survey: Survey,
    definition: Definition,
    flags: Sequence[Flag],
    combinations: Sequence[tuple[int, ...]],
    respondents: dict[Group, int],
) -> tuple[tuple[Any, ...], ...]:
    """Rows (role, unit, years, respondents, count of each combination of flags)."""
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
        columns = (Answer.role, Answer.unit, Answer.years)
        query = (
            Answer.select(*columns, fn.COUNT(Answer.response.distinct()))
            .where(
                Answer.survey == survey.id,
                Answer.question.in_(items),
                Answer.value.in_(values),
            )
            .group_by(*columns)
        )
        return [((role, unit, years), n) for role, unit, years, n in db.execute(query)]
    # One narrow index range per term, glued with UNION ALL: an OR of terms in one
    # WHERE would make the database scan every answer of the survey.
    parts = []
    for number, f in enumerate(kept):
        for items, values in f.terms:
            marks = [Value(int(n == number)).alias(f"f{n}") for n in range(len(kept))]
            parts.append(
                Answer.select(
                    Answer.response, Answer.role, Answer.unit, Answer.years, *marks
                ).where(
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
        Answer.select(
            fn.MAX(rows.c.role).alias("role"),
            fn.MAX(rows.c.unit).alias("unit"),
            fn.MAX(rows.c.years).alias("years"),
        )
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
        Answer.select(
            fn.MAX(Answer.role).alias("role"),
            fn.MAX(Answer.unit).alias("unit"),
            fn.MAX(Answer.years).alias("years"),
        )
        .where(Answer.survey == survey.id, conditions)
        .group_by(Answer.response)
        .having(fn.COUNT(SQL("*")) == items)
        .alias("r")
    )
    missed = dict(_per_group(misses))
    return [(group, count - missed.get(group, 0)) for group, count in respondents.items()]


def _per_group(per_response: Any) -> list[tuple[Group, int]]:
    """Count the rows of a one-row-per-response subquery per (role, unit, years)."""
    columns = (per_response.c.role, per_response.c.unit, per_response.c.years)
    query = Answer.select(*columns, fn.COUNT(SQL("*"))).from_(per_response).group_by(*columns)
    return [((role, unit, years), count) for role, unit, years, count in db.execute(query)]


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
        answer_rows.extend(_answer_rows(survey, definition, answers, response_id))
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
)


def _answer_rows(
    survey: Survey, definition: Definition, answers: Answers, response_id: str
) -> Iterable[tuple[Any, ...]]:
    """The answer rows of one response, in the order of ``ANSWER_FIELDS``."""
    dims = answers.dimension_values(definition)
    groups = (dims.get("role"), dims.get("unit"), dims.get("years"))
    for key, values in answers.choices.items():
        for value in values:
            yield (response_id, survey.id, key, value, *groups)
    for key, number in answers.numbers.items():
        yield (response_id, survey.id, key, str(number), *groups)
