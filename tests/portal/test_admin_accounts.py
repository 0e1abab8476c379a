"""Account management, own password changes, the password policy and the audit log."""

from __future__ import annotations

import re

import pytest

from portal import store
from portal.extensions import db
from portal.services import audit, passwords
from portal.store.models import AuditEntry
from tests.factories import (
    DEFAULT_PASSWORD,
    csrf_token,
    install_clock,
    logged_in_as,
    login,
    make_user,
    post_form,
)

NEW_PASSWORD = "a brand new passphrase"


def entries(app) -> list[tuple[str, str, str]]:
    """(action, actor e-mail, subject) of every audit entry, oldest first."""
    with app.app_context(), db.connection_context():
        query = AuditEntry.select().order_by(AuditEntry.id)
        return [(e.action, e.actor_email, e.subject) for e in query]


def user(app, user_id):
    with app.app_context(), db.connection_context():
        return store.get_user(user_id)


def generated_password(html: str) -> str:
    match = re.search(r'<p class="secret" translate="no">([^<]+)</p>', html)
    assert match, "no generated password on the page"
    return match.group(1)


def test_admin_creates_an_account_with_a_generated_password_shown_once(app, client):
    logged_in_as(app, client, "admin")
    response = post_form(
        client,
        "/admin/users/new",
        {"email": "Kim.HR@Example.se", "role": "hr", "password_choice": "generate"},
    )
    assert response.status_code == 200
    password = generated_password(response.get_data(as_text=True))
    assert len(password) >= passwords.MIN_LENGTH
    created = store_user_by_email(app, "kim.hr@example.se")
    assert created.role == "hr"
    assert password not in created.password_hash
    # Never shown again: not on the account page nor the list.
    assert password not in client.get(f"/admin/users/{created.id}").get_data(as_text=True)
    assert password not in client.get("/admin/users").get_data(as_text=True)
    newcomer = app.test_client()
    assert login(newcomer, "kim.hr@example.se", password).status_code == 302
    assert ("account_created", "admin@example.se", "kim.hr@example.se") in entries(app)


def store_user_by_email(app, email):
    with app.app_context(), db.connection_context():
        return store.get_user_by_email(email)


