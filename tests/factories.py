"""Plain factory functions for test data (no fixtures: call them with what you need)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from portal import codes as codes_module
from portal import store
from portal.extensions import db
from portal.store.models import Survey, User
from surveys.definition import Definition, load_template

# Cheap Argon2 parameters keep the suite fast; production uses portal.config's.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
DEFAULT_PASSWORD = "correct horse battery staple"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(form_token|code)" value="([^"]*)"')


def make_app(tmp_path, **config: Any) -> Flask:
    """An app on its own SQLite file in ``tmp_path``, with ``config`` overrides."""
    from portal import create_app

    return create_app(
        {
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'varna.sqlite3'}",
            **FAST_ARGON2,
            **config,
        }
    )


def make_survey(
    app: Flask,
    template: str = "staff_threats",
    access: str = "link",
    status: str = "open",
    min_group: int = 5,
    codes: int = 0,
    keyed: bool = True,
) -> tuple[Survey, list[str]]:
    """Create a survey in ``status``; returns it and its codes (for access='codes').

    The survey has a survey key, as every survey opened by the portal has;
    its private half is kept in ``SURVEY_KEYS`` for ``private_key``.
    ``keyed=False`` makes a survey as opened before survey keys: its entries
    are sealed with the portal's key and mixed while it is open.
    """
    with app.app_context(), db.connection_context():
        survey = store.create_survey(
            load_template(template),
            title_sv="Testenkät",
            title_en="Test survey",
            access=access,
            min_group=min_group,
        )
        if keyed:
            give_key(survey)
        generated = issue_codes(survey, codes, app.config["SECRET_KEY"]) if codes else []
        if status != "draft":
            store.set_status(survey, "open")
        if status in ("closed", "published"):
            store.set_status(survey, status, private_key(survey))
    return survey, generated


# The private halves of the survey keys the tests made, by survey slug (slugs are random,
# so surveys of different test databases never share one).
SURVEY_KEYS: dict[str, str] = {}


def give_key(survey: Survey) -> str:
    """Give a draft a new survey key as HR would; returns (and remembers) its text."""
    from portal.store import survey_key

    text, public = survey_key.new_key()
    assert store.set_seal_key(survey, public)
    SURVEY_KEYS[survey.slug] = text
    return text


def with_key(survey: Survey) -> Survey:
    """``survey``, given a survey key first if it has none (HR makes it before opening)."""
    if not survey.seal_key:
        give_key(survey)
    return survey


def key_text(survey: Survey) -> str | None:
    """The text of the survey's key, as HR enters it (None for a survey the tests gave none)."""
    return SURVEY_KEYS.get(survey.slug)


def private_key(survey: Survey):
    """The parsed private half of the survey's key (None for a survey without one)."""
    from portal.store import survey_key

    survey = store.get_survey(survey.slug) or survey
    if not survey.seal_key:
        return None
    return survey_key.parse(SURVEY_KEYS[survey.slug], survey.seal_key)


def complete_answers(definition: Definition, **overrides: Any) -> dict[str, Any]:
    """A valid form for ``definition``: the first non-"na" option of every choice item.

    For the staff template that answers "never" to every ``exp_*`` row, so no
    follow-up question applies; override to steer conditions, e.g.
    ``exp_threats="once"``.
    """
    form: dict[str, Any] = {}
    for item in definition.items():
        if item.kind in ("single", "multiple"):
            form[item.key] = next(o.key for o in item.options if not o.prefer_not)
        elif item.kind == "number":
            form[item.key] = str(item.question.min)
    form.update(overrides)
    return form


