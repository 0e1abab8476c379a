"""The sealed inbox: storage that ties no admission to an answer.

A submission is committed in one transaction with its admission (the code
claimed or the form token spent) — but not into the response tables. It goes
into the survey's *inbox* as a sealed entry, padded to one size per survey.

A survey with a survey key (every survey opened since schema version 14)
seals each entry to the key's public half (``portal.store.survey_key``); the
private half is only with HR. Nothing is mixed while it is open — nothing
here could open an entry — and the admission's transaction id and log
frames are shared with one sealed box and nothing else. At close, given the
key, every entry is opened and written to ``response``, ``answer`` and
``comment`` in the closing transaction, chunk by chunk of random ids, each
chunk shuffled; closed without the key (on its date), the entries wait
sealed until ``close_rows`` is given it (``store.open_answers``).

A survey opened before survey keys keeps the earlier scheme until it closes:
entries sealed with keys derived from the portal's secret
(``portal.store.seal``), every waiting entry re-sealed with a fresh nonce and
random id at each admission (so that none keeps the system columns of its
own admission), and a *mixer* that moves shuffled batches into the tables
while at least ``2 × batch`` wait, keeping ``batch`` of them in the inbox;
at close the rest is mixed and the survey's rows are rewritten in random
order, so they all share the close's transaction id.

``database.scrub_after_close`` then removes the old row versions
(PostgreSQL ``VACUUM``) and the write-ahead log (SQLite checkpoint).

Several workers and hosts: every write to a survey's inbox first takes a
lock on the survey (PostgreSQL transaction-scoped advisory lock; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), so a close never misses an
admission in flight, two submissions never re-seal the same entries at once
and two mixers never move the same entry.
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
from portal.store import seal, survey_key
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


def seal_entry(survey: Survey, plaintext: bytes, size: int) -> bytes:
    """Seal a new entry (outside the transaction: the lock is held as briefly as possible).

    To the survey's public key when it has one (``portal.store.survey_key``),
    otherwise with the portal's key (surveys opened before survey keys).
    """
    padded = _padded(len(plaintext), size)
    if survey.seal_key:
        return survey_key.seal(survey.seal_key, survey.id, seal.pad(plaintext, padded))
    return seal.seal(_key(), survey.id, plaintext, padded)


def open_entry(entry: InboxEntry, survey_id: int, private: Any) -> bytes:
    """The plaintext of a waiting entry, with the survey key where it was sealed to one."""
    if survey_key.is_sealed_to_key(entry.sealed):
        if private is None:
            raise survey_key.SurveyKeyError("the survey key is needed")
        return seal.unpad(survey_key.unseal(private, survey_id, entry.sealed))
    return seal.unseal(_key(), survey_id, entry.sealed)


def _padded(length: int, size: int) -> int:
    """``size``, or the whole number of ``size`` blocks a larger plaintext needs."""
    return max(size, -(-(length + 4) // size) * size)


def admit(survey: Survey, sealed: bytes, size: int) -> int:
    """Add a sealed submission to the inbox (and re-seal every waiting entry, without a key).

    The caller holds the transaction and the survey's lock. Every entry is
    sealed at ``size`` bytes (``entry_size`` of the survey's definition).
    Returns the number of entries now waiting (0, uncounted, with a survey key).

    A survey with a survey key only adds the entry: nothing the portal holds
    can open the waiting ones, so the entry's system columns and its place
    in the log beside the admission tie the admission to a sealed box that
    is opened, with all the others and in random order, only at close.
    """
    survey_id = survey.id
    if survey.seal_key:
        # Not counted: nothing mixes such an inbox before close (``mix_due_after``).
        _insert_entries(survey_id, [sealed])
        return 0
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


def mix_due_after(survey: Survey, waiting: int) -> bool:
    """Whether ``waiting`` entries make a batch to mix (two batches or more, no survey key)."""
    return not survey.seal_key and waiting >= 2 * batch_size()


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
    wait, or the survey is no longer open: closing mixes the rest, or it has
    a survey key: nothing opens its entries before close). Safe to call from
    any worker or host at any time.
    """
    if survey.seal_key:
        return 0
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


_OPEN_CHUNK = 2000  # entries opened and written at a time at close (bounds the memory used)


def _mix_locked(
    survey: Survey, final: bool, definition: Definition | None = None, private: Any = None
) -> int:
    """Move entries into the tables; the caller holds the transaction and the lock.

    ``final`` moves every waiting entry, ``_OPEN_CHUNK`` at a time in the order of
    their random ids, each chunk shuffled; ``private`` is the survey key's
    private half where the entries were sealed to it.
    """
    ids = [row.id for row in InboxEntry.select(InboxEntry.id).where(InboxEntry.survey == survey.id)]
    batch = batch_size()
    if final:
        chosen = sorted(ids)
    elif len(ids) < 2 * batch:
        return 0
    else:
        chosen = _random.sample(ids, len(ids) - batch)
    definition = definition or survey.definition()
    for start in range(0, len(chosen), _OPEN_CHUNK):
        part = chosen[start : start + _OPEN_CHUNK]
        entries = InboxEntry.select(InboxEntry.id, InboxEntry.sealed).where(InboxEntry.id.in_(part))
        submissions = [decode(open_entry(entry, survey.id, private)) for entry in entries]
        _random.shuffle(submissions)
        insert_responses(survey, definition, submissions)
        for first in range(0, len(part), 500):
            InboxEntry.delete().where(InboxEntry.id.in_(part[first : first + 500])).execute()
    return len(chosen)


def close_rows(survey: Survey, private: Any = None) -> int | None:
    """Move every waiting entry into the tables and leave the survey's rows in random order.

    Part of the closing transaction, or of opening the answers of a survey
    closed without its key (the caller holds it): afterwards every response,
    answer and comment of the survey was written by that one transaction, in
    an order drawn at random. Returns the number of entries moved. A survey
    with a survey key needs its private half (``private``) for that; without
    it the entries stay sealed in the inbox and None is returned: the answers
    wait for the key.
    """
    lock_survey(survey.id)
    if survey.seal_key and private is None and pending(survey.id):
        return None
    mixed_before = Response.select().where(Response.survey == survey.id).exists()
    moved = _mix_locked(survey, final=True, private=private)
    if mixed_before:
        # Rows the mixer wrote while the survey was open (no survey key) carry their
        # batch's transaction id and order: rewrite them all. Rows written only now,
        # chunk by chunk of random ids, each chunk shuffled, are in random order already.
        _rewrite_in_random_order(survey.id)
    return moved


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
