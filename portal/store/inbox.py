"""The sealed inbox and the mixer: storage that ties no admission to an answer.

A submission is committed in one transaction with its admission (the code
claimed or the form token spent) — but not into the response tables. It goes
into the survey's *inbox* as a sealed entry (``portal.store.seal``: encrypted
and authenticated with keys derived from the portal's secret key, which is
never in the database). In that same transaction every entry already waiting
in the survey's inbox is re-sealed with a fresh nonce and a fresh random id,
so that all waiting entries carry the system columns of the latest
submission (PostgreSQL ``xmin``; SQLite's WAL frames of that commit) and none
keeps those of its own admission.

The *mixer* moves entries from the inbox into ``response``, ``answer`` and
``comment`` in one transaction per batch: the rows of a batch share their
transaction id, and within it responses, answers and comments are written
in orders drawn independently at random. While the survey is open it mixes
only when at least ``2 × batch`` entries wait, and then moves all but
``batch`` of them, chosen at random: a batch never holds fewer than
``batch`` submissions, and the inbox keeps at least ``batch`` entries among
which the latest submission hides. The mixer runs after a submission that
finds the inbox full enough, from ``flask tick``, and always at close.

Closing is one transaction: the status changes, the code hashes and form
tokens are deleted, every remaining entry is mixed (however few), and the
survey's respondent rows are rewritten in random order, so they all share
the transaction id of the close and their physical (and dump) order is
random. ``database.scrub_after_close`` then removes the old row versions
(PostgreSQL ``VACUUM``) and the write-ahead log (SQLite checkpoint).

Several workers and hosts: every write to a survey's inbox first takes a
lock on the survey (PostgreSQL transaction-scoped advisory lock; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), so two submissions never
re-seal the same entries at once and two mixers never move the same entry.
"""

from __future__ import annotations

import json
import random
import uuid
import zlib
from collections.abc import Sequence
from typing import Any

from peewee import fn

from portal.extensions import db
from portal.store import seal
from portal.store.database import is_sqlite, write_transaction
from portal.store.models import Answer, Comment, InboxEntry, Response, Status, Survey
from portal.store.rows import insert_responses
from surveys.answers import Answers
from surveys.definition import Definition

# The smallest batch the mixer moves while a survey is open (VARNA_MIX_BATCH).
MIX_BATCH = 10
MIN_MIX_BATCH = 2
_LOCK_CLASS = 724016  # the first key of the survey's advisory lock (PostgreSQL)
_random = random.SystemRandom()
_settings: dict[str, Any] = {"secret_key": None, "batch": MIX_BATCH}


def configure(secret_key: str, batch: int = MIX_BATCH) -> None:
    """Set the key that seals entries and the batch size; create_app calls this."""
    if batch < MIN_MIX_BATCH:
        raise ValueError(f"the mixing batch must be at least {MIN_MIX_BATCH}")
    _settings["secret_key"] = secret_key
    _settings["batch"] = int(batch)


def batch_size() -> int:
    """The smallest number of submissions one mixing batch holds while a survey is open."""
    return _settings["batch"]


def _key() -> str:
    key = _settings["secret_key"]
    if not key:
        raise RuntimeError("the inbox has no key: create_app configures it")
    return key


def encode(answers: Answers, period: str | None) -> bytes:
    """The plaintext of an entry: the clean answers and the reporting period, compressed."""
    data = {
        "c": {key: list(values) for key, values in answers.choices.items()},
        "n": dict(answers.numbers),
        "t": dict(answers.texts),
        "p": period,
    }
    return zlib.compress(json.dumps(data, ensure_ascii=False, sort_keys=True).encode(), 9)


def decode(plaintext: bytes) -> tuple[Answers, str | None]:
    """The answers and period of an entry's plaintext."""
    data = json.loads(zlib.decompress(plaintext))
    answers = Answers(
        choices={key: tuple(values) for key, values in data["c"].items()},
        numbers={key: int(value) for key, value in data["n"].items()},
        texts=dict(data["t"]),
    )
    return answers, data["p"]


def lock_survey(survey_id: int) -> None:
    """Serialise writers of one survey's inbox; the caller holds the write transaction.

    PostgreSQL: an advisory lock released at commit, which writes nothing to
    any table. SQLite: ``BEGIN IMMEDIATE`` holds the database's write lock.
    """
    if not is_sqlite():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, int(survey_id)))


ENTRY_BLOCK = 4096


