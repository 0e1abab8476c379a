"""``flask --app app create-admin``: the first account, from a prompt or the environment."""

from __future__ import annotations

import pytest

from portal import store
from portal.extensions import db
from portal.store.models import AuditEntry
from tests.factories import login

PASSWORD = "a long enough passphrase"


def account(app, email):
    with app.app_context(), db.connection_context():
        return store.get_user_by_email(email)


def test_create_admin_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("VARNA_ADMIN_PASSWORD", PASSWORD)
    result = runner.invoke(args=["create-admin", "First.Admin@Example.se"])
    assert result.exit_code == 0, result.output
    assert "Created admin account first.admin@example.se" in result.output
    assert PASSWORD not in result.output
    created = account(app, "first.admin@example.se")
    assert created.role == "admin"
    assert created.password_hash.startswith("$argon2id$")
    assert login(app.test_client(), "first.admin@example.se", PASSWORD).status_code == 302
    with app.app_context(), db.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "account_created")
    assert entry.actor is None
    assert entry.subject == "first.admin@example.se"


@pytest.mark.parametrize("role", ["hr", "board"])
def test_create_account_with_another_role(app, runner, monkeypatch, role):
    monkeypatch.setenv("VARNA_ADMIN_PASSWORD", PASSWORD)
    result = runner.invoke(args=["create-admin", f"{role}@example.se", "--role", role])
    assert result.exit_code == 0, result.output
    assert account(app, f"{role}@example.se").role == role


def test_create_admin_prompts_twice_without_echo(app, runner, monkeypatch):
    monkeypatch.delenv("VARNA_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(args=["create-admin", "a@example.se"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password again" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert login(app.test_client(), "a@example.se", PASSWORD).status_code == 302


def test_prompt_explains_the_policy_and_asks_again(app, runner, monkeypatch):
    monkeypatch.delenv("VARNA_ADMIN_PASSWORD", raising=False)
    answers = ["a@example.se", PASSWORD, "something else entirely", PASSWORD, PASSWORD]
    result = runner.invoke(args=["create-admin", "a@example.se"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "The password must not be your e-mail address." in result.output
    assert "the two passwords are not the same" in result.output
    assert account(app, "a@example.se") is not None


def test_prompt_gives_up_after_three_tries(app, runner, monkeypatch):
    monkeypatch.delenv("VARNA_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(args=["create-admin", "a@example.se"], input="short\ny\nz\n")
    assert result.exit_code != 0
    assert "The password must be at least 12 characters long." in result.output
    assert "no account was created" in result.output
    assert account(app, "a@example.se") is None


def test_weak_environment_password_is_refused_clearly(app, runner, monkeypatch):
    monkeypatch.setenv("VARNA_ADMIN_PASSWORD", "short")
    result = runner.invoke(args=["create-admin", "a@example.se"])
    assert result.exit_code != 0
    assert "VARNA_ADMIN_PASSWORD is not acceptable" in result.output
    assert "at least 12 characters" in result.output
    assert account(app, "a@example.se") is None


def test_duplicates_and_bad_addresses_are_refused(app, runner, monkeypatch):
    monkeypatch.setenv("VARNA_ADMIN_PASSWORD", PASSWORD)
    assert runner.invoke(args=["create-admin", "a@example.se"]).exit_code == 0
    result = runner.invoke(args=["create-admin", "A@EXAMPLE.SE"])
    assert result.exit_code != 0
    assert "an account for a@example.se exists already" in result.output
    result = runner.invoke(args=["create-admin", "not-an-address"])
    assert result.exit_code != 0
    assert "Enter an e-mail address" in result.output
    result = runner.invoke(args=["create-admin", "b@example.se", "--role", "root"])
    assert result.exit_code != 0


def test_weak_argon2_settings_in_the_environment_are_refused():
    from portal.config import from_environment

    with pytest.raises(SystemExit, match="ARGON2_MEMORY_COST"):
        from_environment({"VARNA_ARGON2_MEMORY_COST": "1024"})
    with pytest.raises(SystemExit, match="ARGON2_TIME_COST"):
        from_environment({"VARNA_ARGON2_TIME_COST": "1"})
    assert from_environment({"VARNA_ARGON2_MEMORY_COST": "19456"}) == {"ARGON2_MEMORY_COST": 19456}
