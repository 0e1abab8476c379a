"""Abuse resistance (threat T4, a hostile colleague or outsider; issue 17).

Each test attacks a running app the way the issue's attacks did and would
fail without the protection it names.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import peewee
import pytest

from portal import store
from portal.extensions import db
from portal.services import throttle
from portal.store import responses as responses_store
from portal.store.models import AuditEntry
from portal.web import security
from surveys.definition import load_template
from tests.conftest import POSTGRES_URL
from tests.factories import (
    DEFAULT_PASSWORD,
    complete_answers,
    csrf_token,
    install_clock,
    logged_in_as,
    login,
    make_app,
    make_survey,
    make_user,
    open_form,
    post_form,
    submit,
)
from tests.portal.board_fixtures import CURRENT_DAY, answer, publish

STAFF = load_template("staff_threats")


def _code_attempt(client, slug, code, address):
    token = csrf_token(client.get(f"/s/{slug}").get_data(as_text=True))
    return client.post(
        f"/s/{slug}",
        data={"csrf_token": token, "code": code, "action": "code"},
        headers={"X-Forwarded-For": address},
    )


# -- code entry ------------------------------------------------------------------------------


def test_wrong_codes_from_one_client_never_refuse_a_valid_code_from_another(tmp_path):
    # Behind the proxy every request connects from the proxy's address; 80 wrong
    # codes used to block every respondent of the survey for minutes.
    app = make_app(tmp_path, BEHIND_PROXY=1)
    survey, codes = make_survey(app, access="codes", codes=2)
    attacker, colleague = app.test_client(), app.test_client()
    statuses = {
        _code_attempt(attacker, survey.slug, f"AAAAABBBB{i % 10}", "203.0.113.66").status_code
        for i in range(80)
    }
    assert statuses <= {400, 429}
    assert 429 in statuses  # the attacker itself is slowed down
    page = _code_attempt(colleague, survey.slug, codes[0], "198.51.100.7")
    assert page.status_code == 200
    assert 'name="exp_threats"' in page.get_data(as_text=True)


def test_a_valid_code_is_accepted_even_from_an_address_that_must_wait(tmp_path):
    # Staff often share one address (a municipal network): the hostile colleague's
    # wrong codes make that address wait, yet a colleague behind the same address
    # with a valid code gets in at once, on the survey's page, on /kod and with the
    # whole form. The code is checked first; only wrong codes wait.
    app = make_app(tmp_path, BEHIND_PROXY=1, CODE_FAILURES_PER_CLIENT=3)
    survey, codes = make_survey(app, access="codes", codes=3)
    office = "198.51.100.20"
    attacker = app.test_client()
    statuses = [
        _code_attempt(attacker, survey.slug, f"AAAAABBBB{i}", office).status_code for i in range(8)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert set(statuses[3:]) == {429}  # the guesser learns nothing while it must wait
    page = _code_attempt(app.test_client(), survey.slug, codes[0], office)
    assert page.status_code == 200
    assert 'name="exp_threats"' in page.get_data(as_text=True)

    colleague = app.test_client()
    token = csrf_token(colleague.get("/kod").get_data(as_text=True))
    page = colleague.post(
        "/kod", data={"csrf_token": token, "code": codes[1]}, headers=_from(office)
    )
    assert page.status_code == 200
    assert 'name="exp_threats"' in page.get_data(as_text=True)
    page = colleague.post(
        "/kod", data={"csrf_token": token, "code": "AAAAACCCCC"}, headers=_from(office)
    )
    assert page.status_code == 429  # a wrong code from that address still waits

    colleague = app.test_client()
    token = csrf_token(colleague.get(f"/s/{survey.slug}").get_data(as_text=True))
    data = {**complete_answers(STAFF), "csrf_token": token, "code": codes[2], "action": "submit"}
    page = colleague.post(f"/s/{survey.slug}", data=data, headers=_from(office))
    assert page.status_code == 303
    data["code"] = codes[2]  # now used: from the waiting address, the 429 page says nothing
    page = colleague.post(f"/s/{survey.slug}", data=data, headers=_from(office))
    assert page.status_code == 429
    assert "Retry-After" in page.headers
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 1


def test_a_forged_forwarded_for_cannot_escape_the_slowdown(tmp_path):
    # With one trusted proxy only the address the proxy appended counts: an
    # attacker who adds their own X-Forwarded-For entries stays one client.
    app = make_app(tmp_path, BEHIND_PROXY=1, CODE_FAILURES_PER_CLIENT=3)
    survey, _ = make_survey(app, access="codes", codes=1)
    client = app.test_client()
    statuses = [
        _code_attempt(client, survey.slug, "AAAAABBBBB", f"10.0.0.{i}, 203.0.113.66").status_code
        for i in range(6)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert 429 in statuses[3:]


def test_without_the_proxy_setting_forwarded_for_is_ignored(tmp_path):
    app = make_app(tmp_path, CODE_FAILURES_PER_CLIENT=3)
    survey, _ = make_survey(app, access="codes", codes=1)
    client = app.test_client()
    statuses = [
        _code_attempt(client, survey.slug, "AAAAABBBBB", f"203.0.113.{i}").status_code
        for i in range(5)
    ]
    assert statuses[:3] == [400, 400, 400]
    assert 429 in statuses[3:]


def test_slowdown_doubles_then_stays_at_the_cap_and_is_forgotten():
    now = [0.0]
    slow = security.SlowDown(free=2, base_delay=1, max_delay=60, window=3600, clock=lambda: now[0])
    for _ in range(2):
        assert slow.wait("a") == 0
        slow.failure("a")
    assert slow.wait("a") == 1  # the 2nd failure: wait 1 s
    waits = []
    for _ in range(10):
        now[0] += slow.wait("a")
        slow.failure("a")
        waits.append(slow.wait("a"))
    assert waits[:6] == [2, 4, 8, 16, 32, 60]
    assert set(waits[6:]) == {60}
    assert slow.wait("b") == 0  # no one else waits
    for _ in range(200):  # an overflowing exponent is capped too
        slow.failure("a")
    assert slow.wait("a") == 60
    now[0] += 3601
    assert slow.wait("a") == 0


# -- admin login -----------------------------------------------------------------------------


def test_failed_logins_from_elsewhere_behind_the_proxy_never_lock_hr_out(tmp_path):
    # Behind the proxy every request connects from the proxy; 16 failed logins
    # for unknown addresses used to refuse HR's right password 23 times of 24.
    app = make_app(tmp_path, BEHIND_PROXY=1)
    clock = install_clock(app)
    make_user(app, "hr@example.se", role="hr")
    attacker = app.test_client()
    statuses = []
    for n in range(40):
        page = login(
            attacker, f"nobody{n}@example.se", "wrong password!", headers=_from("203.0.113.66")
        )
        statuses.append(page.status_code)
        clock.advance(seconds=1)
    assert set(statuses) == {401, 429}  # the attacker's own client is slowed down
    for _ in range(24):
        hr = app.test_client()
        assert login(hr, "hr@example.se", headers=_from("198.51.100.7")).status_code == 302


def test_a_locked_account_stays_locked_for_every_client_behind_the_proxy(tmp_path):
    app = make_app(tmp_path, BEHIND_PROXY=1, LOGIN_ACCOUNT_LOCK_AFTER=3)
    install_clock(app)
    make_user(app, "hr@example.se", role="hr")
    for n in range(3):
        client = app.test_client()
        page = login(client, "hr@example.se", "wrong password!", headers=_from(f"203.0.113.{n}"))
        assert page.status_code == 401
    page = login(app.test_client(), "hr@example.se", headers=_from("198.51.100.7"))
    assert page.status_code == 429
    assert "spärrad" in page.get_data(as_text=True)


def test_the_login_delay_never_overflows():
    policy = throttle.Policy(
        slow_after=10,
        lock_after=10**6,
        window=dt.timedelta(minutes=15),
        lock=dt.timedelta(minutes=15),
        base_delay=dt.timedelta(seconds=2),
    )
    for failures in (56, 57, 100, 10**6):
        assert throttle.delay_after(failures, policy) == throttle.MAX_DELAY


def test_many_failures_past_the_slowdown_still_get_a_clear_answer(tmp_path):
    app = make_app(
        tmp_path,
        LOGIN_CLIENT_LOCK_AFTER=10**6,
        LOGIN_ACCOUNT_LOCK_AFTER=10**6,
        LOGIN_WINDOW_SECONDS=10**7,
    )
    clock = install_clock(app)
    make_user(app)
    client = app.test_client()
    for _ in range(70):
        page = login(client, "admin@example.se", "wrong password!")
        assert page.status_code in (401, 429)
        clock.advance(minutes=5)
    assert page.status_code == 401


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


# -- ballot stuffing in link mode --------------------------------------------------------------

TARGET_UNIT, TARGET_ROLE = "elderly_disability", "manager"
# The made-up answers cover both answers the attacker wants to tell apart, so that
# each published count the real answer adds to is large enough to be shown exactly.
FAKES = (
    {"role": TARGET_ROLE, "unit": TARGET_UNIT, "exp_threats": "2to5", "worry": "often"},
    {"role": TARGET_ROLE, "unit": TARGET_UNIT, "exp_threats": "never", "worry": "never"},
)


def _stuffed_world(
    tmp_path, target_answers: dict[str, str], groups: tuple[str, str] = (TARGET_ROLE, TARGET_UNIT)
):
    """The issue's attack: 120 ordinary responses, one real respondent alone in a unit
    (and a role), 60 made-up responses with known answers into the same unit; then
    closed and published. Returns the published report (Swedish) and the real
    respondents' groups."""
    app = make_app(tmp_path, SUBMISSIONS_PER_CLIENT=10**6, TESTING=True)
    survey, _ = make_survey(app)
    roles = ("ss_children", "ss_adults", "ss_finance", "assessor", "intake", "treatment")
    units = ("children", "adults", "finance", "other")
    threats = ("never", "once", "2to5", "never", "more5")
    real = []
    for i in range(120):
        overrides = {
            "role": roles[i % len(roles)],
            "unit": units[i % len(units)],
            "exp_threats": threats[i % len(threats)],
        }
        answer(app, survey, 1, **overrides)
        real.append(overrides)
    target = {"role": groups[0], "unit": groups[1], **target_answers}
    answer(app, survey, 1, **target)
    real.append(target)
    for fake in FAKES:  # one attacker, 60 responses
        answer(app, survey, 30, **fake)
    survey = publish(app, survey, CURRENT_DAY)
    with app.app_context(), db.connection_context():
        report = json.loads(store.report_snapshot(survey, "sv"))["report"]
    return report, real


