"""SIGKILL during submission, mixing and closing (security.md rule 16).

A child process submits with single-use codes and prints "ACK i" only after
``submit_response`` returned (when the portal would say "thank you"); the
test kills it at random moments — inside a submission, inside a mixing
batch (a batch of 2 mixes after every other submission), inside the close
that mixes the rest and rewrites the tables. Afterwards: every acknowledged
response is there, none is there in part, each spent code admitted exactly
one submission, and a spent code is refused.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from portal import store
from portal.extensions import db
from portal.store import inbox
from portal.store.models import AccessCode, Answer, Comment, InboxEntry, Response, Status, Survey
from surveys.answers import validate
from surveys.definition import load_template
from tests.factories import SURVEY_KEYS, complete_answers, make_survey, private_key

pytestmark = pytest.mark.slow

STAFF = load_template("staff_threats")
SECRET = "test-secret-key"

CHILD = """
import json, sys
from portal import create_app, store
from portal.extensions import db
from portal.store import survey_key
from surveys.answers import validate
from surveys.definition import load_template
from tests.factories import FAST_ARGON2, complete_answers

url, instance, slug, task, key = sys.argv[1:6]
app = create_app({"SECRET_KEY": "SECRET", "DATABASE_URL": url, "INSTANCE_PATH": instance,
                  "MIX_BATCH": 2, **FAST_ARGON2})
staff = load_template("staff_threats")
with app.app_context(), db.connection_context():
    survey = store.get_survey(slug)
    private = survey_key.parse(key, survey.seal_key) if survey.seal_key else None
    if task == "close":
        print("CLOSING", flush=True)
        store.set_status(survey, "closed", private)
        print("CLOSED", flush=True)
    else:
        for i, code in json.loads(task):
            form = complete_answers(staff, suggestions=f"crash {i} end")
            answers = validate(staff, {k: [v] for k, v in form.items()})
            store.submit_response(survey, staff, answers, store.Admission("code", code),
                                  app.config["SECRET_KEY"])
            print(f"ACK {i}", flush=True)
