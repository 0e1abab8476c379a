"""Login throttling: per account and per client, in the database, with an injectable clock."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.extensions import db
from portal.services import throttle
from portal.store import ThrottleState
from portal.store.models import AuditEntry, LoginThrottle
from tests.factories import (
    DEFAULT_PASSWORD,
    csrf_token,
    install_clock,
    login,
    make_app,
    make_user,
)

WRONG = "not the password at all"
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
POLICY = throttle.Policy(
    slow_after=5,
    lock_after=10,
    window=dt.timedelta(minutes=15),
    lock=dt.timedelta(minutes=15),
    base_delay=dt.timedelta(seconds=2),
)


def fail(client, email="admin@example.se", times=1, **kw):
    for _ in range(times):
        response = login(client, email, WRONG, **kw)
        assert response.status_code == 401, response.status_code
    return response


def throttle_rows(app) -> list[LoginThrottle]:
    with app.app_context(), db.connection_context():
        return list(LoginThrottle.select())


# -- the arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "seconds"), [(0, 0), (4, 0), (5, 2), (6, 4), (7, 8), (9, 32), (20, 300)]
)
def test_delay_doubles_after_the_threshold_up_to_five_minutes(failures, seconds):
    assert throttle.delay_after(failures, POLICY) == dt.timedelta(seconds=seconds)


def state(failures, first=T0, last=T0, locked_until=None):
    return ThrottleState(failures, first, last, locked_until)


def test_verdicts():
    assert throttle.verdict(None, POLICY, T0).allowed
    assert throttle.verdict(state(4), POLICY, T0).allowed
    assert throttle.verdict(state(5), POLICY, T0) == throttle.Verdict(2)
    assert throttle.verdict(state(5), POLICY, T0 + dt.timedelta(seconds=2)).allowed
    locked = state(10, locked_until=T0 + dt.timedelta(minutes=15))
    assert throttle.verdict(locked, POLICY, T0) == throttle.Verdict(900, locked=True)
    assert throttle.verdict(locked, POLICY, T0 + dt.timedelta(minutes=15)).allowed


def test_failures_count_up_lock_and_are_forgotten():
    current = state(0)
    for expected in range(1, 10):
        current = throttle.after_failure(current, POLICY, T0)
        assert current.failures == expected
        assert current.locked_until is None
    current = throttle.after_failure(current, POLICY, T0)
    assert current.locked_until == T0 + dt.timedelta(minutes=15)
    # After the lock, counting starts again.
    later = T0 + dt.timedelta(minutes=16)
    assert throttle.after_failure(current, POLICY, later) == state(1, later, later)
    # Failures older than the window are forgotten.
    old = state(4, first=T0, last=T0 + dt.timedelta(minutes=10))
    after_window = T0 + dt.timedelta(minutes=15, seconds=1)
    assert throttle.after_failure(old, POLICY, after_window).failures == 1


# -- through the login page ----------------------------------------------------------------


def test_account_is_slowed_down_then_locked_and_unlocks_after_the_lock(app, client):
    clock = install_clock(app)
    make_user(app)
    fail(client, times=5)
    # The sixth attempt must wait, even with the right password.
    response = login(client)
    assert response.status_code == 429
    assert "Vänta 2 sekunder" in response.get_data(as_text=True)
    clock.advance(seconds=2)
    fail(client)
    response = login(client)
    assert "Vänta 4 sekunder" in response.get_data(as_text=True)
    for wait in (4, 8, 16, 32):
        clock.advance(seconds=wait)
        fail(client)
    # Ten failures: locked, and the audit log says so.
    response = login(client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert "spärrad i 15 minuter" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert (last.action, last.subject) == ("login_failed", "admin@example.se")
    assert last.detail == "The account was locked for %(minutes)d minutes."
    assert last.params() == {"minutes": 15}
    clock.advance(minutes=14, seconds=59)
    assert login(client).status_code == 429
    assert client.get("/admin/").status_code == 302
    clock.advance(seconds=1)
    assert login(client).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_locked_message_in_english(app, client):
    install_clock(app)
    make_user(app)
    client.get("/admin/login?lang=en")
    app.config.update(LOGIN_ACCOUNT_SLOWDOWN_AFTER=99, LOGIN_ACCOUNT_LOCK_AFTER=3)
    fail(client, times=3)
    html = login(client).get_data(as_text=True)
    assert "Too many failed logins. Login is locked for 15 minutes" in html


def test_a_successful_login_clears_the_account_failures(app, client):
    install_clock(app)
    make_user(app)
    fail(client, times=4)
    assert login(client).status_code == 302
    other = app.test_client()
    fail(other, times=4)
    assert login(other, "admin@example.se", WRONG).status_code == 401  # 5th: not yet slowed


def test_the_account_lock_holds_for_every_client(app, client):
    install_clock(app)
    make_user(app)
    app.config.update(LOGIN_ACCOUNT_SLOWDOWN_AFTER=99, LOGIN_ACCOUNT_LOCK_AFTER=3)
    fail(client, times=3, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    elsewhere = app.test_client()
    response = login(elsewhere, environ_base={"REMOTE_ADDR": "192.0.2.2"})
    assert response.status_code == 429


def test_a_client_trying_many_accounts_is_slowed_then_locked(app, client):
    clock = install_clock(app)
    make_user(app)
    make_user(app, "victim@example.se")
    app.config.update(LOGIN_CLIENT_SLOWDOWN_AFTER=3, LOGIN_CLIENT_LOCK_AFTER=5)
    attacker = {"environ_base": {"REMOTE_ADDR": "192.0.2.66"}}
    for n in range(3):
        fail(client, f"guess{n}@example.se", **attacker)
    response = login(client, "victim@example.se", DEFAULT_PASSWORD, **attacker)
    assert response.status_code == 429
    assert "Vänta 2 sekunder" in response.get_data(as_text=True)
    clock.advance(seconds=2)
    fail(client, "guess3@example.se", **attacker)
    clock.advance(seconds=4)
    fail(client, "guess4@example.se", **attacker)
    response = login(client, "victim@example.se", DEFAULT_PASSWORD, **attacker)
    assert "spärrad i 15 minuter" in response.get_data(as_text=True)
    # Another client is not affected, and the attacked accounts are not locked.
    colleague = app.test_client()
    response = login(colleague, "victim@example.se", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302
    clock.advance(minutes=15)
    assert login(client, "admin@example.se", **attacker).status_code == 302


def test_failures_outside_the_window_are_forgotten(app, client):
    clock = install_clock(app)
    make_user(app)
    fail(client, times=4)
    clock.advance(minutes=15, seconds=1)
    fail(client, times=4)
    assert login(client).status_code == 302


def test_throttling_is_shared_by_every_worker(tmp_path):
    """Two app instances on one database stand for two gunicorn workers."""
    first = make_app(tmp_path, LOGIN_ACCOUNT_SLOWDOWN_AFTER=99, LOGIN_ACCOUNT_LOCK_AFTER=4)
    second = make_app(tmp_path, LOGIN_ACCOUNT_SLOWDOWN_AFTER=99, LOGIN_ACCOUNT_LOCK_AFTER=4)
    make_user(first)
    fail(first.test_client(), times=2)
    fail(second.test_client(), times=2)
    assert login(first.test_client()).status_code == 429
    assert login(second.test_client()).status_code == 429


def test_old_rows_are_deleted_and_no_address_is_stored(app, client):
    clock = install_clock(app)
    make_user(app)
    fail(client, "typo@example.se", times=2, environ_base={"REMOTE_ADDR": "198.51.100.23"})
    rows = throttle_rows(app)
    assert {row.key.split(":")[0] for row in rows} == {"account", "client"}
    for row in rows:
        assert "198.51.100.23" not in row.key
        assert "typo" not in row.key
    clock.advance(minutes=16)
    login(client)
    # Rows older than the window and lock are gone before the next attempt counts.
    assert throttle_rows(app) == []


class SpyHasher:
    """Wraps the app's PasswordHasher (whose attributes are read-only) to record verify()."""

    def __init__(self, hasher):
        self.hasher = hasher
        self.verified: list[str] = []

    def verify(self, password_hash, password):
        self.verified.append(password_hash)
        return self.hasher.verify(password_hash, password)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