def _published_groups(report) -> dict[tuple[str, str, str], list]:
    """Every published row: (table, breakdown, group) → its figures."""
    rows = {}
    for table in (*report["indicators"], *report["questions"]):
        for breakdown, groups in table["breakdowns"].items():
            for row in groups:
                rows[(table["key"], breakdown, row["group"])] = row
    return rows


def _real_in_group(real: list[dict[str, str]], breakdown: str, group: str) -> int:
    if breakdown == "all":
        return len(real)
    return sum(1 for r in real if r.get(breakdown, "lt2") == group)  # years: first option


def test_stuffing_a_link_mode_survey_reveals_nothing_about_the_real_respondent(tmp_path):
    # Two worlds that differ only in the real respondent's answers. Any published
    # figure that differs between them tells the attacker (who knows the 60 made-up
    # answers) something; it may do so only in a group where at least k real
    # respondents stand together, so that no one is singled out.
    threatened, _ = _stuffed_world(tmp_path / "a", {"exp_threats": "2to5", "worry": "often"})
    calm, real = _stuffed_world(tmp_path / "b", {"exp_threats": "never", "worry": "never"})
    first, second = _published_groups(threatened), _published_groups(calm)
    assert set(first) == set(second)
    revealing = {key for key in first if first[key] != second[key]}
    assert revealing  # the whole survey's figures do change with the real answers
    for table, breakdown, group in revealing:
        assert _real_in_group(real, breakdown, group) >= 5, (table, breakdown, group)
    # The rule behind it: a link-mode survey publishes no breakdown at all, and says why.
    assert set(threatened["breakdowns"]) == {"all"}
    assert any("delad länk" in note for note in threatened["notes"])


