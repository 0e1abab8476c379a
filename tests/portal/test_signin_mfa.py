"""The TOTP second factor: enrolment, login, recovery codes, throttling and reset."""

from __future__ import annotations

import datetime as dt

import pyotp

from portal import clock, store
from portal.extensions import db
from portal.services import mfa
from portal.store.models import AuditEntry, RecoveryCode, User
from tests.factories import (
    DEFAULT_PASSWORD,
    csrf_token,
    enrol_through_pages,
    enter_code,
    install_clock,
    logged_in_as,
    login,
    make_user,
    post_form,
    remember_totp,
    totp_code,
)


def audit_actions(app) -> list[str]:
    with app.app_context(), db.connection_context():
        return [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]


def stored(app, user_id: int) -> User:
    with app.app_context(), db.connection_context():
        return store.get_user(user_id)


def code_now(app, secret: str) -> str:
    with app.app_context():
        return mfa.code_at(secret, clock.utcnow())


def test_an_admin_without_a_second_factor_enrols_at_login(app, client):
    user = make_user(app, mfa=False)
    response = login(client)
    assert response.headers["Location"] == "/admin/login/enrol"
    # The password alone grants nothing.
    assert client.get("/admin/").status_code == 302
    page = client.get("/admin/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    assert "QR-kod för din autentiseringsapp" in page
    wrong = client.post(
        "/admin/login/enrol", data={"csrf_token": csrf_token(page), "code": "000000"}
    )
    assert wrong.status_code == 401
    assert client.get("/admin/").status_code == 302
    response, secret, codes = enrol_through_pages(client)
    assert response.status_code == 200
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert client.get("/admin/").status_code == 200
    assert audit_actions(app)[-2:] == ["mfa_enrolled", "login"]
    # Shown once: no page shows the codes again (the sessions page only counts them).
    assert client.get("/admin/login/enrol").status_code == 302
    assert client.get("/admin/mfa").status_code == 302
    sessions_page = client.get("/admin/sessions?lang=en").get_data(as_text=True)
    assert "You have 10 unused recovery codes" in sessions_page
    for path in ("/admin/", "/admin/sessions", "/admin/password", f"/admin/users/{user.id}"):
        page = client.get(path).get_data(as_text=True)
        assert not any(code in page for code in codes), path
    account = stored(app, user.id)
    assert account.has_totp
    # Neither the secret nor any recovery code is in the database in clear.
    assert secret not in account.totp_secret
    with app.app_context(), db.connection_context():
        hashes = [r.code_hash for r in RecoveryCode.select()]
    assert len(hashes) == 10
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in hashes)


def test_the_enrolment_secret_is_not_in_the_cookie_in_clear(app, client):
    make_user(app, mfa=False)
    login(client)
    page = client.get("/admin/login/enrol").get_data(as_text=True)
    import re

    secret = re.search(r'<p class="secret key" translate="no">([A-Z2-7 ]+)</p>', page).group(1)
    cookie = client.get_cookie("varna-admin").value
    # What anyone holding the cookie can read (its payload is only signed).
    content = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert secret.replace(" ", "") not in repr(content)
    assert "mfa_enrolment" in content


def test_a_copy_of_the_database_alone_cannot_generate_codes(app, client):
    """T1: the stored secret is encrypted under a key derived from the secret key."""
    user = logged_in_as(app, client, "admin")
    account = stored(app, user.id)
    real = mfa.decrypt_secret("test-secret-key", user.id, account.totp_secret)
    assert real is not None
    assert real not in account.totp_secret
    assert mfa.decrypt_secret("another-secret-key", user.id, account.totp_secret) is None
    # Copied to another account's row, it does not decrypt either (the id is bound to it).
    assert mfa.decrypt_secret("test-secret-key", user.id + 1, account.totp_secret) is None


def password_step(client, email: str):
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "password": DEFAULT_PASSWORD}
    response = client.post("/admin/login", data=data)
    assert response.headers["Location"] == "/admin/login/code"


def test_a_code_is_accepted_once(app, client):
    user = make_user(app)
    code = totp_code(app, user.email)
    password_step(client, user.email)
    assert enter_code(client, code).headers["Location"] == "/admin/"
    # Someone who saw the code (and knows the password) replays it at once.
    replay = app.test_client()
    password_step(replay, user.email)
    response = enter_code(replay, code)
    assert response.status_code == 401
    assert "har redan använts" in response.get_data(as_text=True)
    assert replay.get("/admin/").status_code == 302


def test_wrong_codes_are_throttled_like_passwords(app, client):
    install_clock(app)
    user = make_user(app)
    login_data = {"email": user.email, "password": DEFAULT_PASSWORD}
    statuses = []
    for _ in range(11):
        token = csrf_token(client.get("/admin/login").get_data(as_text=True))
        response = client.post("/admin/login", data={"csrf_token": token, **login_data})
        if response.status_code != 302:
            statuses.append(response.status_code)
            continue
        statuses.append(enter_code(client, "123456").status_code)
        app.config["CLOCK"].advance(seconds=40)  # past each slow-down delay
    assert statuses[:5] == [401] * 5
    assert 429 in statuses
    # Locked: the right password and then the right code no longer work.
    response = login(app.test_client(), user.email)
    assert response.status_code == 429
    with app.app_context(), db.connection_context():
        failed = AuditEntry.select().where(AuditEntry.action == "login_failed").count()
    assert failed >= 5
    assert "login" not in audit_actions(app)


