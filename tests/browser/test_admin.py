"""The administration in a real browser: keyboard login, the enrolment of a second factor,
and axe audits of the account pages."""

from __future__ import annotations

from playwright.sync_api import expect

from portal import clock, store
from portal.extensions import db
from portal.services import mfa
from tests.browser.conftest import assert_accessible, pass_second_factor
from tests.factories import DEFAULT_PASSWORD, make_user, totp_code


def admin_account(portal, email: str):
    with portal.app.app_context(), db.connection_context():
        existing = store.get_user_by_email(email)
    return existing or make_user(portal.app, email, "admin")


def log_in(page, portal, email: str) -> None:
    page.goto(portal.url("/admin/login"))
    page.fill("#email", email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.keyboard.press("Enter")
    pass_second_factor(page, portal, email)
    expect(page.locator("h1")).to_have_text("Översikt")


def test_keyboard_login_with_an_error_first(portal, phone):
    admin_account(portal, "keyboard@example.se")
    phone.goto(portal.url("/admin/"))
    expect(phone).to_have_url(portal.url("/admin/login?next=/admin/"))
    assert_accessible(phone)
    phone.keyboard.press("Tab")  # skip link
    phone.keyboard.press("Tab")  # brand
    phone.keyboard.press("Tab")  # language
    phone.keyboard.press("Tab")
    phone.keyboard.type("keyboard@example.se")
    phone.keyboard.press("Tab")
    phone.keyboard.type("not the right password")
    phone.keyboard.press("Enter")
    expect(phone.locator(".error-summary")).to_contain_text(
        "E-postadressen eller lösenordet är fel"
    )
    assert_accessible(phone)
    phone.fill("#password", DEFAULT_PASSWORD)
    phone.keyboard.press("Enter")
    # An administrator's second factor: the code page, by keyboard too.
    expect(phone).to_have_url(portal.url("/admin/login/code"))
    assert_accessible(phone)
    phone.locator("#code").focus()
    phone.keyboard.type(totp_code(portal.app, "keyboard@example.se"))
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(portal.url("/admin/"))
    assert_accessible(phone)


def test_account_pages_are_accessible_in_both_languages(portal, desktop):
    admin_account(portal, "axe@example.se")
    log_in(desktop, portal, "axe@example.se")
    desktop.goto(portal.url("/admin/users/new"))
    assert_accessible(desktop)
    create = desktop.get_by_role("button", name="Skapa kontot")
    create.click()  # empty form: errors beside the fields
    expect(desktop.locator("#email-error")).to_be_visible()
    assert_accessible(desktop)
    desktop.fill("#email", "new.person@example.se")
    desktop.select_option("#role", "hr")
    create.click()
    expect(desktop.locator(".secret")).to_be_visible()
    assert_accessible(desktop)
    for path in ("/admin/users", "/admin/audit", "/admin/password", "/admin/users?lang=en"):
        desktop.goto(portal.url(path))
        assert_accessible(desktop)
    desktop.get_by_role("link", name="new.person@example.se").click()
    expect(desktop.locator("h1")).to_have_text("new.person@example.se")
    assert_accessible(desktop)
    desktop.get_by_role("button", name="Log out").click()
    expect(desktop).to_have_url(portal.url("/admin/login"))
    expect(desktop.locator(".flash")).to_have_text("You have logged out.")
    assert_accessible(desktop)
    desktop.goto(portal.url("/admin/users"))
    expect(desktop).to_have_url(portal.url("/admin/login?next=/admin/users"))


def test_enrolling_a_second_factor_in_the_browser(portal, desktop):
    make_user(portal.app, "enrol.admin@example.se", "admin", mfa=False)
    desktop.goto(portal.url("/admin/login"))
    desktop.locator("#email").fill("enrol.admin@example.se")
    desktop.locator("#password").fill(DEFAULT_PASSWORD)
    desktop.locator("#password").press("Enter")
    expect(desktop).to_have_url(portal.url("/admin/login/enrol"))
    expect(desktop.locator(".qr svg")).to_be_visible()
    assert_accessible(desktop)
    desktop.locator("#code").fill("000000")
    desktop.locator("#code").press("Enter")
    expect(desktop.locator(".error-summary")).to_be_visible()
    assert_accessible(desktop)
    # The key as the app would read it from the QR code.
    secret = desktop.locator("p.secret").inner_text().replace(" ", "")
    with portal.app.app_context():
        code = mfa.code_at(secret, clock.utcnow())
    desktop.locator("#code").fill(code)
    desktop.locator("#code").press("Enter")
    expect(desktop.locator("h1")).to_have_text("Dina reservkoder")
    expect(desktop.locator(".recovery-codes li")).to_have_count(10)
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Jag har sparat koderna: fortsätt").click()
    expect(desktop).to_have_url(portal.url("/admin/"))
    desktop.goto(portal.url("/admin/sessions?lang=en"))
    expect(desktop.locator("#mfa-heading")).to_have_text("Second factor")
    assert_accessible(desktop)
