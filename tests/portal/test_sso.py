"""Single sign-on with OpenID Connect, against a real provider (oidc-provider on Node.js).

The provider (tests/oidc/provider.js) runs on loopback with test accounts:
anna (groups varna-admins), hanna (varna-hr), bo (varna-board), nils (no
mapped group), dora (varna-hr, disabled here), petra (no groups, e-mail in
mixed case). Every login below goes through the provider's own login form,
code exchange with PKCE and ID token verification; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import store
from portal.extensions import db
from portal.services import signin
from portal.store.models import AdminSession, AuditEntry, User
from tests.factories import (
    DEFAULT_PASSWORD,
    FakeClock,
    csrf_token,
    enter_code,
    login,
    make_user,
    totp_code,
)
from tests.oidc.fixture import CLIENT_ID, OTHER_CLIENT_ID, provider_login

BASE = "http://127.0.0.1:5000"
CALLBACK = f"{BASE}/admin/sso/callback"
ROLE_MAP = "admin=varna-admins;hr=varna-hr;board=varna-board"


@pytest.fixture
def sso_app(app, oidc_provider):
    app.config.update(
        SSO_ISSUER=oidc_provider.issuer,
        SSO_CLIENT_ID=CLIENT_ID,
        SSO_CLIENT_SECRET=oidc_provider.client_secret,
        SSO_SCOPES="openid email groups",
        SSO_ROLE_MAP=ROLE_MAP,
    )
    signin.forget_provider_cache()
    return app


def start(client, next_page: str | None = None) -> str:
    """Press "Log in with your organisation's account"; returns the provider's address."""
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Logga in med din organisations konto" in page
    path = "/admin/sso/start" + (f"?next={next_page}" if next_page else "")
    assert 'href="/admin/sso/start' in page
    response = client.get(path)
    assert response.status_code == 302
    return response.headers["Location"]


def callback_path(url: str) -> str:
    assert url.startswith(CALLBACK), url
    return url.removeprefix(BASE)


def sso_login(client, account: str, next_page: str | None = None):
    """The whole flow for a provider account; returns the portal's answer and its callback."""
    answer = provider_login(start(client, next_page), account, f"{account}-password", CALLBACK)
    path = callback_path(answer)
    return client.get(path), path


def audit_actions(app) -> list[str]:
    with app.app_context(), db.connection_context():
        return [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]


def account(app, email: str) -> User | None:
    with app.app_context(), db.connection_context():
        return store.get_user_by_email(email)


def real_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_authorization_request_uses_pkce_state_and_nonce(sso_app, client):
    url = start(client)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(sso_app.config["SSO_ISSUER"])
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert "code_verifier" not in query


def test_full_login_through_the_provider_maps_groups_to_the_admin_role(sso_app, client):
    response, _ = sso_login(client, "anna", next_page="/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"  # no second factor: the IdP's job
    assert client.get("/admin/users").status_code == 200
    user = account(sso_app, "anna.admin@kommun.example")
    assert user.role == "admin"
    assert user.password_hash == signin.UNUSABLE_PASSWORD
    assert audit_actions(sso_app) == ["account_created", "login_sso"]
    # A session exactly like a password login: a row, the nonce, the SameSite=Strict cookie.
    with sso_app.app_context(), db.connection_context():
        rows = list(AdminSession.select())
    assert [(r.user_id, r.method) for r in rows] == [(user.id, "sso")]
    page = client.get("/admin/sessions?lang=en").get_data(as_text=True)
    assert "Single sign-on" in page
    assert "SameSite=Strict" in response.headers["Set-Cookie"]
    # The account made by SSO cannot log in with a password.
    assert login(sso_app.test_client(), user.email, "!sso").status_code in (400, 401)


def test_sso_session_ends_at_logout_and_when_idle(sso_app, client):
    clock = FakeClock(real_now())
    sso_app.config["CLOCK"] = clock
    sso_login(client, "hanna")
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/admin/").status_code == 302
    clock.advance(seconds=5)
    sso_login(client, "hanna")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    client.post("/admin/logout", data={"csrf_token": token})
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("login_name", "email", "role"),
    [("hanna", "hanna.hr@kommun.example", "hr"), ("bo", "bo.board@kommun.example", "board")],
)
def test_groups_map_to_hr_and_board(sso_app, client, login_name, email, role):
    response, _ = sso_login(client, login_name)
    assert response.headers["Location"] == "/admin/"
    assert account(sso_app, email).role == role
    assert client.get("/admin/users").status_code == 403


