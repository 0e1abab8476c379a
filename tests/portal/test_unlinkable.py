"""Attacks on unlinkable storage (shared/security.md rule 16, threat models T1 and T2).

Each test plays an insider with a copy of the data and tries to tie a comment
or a code to the response it came with: on PostgreSQL by the system columns
(``xmin``), the physical order (``ctid``) and the order of ``pg_dump``; on
SQLite by reading the database and its WAL after every single commit. Every
attack succeeded completely when a submission wrote its code, response,
answers and comments in one transaction.

The test knows the truth: submission *i* has its own combination of role,
unit and years, and the comment "kommentar i slut".
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from urllib.parse import urlparse

import pytest

from portal import create_app, store
from portal.extensions import db
from portal.store import responses
from portal.store.models import AccessCode, Answer, Comment, InboxEntry, Response
from surveys.answers import validate
from surveys.definition import load_template
from tests import postgres_cluster
from tests.conftest import reset_postgres
from tests.factories import FAST_ARGON2, complete_answers, make_survey, private_key

STAFF = load_template("staff_threats")
BATCH = 4
SUBMISSIONS = 40
_COMMENT = re.compile(r"kommentar (\d+) slut")


def signatures(n: int) -> list[tuple[str, str, str]]:
    """n distinct (role, unit, years) combinations, none of them "prefer not to say"."""
    roles = [o.key for o in STAFF.question("role").options if not o.prefer_not]
    units = [o.key for o in STAFF.question("unit").options if not o.prefer_not]
    years = [o.key for o in STAFF.question("years").options if not o.prefer_not]
    return list(itertools.islice(itertools.product(roles, units, years), n))


def answers_of(i: int, signature: tuple[str, str, str]):
    role, unit, years = signature
    form = complete_answers(
        STAFF, role=role, unit=unit, years=years, suggestions=f"kommentar {i} slut"
    )
    return validate(STAFF, {k: [v] for k, v in form.items()})


def submit_one(app, survey, codes, i: int, sig: tuple[str, str, str]) -> None:
    """Submission ``i`` with signature ``sig`` and code ``codes[i]`` (in an app context)."""
    store.submit_response(
        survey,
        STAFF,
        answers_of(i, sig),
        store.Admission("code", codes[i]),
        app.config["SECRET_KEY"],
    )


def submit_all(app, survey, codes, after_commit=None) -> list[tuple[str, str, str]]:
    """Submit SUBMISSIONS responses, one code each; returns each submission's signature."""
    sigs = signatures(SUBMISSIONS)
    with app.app_context(), db.connection_context():
        for i, sig in enumerate(sigs):
            submit_one(app, survey, codes, i, sig)
            if after_commit:
                after_commit(i)
    return sigs


def response_signatures() -> dict[str, tuple[str, str, str]]:
    """What the insider reads from the answers: each response's role, unit and years."""
    return {
        a.response_id: (a.role, a.unit, a.years)
        for a in Answer.select(Answer.response, Answer.role, Answer.unit, Answer.years)
    }


def rank_pairing_hits(comment_texts, response_ids, truth, sigs) -> int:
    """Pair the k-th comment with the k-th response (by storage order); count right guesses."""
    hits = 0
    for text, response_id in zip(comment_texts, response_ids, strict=False):
        i = int(_COMMENT.fullmatch(text).group(1))
        hits += truth.get(response_id) == sigs[i]
    return hits


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_url():
    try:
        with postgres_cluster.cluster() as url:
            yield url
    except LookupError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def pg_app(pg_url, tmp_path):
    reset_postgres(pg_url)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": pg_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "MIX_BATCH": BATCH,
            **FAST_ARGON2,
        }
    )
    yield app
    db.obj.close_all()


def _xmins(table: str, survey_id: int, extra: str = "") -> list[tuple[str, str]]:
    return db.execute_sql(
        f'SELECT xmin::text, * FROM "{table}" WHERE survey_id = %s {extra}',  # noqa: S608
        (survey_id,),
    ).fetchall()


