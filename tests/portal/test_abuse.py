"""Abuse resistance (threat T4, a hostile colleague or outsider; issue 17).

Each test attacks a running app the way the issue's attacks did and would
fail without the protection it names.
"""

from __future__ import annotations

import datetime as dt
import json

from portal import store
from portal.extensions import db
from portal.services import throttle
from portal.web import security
from surveys.definition import load_template
from tests.factories import (
    csrf_token,
    install_clock,
    logged_in_as,
    login,
    make_app,
    make_survey,
    make_user,
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


def _stuffed_world(tmp_path, target_answers: dict[str, str]):
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
    target = {"role": TARGET_ROLE, "unit": TARGET_UNIT, **target_answers}
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


def test_hr_reads_the_rule_on_the_create_survey_page(app, client):
    logged_in_as(app, client, "hr")
    html = client.get("/admin/surveys/new").get_data(as_text=True)
    assert "publiceras bara för enkäter som besvaras med koder" in html
    html = client.get("/admin/surveys/new?lang=en").get_data(as_text=True)
    assert "published only for surveys answered with codes" in html