""".replace('"SECRET"', repr(SECRET))


def run_child(app, tmp_path, slug: str, task: str, kill_after_line, delay: float) -> list[str]:
    """Run the child; SIGKILL it ``delay`` seconds after line ``kill_after_line``."""
    child = subprocess.Popen(  # noqa: S603 - this interpreter and a fixed script
        [
            sys.executable,
            "-c",
            CHILD,
            app.config["DATABASE_URL"],
            str(tmp_path / "child-instance"),
            slug,
            task,
            SURVEY_KEYS.get(slug, "-"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in child.stdout:
        lines.append(line.strip())
        if kill_after_line(len(lines), line.strip()):
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    # Lines the child flushed before it died are acknowledged too.
    lines.extend(line.strip() for line in child.stdout.read().splitlines())
    if child.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(child.stderr.read())
    child.stdout.close()
    child.stderr.close()
    return lines


def check_consistent(survey_id: int) -> tuple[int, set[str]]:
    """Nothing partial: every response whole, every inbox entry whole, one per spent code.

    Returns the number of responses (mixed and waiting) and the comments found.
    """
    expected_answers = len(_answer_rows_of_one())
    per_response: dict[str, int] = {}
    for answer in Answer.select(Answer.response).where(Answer.survey == survey_id):
        per_response[answer.response_id] = per_response.get(answer.response_id, 0) + 1
    responses = [r.id for r in Response.select(Response.id).where(Response.survey == survey_id)]
    assert sorted(per_response) == sorted(responses)
    assert set(per_response.values()) <= {expected_answers}
    comments = {c.text for c in Comment.select().where(Comment.survey == survey_id)}
    assert len(comments) == len(responses)
    survey = Survey.get_by_id(survey_id)
    private = private_key(survey)
    for entry in InboxEntry.select().where(InboxEntry.survey == survey_id):
        answers, _period = inbox.decode(inbox.open_entry(entry, survey_id, private))
        comments.add(answers.texts["suggestions"])
    total = len(responses) + InboxEntry.select().where(InboxEntry.survey == survey_id).count()
    assert len(comments) == total
    status = Survey.get_by_id(survey_id).status
    if status == Status.OPEN:
        used = AccessCode.select().where(AccessCode.survey == survey_id, AccessCode.used).count()
        assert used == total  # each spent code admitted exactly one submission
    else:
        assert AccessCode.select().where(AccessCode.survey == survey_id).count() == 0
        waiting = InboxEntry.select().where(InboxEntry.survey == survey_id).count()
        assert waiting == 0 or survey.awaiting_key
    return total, comments


def _answer_rows_of_one():
    form = complete_answers(STAFF, suggestions="x")
    answers = validate(STAFF, {k: [v] for k, v in form.items()})
    return [(k, v) for k, values in answers.choices.items() for v in values] + list(
        answers.numbers.items()
    )


@pytest.mark.parametrize("keyed", [True, False], ids=["survey-key", "before-survey-keys"])
def test_sigkill_during_submission_and_mixing_loses_no_acknowledged_response(app, tmp_path, keyed):
    survey, codes = make_survey(app, access="codes", codes=48, keyed=keyed)
    rng = random.Random()
    acked: set[int] = set()
    pairs = list(enumerate(codes))
    for start in range(0, len(pairs), 12):
        chunk = pairs[start : start + 12]
        stop_after = rng.randint(2, 10)
        lines = run_child(
            app,
            tmp_path,
            survey.slug,
            json.dumps(chunk),
            lambda n, _line, stop=stop_after: n >= stop,
            rng.uniform(0, 0.03),
        )
        acked |= {int(line.split()[1]) for line in lines if line.startswith("ACK")}
        with app.app_context(), db.connection_context():
            _total, comments = check_consistent(survey.id)
        assert {f"crash {i} end" for i in acked} <= comments
    assert acked, "the child acknowledged nothing"
    # A spent code is refused, whatever moment the crash came at.
    with app.app_context(), db.connection_context():
        form = complete_answers(STAFF)
        answers = validate(STAFF, {k: [v] for k, v in form.items()})
        for i in sorted(acked)[:3]:
            with pytest.raises(store.CodeRejected):
                store.submit_response(
                    survey, STAFF, answers, store.Admission("code", codes[i]), SECRET
                )


@pytest.mark.parametrize("keyed", [True, False], ids=["survey-key", "before-survey-keys"])
@pytest.mark.parametrize("delay", [0.0, 0.005, 0.02])
def test_sigkill_during_close_leaves_the_survey_open_and_whole_or_closed_and_whole(
    app, tmp_path, delay, keyed
):
    survey, codes = make_survey(app, access="codes", codes=30, keyed=keyed)
    form = {}
    with app.app_context(), db.connection_context():
        for i, code in enumerate(codes):
            form = complete_answers(STAFF, suggestions=f"crash {i} end")
            answers = validate(STAFF, {k: [v] for k, v in form.items()})
            store.submit_response(survey, STAFF, answers, store.Admission("code", code), SECRET)
        before, comments_before = check_consistent(survey.id)
    assert before == 30
    run_child(app, tmp_path, survey.slug, "close", lambda _n, line: line == "CLOSING", delay)
    with app.app_context(), db.connection_context():
        total, comments = check_consistent(survey.id)
        assert (total, comments) == (before, comments_before)
        if Survey.get_by_id(survey.id).status == Status.OPEN:
            store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert check_consistent(survey.id) == (before, comments_before)
        assert Response.select().where(Response.survey == survey.id).count() == 30


# The child of the tests below dies at one exact point *inside* a transaction, by its own
# SIGKILL, so that every step is shown to be all-or-nothing rather than hit by chance.
KILL_AT = """
import datetime as dt, os, signal, sys
from portal import create_app, store
from portal.extensions import db
from portal.store import inbox, survey_key
from surveys.answers import validate
from surveys.definition import load_template
from tests.factories import FAST_ARGON2, complete_answers

url, instance, slug, point, code, key = sys.argv[1:7]
app = create_app({"SECRET_KEY": "SECRET", "DATABASE_URL": url, "INSTANCE_PATH": instance,
                  "MIX_BATCH": 2, **FAST_ARGON2})


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def then_die(function):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        die()
        return result
    return wrapper


if point == "admission":  # the code claimed and the entry added, not committed
    inbox.admit = then_die(inbox.admit)
elif point in ("mixing", "close-mixing", "open-answers"):  # rows written, not committed
    inbox.insert_responses = then_die(inbox.insert_responses)
elif point == "close-rewrite":  # the survey's rows copied and deleted, none written back
    calls = []
    columns = inbox._columns

    def counted(model):
        calls.append(model)
        if len(calls) == 4:
            die()
        return columns(model)

    inbox._columns = counted