def csrf_token(html: str) -> str:
    """The CSRF token in a rendered page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    """The admission fields (form_token or code) of a rendered survey form."""
    return dict(_HIDDEN.findall(html))


def open_form(client: FlaskClient, slug: str, code: str | None = None) -> dict[str, str]:
    """Load the survey form (entering ``code`` in codes mode); returns the hidden fields to post."""
    page = client.get(f"/s/{slug}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    if code is not None:
        page = client.post(
            f"/s/{slug}", data={"csrf_token": csrf_token(html), "code": code, "action": "code"}
        )
        assert page.status_code == 200, page.get_data(as_text=True)
        html = page.get_data(as_text=True)
    return {"csrf_token": csrf_token(html), **hidden_fields(html)}


def open_form_for(app: Flask, client: FlaskClient, survey: Survey) -> dict[str, str]:
    """The hidden fields for one more response: in codes mode with a fresh code of its own."""
    if survey.access != "codes":
        return open_form(client, survey.slug)
    with app.app_context(), db.connection_context():
        code = issue_codes(survey, 1, app.config["SECRET_KEY"])[0]
    return open_form(client, survey.slug, code)


def submit(
    client: FlaskClient, slug: str, answers: dict[str, Any], hidden: dict[str, str], **headers: str
):
    """POST ``answers`` with the hidden fields as the browser would."""
    data = {**hidden, **answers, "action": "submit"}
    return client.post(f"/s/{slug}", data=data, headers=headers)


# The surveys bench/disclosure.py measures and tests/surveys/test_attack.py attacks:
# (name, template, responses, seed); the demo surveys with the seeds of portal.demo.
BENCHMARK_SURVEYS = (
    ("demo staff 2025", "staff_threats", 300, 2025),
    ("demo staff 2026", "staff_threats", 400, 2026),
    ("demo exit", "exit", 150, 150),
    ("staff 20", "staff_threats", 20, 7),
    ("staff 50", "staff_threats", 50, 7),
    ("staff 120", "staff_threats", 120, 7),
    ("staff 400", "staff_threats", 400, 7),
    ("staff 5000", "staff_threats", 5000, 7),
)
GENERATED_ON = dt.date(2026, 11, 1)


def generated_survey(
    template: str, responses: int, seed: int
) -> tuple[Definition, list, list | None]:
    """A generated survey: its definition, validated responses, and each one's period
    for an exit questionnaire (None for a staff survey)."""
    from surveys.demo import demo_chunk

    definition = load_template(template)
    pairs = demo_chunk(definition.to_data(), definition.kind, responses, f"{seed}:0", GENERATED_ON)
    periods = [p for _, p in pairs] if definition.kind == "exit" else None
    return definition, [a for a, _ in pairs], periods


def counts_from_answers(
    definition: Definition, responses: list[Any], periods: list[str | None] | None = None
) -> Any:
    """The counts of ``responses`` (validated Answers), computed naively in Python.

    A reference for ``store.result_counts`` (which does it in SQL), and a way
    to write report tests from a handful of hand-made respondents. ``periods``
    gives each response's half-year (exit questionnaires). The groups are
    (role, unit, years, period, district), as ``surveys.indicators.Counts`` says.
    """
    from collections import Counter

    from surveys.indicators import Counts, flags_and_combinations

    flags, combinations = flags_and_combinations(definition)
    cube: Counter = Counter()
    sums: dict[tuple, list[int]] = {}
    for index, answers in enumerate(responses):
        dims = answers.dimension_values(definition)
        period = periods[index] if periods else None
        group = (
            dims.get("role"),
            dims.get("unit"),
            dims.get("years"),
            period,
            dims.get("district"),
        )
        values = {k: set(v) for k, v in answers.choices.items()}
        values.update({k: {str(v)} for k, v in answers.numbers.items()})
        for item, chosen in values.items():
            for value in chosen:
                cube[(item, value, *group)] += 1
        held = [
            any(values.get(i, set()) & set(vals) for items, vals in f.terms for i in items)
            for f in flags
        ]
        row = sums.setdefault(group, [0] * (1 + len(combinations)))
        row[0] += 1
        for number, combination in enumerate(combinations):
            row[1 + number] += int(all(held[f] for f in combination))
    return Counts(
        respondents=len(responses),
        cube=tuple((*key, count) for key, count in sorted(cube.items(), key=repr)),
        combinations=combinations,
        flag_sums=tuple((*group, *row) for group, row in sums.items()),
    )


class FakeClock:
    """An injectable clock for ``app.config["CLOCK"]``: naive UTC, moved by ``advance``."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or dt.datetime(2026, 3, 2, 9, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward, e.g. ``advance(minutes=31)``."""
        self.now += dt.timedelta(**delta)


def install_clock(app: Flask) -> FakeClock:
    """Give ``app`` a fake clock and return it."""
    clock = FakeClock()
    app.config["CLOCK"] = clock
    return clock


def make_user(
    app: Flask,
    email: str = "admin@example.se",
    role: str = "admin",
    password: str = DEFAULT_PASSWORD,
    mfa: bool | None = None,
) -> User:
    """Create an account directly in the store.

    Administrators (and, with ``mfa=True``, any account) get a TOTP second
    factor enrolled, as the portal requires at login; ``login`` then enters
    its code. ``mfa=False`` leaves an administrator without one (it is asked
    to enrol at its next login).
    """
    from portal.services import passwords

    with app.app_context(), db.connection_context():
        user = store.create_user(
            email, passwords.hash_password(password), role, dt.datetime(2026, 1, 1)
        )
    if mfa or (mfa is None and role == "admin"):
        user = enrol_totp(app, user)
    return user


# The TOTP secrets the factories enrolled, by app and address, and the last time step
# used for each (the portal refuses a step twice, as an authenticator app would not repeat).
_TOTP: dict[tuple[int, str], str] = {}
_LAST_STEP: dict[tuple[int, str], int] = {}


def enrol_totp(app: Flask, user: User) -> User:
    """Give ``user`` a confirmed TOTP second factor (as enrolment would); returns it updated."""
    import pyotp

    from portal import clock
    from portal.services import mfa

    secret = pyotp.random_base32(32)
    with app.app_context(), db.connection_context():
        encrypted = mfa.encrypt_secret(app.config["SECRET_KEY"], user.id, secret)
        updated = store.set_totp(user.id, encrypted, clock.utcnow())
    _TOTP[(id(app), updated.email)] = secret
    return updated


def totp_secret(app: Flask, email: str) -> str | None:
    """The TOTP secret ``enrol_totp`` gave the account ``email`` in ``app``."""
    return _TOTP.get((id(app), store.normalise_email(email)))