def _pg_dump_rows(url: str, table: str) -> list[list[str]]:
    """The data rows of ``table`` in the order pg_dump writes them."""
    program = postgres_cluster.pg_dump()
    if program is None:
        pytest.skip("pg_dump is not installed")
    parsed = urlparse(url)
    dump = subprocess.run(  # noqa: S603 - a fixed program and arguments
        [
            program,
            "-h",
            parsed.hostname,
            "-p",
            str(parsed.port),
            "-U",
            parsed.username,
            "--data-only",
            "-t",
            table,
            parsed.path.lstrip("/"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows, inside = [], False
    for line in dump.splitlines():
        if line.startswith(f"COPY public.{table} "):
            inside = True
        elif line == "\\.":
            inside = False
        elif inside:
            rows.append(line.split("\t"))
    return rows


def _attack_postgres(app, url, survey, sigs, *, closed: bool) -> None:
    with app.app_context(), db.connection_context():
        truth = response_signatures()
        responses = _xmins("response", survey.id)
        comments = _xmins("comment", survey.id)
        assert comments, "no comment reached the tables"
        by_xmin: dict[str, set[str]] = {}
        for xmin, response_id, *_ in responses:
            by_xmin.setdefault(xmin, set()).add(response_id)
        # 1. Join comment and response on xmin: never one candidate, always a whole batch.
        for xmin, _id, _survey, _question, text in comments:
            candidates = by_xmin.get(xmin, set())
            assert len(candidates) >= (len(truth) if closed else BATCH), text
        if closed:
            assert len(by_xmin) == 1  # every row was rewritten by the closing transaction
        # 2. Join code and response on xmin: nothing in common.
        used = _xmins("access_code", survey.id, "AND used")
        assert not {xmin for xmin, *_ in used} & set(by_xmin)
        if closed:
            assert AccessCode.select().count() == 0
            assert InboxEntry.select().count() == 0
        else:
            # T2 (with the key): the latest code shares its xmin with every entry still
            # waiting, at least a batch of them; the other codes with nothing at all.
            waiting = _xmins("inbox_entry", survey.id)
            assert len({xmin for xmin, *_ in waiting}) == 1
            assert len(waiting) >= BATCH
            assert len({xmin for xmin, *_ in used} & {xmin for xmin, *_ in waiting}) <= 1
        # 3. Pair comments and responses by physical order.
        response_order = [
            r
            for (r,) in db.execute_sql(
                "SELECT id FROM response WHERE survey_id = %s ORDER BY ctid", (survey.id,)
            )
        ]
        comment_order = [
            t
            for (t,) in db.execute_sql(
                "SELECT text FROM comment WHERE survey_id = %s ORDER BY ctid", (survey.id,)
            )
        ]
    limit = len(comment_order) // 4 if closed else len(comment_order) // 2
    assert rank_pairing_hits(comment_order, response_order, truth, sigs) <= limit
    # 4. The same with the order of a dump.
    dumped_responses = [row[0] for row in _pg_dump_rows(url, "response")]
    dumped_comments = [row[3] for row in _pg_dump_rows(url, "comment")]
    assert len(dumped_comments) == len(comment_order)
    assert rank_pairing_hits(dumped_comments, dumped_responses, truth, sigs) <= limit


def test_postgres_system_columns_and_order_link_nothing_while_open_and_after_close(pg_app, pg_url):
    survey, codes = make_survey(pg_app, access="codes", codes=SUBMISSIONS, keyed=False)
    sigs = submit_all(pg_app, survey, codes)
    with pg_app.app_context(), db.connection_context():
        assert store.response_count(survey) == SUBMISSIONS
        assert Response.select().count() >= SUBMISSIONS - 2 * BATCH
    _attack_postgres(pg_app, pg_url, survey, sigs, closed=False)
    with pg_app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert Response.select().count() == SUBMISSIONS
        assert Comment.select().count() == SUBMISSIONS
    _attack_postgres(pg_app, pg_url, survey, sigs, closed=True)


def test_postgres_survey_closing_below_one_batch_keeps_every_response(pg_app, pg_url):
    survey, codes = make_survey(pg_app, access="codes", codes=3, keyed=False)
    sigs = signatures(3)
    with pg_app.app_context(), db.connection_context():
        for i, sig in enumerate(sigs):
            submit_one(pg_app, survey, codes, i, sig)
        assert Response.select().count() == 0  # fewer than two batches: all still sealed
        assert store.response_count(survey) == 3
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert Response.select().count() == 3
        xmins = {x for (x,) in db.execute_sql("SELECT xmin::text FROM response")}
        xmins |= {x for (x,) in db.execute_sql("SELECT xmin::text FROM comment")}
        assert len(xmins) == 1


# -- SQLite ------------------------------------------------------------------------------------


def _snapshot(database_path, target_dir, index):
    """Copy the database file and its WAL as they are on disk right now, and read the copy."""
    copy = target_dir / f"snap{index}.sqlite3"
    shutil.copyfile(database_path, copy)
    wal = database_path.with_name(database_path.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    reader = sqlite3.connect(copy)
    try:
        return {
            "responses": {r for (r,) in reader.execute("SELECT id FROM response")},
            "comments": {t for (t,) in reader.execute("SELECT text FROM comment")},
            # Storage order: WITHOUT ROWID tables are stored in the order of their key.
            "comment_keys": dict(reader.execute("SELECT text, id FROM comment")),
            "used": {h for (h,) in reader.execute("SELECT code_hash FROM access_code WHERE used")},
            "wal": copy.with_name(copy.name + "-wal").read_bytes()
            if copy.with_name(copy.name + "-wal").exists()
            else b"",
        }
    finally:
        reader.close()


@pytest.mark.sqlite_only
def test_sqlite_reader_of_every_commit_pairs_no_comment_or_code_with_a_response(tmp_path):
    """T1 copies the database and its WAL after every commit and compares consecutive copies."""
    from tests.factories import make_app

    app = make_app(tmp_path / "instance", MIX_BATCH=BATCH)
    path = tmp_path / "instance" / "varna.sqlite3"
    survey, codes = make_survey(app, access="codes", codes=SUBMISSIONS, keyed=False)
    snaps_dir = tmp_path / "snaps"
    snaps_dir.mkdir()
    snapshots = []
    connection_db = db.obj
    original_commit = connection_db.commit

    def commit_and_copy():
        result = original_commit()
        snapshots.append(_snapshot(path, snaps_dir, len(snapshots)))
        return result

    connection_db.commit = commit_and_copy
    try:
        sigs = submit_all(app, survey, codes)
        with app.app_context(), db.connection_context():
            store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
    finally:
        del connection_db.commit
    assert len(snapshots) > SUBMISSIONS  # one per submission, one per mixed batch, the close
    with app.app_context(), db.connection_context():
        truth = response_signatures()
    previous = {"responses": set(), "comments": set(), "used": set(), "wal": b""}
    commits_with_comments = guessed = 0
    for snap in snapshots:
        new_responses = snap["responses"] - previous["responses"]
        new_comments = snap["comments"] - previous["comments"]
        newly_used = snap["used"] - previous["used"]
        # A commit that spends a code adds no response and no comment: it only seals.
        if newly_used:
            assert not new_responses
            assert not new_comments
            assert len(newly_used) == 1
        # A commit that adds comments adds a whole batch of responses with them.
        if new_comments:
            commits_with_comments += 1
            assert len(new_responses) >= BATCH
            assert len(new_comments) == len(new_responses)
            # Within the commit nothing tells which comment goes with which response,
            # not even their storage order: a guess is right for about one in a batch.
            by_storage = sorted(new_comments, key=snap["comment_keys"].__getitem__)
            guessed += rank_pairing_hits(by_storage, sorted(new_responses), truth, sigs)
        # No comment is legible in the WAL before the commit that mixed it.
        for text in {f"kommentar {i} slut" for i in range(SUBMISSIONS)} - snap["comments"]:
            assert text.encode() not in snap["wal"]
        previous = snap
    assert commits_with_comments >= 2
    # One commit per submission would have made every guess right.
    assert guessed <= SUBMISSIONS // 2
    assert previous["responses"]
    assert len(previous["comments"]) == SUBMISSIONS
    # After close: the whole tables in storage order pair no better than chance.
    final = sorted(previous["comments"], key=previous["comment_keys"].__getitem__)
    assert rank_pairing_hits(final, sorted(previous["responses"]), truth, sigs) <= SUBMISSIONS // 4


@pytest.mark.parametrize("keyed", [True, False], ids=["survey-key", "before-survey-keys"])
def test_postgres_close_during_a_submission_waits_for_it_and_keeps_it(pg_app, monkeypatch, keyed):
    """Several workers: a close that starts while a submission is between reading the
    status and spending its code must neither deadlock with it nor lose it."""
    survey, codes = make_survey(pg_app, access="codes", codes=3, keyed=keyed)
    reached, release = threading.Event(), threading.Event()
    original = responses._spend_admission

    def paused(*args):
        reached.set()
        release.wait(10)
        return original(*args)

    monkeypatch.setattr(responses, "_spend_admission", paused)
    errors: list[BaseException] = []
    closed: list[bool] = []

    def submit():
        with pg_app.app_context(), db.connection_context():
            try:
                store.submit_response(
                    survey,
                    STAFF,
                    answers_of(0, signatures(1)[0]),
                    store.Admission("code", codes[0]),
                    pg_app.config["SECRET_KEY"],
                )
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    def close():
        with pg_app.app_context(), db.connection_context():
            try:
                closed.append(
                    store.transition(
                        store.get_survey(survey.slug),
                        ("open",),
                        "closed",
                        dt.date(2026, 11, 26),
                        private_key(survey),
                    )
                )
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    submitter = threading.Thread(target=submit)
    submitter.start()
    assert reached.wait(10)
    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(0.5)  # the close is now as far as it can get before the submission ends
    release.set()
    submitter.join(20)
    closer.join(20)
    assert not errors, errors
    assert closed == [True]
    with pg_app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).status == "closed"
        assert Response.select().count() == 1  # the acknowledged submission was mixed in
        assert Comment.select().count() == 1
        assert InboxEntry.select().count() == 0
        assert AccessCode.select().count() == 0


def test_postgres_close_retires_the_wal_that_held_the_admissions(pg_app, caplog):
    """T2 after close: the WAL of the open period held every admission's commit (a code
    row and the sealed inbox, which the key reads); after the close no WAL file holds
    any sealed entry (or the portal says what the DBA must do when it cannot see to it)."""
    caplog.set_level(logging.WARNING, logger="portal.store.database")
    survey, codes = make_survey(pg_app, access="codes", codes=SUBMISSIONS, keyed=False)
    with pg_app.app_context(), db.connection_context():
        chunks = []
        for i, sig in enumerate(signatures(3 * BATCH)):
            submit_one(pg_app, survey, codes, i, sig)
            # Every version of the inbox this admission wrote (re-sealed, so all new).
            chunks += [bytes(e.sealed)[100:164] for e in InboxEntry.select(InboxEntry.sealed)]

        def wal_holding_entries() -> list[str]:
            names = [n for (n,) in db.execute_sql("SELECT name FROM pg_ls_waldir()")]
            found = []
            for name in names:
                if len(name) != 24:  # segments only, not .history or archive status
                    continue
                (content,) = db.execute_sql(
                    "SELECT pg_read_binary_file(%s)", (f"pg_wal/{name}",)
                ).fetchone()
                if any(chunk in bytes(content) for chunk in chunks):
                    found.append(name)
            return found

        assert wal_holding_entries(), "the attack found nothing to begin with"
        (recycle,) = db.execute_sql("SHOW wal_recycle").fetchone()
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        if recycle == "off":
            assert wal_holding_entries() == []
            assert "WAL" not in caplog.text
        else:  # a cluster that keeps recycled segments: the operator is told, no content
            assert "wal_recycle = on" in caplog.text


def test_postgres_without_the_rights_to_retire_the_wal_the_operator_is_told(pg_app, caplog):
    """A database user that may not switch the WAL: the close goes on, a warning (no
    content) says what the DBA must do."""
    from portal.store.database import retire_wal

    caplog.set_level(logging.WARNING, logger="portal.store.database")
    with pg_app.app_context(), db.connection_context():
        connection = db.connection()
        connection.autocommit = True
        try:
            db.execute_sql("DROP ROLE IF EXISTS varna_plain")
            db.execute_sql("CREATE ROLE varna_plain")
            db.execute_sql("SET ROLE varna_plain")
            assert retire_wal() is False
        finally:
            db.execute_sql("RESET ROLE")
            db.execute_sql("DROP ROLE varna_plain")
            connection.autocommit = False
    assert "SELECT pg_switch_wal(); CHECKPOINT;" in caplog.text


def test_postgres_form_tokens_share_no_transaction_with_a_response(pg_app):
    """Link mode: a spent form token's xmin is that of its admission, which wrote no
    response; the tokens are gone after close."""
    survey, _ = make_survey(pg_app, access="link", keyed=False)
    with pg_app.app_context(), db.connection_context():
        for i, sig in enumerate(signatures(4 * BATCH)):
            store.submit_response(
                survey,
                STAFF,
                answers_of(i, sig),
                store.Admission("token", f"form-token-{i}"),
                pg_app.config["SECRET_KEY"],
            )
        tokens = {x for (x, *_) in _xmins("form_token", survey.id)}
        responses = {x for (x, *_) in _xmins("response", survey.id)}
        comments = {x for (x, *_) in _xmins("comment", survey.id)}
        assert len(tokens) == 4 * BATCH  # one admission each
        assert responses  # batches were mixed
        assert not tokens & (responses | comments)
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert db.execute_sql("SELECT count(*) FROM form_token").fetchone()[0] == 0
        assert Response.select().count() == 4 * BATCH


def _wal_commits(wal: bytes) -> int:
    """The commits whose frames an SQLite WAL file holds (each a state of the database)."""
    if len(wal) < 32:
        return 0
    page = int.from_bytes(wal[8:12], "big")
    frames = (len(wal) - 32) // (page + 24)
    return sum(
        1
        for f in range(frames)
        if int.from_bytes(wal[32 + f * (page + 24) + 4 : 32 + f * (page + 24) + 8], "big")
    )


@pytest.mark.sqlite_only
def test_sqlite_tick_and_close_empty_the_wal_that_holds_earlier_inbox_states(tmp_path):
    """T2 (README, limit a): one copy of the WAL holds a state of the inbox per commit,
    which the key reads; ``flask tick`` and the close empty it even while other
    connections keep it alive (as the workers do under load)."""
    from tests.factories import make_app

    app = make_app(tmp_path / "instance", MIX_BATCH=BATCH)
    database = tmp_path / "instance" / "varna.sqlite3"
    wal = database.with_name(database.name + "-wal")
    survey, codes = make_survey(app, access="codes", codes=SUBMISSIONS, keyed=False)
    reader = sqlite3.connect(database)  # another worker's connection keeps the WAL
    reader.execute("SELECT count(*) FROM survey").fetchone()
    try:

        def submit(indexes):
            with app.app_context(), db.connection_context():
                for i in indexes:
                    submit_one(app, survey, codes, i, signatures(SUBMISSIONS)[i])

        submit(range(6))
        assert _wal_commits(wal.read_bytes()) >= 6  # six states of the inbox in one copy
        result = app.test_cli_runner().invoke(args=["tick"])
        assert result.exit_code == 0, result.output
        assert wal.stat().st_size == 0
        submit(range(6, 12))
        assert _wal_commits(wal.read_bytes()) >= 6
        with app.app_context(), db.connection_context():
            store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert wal.stat().st_size == 0
    finally:
        reader.close()


# -- T2 with a survey key: the secret key, the code list and the database's history ------------


def _open_with_the_portals_secret(app, survey_id: int, sealed: bytes) -> bool:
    """Whether the insider's keys (the portal's secret, in every way the portal uses it) open it."""
    from portal.store import seal

    try:
        seal.unseal(app.config["SECRET_KEY"], survey_id, sealed)
    except seal.SealError:
        return False
    return True


@pytest.mark.sqlite_only
def test_sqlite_t2_with_every_wal_copy_and_the_code_list_learns_who_answered_not_what(tmp_path):
    """T2 holds the portal's secret key and HR's list of codes, and copies the database and
    its WAL after every commit. With a survey key it learns who answered (the code each
    commit spent, and the sealed entry beside it) and nothing of what: no entry opens, no
    answer or comment is anywhere in the files until the close opens them. The same copies
    with the survey key in hand would give every person's answers: that is what it keeps."""
    from portal import codes as code_hashing
    from portal.store import inbox, survey_key
    from tests.factories import key_text, make_app

    app = make_app(tmp_path / "instance", MIX_BATCH=BATCH)
    path = tmp_path / "instance" / "varna.sqlite3"
    survey, codes = make_survey(app, access="codes", codes=SUBMISSIONS)
    assert survey.seal_key
    secret = app.config["SECRET_KEY"]
    person_of = {
        code_hashing.keyed_hash(secret, "code", code_hashing.normalise_code(code)): i
        for i, code in enumerate(codes)
    }
    snaps_dir = tmp_path / "snaps"
    snaps_dir.mkdir()
    snapshots = []
    original_commit = db.obj.commit

    def commit_and_copy():
        result = original_commit()
        copy = snaps_dir / f"snap{len(snapshots)}.sqlite3"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        reader = sqlite3.connect(copy)
        try:
            snapshots.append(
                {
                    "entries": dict(reader.execute("SELECT id, sealed FROM inbox_entry")),
                    "used": {
                        h for (h,) in reader.execute("SELECT code_hash FROM access_code WHERE used")
                    },
                    "rows": sum(
                        reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                        for table in ("response", "answer", "comment")
                    ),
                    "raw": raw,
                }
            )
        finally:
            reader.close()
        return result

    db.obj.commit = commit_and_copy
    try:
        sigs = submit_all(app, survey, codes)
    finally:
        del db.obj.commit
    assert len(snapshots) >= SUBMISSIONS
    previous = {"entries": {}, "used": set()}
    learned: dict[int, bytes] = {}  # person -> the sealed entry admitted with their code
    for snap in snapshots:
        assert snap["rows"] == 0  # no response, answer or comment exists while open
        for i in range(SUBMISSIONS):
            assert f"kommentar {i} slut".encode() not in snap["raw"]
        new_used = snap["used"] - previous["used"]
        new_entries = set(snap["entries"]) - set(previous["entries"])
        if new_used:
            # Participation: the insider sees whose code was spent, and the entry beside it.
            assert len(new_used) == 1
            assert len(new_entries) == 1
            learned[person_of[next(iter(new_used))]] = snap["entries"][next(iter(new_entries))]
        previous = snap
    assert sorted(learned) == list(range(SUBMISSIONS))
    # ... but none of those entries opens with anything the portal holds.
    assert not any(_open_with_the_portals_secret(app, survey.id, e) for e in learned.values())
    # Control: with the survey key the same copies give every person's comment and answers.
    private = survey_key.parse(key_text(survey), survey.seal_key)
    for i, sealed in learned.items():
        answers, _ = inbox.decode(inbox.seal.unpad(survey_key.unseal(private, survey.id, sealed)))
        assert answers.texts["suggestions"] == f"kommentar {i} slut"
        assert (answers.choices["role"][0], answers.choices["unit"][0]) == sigs[i][:2]
    # The close with the key opens everything in one transaction, in random order.
    with app.app_context(), db.connection_context():
        store.set_status(store.get_survey(survey.slug), "closed", private)
        truth = response_signatures()
        assert len(truth) == SUBMISSIONS
        assert InboxEntry.select().count() == 0
        assert AccessCode.select().count() == 0
        order = [c.text for c in Comment.select().order_by(Comment.id)]
        responses_in_order = [r.id for r in Response.select().order_by(Response.id)]
    assert rank_pairing_hits(order, responses_in_order, truth, sigs) <= SUBMISSIONS // 4


def test_postgres_t2_with_a_survey_key_sees_one_sealed_entry_per_code_and_opens_none(
    pg_app, pg_url
):
    """On PostgreSQL: while open, a spent code shares its xmin with exactly one inbox
    entry (its admission) and with nothing else; no response row exists; the secret key
    opens no entry. After the close with the key, everything shares the close's xmin."""
    survey, codes = make_survey(pg_app, access="codes", codes=SUBMISSIONS)
    sigs = submit_all(pg_app, survey, codes)
    with pg_app.app_context(), db.connection_context():
        assert Response.select().count() == 0
        assert Comment.select().count() == 0
        entries = _xmins("inbox_entry", survey.id)
        assert len(entries) == SUBMISSIONS
        used = {xmin for xmin, *_ in _xmins("access_code", survey.id, "AND used")}
        assert len(used) == SUBMISSIONS
        assert used == {xmin for xmin, *_ in entries}  # one admission, one sealed entry
        for entry in InboxEntry.select():
            assert not _open_with_the_portals_secret(pg_app, survey.id, bytes(entry.sealed))
        dumped = "\n".join("\t".join(row) for row in _pg_dump_rows(pg_url, "inbox_entry"))
        assert dumped.count("\n") == SUBMISSIONS - 1
        assert not _COMMENT.search(dumped)
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert Response.select().count() == SUBMISSIONS
    _attack_postgres(pg_app, pg_url, survey, sigs, closed=True)
