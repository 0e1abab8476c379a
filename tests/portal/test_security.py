"""Security headers, respondent rate limits, the health check and backups."""

from __future__ import annotations

import sqlite3

import pytest

from portal.web.security import RateLimiter
from surveys.definition import load_template
from tests.factories import complete_answers, csrf_token, make_app, make_survey, open_form, submit

STAFF = load_template("staff_threats")


def test_security_headers_on_every_page(app, client):
    survey, _ = make_survey(app)
    for path in ("/", "/privacy", f"/s/{survey.slug}", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers


def test_https_adds_hsts_and_secure_cookie(app, client):
    survey, _ = make_survey(app)
    page = client.get(f"/s/{survey.slug}", base_url="https://localhost")
    assert "max-age=" in page.headers["Strict-Transport-Security"]
    assert "Secure" in page.headers["Set-Cookie"]
    plain = app.test_client().get(f"/s/{survey.slug}")
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_forwarded_proto_is_honoured_behind_a_proxy(tmp_path):
    app = make_app(tmp_path, BEHIND_PROXY=True)
    page = app.test_client().get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Strict-Transport-Security" in page.headers


def test_static_files_may_be_cached(client):
    page = client.get("/static/varna.css")
    assert page.status_code == 200
    assert page.headers.get("Cache-Control") != "no-store"
    page.close()


def test_code_guessing_is_slowed_down_per_client(tmp_path):
    app = make_app(tmp_path, CODE_FAILURES_PER_CLIENT=5)
    survey, codes = make_survey(app, access="codes", codes=1)
    client = app.test_client()
    token = csrf_token(client.get(f"/s/{survey.slug}").get_data(as_text=True))

    def attempt(code):
        return client.post(
            f"/s/{survey.slug}", data={"csrf_token": token, "code": code, "action": "code"}
        )

    statuses = [attempt(f"AAAAA-BBBB{i}").status_code for i in range(7)]
    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429, 429]  # after the 5th failure each wrong code must wait
    # The code is checked first: a valid code is never refused, even from this client
    # (its address may be a whole office's); only wrong codes wait, doubling each time.
    assert attempt(codes[0]).status_code == 200
    blocked = attempt("AAAAA-CCCCC")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 8  # 1 s, 2, 4, then 8
    assert "försökts för många felaktiga koder" in blocked.get_data(as_text=True)
    # It says so, since the people behind one office address share the wait.
    assert "en riktig kod godtas alltid direkt" in blocked.get_data(as_text=True)


def test_submission_flood_from_one_client_is_limited_and_keeps_answers(tmp_path):
    app = make_app(tmp_path, SUBMISSIONS_PER_CLIENT=2, BEHIND_PROXY=1)
    survey, _ = make_survey(app)
    client = app.test_client()
    flooder = {"X-Forwarded-For": "203.0.113.66"}
    for _ in range(2):
        hidden = open_form(client, survey.slug)
        page = submit(client, survey.slug, complete_answers(STAFF), hidden, **flooder)
        assert page.status_code == 303
    hidden = open_form(client, survey.slug)
    answers = complete_answers(STAFF, suggestions="Spara mig")
    page = submit(client, survey.slug, answers, hidden, **flooder)
    assert page.status_code == 429
    assert "Spara mig" in page.get_data(as_text=True)
    # Another client is not refused because of the flood.
    other = {"X-Forwarded-For": "198.51.100.7"}
    assert submit(client, survey.slug, answers, hidden, **other).status_code == 303


def test_rate_limiter_window():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    limiter.hit("a")
    limiter.hit("a")
    assert limiter.blocked("a")
    assert not limiter.blocked("b")
    now[0] = 61
    assert not limiter.blocked("a")


def test_health(client):
    page = client.get("/healthz")
    assert page.status_code == 200
    assert page.get_data(as_text=True) == "ok\n"


@pytest.mark.sqlite_only
def test_backup_is_a_consistent_checked_copy(app, runner, tmp_path):
    survey, _ = make_survey(app)
    target = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        slugs = [r[0] for r in copy.execute("SELECT slug FROM survey")]
    assert slugs == [survey.slug]
    assert target.stat().st_mode & 0o077 == 0
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0
    assert "exists" in again.output