def spy_on_hasher(app) -> list[str]:
    spy = SpyHasher(app.extensions["varna_password_hasher"])
    app.extensions["varna_password_hasher"] = spy
    return spy.verified


def test_unknown_address_is_verified_against_a_dummy_hash(app, client):
    """An unknown e-mail spends an Argon2 verification too (no enumeration by timing)."""
    calls = spy_on_hasher(app)
    make_user(app)
    login(client, "nobody@example.se", WRONG)
    login(client, "admin@example.se", WRONG)
    assert len(calls) == 2
    assert calls[0].startswith("$argon2id$")
    assert calls[0].split("$")[3] == calls[1].split("$")[3]  # the same parameters


def test_throttled_attempts_are_refused_before_the_password_is_checked(app, client):
    install_clock(app)
    make_user(app)
    fail(client, times=5)
    calls = spy_on_hasher(app)
    assert login(client).status_code == 429
    assert calls == []


def test_wrong_current_password_counts_as_a_failed_login(app, client):
    install_clock(app)
    make_user(app)
    app.config.update(LOGIN_ACCOUNT_SLOWDOWN_AFTER=99, LOGIN_ACCOUNT_LOCK_AFTER=3)
    login(client)
    for _ in range(3):
        token = csrf_token(client.get("/admin/password").get_data(as_text=True))
        data = {
            "csrf_token": token,
            "current_password": WRONG,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        }
        assert client.post("/admin/password", data=data).status_code == 400
    data["current_password"] = DEFAULT_PASSWORD
    response = client.post("/admin/password", data=data)
    assert response.status_code == 429
    assert "spärrad" in response.get_data(as_text=True)