staff = load_template("staff_threats")
with app.app_context(), db.connection_context():
    survey = store.get_survey(slug)
    private = survey_key.parse(key, survey.seal_key) if survey.seal_key else None
    if point.startswith("close"):
        store.transition(survey, ("open",), "closed", dt.date(2026, 11, 26), private)
    elif point == "open-answers":
        store.open_answers(survey, private)
    else:
        form = complete_answers(staff, suggestions="crash killed end")
        answers = validate(staff, {k: [v] for k, v in form.items()})
        store.submit_response(survey, staff, answers, store.Admission("code", code),
                              app.config["SECRET_KEY"])
        print("ACK", flush=True)
print("SURVIVED", flush=True)
""".replace('"SECRET"', repr(SECRET))


def _snapshot(survey_id: int) -> dict:
    """Everything a crash could damage: rows, entries, spent codes, the status."""
    total, comments = check_consistent(survey_id)
    return {
        "total": total,
        "comments": comments,
        "responses": Response.select().where(Response.survey == survey_id).count(),
        "waiting": InboxEntry.select().where(InboxEntry.survey == survey_id).count(),
        "used": AccessCode.select().where(AccessCode.survey == survey_id, AccessCode.used).count(),
        "status": Survey.get_by_id(survey_id).status,
    }


@pytest.mark.parametrize(
    ("point", "keyed"),
    [
        ("admission", True),
        ("close-mixing", True),
        ("open-answers", True),
        ("admission", False),
        ("mixing", False),
        ("close-mixing", False),
        ("close-rewrite", False),
    ],
)
def test_sigkill_at_each_step_of_storage_leaves_it_whole(app, tmp_path, point, keyed, monkeypatch):
    """Each step dies inside its transaction; with a survey key the close opens the
    entries (close-mixing), or a survey closed without it has them opened later."""
    survey, codes = make_survey(app, access="codes", codes=7, keyed=keyed)
    # Three waiting: the child's submission makes two batches of 2. Before the rewrite
    # there must be rows mixed while open: five submissions, one batch mixed, three wait.
    earlier = 5 if point == "close-rewrite" else 3
    with app.app_context(), db.connection_context():
        for i in range(earlier):
            form = complete_answers(STAFF, suggestions=f"crash {i} end")
            answers = validate(STAFF, {k: [v] for k, v in form.items()})
            store.submit_response(survey, STAFF, answers, store.Admission("code", codes[i]), SECRET)
            if point == "close-rewrite" and i == 3:
                monkeypatch.setitem(inbox._settings, "batch", 2)  # as in the child
                assert inbox.mix(survey) == 2
        if point == "open-answers":
            store.set_status(store.get_survey(survey.slug), "closed")  # on its date, no key
            assert store.get_survey(survey.slug).awaiting_key
        before = _snapshot(survey.id)
    assert before["waiting"] == 3
    assert before["responses"] == earlier - 3
    child = subprocess.run(  # noqa: S603 - this interpreter and a fixed script
        [
            sys.executable,
            "-c",
            KILL_AT,
            app.config["DATABASE_URL"],
            str(tmp_path / "child-instance"),
            survey.slug,
            point,
            codes[earlier],
            SURVEY_KEYS.get(survey.slug, "-"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr  # it died at the point
    assert "ACK" not in child.stdout  # so nothing was acknowledged
    with app.app_context(), db.connection_context():
        after = _snapshot(survey.id)
        if point == "mixing":
            # The admission had committed before the mixer started: the submission is
            # kept (sealed), the batch rolled back, nothing in the tables.
            assert after["waiting"] == 4
            assert after["responses"] == 0
            assert after["used"] == earlier + 1
            assert after["comments"] == before["comments"] | {"crash killed end"}
        else:
            assert after == before  # the survey exactly as it was, code unspent
        if point == "open-answers":
            assert store.get_survey(survey.slug).awaiting_key
            assert store.open_answers(store.get_survey(survey.slug), private_key(survey)) == 3
            assert Response.select().where(Response.survey == survey.id).count() == 3
            assert check_consistent(survey.id)[0] == 3
            return
        # The survey works on: the unspent code admits (the spent one never again), and
        # the close takes everything.
        form = complete_answers(STAFF, suggestions="crash again end")
        answers = validate(STAFF, {k: [v] for k, v in form.items()})
        code = store.Admission("code", codes[earlier])
        if point != "mixing":
            store.submit_response(survey, STAFF, answers, code, SECRET)
        with pytest.raises(store.CodeRejected):
            store.submit_response(survey, STAFF, answers, code, SECRET)
        store.set_status(store.get_survey(survey.slug), "closed", private_key(survey))
        assert Response.select().where(Response.survey == survey.id).count() == earlier + 1
        assert check_consistent(survey.id)[0] == earlier + 1