def test_roles_follow_the_groups_at_each_sign_in(sso_app, client):
    make_user(sso_app, "anna.admin@kommun.example", "board")
    sso_login(client, "anna")
    assert account(sso_app, "anna.admin@kommun.example").role == "admin"
    assert "role_changed" in audit_actions(sso_app)


def test_a_person_without_a_mapped_role_is_refused(sso_app, client):
    response, _ = sso_login(client, "nils")
    assert response.status_code == 403
    assert "har ingen behörighet i Värna" in response.get_data(as_text=True)
    assert account(sso_app, "nils@kommun.example") is None
    assert client.get("/admin/").status_code == 302
    assert audit_actions(sso_app) == ["login_sso_refused"]


def test_a_disabled_account_cannot_sign_in_through_sso(sso_app, client):
    user = make_user(sso_app, "dora.disabled@kommun.example", "hr")
    with sso_app.app_context(), db.connection_context():
        store.set_user_disabled(user.id, True)
    response, _ = sso_login(client, "dora")
    assert response.status_code == 403
    assert "Kontot är inaktiverat" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with sso_app.app_context(), db.connection_context():
        assert AdminSession.select().count() == 0
        assert store.get_user(user.id).disabled


def test_a_replayed_answer_is_refused(sso_app, client):
    response, path = sso_login(client, "hanna")
    assert response.status_code == 302
    # The same answer again, in the same browser and in another: the state was used.
    # The portal refuses it itself, before the code goes to the provider (which would
    # refuse a used code too, and then the refusal would be audited as a failed SSO login).
    again = client.get(path)
    assert again.status_code == 400
    assert "Starta inloggningen igen" in again.get_data(as_text=True)
    other = sso_app.test_client()
    refused = other.get(path)
    assert refused.status_code == 400
    assert "Starta inloggningen igen" in refused.get_data(as_text=True)
    assert other.get("/admin/").status_code == 302
    assert audit_actions(sso_app) == ["account_created", "login_sso"]


def test_a_forged_state_is_refused(sso_app, client):
    answer = provider_login(start(client), "hanna", "hanna-password", CALLBACK)
    query = parse_qs(urlsplit(answer).query)
    forged = f"/admin/sso/callback?code={query['code'][0]}&state=forged-{query['state'][0]}"
    response = client.get(forged)
    assert response.status_code == 400
    assert "Starta inloggningen igen" in response.get_data(as_text=True)
    # The pending sign-in is gone too: the genuine answer cannot be used afterwards.
    assert client.get(callback_path(answer)).status_code == 400
    assert account(sso_app, "hanna.hr@kommun.example") is None


def test_an_answer_from_another_browser_is_refused(sso_app, client):
    """Login CSRF: an attacker's own code and state, sent to a victim's browser."""
    attacker = sso_app.test_client()
    answer = provider_login(start(attacker), "anna", "anna-password", CALLBACK)
    start(client)  # the victim has a pending sign-in of their own
    assert client.get(callback_path(answer)).status_code == 400
    assert client.get("/admin/").status_code == 302


def test_an_expired_id_token_is_refused(sso_app, client):
    # The portal's clock two hours ahead: the provider's one-hour ID token has expired,
    # well beyond the allowed clock skew of one minute.
    sso_app.config["CLOCK"] = FakeClock(real_now() + dt.timedelta(hours=2))
    response, _ = sso_login(client, "anna")
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302
    with sso_app.app_context(), db.connection_context():
        refused = AuditEntry.get(AuditEntry.action == "login_sso_refused")
    assert "exp" in refused.detail or "expired" in refused.detail


def test_clock_skew_is_bounded(sso_app, client):
    # A token issued five minutes "in the future" of the portal's clock is refused ...
    sso_app.config["CLOCK"] = FakeClock(real_now() - dt.timedelta(minutes=5))
    response, _ = sso_login(client, "anna")
    assert response.status_code == 400
    # ... one issued 30 seconds ahead is within the allowed skew.
    sso_app.config["CLOCK"] = FakeClock(real_now() - dt.timedelta(seconds=30))
    response, _ = sso_login(sso_app.test_client(), "anna")
    assert response.status_code == 302