def test_stuffing_a_link_mode_survey_does_not_reveal_who_answered(tmp_path):
    # The same attack on participation: the made-up responses lift the unit (and the
    # role) above k, so a published count of respondents per unit would, minus the
    # 60 known fakes, say how many real people of that unit answered — in a unit of
    # one, whether that person did. Two worlds that differ only in where the real
    # respondent works: nothing published may tell them apart.
    answers = {"exp_threats": "2to5", "worry": "often"}
    there, _ = _stuffed_world(tmp_path / "a", answers)
    elsewhere, _ = _stuffed_world(tmp_path / "b", answers, groups=("ss_children", "children"))
    first, second = _published_groups(there), _published_groups(elsewhere)
    assert set(first) == set(second)
    assert {key for key in first if first[key] != second[key]} == set()
    # How many answered per role, unit or years is not published for a link survey.
    published = {table["key"] for table in (*there["indicators"], *there["questions"])}
    assert not published & {"role", "unit", "years"}
    assert any("hur många som svarade" in note for note in there["notes"])


def test_hr_reads_the_rule_on_the_create_survey_page(app, client):
    logged_in_as(app, client, "hr")
    html = client.get("/admin/surveys/new").get_data(as_text=True)
    assert "publiceras bara för enkäter som besvaras med koder" in html
    html = client.get("/admin/surveys/new?lang=en").get_data(as_text=True)
    assert "published only for surveys answered with codes" in html


