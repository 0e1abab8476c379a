"""Sessions people can see and end; passwords that are refused or must be changed."""

from __future__ import annotations

import re

import pytest

from portal import store
from portal.extensions import db
from portal.services import passwords, sessions
from portal.store.models import AdminSession, AuditEntry
from tests.factories import (
    DEFAULT_PASSWORD,
    csrf_token,
    install_clock,
    logged_in_as,
    login,
    make_user,
    post_form,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
)
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
_SID = re.compile(r'action="/admin/sessions/([0-9a-f]{64})/end"')


def session_rows(app) -> list[AdminSession]:
    with app.app_context(), db.connection_context():
        return list(AdminSession.select())


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (FIREFOX, "Firefox"),
        (EDGE, "Edge"),
        (SAFARI, "Safari"),
        ("Mozilla/5.0 (X11) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36", "Chrome"),
        ("curl/8.0", ""),
        (None, ""),
    ],
)
def test_browser_family_only(agent, family):
    assert sessions.browser_family(agent) == family


def test_people_see_their_sessions_without_addresses(app, client):
    user = make_user(app, "kim@example.se", "hr")
    firefox = {"HTTP_USER_AGENT": FIREFOX, "REMOTE_ADDR": "198.51.100.23"}
    edge = {"HTTP_USER_AGENT": EDGE, "REMOTE_ADDR": "203.0.113.77"}
    login(client, user.email, environ_base=firefox)
    login(app.test_client(), user.email, environ_base=edge)
    page = client.get("/admin/sessions?lang=en", environ_base=firefox).get_data(as_text=True)
    assert "Firefox" in page
    assert "Edge" in page
    assert "(this session)" in page
    assert len(_SID.findall(page)) == 2
    # Nothing stored tells where from: no address, no full user agent.
    rows = session_rows(app)
    assert {r.browser for r in rows} == {"Firefox", "Edge"}
    for row in rows:
        values = " ".join(str(v) for v in row.__data__.values())
        assert "198.51.100.23" not in values
        assert "203.0.113.77" not in values
        assert "Gecko" not in values
        assert "rv:133" not in values


def test_the_cookie_token_is_not_stored(app, client):
    logged_in_as(app, client, "hr")
    content = app.session_interface.get_signing_serializer(app).loads(
        client.get_cookie("varna-admin").value
    )
    token = content["admin"]["sid"]
    assert [r.id for r in session_rows(app)] == [sessions.session_id(token)]
    assert token not in sessions.session_id(token)