def _token_for_another_client(provider) -> tuple[str, str]:
    """A genuine ID token that the provider issued to another application (and its nonce)."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    nonce, verifier = generate_token(32), generate_token(64)
    with OAuth2Session(
        OTHER_CLIENT_ID,
        provider.client_secret,
        scope="openid email groups",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    ) as other_app:
        url, _ = other_app.create_authorization_url(
            f"{provider.issuer}/auth", nonce=nonce, code_verifier=verifier
        )
        answer = provider_login(url, "anna", "anna-password", CALLBACK)
        code = parse_qs(urlsplit(answer).query)["code"][0]
        token = other_app.fetch_token(
            f"{provider.issuer}/token", code=code, code_verifier=verifier, timeout=10
        )
    return token["id_token"], nonce


def test_an_id_token_for_another_audience_is_refused(sso_app, oidc_provider):
    id_token, nonce = _token_for_another_client(oidc_provider)
    with sso_app.app_context():
        settings = signin.settings_from_config(sso_app.config)
        now = int(time.time())
        with pytest.raises(signin.SignInRefused, match="aud"):
            signin.verify_id_token(settings, id_token, nonce, now)
        # The same token passes for the application it was issued to: only the audience differs.
        other = signin.Settings(**{**settings.__dict__, "client_id": OTHER_CLIENT_ID})
        assert signin.verify_id_token(other, id_token, nonce, now)["email"]
        with pytest.raises(signin.SignInRefused, match="nonce"):
            signin.verify_id_token(other, id_token, "another-nonce", now)
        # A token whose signature does not match the provider's keys.
        head, body, signature = id_token.split(".")
        tampered = f"{head}.{body}.{signature[::-1]}"
        with pytest.raises(signin.SignInRefused, match="signature"):
            signin.verify_id_token(other, tampered, nonce, now)


def test_a_code_for_another_client_cannot_be_exchanged(sso_app, client, oidc_provider):
    url = start(client)
    url = url.replace(f"client_id={CLIENT_ID}", f"client_id={OTHER_CLIENT_ID}")
    answer = provider_login(url, "anna", "anna-password", CALLBACK)
    response = client.get(callback_path(answer))
    assert response.status_code == 400
    assert account(sso_app, "anna.admin@kommun.example") is None


def test_without_a_role_map_only_precreated_accounts_sign_in(sso_app, client):
    sso_app.config["SSO_ROLE_MAP"] = ""
    make_user(sso_app, "petra.precreated@kommun.example", "hr")
    response, _ = sso_login(client, "petra")
    assert response.status_code == 302
    assert account(sso_app, "petra.precreated@kommun.example").role == "hr"
    response, _ = sso_login(sso_app.test_client(), "nils")
    assert response.status_code == 403
    assert account(sso_app, "nils@kommun.example") is None


def test_password_login_off_except_for_the_break_glass_admin(sso_app, client):
    sso_app.config.update(PASSWORD_LOGIN=False, BREAK_GLASS_ADMIN="Admin@example.se")
    make_user(sso_app, "admin@example.se", "admin")
    make_user(sso_app, "kim.hr@example.se", "hr")
    page = client.get("/admin/login?lang=en").get_data(as_text=True)
    assert 'name="password"' not in page
    assert 'href="/admin/login?password=1"' in page
    assert "Emergency login with a password" in page

    def password_login(client, email):
        page = client.get("/admin/login?password=1&lang=en").get_data(as_text=True)
        assert 'name="password"' in page
        data = {"csrf_token": csrf_token(page), "email": email, "password": DEFAULT_PASSWORD}
        return client.post("/admin/login", data=data)

    refused = password_login(client, "kim.hr@example.se")
    assert refused.status_code == 403
    assert "Login with a password is switched off" in refused.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    breakglass = sso_app.test_client()
    response = password_login(breakglass, "admin@example.se")
    assert response.headers["Location"] == "/admin/login/code"
    response = enter_code(breakglass, totp_code(sso_app, "admin@example.se"))
    assert response.headers["Location"] == "/admin/"


def test_the_break_glass_account_must_be_an_administrator(sso_app, client):
    """A configuration that names an HR account gives it no way round single sign-on."""
    sso_app.config.update(PASSWORD_LOGIN=False, BREAK_GLASS_ADMIN="kim.hr@example.se")
    make_user(sso_app, "kim.hr@example.se", "hr")
    page = client.get("/admin/login?password=1&lang=en").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "email": "kim.hr@example.se"}
    refused = client.post("/admin/login", data={**data, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 403
    assert "Login with a password is switched off" in refused.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    # The same answer for a wrong password: the refusal tells nothing about the password.
    wrong = client.post("/admin/login", data={**data, "password": "not the password at all"})
    assert wrong.status_code == 403


def test_sso_is_absent_when_not_configured(app, client):
    page = client.get("/admin/login").get_data(as_text=True)
    assert "/admin/sso/start" not in page
    assert client.get("/admin/sso/start").headers["Location"] == "/admin/login"
    assert client.get("/admin/sso/callback?code=x&state=y").headers["Location"] == "/admin/login"


def test_role_map_and_sso_settings_are_checked_at_start():
    from portal.config import from_environment, parse_role_map

    assert parse_role_map("admin=a,b; hr=c ;board=d") == {
        "a": "admin",
        "b": "admin",
        "c": "hr",
        "d": "board",
    }
    with pytest.raises(ValueError, match="superuser"):
        parse_role_map("superuser=a")
    good = {
        "VARNA_SSO_ISSUER": "https://login.example/tenant/v2.0",
        "VARNA_SSO_CLIENT_ID": "varna",
        "VARNA_SSO_CLIENT_SECRET": "s3cret",
        "VARNA_PASSWORD_LOGIN": "0",
        "VARNA_BREAK_GLASS_ADMIN": "it@kommun.se",
    }
    config = from_environment(good)
    assert config["PASSWORD_LOGIN"] is False
    assert config["BREAK_GLASS_ADMIN"] == "it@kommun.se"
    # Plain http only to a provider on this machine's loopback (the tests' provider).
    assert from_environment({**good, "VARNA_SSO_ISSUER": "http://127.0.0.1:8080"})
    for bad in (
        {"VARNA_SSO_ISSUER": "http://login.example/"},
        {"VARNA_SSO_ISSUER": "http://127.0.0.1.login.example/"},
        {"VARNA_SSO_ISSUER": "http://127.0.0.1@login.example/"},
        {"VARNA_SSO_ISSUER": "https://"},
        {"VARNA_SSO_CLIENT_SECRET": ""},
        {"VARNA_SSO_ROLE_MAP": "root=x"},
        {"VARNA_SSO_CLOCK_SKEW_SECONDS": "3600"},
    ):
        with pytest.raises(SystemExit):
            from_environment({**good, **bad})


def test_the_most_privileged_mapped_role_wins():
    settings = signin.Settings(
        issuer="https://login.example",
        client_id="varna",
        client_secret="s",
        redirect_uri=CALLBACK,
        role_map={"g-board": "board", "g-hr": "hr", "g-admin": "admin"},
    )
    assert signin.mapped_role(settings, {"groups": ["g-board", "staff", "g-hr"]}) == "hr"
    assert signin.mapped_role(settings, {"groups": ["g-hr", "g-admin", "g-board"]}) == "admin"
    assert signin.mapped_role(settings, {"groups": "g-board"}) == "board"  # one value, no list
    assert signin.mapped_role(settings, {"groups": ["staff"]}) is None
    assert signin.mapped_role(settings, {"groups": {"g-admin": True}}) is None  # not a list
    assert signin.mapped_role(settings, {}) is None


def test_single_sign_on_never_demotes_the_last_administrator(sso_app, client):
    """anna's groups make her an administrator; when they no longer do (the map changed)
    and she is the last one, she is refused rather than left without an administrator."""
    sso_login(client, "anna")
    sso_app.config["SSO_ROLE_MAP"] = "board=varna-admins"
    response, _ = sso_login(sso_app.test_client(), "anna")
    assert response.status_code == 403
    assert account(sso_app, "anna.admin@kommun.example").role == "admin"
