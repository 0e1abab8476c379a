"""Admission and storage of responses: access codes, one-time form tokens, submissions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from peewee import (
    IntegrityError,
    fn,
)

from portal import clock
from portal.codes import CODE_ALPHABET, CODE_LENGTH, keyed_hash, normalise_code
from portal.extensions import db
from portal.store import inbox
from portal.store.database import is_sqlite, write_transaction
from portal.store.errors import AlreadySubmitted, CodeRejected, DatabaseBusy, SurveyNotOpen
from portal.store.models import (
    AccessCode,
    FormToken,
    Status,
    Survey,
)
from portal.store.rows import ANSWER_FIELDS, insert_responses  # noqa: F401 - re-exported
from surveys.answers import Answers
from surveys.definition import Definition


def code_counts(survey: Survey) -> tuple[int, int]:
    """(issued, used) codes of the survey that are still on record."""
    query = AccessCode.select(AccessCode.used, fn.COUNT(AccessCode.code_hash).alias("n")).where(
        AccessCode.survey == survey.id
    )
    # peewee's stubs type each row as the model; the aliased n is set on it at run time.
    counts = {bool(row.used): row.n for row in query.group_by(AccessCode.used)}  # type: ignore[attr-defined]
    return counts.get(False, 0) + counts.get(True, 0), counts.get(True, 0)


def revoke_unused_codes(survey: Survey) -> int:
    """Delete every unused code of the survey; returns how many."""
    with write_transaction():
        return (
            AccessCode.delete()
            .where(AccessCode.survey == survey.id, AccessCode.used == False)  # noqa: E712
            .execute()
        )


def add_codes(survey: Survey, code_hashes: Sequence[str], district: str | None = None) -> None:
    """Store new single-use codes of ``survey`` by their keyed hashes (never the codes),
    with the district of a city-wide survey they are handed out in."""
    rows = [
        {"code_hash": h, "survey": survey.id, "used": False, "district": district}
        for h in sorted(code_hashes)
    ]
    with write_transaction():
        for start in range(0, len(rows), 500):
            AccessCode.insert_many(rows[start : start + 500]).execute()


@dataclass(frozen=True)
class CodeLookup:
    """What a typed code is: the survey it belongs to, and whether it has been used."""

    survey_id: int
    used: bool
    district: str | None = None


def look_up_code(code: str, secret_key: str, survey: Survey | None = None) -> CodeLookup | None:
    """The survey and state of ``code``, or None when it is not a known code; reads only.

    The keyed hash of a code is the same whichever survey it was issued for,
    so a code alone finds its survey. A used code keeps its row (with no time
    and no link to the response) until its survey closes, which is what lets
    the portal tell "already used" from "mistyped" without storing anything.
    With ``survey``, only that survey's codes count.
    """
    normalised = normalise_code(code)
    if len(normalised) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in normalised):
        return None
    query = AccessCode.select(AccessCode.survey, AccessCode.used, AccessCode.district).where(
        AccessCode.code_hash == keyed_hash(secret_key, "code", normalised)
    )
    if survey is not None:
        query = query.where(AccessCode.survey == survey.id)
    row = query.first()
    return None if row is None else CodeLookup(row.survey_id, bool(row.used), row.district)


def code_is_valid(survey: Survey, code: str, secret_key: str) -> bool:
    """Whether ``code`` admits to ``survey`` (known and unused); it is not claimed."""
    lookup = look_up_code(code, secret_key, survey)
    return lookup is not None and not lookup.used


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
    """Spend the admission and admit the answers into the sealed inbox, atomically.

    Nothing is written to the response tables here: the mixer moves the
    submission there later, in a shuffled batch (``portal.store.inbox``), so
    that no transaction id, page or order ties this admission to the answers.
    When the inbox then holds two batches, one is mixed at once; a failure
    of that step loses nothing (the entries wait for the next mixer).

    ``secret_key`` keys the hashes of codes and tokens; the entry is sealed
    to the survey's public key (``portal.store.survey_key``), or, for a
    survey opened before survey keys, with the key create_app gave
    ``inbox.configure`` (the same secret).

    Raises SurveyNotOpen, CodeRejected, AlreadySubmitted or DatabaseBusy; in
    every case nothing is written.
    """
    size = inbox.entry_size(definition)
    sealed = inbox.seal_entry(survey, inbox.encode(answers, _period(survey, today)), size)
    try:
        with write_transaction():
            inbox.lock_survey(survey.id)
            # Re-read the status inside the transaction: the survey may have closed meanwhile.
            status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
            if status != Status.OPEN:
                raise SurveyNotOpen()
            _spend_admission(survey, admission, secret_key)
            waiting = inbox.admit(survey, sealed, size)
    except IntegrityError as exc:
        # Two submissions of one form token race to the same primary key.
        raise AlreadySubmitted() from exc
    # A busy database only postpones mixing: the next submission, ``flask tick``
    # or the close mixes the waiting entries.
    if inbox.mix_due_after(survey, waiting):
        with suppress(DatabaseBusy):
            inbox.mix(survey)


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
    """Exit questionnaires keep the reporting half-year only; other surveys keep no time."""
    if survey.kind != "exit":
        return None
    day = today or clock.today()
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def submit_responses(
    survey: Survey,
    definition: Definition,
    answers_iter: Iterable[tuple[Answers, str | None]],
    *,
    batch_size: int = 5000,
) -> int:
    """Store many validated responses (answers, period) for an operator command (demo data).

    No admission is spent: only an operator can call this, and nothing links
    a person to these rows. They bypass the inbox: each batch of
    ``batch_size`` responses is one all-or-nothing transaction written in the
    random order of its keys, like a mixed batch, and the survey must be open
    when each batch is written. Returns the number stored.
    """
    stored = 0
    batch: list[tuple[Answers, str | None]] = []

    def flush() -> None:
        nonlocal stored
        with write_transaction():
            status = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
            if status != Status.OPEN:
                raise SurveyNotOpen()
            insert_responses(survey, definition, batch)
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