def test_ending_another_session_logs_it_out(app, client):
    user = make_user(app, "kim@example.se", "hr")
    login(client, user.email, environ_base={"HTTP_USER_AGENT": FIREFOX})
    lost = app.test_client()
    login(lost, user.email, environ_base={"HTTP_USER_AGENT": EDGE})
    page = client.get("/admin/sessions").get_data(as_text=True)
    with app.app_context(), db.connection_context():
        edge_id = AdminSession.get(AdminSession.browser == "Edge").id
    assert edge_id in _SID.findall(page)
    response = client.post(f"/admin/sessions/{edge_id}/end", data={"csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/admin/sessions"
    assert lost.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200
    with app.app_context(), db.connection_context():
        assert AuditEntry.select().where(AuditEntry.action == "session_ended").count() == 1


def test_ending_ones_own_session_is_a_logout(app, client):
    logged_in_as(app, client, "board")
    page = client.get("/admin/sessions").get_data(as_text=True)
    [sid] = _SID.findall(page)
    response = client.post(f"/admin/sessions/{sid}/end", data={"csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302
    assert session_rows(app) == []


def test_nobody_ends_someone_elses_session_by_its_id(app, client):
    victim = app.test_client()
    logged_in_as(app, victim, "hr")
    [row] = session_rows(app)
    logged_in_as(app, client, "board")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    response = client.post(f"/admin/sessions/{row.id}/end", data={"csrf_token": token})
    assert response.status_code == 404
    assert victim.get("/admin/").status_code == 200


def test_logout_ends_this_session_only(app, client):
    user = make_user(app, "kim@example.se", "hr")
    login(client, user.email)
    other = app.test_client()
    login(other, user.email)
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    client.post("/admin/logout", data={"csrf_token": token})
    assert client.get("/admin/").status_code == 302
    assert other.get("/admin/").status_code == 200
    assert len(session_rows(app)) == 1


def test_an_administrator_ends_all_sessions_of_an_account(app, client):
    logged_in_as(app, client, "admin")
    person = make_user(app, "kim@example.se", "hr")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, person.email)
    login(laptop, person.email)
    response = post_form(
        client, f"/admin/users/{person.id}/sessions/end", {}, page=f"/admin/users/{person.id}"
    )
    assert response.status_code == 302
    assert phone.get("/admin/").status_code == 302
    assert laptop.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200
    with app.app_context(), db.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "sessions_ended")
    assert entry.subject == person.email
    assert entry.params() == {"count": 2}


def test_an_administrator_ends_everyones_sessions(app, client):
    logged_in_as(app, client, "admin")
    others = []
    for role in ("hr", "board"):
        other = app.test_client()
        logged_in_as(app, other, role)
        others.append(other)
    response = post_form(client, "/admin/sessions/end-all", {}, page="/admin/users")
    assert response.headers["Location"] == "/admin/login"
    for other in [client, *others]:
        assert other.get("/admin/").status_code == 302
    assert session_rows(app) == []


def test_only_administrators_end_others_sessions(app, client):
    person = make_user(app, "kim@example.se", "hr")
    victim = app.test_client()
    login(victim, person.email)
    logged_in_as(app, client, "hr", "other.hr@example.se")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    for path in (f"/admin/users/{person.id}/sessions/end", "/admin/sessions/end-all"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403
    assert victim.get("/admin/").status_code == 200


def test_timed_out_sessions_leave_the_list(app, client):
    clock = install_clock(app)
    make_user(app, "kim@example.se", "hr")
    login(client, "kim@example.se")
    clock.advance(minutes=31)
    login(app.test_client(), "kim@example.se")
    assert len(session_rows(app)) == 1


# -- passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["password1234", "Password1234", "qwertyuiop123", "Sommar2026!!", "iloveyou1234"]
)
def test_common_passwords_are_refused(password):
    problems = passwords.policy_problems(password, "kim@example.se")
    assert any("most common passwords" in p.message for p in problems)


def test_a_good_passphrase_is_not_common():
    assert not passwords.policy_problems("correct horse battery staple", "kim@example.se")


def test_password1234_is_refused_on_the_pages(app, client):
    user = logged_in_as(app, client, "hr")
    data = {
        "current_password": DEFAULT_PASSWORD,
        "new_password": "password1234",
        "confirm_password": "password1234",
    }
    response = post_form(client, "/admin/password?lang=en", data)
    assert response.status_code == 400
    assert "among the most common passwords" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert store.get_user(user.id).password_hash == user.password_hash


def test_password1234_is_refused_wherever_a_password_is_chosen(app, client, runner, monkeypatch):
    """Not only one's own change: an administrator typing it for a new or existing account,
    and the command line (from the environment and at the prompt), refuse it too."""
    logged_in_as(app, client, "admin")
    person = make_user(app, "kim@example.se", "hr")
    typed = {"password_choice": "set", "new_password": "password1234"}
    typed["confirm_password"] = typed["new_password"]
    created = post_form(
        client, "/admin/users/new?lang=en", {"email": "new.hr@example.se", "role": "hr", **typed}
    )
    assert created.status_code == 400
    assert "among the most common passwords" in created.get_data(as_text=True)
    reset = post_form(
        client,
        f"/admin/users/{person.id}/password?lang=en",
        {**typed, "new_password": "Password1234!", "confirm_password": "Password1234!"},
        page=f"/admin/users/{person.id}",
    )
    assert reset.status_code == 400
    assert "among the most common passwords" in reset.get_data(as_text=True)
    monkeypatch.setenv("VARNA_ADMIN_PASSWORD", "password1234")
    result = runner.invoke(args=["create-admin", "cli.admin@example.se"])
    assert result.exit_code != 0
    assert "most common passwords" in result.output
    monkeypatch.delenv("VARNA_ADMIN_PASSWORD")
    prompted = "password1234\n" * 3
    result = runner.invoke(args=["create-admin", "cli.admin@example.se"], input=prompted)
    assert result.exit_code != 0
    assert "most common passwords" in result.output
    with app.app_context(), db.connection_context():
        assert store.get_user_by_email("new.hr@example.se") is None
        assert store.get_user_by_email("cli.admin@example.se") is None
        assert store.get_user(person.id).password_hash == person.password_hash


def test_the_new_password_must_differ(app, client):
    logged_in_as(app, client, "hr")
    data = {
        "current_password": DEFAULT_PASSWORD,
        "new_password": DEFAULT_PASSWORD,
        "confirm_password": DEFAULT_PASSWORD,
    }
    response = post_form(client, "/admin/password?lang=en", data)
    assert response.status_code == 400
    assert "must differ from the current one" in response.get_data(as_text=True)


def test_a_generated_password_must_be_changed_at_first_login(app, client):
    logged_in_as(app, client, "admin")
    data = {"email": "new.hr@example.se", "role": "hr", "password_choice": "generate"}
    page = post_form(client, "/admin/users/new", data).get_data(as_text=True)
    generated = re.search(r'<p class="secret" translate="no">([^<]+)</p>', page).group(1)
    person = app.test_client()
    response = login(person, "new.hr@example.se", generated)
    assert response.headers["Location"] == "/admin/password"
    # Every page leads back to the password change until it is done.
    assert person.get("/admin/").headers["Location"] == "/admin/password"
    assert person.get("/board/").headers["Location"] == "/admin/password"
    new = "my very own passphrase"
    data = {"current_password": generated, "new_password": new, "confirm_password": new}
    assert post_form(person, "/admin/password", data).headers["Location"] == "/admin/"
    assert person.get("/admin/").status_code == 200
    with app.app_context(), db.connection_context():
        assert not store.get_user_by_email("new.hr@example.se").must_change_password


def test_a_reset_to_a_generated_password_must_be_changed(app, client):
    logged_in_as(app, client, "admin")
    person = make_user(app, "kim@example.se", "hr")
    response = post_form(
        client,
        f"/admin/users/{person.id}/password",
        {"password_choice": "generate"},
        page=f"/admin/users/{person.id}",
    )
    generated = re.search(
        r'<p class="secret" translate="no">([^<]+)</p>', response.get_data(as_text=True)
    ).group(1)
    assert login(app.test_client(), person.email, generated).headers["Location"] == (
        "/admin/password"
    )


def test_command_line_resets_a_second_factor_and_ends_sessions(app, client, runner):
    user = logged_in_as(app, client, "admin")
    result = runner.invoke(args=["end-sessions", user.email])
    assert result.exit_code == 0, result.output
    assert "1 sessions ended" in result.output
    assert client.get("/admin/").status_code == 302
    result = runner.invoke(args=["reset-mfa", user.email])
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), user.email).headers["Location"] == "/admin/login/enrol"
    login(client, "kim@example.se")  # unknown: nothing happens
    assert runner.invoke(args=["reset-mfa", "nobody@example.se"]).exit_code != 0
    assert runner.invoke(args=["end-sessions"]).exit_code != 0
    assert runner.invoke(args=["end-sessions", "--all"]).exit_code == 0