# -- retention purge ---------------------------------------------------------------------------


def _published_with_responses(app, responses: int, months: int | None = None):
    survey, _ = make_survey(app)
    answer(app, survey, responses, suggestions="Raderas vid gallring")
    survey = publish(app, survey, CURRENT_DAY)
    if months is not None:
        with app.app_context(), db.connection_context():
            store.set_purge_after(survey, months)
    return survey


def _raw_rows(app, survey) -> int:
    with app.app_context(), db.connection_context():
        return sum(store.raw_row_counts(survey).values())


def test_no_request_purges_only_tick_does(app, client, runner):
    survey = _published_with_responses(app, 3, months=1)
    app.config["TODAY"] = CURRENT_DAY + dt.timedelta(days=400)  # long past the retention
    assert client.get("/admin/login").status_code == 200  # anonymous, before any login
    logged_in_as(app, client, "hr")
    assert client.get("/admin/surveys").status_code == 200
    assert _raw_rows(app, survey) > 0
    with app.app_context(), db.connection_context():
        assert store.get_survey(survey.slug).purged_on is None
    result = runner.invoke(args=["tick", "--today", "2027-06-01"])
    assert f"{survey.slug}: responses purged" in result.output
    assert _raw_rows(app, survey) == 0


def test_the_purge_button_deletes_in_short_steps_and_other_answers_keep_flowing(
    app, client, monkeypatch
):
    survey = _published_with_responses(app, 6)
    other, _ = make_survey(app)
    monkeypatch.setattr(store.surveys, "PURGE_CHUNK_RESPONSES", 2)
    app.config["PURGE_REQUEST_SECONDS"] = 0  # one short step per request
    logged_in_as(app, client, "hr")
    purge = f"/admin/surveys/{survey.slug}/purge"
    page = post_form(client, purge, {"slug": survey.slug})
    assert page.headers["Location"].endswith(purge)
    html = client.get(purge).get_data(as_text=True)
    assert "Gallringen pågår" in html
    left = _raw_rows(app, survey)
    assert 0 < left < 6 * 40
    # Between the steps nothing holds the database: a colleague answers another survey.
    answer(app, other, 1)
    steps = 0
    while _raw_rows(app, survey):
        html = client.get(purge).get_data(as_text=True)
        page = client.post(f"{purge}/continue", data={"csrf_token": csrf_token(html)})
        assert page.status_code == 303
        steps += 1
    assert steps >= 2
    assert page.headers["Location"].endswith(f"/admin/surveys/{survey.slug}")
    with app.app_context(), db.connection_context():
        assert store.response_count(other) == 1
        assert [e.action for e in AuditEntry.select()].count("responses_purged") == 1