def test_codes_guessed_after_one_password_are_throttled(app, client):
    """Someone who knows the password stays on the code page and guesses codes there.

    The password is given once; each guess must still pass the throttle, so the
    guesses slow down and then stop, and once locked even the right code is refused.
    """
    clock_ = install_clock(app)
    user = make_user(app)
    password_step(client, user.email)
    statuses = []
    for _ in range(12):
        response = enter_code(client, "123456")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
        clock_.advance(seconds=1)  # well inside the pending login's ten minutes
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429  # the sixth guess already has to wait
    assert len(statuses) == 6
    assert int(response.headers["Retry-After"]) >= 1
    # Waiting out each delay, the guesses go on only until the lock.
    for _ in range(10):
        clock_.advance(seconds=40)
        response = enter_code(client, "123456")
        if response.status_code == 429:
            break
    assert response.status_code == 429
    assert "spärrad" in response.get_data(as_text=True)
    # Locked: the right code is refused too, and nothing was logged in.
    response = enter_code(client, totp_code(app, user.email))
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
    assert "login" not in audit_actions(app)


def test_a_recovery_code_logs_in_once(app, client):
    make_user(app, mfa=False)
    login(client)
    _, _, codes = enrol_through_pages(client)
    other = app.test_client()
    token = csrf_token(other.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": "admin@example.se", "password": DEFAULT_PASSWORD}
    assert other.post("/admin/login", data=data).headers["Location"] == "/admin/login/code"
    response = enter_code(other, codes[0].upper().replace("-", " "))
    assert response.headers["Location"] == "/admin/"
    assert "recovery_code_used" in audit_actions(app)
    again = app.test_client()
    data["csrf_token"] = csrf_token(again.get("/admin/login").get_data(as_text=True))
    again.post("/admin/login", data=data)
    assert enter_code(again, codes[0]).status_code == 401


def test_the_pending_login_expires(app, client):
    clock_ = install_clock(app)
    user = make_user(app)
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD}
    client.post("/admin/login", data=data)
    clock_.advance(minutes=11)
    response = client.get("/admin/login/code")
    assert response.headers["Location"] == "/admin/login"


def test_other_roles_log_in_without_a_second_factor_unless_required(app, client):
    make_user(app, "kim@example.se", "hr")
    assert login(client, "kim@example.se").headers["Location"] == "/admin/"
    app.config["REQUIRE_MFA"] = True
    response = login(app.test_client(), "kim@example.se")
    assert response.headers["Location"] == "/admin/login/enrol"


def test_any_role_can_enrol_voluntarily(app, client):
    user = logged_in_as(app, client, "board")
    page = client.get("/admin/sessions?lang=en").get_data(as_text=True)
    assert "Your account has no second factor" in page
    response, secret, codes = enrol_through_pages(client, "/admin/mfa")
    assert response.status_code == 200
    assert len(codes) == 10
    assert client.get("/admin/").status_code == 200  # this session continues
    remember_totp(app, user.email, secret)
    response = login(app.test_client(), user.email)
    assert response.headers["Location"] == "/admin/"


def test_an_administrator_resets_a_second_factor(app, client):
    logged_in_as(app, client, "admin")
    person = make_user(app, "second.admin@example.se", "admin")
    theirs = app.test_client()
    assert login(theirs, person.email).headers["Location"] == "/admin/"
    response = post_form(
        client, f"/admin/users/{person.id}/mfa/reset", {}, page=f"/admin/users/{person.id}"
    )
    assert response.status_code == 302
    assert not stored(app, person.id).has_totp
    assert theirs.get("/admin/").status_code == 302  # their sessions ended
    with app.app_context(), db.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "mfa_reset")
        assert entry.subject == person.email
        assert entry.actor_email == "admin@example.se"
        assert RecoveryCode.select().where(RecoveryCode.user == person.id).count() == 0
    response = login(app.test_client(), person.email)
    assert response.headers["Location"] == "/admin/login/enrol"


def test_only_administrators_reset_a_second_factor(app, client):
    person = make_user(app, "second.admin@example.se", "admin")
    logged_in_as(app, client, "hr")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    response = client.post(f"/admin/users/{person.id}/mfa/reset", data={"csrf_token": token})
    assert response.status_code == 403
    assert stored(app, person.id).has_totp


def test_codes_within_one_step_of_drift_are_accepted():
    secret = pyotp.random_base32(32)
    now = dt.datetime(2026, 3, 2, 9, 0, 15)
    for offset in (-30, 0, 30):
        code = mfa.code_at(secret, now + dt.timedelta(seconds=offset))
        assert mfa.matching_step(secret, code, now) is not None
    late = mfa.code_at(secret, now - dt.timedelta(seconds=90))
    assert mfa.matching_step(secret, late, now) is None
    assert mfa.matching_step(secret, "abcdef", now) is None