def test_admin_creates_an_account_with_a_chosen_password(app, client):
    logged_in_as(app, client, "admin")
    data = {
        "email": "board@example.se",
        "role": "board",
        "password_choice": "set",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 302
    assert login(app.test_client(), "board@example.se", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("lang", "password", "message"),
    [
        ("sv", "short", "Lösenordet måste vara minst 12 tecken långt."),
        ("en", "short", "The password must be at least 12 characters long."),
        ("sv", "new@example.se", "Lösenordet får inte vara din e-postadress."),
        ("en", "NEW@example.se", "The password must not be your e-mail address."),
        ("sv", "aaaaaaaaaaaaaaaa", "Lösenordet får inte bestå av bara några få upprepade tecken."),
        ("en", "x" * 300, "The password must be at most 256 characters long."),
    ],
)
def test_password_policy_messages_beside_the_field(app, client, lang, password, message):
    logged_in_as(app, client, "admin")
    client.get(f"/admin/?lang={lang}")
    data = {
        "email": "new@example.se",
        "role": "hr",
        "password_choice": "set",
        "new_password": password,
        "confirm_password": password,
    }
    response = post_form(client, "/admin/users/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    field_error = re.search(r'<p class="error-message" id="new_password-error">([^<]*)</p>', html)
    assert field_error
    assert message in field_error.group(1).replace("&#39;", "'")
    assert 'aria-invalid="true"' in html
    assert store_user_by_email(app, "new@example.se") is None


def test_create_account_refuses_duplicates_and_bad_addresses(app, client):
    logged_in_as(app, client, "admin")
    client.get("/admin/?lang=en")
    data = {"email": "ADMIN@example.se", "role": "hr", "password_choice": "generate"}
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 409
    assert "An account with this e-mail address exists already." in response.get_data(as_text=True)
    data["email"] = "not an address"
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 400
    assert "Enter an e-mail address, like name@example.se." in response.get_data(as_text=True)
    data = {**data, "email": "x@example.se", "role": "superuser"}
    assert post_form(client, "/admin/users/new", data).status_code == 400


def test_passwords_that_differ_are_refused(app, client):
    logged_in_as(app, client, "admin")
    data = {
        "email": "x@example.se",
        "role": "hr",
        "password_choice": "set",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD + "!",
    }
    response = post_form(client, "/admin/users/new", data)
    assert response.status_code == 400
    assert "De två lösenorden är inte likadana." in response.get_data(as_text=True)


def test_disable_and_enable_an_account(app, client):
    logged_in_as(app, client, "admin")
    hr = make_user(app, "hr@example.se", "hr")
    hr_client = app.test_client()
    login(hr_client, "hr@example.se")
    page = f"/admin/users/{hr.id}"
    response = post_form(client, f"{page}/status", {"action": "disable"}, page=page)
    assert response.status_code == 302
    assert user(app, hr.id).disabled
    assert hr_client.get("/admin/").status_code == 302
    assert login(app.test_client(), "hr@example.se").status_code == 401
    post_form(client, f"{page}/status", {"action": "enable"}, page=page)
    assert not user(app, hr.id).disabled
    assert login(app.test_client(), "hr@example.se").status_code == 302
    actions = [a for a, _, subject in entries(app) if subject == "hr@example.se"]
    assert "account_disabled" in actions
    assert "account_enabled" in actions


def test_change_role_ends_the_accounts_sessions(app, client):
    logged_in_as(app, client, "admin")
    hr = make_user(app, "hr@example.se", "hr")
    hr_client = app.test_client()
    login(hr_client, "hr@example.se")
    page = f"/admin/users/{hr.id}"
    assert post_form(client, f"{page}/role", {"role": "board"}, page=page).status_code == 302
    assert user(app, hr.id).role == "board"
    assert hr_client.get("/admin/").status_code == 302
    assert ("role_changed", "admin@example.se", "hr@example.se") in entries(app)
    assert post_form(client, f"{page}/role", {"role": "king"}, page=page).status_code == 400


def test_the_last_active_admin_cannot_disable_or_demote_themselves(app, client):
    admin = logged_in_as(app, client, "admin")
    page = f"/admin/users/{admin.id}"
    client.get("/admin/?lang=en")
    response = post_form(client, f"{page}/role", {"role": "hr"}, page=page)
    assert response.status_code == 409
    assert "last active administrator" in response.get_data(as_text=True)
    response = post_form(client, f"{page}/status", {"action": "disable"}, page=page)
    assert response.status_code == 409
    assert "last active administrator" in response.get_data(as_text=True)
    assert user(app, admin.id).role == "admin"
    assert not user(app, admin.id).disabled
    # A disabled second admin does not count; an active one does.
    second = make_user(app, "second@example.se", "admin")
    with app.app_context(), db.connection_context():
        store.set_user_disabled(second.id, True)
    assert post_form(client, f"{page}/role", {"role": "hr"}, page=page).status_code == 409
    with app.app_context(), db.connection_context():
        store.set_user_disabled(second.id, False)
    assert post_form(client, f"{page}/role", {"role": "hr"}, page=page).status_code == 302
    # Demoted: this session now has the hr role and no longer sees accounts.
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/users").status_code == 403


def test_reset_password_shows_a_new_one_once_and_ends_sessions(app, client):
    logged_in_as(app, client, "admin")
    hr = make_user(app, "hr@example.se", "hr")
    hr_client = app.test_client()
    login(hr_client, "hr@example.se")
    page = f"/admin/users/{hr.id}"
    response = post_form(client, f"{page}/password", {"password_choice": "generate"}, page=page)
    password = generated_password(response.get_data(as_text=True))
    assert hr_client.get("/admin/").status_code == 302
    assert login(app.test_client(), "hr@example.se").status_code == 401
    assert login(app.test_client(), "hr@example.se", password).status_code == 302
    assert ("password_reset", "admin@example.se", "hr@example.se") in entries(app)


def test_reset_password_to_a_chosen_one_obeys_the_policy(app, client):
    logged_in_as(app, client, "admin")
    hr = make_user(app, "hr@example.se", "hr")
    page = f"/admin/users/{hr.id}"
    data = {"password_choice": "set", "new_password": "short", "confirm_password": "short"}
    response = post_form(client, f"{page}/password", data, page=page)
    assert response.status_code == 400
    assert "minst 12 tecken" in response.get_data(as_text=True)
    data = {
        "password_choice": "set",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    assert post_form(client, f"{page}/password", data, page=page).status_code == 302
    assert login(app.test_client(), "hr@example.se", NEW_PASSWORD).status_code == 302


def test_unknown_account_pages_are_404(app, client):
    logged_in_as(app, client, "admin")
    assert client.get("/admin/users/999").status_code == 404
    assert client.get("/admin/users/99999999999999999999999").status_code == 404
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    response = client.post("/admin/users/999/role", data={"csrf_token": token, "role": "hr"})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["admin", "hr", "board"])
def test_every_user_changes_their_own_password_and_other_sessions_end(app, client, role):
    me = logged_in_as(app, client, role)
    elsewhere = app.test_client()
    login(elsewhere, me.email)
    data = {
        "current_password": DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = post_form(client, "/admin/password", data)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200  # this session continues
    assert elsewhere.get("/admin/").status_code == 302  # the other one ended
    assert login(app.test_client(), me.email).status_code == 401
    assert login(app.test_client(), me.email, NEW_PASSWORD).status_code == 302
    assert ("password_changed", me.email, me.email) in entries(app)


def test_own_password_change_needs_the_current_password(app, client):
    me = logged_in_as(app, client, "hr")
    data = {
        "current_password": "this is not it at all",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    response = post_form(client, "/admin/password", data)
    assert response.status_code == 400
    assert "Ditt nuvarande lösenord är fel." in response.get_data(as_text=True)
    assert user(app, me.id).password_hash == me.password_hash


# -- audit log -------------------------------------------------------------------------------


def test_audit_page_lists_newest_first_filters_and_paginates(app, client):
    clock = install_clock(app)
    logged_in_as(app, client, "admin")
    with app.app_context(), db.connection_context():
        for n in range(60):
            clock.advance(seconds=10)
            audit.record("survey_opened", actor=None, subject=f"Survey {n:02d}")
    html = client.get("/admin/audit?action=survey_opened&lang=en").get_data(as_text=True)
    assert "Number of entries: 60" in html
    assert html.index("Survey 59") < html.index("Survey 58")
    assert "Survey 09" not in html
    assert "Page 1 of 2" in html
    page2 = client.get("/admin/audit?action=survey_opened&page=2&lang=en").get_data(as_text=True)
    assert "Survey 09" in page2
    assert "Survey 59" not in page2
    everything = client.get("/admin/audit?lang=en").get_data(as_text=True)
    assert "Number of entries: 61" in everything  # and the login
    assert client.get("/admin/audit?action=nonsense").status_code == 400


def test_audit_page_shows_who_did_what(app, client):
    logged_in_as(app, client, "admin")
    post_form(
        client,
        "/admin/users/new",
        {"email": "kim@example.se", "role": "hr", "password_choice": "generate"},
    )
    html = client.get("/admin/audit").get_data(as_text=True)
    row = re.search(
        r"<tr>\s*<td>[^<]+</td>\s*<td>admin@example.se</td>\s*<td>Konto skapat</td>"
        r"\s*<td>kim@example.se</td>",
        html,
    )
    assert row


def test_audit_details_are_shown_in_the_readers_language(app, client):
    logged_in_as(app, client, "admin")
    hr = make_user(app, "hr@example.se", "hr")
    page = f"/admin/users/{hr.id}"
    post_form(client, f"{page}/role", {"role": "admin"}, page=page)
    with app.app_context(), db.connection_context():
        audit.record(
            "survey_closed", actor=None, subject="Plain", detail="42 responses, typed as plain text"
        )
        audit.record(
            "survey_closed", actor=None, subject="Odd", detail="%(missing)s", params={"x": 1}
        )
    swedish = client.get("/admin/audit").get_data(as_text=True)
    assert "Från HR till Administratör" in swedish
    assert "42 responses, typed as plain text" in swedish
    assert "%(missing)s" in swedish  # a broken placeholder shows as stored, never a 500
    english = client.get("/admin/audit?lang=en").get_data(as_text=True)
    assert "From HR to Administrator" in english


def test_every_action_has_a_translated_label():
    assert {
        "login",
        "login_failed",
        "logout",
        "account_created",
        "account_disabled",
        "account_enabled",
        "role_changed",
        "password_changed",
        "password_reset",
        "survey_created",
        "survey_edited",
        "survey_opened",
        "survey_closed",
        "survey_published",
        "survey_archived",
        "codes_generated",
        "codes_revoked",
        "responses_purged",
        "comments_selected",
    } <= set(audit.ACTIONS)


def test_record_names_the_acting_account_and_refuses_unknown_actions(app, client):
    # The actor is passed explicitly: the audit service does not reach up into
    # the web layer for the logged-in user.
    me = logged_in_as(app, client, "hr")
    with app.app_context(), db.connection_context():
        audit.record("survey_created", actor=store.get_user(me.id), subject="Hot och våld 2026")
        with pytest.raises(audit.UnknownAction):
            audit.record("survey_deleted_quietly", actor=None)
    assert ("survey_created", me.email, "Hot och våld 2026") in entries(app)


def test_cli_audit_entries_have_no_actor(app):
    with app.app_context(), db.connection_context():
        audit.record("survey_closed", actor=None, subject="Exit 2026")
    assert ("survey_closed", "", "Exit 2026") in entries(app)


def test_an_account_page_has_a_plain_title_and_each_section_once(app, client):
    """The page title is the address only; the second-factor section appears once."""
    logged_in_as(app, client, "admin")
    hr = make_user(app, "hr@example.se", "hr")
    html = client.get(f"/admin/users/{hr.id}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title
    assert "hr@example.se" in title
    assert html.count('id="mfa-heading"') == 1