def test_an_interrupted_purge_is_finished_by_tick(app, runner):
    survey = _published_with_responses(app, 2)
    with app.app_context(), db.connection_context():
        assert store.begin_purge(survey, CURRENT_DAY) is not None  # then the worker died
    assert _raw_rows(app, survey) > 0
    result = runner.invoke(args=["tick"])
    assert f"{survey.slug}: purge finished" in result.output
    assert _raw_rows(app, survey) == 0


# -- error paths -------------------------------------------------------------------------------


def _answers_kept(page) -> bool:
    return "Sparas tills databasen svarar" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "error",
    [
        peewee.OperationalError("database or disk is full"),  # SQLite's SQLITE_FULL
        peewee.OperationalError("could not extend file: No space left on device"),  # PostgreSQL
    ],
)
def test_a_full_disk_gives_the_retry_page_with_the_answers_kept(app, client, monkeypatch, error):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)

    def disk_full(*args, **kwargs):
        raise error

    monkeypatch.setattr(responses_store.inbox, "admit", disk_full)
    answers = complete_answers(STAFF, suggestions="Sparas tills databasen svarar")
    page = submit(client, survey.slug, answers, hidden)
    assert page.status_code == 503
    assert _answers_kept(page)
    monkeypatch.undo()
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 0
    # Once there is room again the same form is accepted: its token was not spent.
    assert submit(client, survey.slug, answers, hidden).status_code == 303


def test_a_lost_database_connection_gives_the_retry_page_with_the_answers_kept(
    app, client, monkeypatch
):
    # What a PostgreSQL restart does to a connection in use: the next statement fails,
    # and the server stays away for a while, so the retry page (with the answers) must
    # be made without the database.
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    down = []
    execute_sql = db.obj.execute_sql

    def while_up(*args, **kwargs):
        if down:
            raise peewee.OperationalError("could not connect to server: Connection refused")
        return execute_sql(*args, **kwargs)

    def server_gone(*args, **kwargs):
        down.append(True)
        raise peewee.InterfaceError("server closed the connection unexpectedly")

    monkeypatch.setattr(db.obj, "execute_sql", while_up)
    monkeypatch.setattr(responses_store.inbox, "admit", server_gone)
    answers = complete_answers(STAFF, suggestions="Sparas tills databasen svarar")
    page = submit(client, survey.slug, answers, hidden)
    assert page.status_code == 503
    assert _answers_kept(page)
    monkeypatch.undo()
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 0
    # Once the server is back the same form is accepted.
    assert submit(client, survey.slug, answers, hidden).status_code == 303


def test_an_unreachable_database_gives_the_retry_page(app, client, monkeypatch):
    survey, _ = make_survey(app)

    def refused(*args, **kwargs):
        raise peewee.OperationalError("connection refused")

    monkeypatch.setattr(store.surveys, "get_survey", refused)
    monkeypatch.setattr(store, "get_survey", refused)
    page = client.get(f"/s/{survey.slug}")
    assert page.status_code == 503
    assert "Retry-After" in page.headers
    assert "Traceback" not in page.get_data(as_text=True)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (VARNA_TEST_DATABASE_URL)")
