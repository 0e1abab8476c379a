"""Administration login, logout, sessions and role checks."""

from __future__ import annotations

import pytest

from portal import store
from portal.extensions import db
from portal.store.models import AuditEntry, Survey, User
from portal.web.admin.auth import safe_next
from tests.factories import (
    DEFAULT_PASSWORD,
    csrf_token,
    enter_code,
    install_clock,
    logged_in_as,
    login,
    make_survey,
    make_user,
    totp_code,
)

# Every page the account half of the administration adds: (method, path, roles allowed).
ADMIN_ONLY_PAGES = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}/role"),
    ("POST", "/admin/users/{id}/status"),
    ("POST", "/admin/users/{id}/password"),
    ("GET", "/admin/audit"),
]
EVERY_ROLE_PAGES = [("GET", "/admin/"), ("GET", "/admin/password"), ("POST", "/admin/password")]


def audit_actions(app) -> list[str]:
    with app.app_context(), db.connection_context():
        return [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]


def test_admin_redirects_to_login_when_logged_out(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/"


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY_PAGES + EVERY_ROLE_PAGES)
def test_every_admin_page_redirects_to_login_when_logged_out(app, client, method, path):
    target = make_user(app, "target@example.se", "hr")
    path = path.format(id=target.id)
    if method == "POST":
        token = csrf_token(client.get("/admin/login").get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token})
        assert response.headers["Location"] == "/admin/login"
    else:
        response = client.get(path)
        assert response.headers["Location"].startswith("/admin/login?next=/admin/")
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["hr", "board"])
@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY_PAGES)
def test_admin_only_pages_are_forbidden_to_other_roles(app, client, role, method, path):
    target = make_user(app, "target@example.se", "hr")
    logged_in_as(app, client, role)
    path = path.format(id=target.id)
    if method == "POST":
        token = csrf_token(client.get("/admin/").get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token, "role": "admin"})
    else:
        response = client.get(path)
    assert response.status_code == 403
    assert "Inte tillåtet" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert store.get_user(target.id).role == "hr"


@pytest.mark.parametrize("role", ["admin", "hr", "board"])
def test_every_role_sees_the_overview_and_its_own_navigation(app, client, role):
    logged_in_as(app, client, role)
    html = client.get("/admin/?lang=en").get_data(as_text=True)
    assert f"{role}@example.se" in html
    assert ("/admin/users" in html) == (role == "admin")
    assert ("/admin/audit" in html) == (role == "admin")
    assert "/admin/password" in html


def test_login_and_logout(app, client):
    make_user(app)
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302
    assert audit_actions(app) == ["login", "logout"]


def test_logout_ends_the_session_even_if_the_cookie_is_replayed(app, client):
    make_user(app)
    login(client)
    stolen = client.get_cookie("varna-admin").value
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    client.post("/admin/logout", data={"csrf_token": token})
    replay = app.test_client()
    replay.set_cookie("varna-admin", stolen)
    assert replay.get("/admin/").status_code == 302


def test_overview_shows_the_previous_login(app, client):
    clock = install_clock(app)
    make_user(app)
    login(client)
    assert "Detta är din första inloggning." in client.get("/admin/").get_data(as_text=True)
    clock.advance(days=1)
    login(app.test_client())
    third = app.test_client()
    login(third)
    page = third.get("/admin/?lang=en").get_data(as_text=True)
    # 2026-03-03 09:00 UTC is 10:00 in Stockholm.
    assert "Your previous login: 3/3/26, 10:00" in page


def test_login_is_case_insensitive_on_the_address(app, client):
    make_user(app, "Kim.Hr@Example.se")
    assert login(client, "  KIM.HR@example.SE ").status_code == 302