def entry_size(definition: Definition) -> int:
    """The padded size of the survey's entries: one size for every submission.

    Answers are compressed before sealing; 4 KiB holds any plausible
    submission (every option chosen, and comments of natural language at
    their full length compress to well under it). The bound of an
    uncompressed submission (every option key, every text at four bytes a
    character) is used instead when it is smaller.
    """
    bound = 256
    for item in definition.items():
        bound += len(item.key) + 8 + sum(len(o.key) + 4 for o in (item.options or ()))
        if item.kind == "text":
            bound += 4 * item.question.max_length
        elif item.kind == "number":
            bound += 24
    return min(-(-bound // 1024) * 1024, ENTRY_BLOCK)


def seal_entry(survey_id: int, plaintext: bytes, size: int) -> bytes:
    """Seal a new entry (outside the transaction: the lock is held as briefly as possible)."""
    return seal.seal(_key(), survey_id, plaintext, _padded(len(plaintext), size))


def _padded(length: int, size: int) -> int:
    """``size``, or the whole number of ``size`` blocks a larger plaintext needs."""
    return max(size, -(-(length + 4) // size) * size)


def admit(survey_id: int, sealed: bytes, size: int) -> int:
    """Add a sealed submission to the inbox and re-seal every waiting entry.

    The caller holds the transaction and the survey's lock. Every entry is
    sealed at ``size`` bytes (``entry_size`` of the survey's definition).
    Returns the number of entries now waiting.
    """
    key = _key()
    waiting = list(
        InboxEntry.select(InboxEntry.id, InboxEntry.sealed).where(InboxEntry.survey == survey_id)
    )
    resealed = []
    for entry in waiting:
        plaintext = seal.unseal(key, survey_id, entry.sealed)
        resealed.append(seal.seal(key, survey_id, plaintext, _padded(len(plaintext), size)))
    resealed.append(sealed)
    if waiting:
        InboxEntry.delete().where(InboxEntry.id.in_([e.id for e in waiting])).execute()
    _insert_entries(survey_id, resealed)
    return len(resealed)


def mix_due_after(waiting: int) -> bool:
    """Whether ``waiting`` entries make a batch to mix (two batches or more)."""
    return waiting >= 2 * batch_size()


def _insert_entries(survey_id: int, sealed: Sequence[bytes]) -> None:
    rows = sorted((str(uuid.uuid4()), survey_id, entry) for entry in sealed)
    if rows:
        InboxEntry.insert_many(
            rows, fields=[InboxEntry.id, InboxEntry.survey, InboxEntry.sealed]
        ).execute()


def pending(survey_id: int) -> int:
    """How many submissions of the survey wait in the inbox."""
    return InboxEntry.select().where(InboxEntry.survey == survey_id).count()


def pending_counts() -> dict[int, int]:
    """Waiting submissions per survey (surveys with none are left out)."""
    query = InboxEntry.select(InboxEntry.survey, fn.COUNT(InboxEntry.id).alias("n")).group_by(
        InboxEntry.survey
    )
    # peewee's stubs type each row as the model; the foreign key's survey_id and the
    # aliased n are set on it at run time.
    return {row.survey_id: row.n for row in query}  # type: ignore[attr-defined]


def mix(survey: Survey) -> int:
    """Move a batch of an open survey's inbox into the tables if enough entries wait.

    Returns the number of submissions moved (0 when fewer than two batches
    wait, or the survey is no longer open: closing mixes the rest). Safe to
    call from any worker or host at any time.
    """
    with write_transaction():
        lock_survey(survey.id)
        status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
        if status != Status.OPEN:
            return 0
        return _mix_locked(survey, final=False)


def mix_due() -> int:
    """Mix every open survey whose inbox holds two batches or more (``flask tick``)."""
    moved = 0
    threshold = 2 * batch_size()
    for survey_id, count in pending_counts().items():
        if count < threshold:
            continue
        survey = Survey.get_or_none(Survey.id == survey_id)
        if survey is not None and survey.status == Status.OPEN:
            moved += mix(survey)
    return moved


def _mix_locked(survey: Survey, final: bool, definition: Definition | None = None) -> int:
    """Move entries into the tables; the caller holds the transaction and the lock."""
    key = _key()
    entries = list(
        InboxEntry.select(InboxEntry.id, InboxEntry.sealed).where(InboxEntry.survey == survey.id)
    )
    batch = batch_size()
    if final:
        chosen = entries
    elif len(entries) < 2 * batch:
        return 0
    else:
        chosen = _random.sample(entries, len(entries) - batch)
    if not chosen:
        return 0
    submissions = [decode(seal.unseal(key, survey.id, entry.sealed)) for entry in chosen]
    _random.shuffle(submissions)
    insert_responses(survey, definition or survey.definition(), submissions)
    ids = [entry.id for entry in chosen]
    for start in range(0, len(ids), 500):
        InboxEntry.delete().where(InboxEntry.id.in_(ids[start : start + 500])).execute()
    return len(chosen)


def close_rows(survey: Survey) -> None:
    """Mix every waiting entry and rewrite the survey's rows in random order.

    Part of the closing transaction (the caller holds it): afterwards every
    response, answer and comment of the survey was written by that one
    transaction, in an order drawn at random.
    """
    lock_survey(survey.id)
    _mix_locked(survey, final=True)
    _rewrite_in_random_order(survey.id)


def _columns(model) -> str:
    return ", ".join(f'"{field.column_name}"' for field in model._meta.sorted_fields)


def _rewrite_in_random_order(survey_id: int) -> None:
    """Delete and re-insert the survey's rows, each table in its own random order."""
    tables = [(model, f"varna_rewrite_{model._meta.table_name}") for model in _REWRITTEN]
    for model, temp in tables:
        db.execute_sql(f'DROP TABLE IF EXISTS "{temp}"')
        db.execute_sql(
            f'CREATE TEMPORARY TABLE "{temp}" AS SELECT {_columns(model)} '  # noqa: S608 - names from the models
            f'FROM "{model._meta.table_name}" WHERE "survey_id" = {_param()}',
            (survey_id,),
        )
    # Children first: answers reference responses.
    for model in (Comment, Answer, Response):
        model.delete().where(model.survey == survey_id).execute()
    for model, temp in tables:
        columns = _columns(model)
        db.execute_sql(
            f'INSERT INTO "{model._meta.table_name}" ({columns}) '  # noqa: S608 - names from the models
            f'SELECT {columns} FROM "{temp}" ORDER BY random()'
        )
        db.execute_sql(f'DROP TABLE "{temp}"')


_REWRITTEN = (Response, Answer, Comment)


def _param() -> str:
    return "?" if is_sqlite() else "%s"