def test_a_postgresql_restart_is_survived(app, client):
    # Every connection the portal holds is killed, as a restart does; the pooled
    # connections are stale.
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    import psycopg2

    killer = psycopg2.connect(POSTGRES_URL)
    killer.autocommit = True
    with killer.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    killer.close()
    answers = complete_answers(STAFF, suggestions="Sparas tills databasen svarar")
    # The stale pooled connection is found and replaced before the request uses it:
    # the submission goes through (a failure mid-request gives the retry page,
    # see the test above).
    page = submit(client, survey.slug, answers, hidden)
    assert page.status_code == 303
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 1


def test_a_nul_byte_in_a_slug_is_not_found(app, client):
    make_survey(app)
    for path in ("/s/abc%00def", "/admin/surveys/abc%00def", "/board/abc%00def"):
        assert client.get(path).status_code in (302, 404), path
    assert client.get("/s/abc%00def").status_code == 404
    with app.app_context(), db.connection_context():
        assert store.get_survey("abc\x00def") is None


def test_a_nul_byte_or_invalid_utf8_in_a_form_is_a_400_in_the_users_language(app, client):
    survey, _ = make_survey(app)
    hidden = open_form(client, survey.slug)
    body = "&".join(f"{k}={v}" for k, v in {**hidden, "action": "submit"}.items())
    for bad in ("suggestions=%C3%28", "suggestions=a%00b", "role=%FF"):
        page = client.post(
            f"/s/{survey.slug}",
            data=f"{body}&{bad}",
            content_type="application/x-www-form-urlencoded",
        )
        assert page.status_code == 400, bad
        assert "Formuläret kunde inte läsas" in page.get_data(as_text=True)
    page = client.post(
        "/admin/login?lang=en",
        data="email=a%C3%28%40example.se&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 400
    assert "The form could not be read" in page.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert store.response_count(survey) == 0


# -- headers and cookies -----------------------------------------------------------------------


def _strict_cookies_withheld(client):
    """What a browser does on a request started by another site: Strict cookies stay home."""
    jar = client._cookies
    withheld = {key: c for key, c in jar.items() if (c.same_site or "").lower() == "strict"}
    for key in withheld:
        del jar[key]
    return withheld


def _restore(client, withheld):
    for key, cookie in withheld.items():
        client._cookies.setdefault(key, cookie)  # unless the response replaced it


def test_choosing_a_language_on_a_respondent_page_never_weakens_the_admin_cookie(app, client):
    logged_in_as(app, client, "hr")
    page = client.get("/?lang=en")
    for header in page.headers.getlist("Set-Cookie"):
        assert not header.startswith(("varna-admin=", "__Host-varna-admin=")), header
    assert client.get_cookie("varna-admin").same_site == "Strict"
    assert client.get("/admin/").status_code == 200  # still logged in


def test_a_link_from_another_site_never_logs_hr_out(app, client):
    survey, _ = make_survey(app)
    logged_in_as(app, client, "hr")
    # A link in an e-mail or on the intranet to a survey, then to an admin page.
    for path in (f"/s/{survey.slug}", f"/admin/surveys/{survey.slug}"):
        withheld = _strict_cookies_withheld(client)
        page = client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
        assert page.status_code == 200
        for header in page.headers.getlist("Set-Cookie"):
            assert not header.startswith("varna-admin="), header
        _restore(client, withheld)
        assert client.get("/admin/").status_code == 200, path
    page = client.get(f"/admin/surveys/{survey.slug}", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200


def test_a_cross_site_link_into_the_admin_area_reloads_from_this_site(app, client):
    page = client.get("/admin/surveys?x=1", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200
    assert page.headers["Refresh"] == "0; url=/admin/surveys?x=1"
    assert "Set-Cookie" not in page.headers


def test_the_public_results_link_comes_from_the_base_url_never_the_host_header(tmp_path):
    app = make_app(tmp_path, BEHIND_PROXY=1, BASE_URL="https://varna.example.se")
    survey, _ = make_survey(app, status="published")
    with app.app_context(), db.connection_context():
        store.set_public_results(survey, True)
    make_user(app, "hr@example.se", "hr")
    client = app.test_client()
    forged = {
        "base_url": "http://evil.example",
        "headers": {"X-Forwarded-Host": "evil2.example", "X-Forwarded-For": "203.0.113.9"},
    }
    html = client.get("/admin/login", **forged).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "email": "hr@example.se", "password": DEFAULT_PASSWORD}
    assert client.post("/admin/login", data=data, **forged).status_code == 302
    html = client.get(f"/admin/surveys/{survey.slug}", **forged).get_data(as_text=True)
    assert f"https://varna.example.se/results/{survey.slug}" in html
    assert "evil" not in html


def test_gunicorn_never_logs_a_client_address(tmp_path):
    # A malformed request makes gunicorn log "Invalid request from ip=…"; with the
    # project's configuration the address never reaches the log.
    root = Path(__file__).resolve().parents[2]
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed in this environment")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "VARNA_BIND": f"127.0.0.1:{port}",
        "VARNA_WORKERS": "1",
        "VARNA_INSTANCE_PATH": str(tmp_path),
        "VARNA_SECRET_KEY": "test-secret-key",
        "VARNA_DATABASE_URL": f"sqlite:///{tmp_path / 'varna.sqlite3'}",
        "VARNA_ARGON2_MEMORY_COST": str(19 * 1024),
        "VARNA_ARGON2_TIME_COST": "2",
        "VARNA_ARGON2_PARALLELISM": "1",
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(gunicorn), "-c", "portal/gunicorn.conf.py", "app:app"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while "Booting worker" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            for request in (b"GARBAGE\r\n\r\n", b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n"):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                    connection.sendall(request)
                    connection.recv(1024)
            while "Invalid request" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert any("Invalid request" in line for line in lines), lines
    for line in lines:
        if "Listening at" not in line:
            assert "127.0.0.1" not in line, line


def test_codes_guessed_through_the_whole_form_are_slowed_down_too(tmp_path):
    app = make_app(tmp_path, CODE_FAILURES_PER_CLIENT=3)
    survey, codes = make_survey(app, access="codes", codes=1)
    client = app.test_client()
    token = csrf_token(client.get(f"/s/{survey.slug}").get_data(as_text=True))
    statuses = []
    for i in range(6):
        data = {
            **complete_answers(STAFF),
            "csrf_token": token,
            "code": f"AAAAABBBB{i}",
            "action": "submit",
        }
        statuses.append(client.post(f"/s/{survey.slug}", data=data).status_code)
    assert statuses[:3] == [409, 409, 409]
    assert 429 in statuses[3:]


def test_single_sign_on_survives_the_strict_admin_cookie(app, client, oidc_provider):
    # The provider sends the browser back with a cross-site redirect, which does not
    # carry the Strict cookie holding the sign-in's state: the portal reloads the
    # callback from its own site, the cookie comes along, and the sign-in completes.
    from portal.services import signin
    from tests.oidc.fixture import CLIENT_ID, provider_login
    from tests.portal import test_sso

    app.config.update(
        SSO_ISSUER=oidc_provider.issuer,
        SSO_CLIENT_ID=CLIENT_ID,
        SSO_CLIENT_SECRET=oidc_provider.client_secret,
        SSO_SCOPES="openid email groups",
        SSO_ROLE_MAP=test_sso.ROLE_MAP,
    )
    signin.forget_provider_cache()
    answer = provider_login(test_sso.start(client), "anna", "anna-password", test_sso.CALLBACK)
    path = test_sso.callback_path(answer)
    withheld = _strict_cookies_withheld(client)
    page = client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200
    assert page.headers["Refresh"] == f"0; url={path}"
    _restore(client, withheld)
    page = client.get(path, headers={"Sec-Fetch-Site": "same-origin"})
    assert page.status_code == 302
    assert client.get("/admin/").status_code == 200