def test_login_returns_to_a_local_next_page_only(app, client):
    make_user(app)
    page = client.get("/admin/login?next=/admin/audit")
    token = csrf_token(page.get_data(as_text=True))
    data = {"csrf_token": token, "email": "admin@example.se", "password": DEFAULT_PASSWORD}
    response = client.post("/admin/login?next=/admin/audit", data=data)
    # The page to return to is kept through the second factor.
    assert response.headers["Location"] == "/admin/login/code"
    response = enter_code(client, totp_code(app, "admin@example.se"))
    assert response.headers["Location"] == "/admin/audit"
    other = app.test_client()
    token = csrf_token(other.get("/admin/login").get_data(as_text=True))
    data["csrf_token"] = token
    other.post("/admin/login?next=https://evil.example/", data=data)
    response = enter_code(other, totp_code(app, "admin@example.se"))
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/audit?page=2", "/admin/audit?page=2"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("\\\\evil.example", None),
        ("javascript:alert(1)", None),
        ("admin", None),
        ("/admin/\nSet-Cookie: x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_wrong_password_and_unknown_address_get_the_same_message(app, client):
    make_user(app)
    wrong = login(client, "admin@example.se", "wrong password here")
    unknown = login(client, "nobody@example.se", "wrong password here")
    assert wrong.status_code == unknown.status_code == 401
    message = "E-postadressen eller lösenordet är fel."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_failed_login_is_audited_by_account_never_by_what_was_typed(app, client):
    make_user(app)
    login(client, "admin@example.se", "Secret-typed-password-1")
    login(client, "Secret-typed-password-2", "whatever at all")
    with app.app_context(), db.connection_context():
        entries = list(AuditEntry.select().order_by(AuditEntry.id))
    assert [(e.action, e.subject, e.actor) for e in entries] == [
        ("login_failed", "admin@example.se", None),
        ("login_failed", "", None),
    ]
    for entry in entries:
        assert "Secret-typed" not in f"{entry.subject} {entry.detail}"


def test_disabled_account_cannot_log_in(app, client):
    user = make_user(app)
    make_user(app, "other@example.se")
    with app.app_context(), db.connection_context():
        store.set_user_disabled(user.id, True)
    response = login(client)
    assert response.status_code == 401
    assert "inaktiverat" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_disabling_an_account_ends_its_open_sessions(app, client):
    user = make_user(app)
    make_user(app, "other@example.se")
    login(client)
    assert client.get("/admin/").status_code == 200
    with app.app_context(), db.connection_context():
        store.set_user_disabled(user.id, True)
    assert client.get("/admin/").status_code == 302


def test_login_clears_the_previous_session(app, client):
    make_user(app)
    client.get("/admin/login?lang=en")
    before = csrf_token(client.get("/admin/login").get_data(as_text=True))
    with client.session_transaction("/admin/login") as session:
        session["planted"] = "by an attacker"
    login(client)
    with client.session_transaction("/admin/") as session:
        assert "planted" not in session
        assert session["lang"] == "en"
    after = csrf_token(client.get("/admin/password").get_data(as_text=True))
    assert after != before


def test_idle_timeout(app, client):
    clock = install_clock(app)
    make_user(app)
    login(client)
    clock.advance(minutes=29)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=29)  # each request restarts the idle period
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "Din session har gått ut" in client.get("/admin/login").get_data(as_text=True)


def test_absolute_session_lifetime(app, client):
    clock = install_clock(app)
    make_user(app)
    login(client)
    for _ in range(12 * 4):
        clock.advance(minutes=15)
        status = client.get("/admin/").status_code
        if status != 200:
            break
    assert clock.now.hour == 21  # logged in at 09:00, refused after 12 hours
    assert status == 302


def test_timeouts_are_configurable(tmp_path):
    from tests.factories import make_app

    app = make_app(tmp_path, ADMIN_IDLE_TIMEOUT_MINUTES=5)
    clock = install_clock(app)
    client = app.test_client()
    make_user(app)
    login(client)
    clock.advance(minutes=6)
    assert client.get("/admin/").status_code == 302


def test_session_cookie_flags(app, client):
    make_user(app)
    # The logged-in area has its own cookie, always Strict (security requirement 9).
    assert "SameSite=Strict" in client.get("/admin/login").headers["Set-Cookie"]
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("varna-admin=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie
    assert "SameSite=Strict" in client.get("/admin/").headers["Set-Cookie"]
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    logout = client.post("/admin/logout", data={"csrf_token": token})
    assert "SameSite=Strict" in logout.headers["Set-Cookie"]
    https = app.test_client()
    make_user(app, "second@example.se")
    page = https.get("/admin/login", base_url="https://localhost")
    assert "Secure" in page.headers["Set-Cookie"]
    data = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": "second@example.se",
        "password": DEFAULT_PASSWORD,
    }
    response = https.post("/admin/login", data=data, base_url="https://localhost")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-varna-admin=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie


def test_admin_pages_are_not_cached(app, client):
    logged_in_as(app, client, "admin")
    for path in ("/admin/login", "/admin/", "/admin/users", "/admin/audit", "/admin/password"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path


def test_admin_posts_without_csrf_token_are_refused(app, client):
    user = logged_in_as(app, client, "admin")
    other = make_user(app, "other@example.se", "hr")
    posts = {
        "/admin/logout": {},
        "/admin/password": {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "another long passphrase",
            "confirm_password": "another long passphrase",
        },
        "/admin/users/new": {
            "email": "new@example.se",
            "role": "hr",
            "password_choice": "generate",
        },
        f"/admin/users/{other.id}/role": {"role": "admin"},
        f"/admin/users/{other.id}/status": {"action": "disable"},
        f"/admin/users/{other.id}/password": {"password_choice": "generate"},
    }
    for path, data in posts.items():
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        bad = client.post(path, data={**data, "csrf_token": "forged"})
        assert bad.status_code == 400, path
    with app.app_context(), db.connection_context():
        assert store.get_user(other.id).role == "hr"
        assert not store.get_user(other.id).disabled
        assert store.get_user_by_email("new@example.se") is None
        assert store.get_user(user.id).session_nonce == user.session_nonce
    assert client.get("/admin/").status_code == 200


def test_login_without_csrf_token_is_refused(app, client):
    make_user(app)
    data = {"email": "admin@example.se", "password": DEFAULT_PASSWORD}
    assert client.post("/admin/login", data=data).status_code == 400
    assert client.get("/admin/").status_code == 302


def test_login_form_errors_beside_fields(client):
    token = csrf_token(client.get("/admin/login?lang=en").get_data(as_text=True))
    response = client.post("/admin/login", data={"csrf_token": token, "email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in html
    assert "Enter your e-mail address." in html
    assert 'aria-describedby="password-error"' in html


def test_password_is_rehashed_when_parameters_change(app, client):
    user = make_user(app)
    old_hash = user.password_hash
    from argon2 import PasswordHasher

    app.extensions["varna_password_hasher"] = PasswordHasher(
        time_cost=2, memory_cost=16, parallelism=1
    )
    assert login(client).status_code == 302
    with app.app_context(), db.connection_context():
        new_hash = User.get_by_id(user.id).password_hash
    assert new_hash != old_hash
    assert "m=16,t=2" in new_hash


def test_forms_work_over_https_although_no_referrer_is_sent(app):
    """Pages send Referrer-Policy: no-referrer, so browsers post without a Referer."""
    from tests.factories import make_survey

    survey, codes = make_survey(app, access="codes", codes=1)
    client = app.test_client()
    page = client.get(f"/s/{survey.slug}", base_url="https://localhost")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "code": codes[0]}
    response = client.post(
        f"/s/{survey.slug}", data={**data, "action": "code"}, base_url="https://localhost"
    )
    assert response.status_code == 200


def test_no_address_agent_or_typed_secret_stored_or_logged(app, client, tmp_path, caplog, capfd):
    import logging

    from tests.portal.test_anonymity import database_bytes

    caplog.set_level(logging.DEBUG)
    agent = "AdminProbe/9.1 (distinctive-agent-77ab)"
    address = "198.51.100.201"
    client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    make_user(app)
    login(client, "admin@example.se", "Typed-Wrong-Secret-1")
    login(client, "unknown-person@example.se", "Typed-Wrong-Secret-2")
    assert login(client).status_code == 302
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    client.post("/admin/logout", data={"csrf_token": token})
    blob = database_bytes(app, tmp_path)
    output = caplog.text + "".join(capfd.readouterr())
    for needle in (agent, address, "Typed-Wrong-Secret", "unknown-person", DEFAULT_PASSWORD):
        assert needle.encode() not in blob, needle
        assert needle not in output, needle


def test_every_admin_route_requires_a_login(app):
    """A safety net over the URL map: any /admin route added later is covered too."""
    from werkzeug.routing.converters import NumberConverter

    client = app.test_client()
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    public = {"admin.login", "admin.logout", "admin.static"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in public:
            continue
        values = {
            arg: 1 if isinstance(rule._converters[arg], NumberConverter) else "x"
            for arg in rule.arguments
        }
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/admin/login"), (method, path)
            checked += 1
    assert checked >= 10


def test_every_post_route_refuses_a_missing_or_forged_csrf_token(app, client):
    """Every POST endpoint in the URL map (routes added later included), as an admin:
    no token or a forged one gets 400 and changes nothing."""
    logged_in_as(app, client, "admin")
    other = make_user(app, "target@example.se", "hr")
    survey, _ = make_survey(app, status="draft")
    values = {
        "slug": survey.slug,
        "user_id": other.id,
        "sid": "0" * 64,
        "key": "exit",
        "node_id": 1,
    }
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(rules) >= 19
    with app.app_context(), db.connection_context():
        before = (AuditEntry.select().count(), Survey.get_by_id(survey.id).status)
    for rule in rules:
        path = rule.build({a: values[a] for a in rule.arguments})[1]
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(path, data=data)
            assert response.status_code == 400, (path, response.status_code)
    with app.app_context(), db.connection_context():
        after = (AuditEntry.select().count(), Survey.get_by_id(survey.id).status)
        assert User.get_by_id(other.id).disabled is False
    assert after == before