def remember_totp(app: Flask, email: str, secret: str) -> None:
    """Note a secret enrolled through the pages just now, so that ``login`` can enter its
    codes (the enrolment used the current step)."""
    from portal import clock
    from portal.services import mfa

    key = (id(app), store.normalise_email(email))
    _TOTP[key] = secret
    with app.app_context():
        _LAST_STEP[key] = int(clock.timestamp(clock.utcnow())) // mfa.INTERVAL


def totp_code(app: Flask, email: str) -> str:
    """A fresh code for ``email`` at the app's clock: the current step, or the next one when
    the current was used already (within the allowed drift)."""
    from portal import clock
    from portal.services import mfa

    key = (id(app), store.normalise_email(email))
    secret = _TOTP[key]
    with app.app_context():
        now = clock.utcnow()
    current = int(clock.timestamp(now)) // mfa.INTERVAL
    step = current
    if _LAST_STEP.get(key, -1) >= step:
        step = _LAST_STEP[key] + 1
    if step > current + mfa.VALID_WINDOW:
        # More logins within one half-minute than a person could make: forget the
        # used step, as if the next half-minute had come (only this helper does so;
        # the tests of replays enter their codes themselves).
        with app.app_context(), db.connection_context():
            User.update(totp_last_step=None).where(User.email == key[1]).execute()
        step = current
    _LAST_STEP[key] = step
    return mfa.code_at(secret, clock.EPOCH + dt.timedelta(seconds=step * mfa.INTERVAL))


def login(
    client: FlaskClient, email: str = "admin@example.se", password: str = DEFAULT_PASSWORD, **kw
):
    """Log in through the login form (CSRF token from the page); returns the last response.

    When the portal asks for the second factor and the account's secret is
    known (``enrol_totp``), the code is entered too, and that answer returned.
    """
    page = client.get("/admin/login")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": password}, **kw
    )
    app = client.application
    asks_code = response.status_code == 302 and response.headers["Location"] == "/admin/login/code"
    if asks_code and totp_secret(app, email) is not None:
        response = enter_code(client, totp_code(app, email), **kw)
    return response


def enter_code(client: FlaskClient, code: str, **kw):
    """Enter a second-factor code on the code page."""
    page = client.get("/admin/login/code", **kw)
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/admin/login/code", data={"csrf_token": token, "code": code}, **kw)


def logged_in_as(
    app: Flask, client: FlaskClient, role: str = "admin", email: str | None = None
) -> User:
    """Create an account with ``role`` and log ``client`` in as it (with its second factor)."""
    user = make_user(app, email or f"{role}@example.se", role)
    response = login(client, user.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/admin/", response.headers["Location"]
    with app.app_context(), db.connection_context():
        return store.get_user(user.id)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None):
    """POST ``data`` to ``path`` with the CSRF token taken from ``page`` (default: ``path``)."""
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(html), **data})


def issue_codes(survey, count: int, secret_key: str) -> list[str]:
    """Store ``count`` new codes of ``survey`` (by their hashes) and return them, formatted."""
    raw = codes_module.new_codes(count)
    store.add_codes(survey, [codes_module.code_hash(secret_key, c) for c in raw])
    return [codes_module.format_code(c) for c in raw]


_ENROL_KEY = re.compile(r'<p class="secret key" translate="no">([A-Z2-7 ]+)</p>')
_RECOVERY = re.compile(r'<li class="secret">([a-z2-9]{5}-[a-z2-9]{5})</li>')


def enrol_through_pages(client: FlaskClient, path: str = "/admin/login/enrol", **kw):
    """Enrol a second factor on the enrolment page as a person would: read the key shown
    (as the app would from the QR code), enter its current code. Returns the final
    response, the secret and the recovery codes shown."""
    from portal import clock
    from portal.services import mfa

    html = client.get(path, **kw).get_data(as_text=True)
    match = _ENROL_KEY.search(html)
    assert match, "no key on the enrolment page"
    secret = match.group(1).replace(" ", "")
    with client.application.app_context():
        code = mfa.code_at(secret, clock.utcnow())
    response = client.post(path, data={"csrf_token": csrf_token(html), "code": code}, **kw)
    codes = _RECOVERY.findall(response.get_data(as_text=True))
    return response, secret, codes


def waiting_submissions(survey: Survey) -> list:
    """The answers of the submissions still sealed in the survey's inbox, opened with the
    survey's key (or, for a survey without one, the portal's key)."""
    from portal.store import inbox
    from portal.store.models import InboxEntry

    private = private_key(survey)
    return [
        inbox.decode(inbox.open_entry(entry, survey.id, private))[0]
        for entry in InboxEntry.select().where(InboxEntry.survey == survey.id)
    ]


def answer_pairs(answers) -> set[tuple[str, str]]:
    """(question, value) pairs of clean answers, as the answer table stores them."""
    pairs = {(key, value) for key, values in answers.choices.items() for value in values}
    return pairs | {(key, str(number)) for key, number in answers.numbers.items()}
