"""Sign-in in a real browser: single sign-on through a real OpenID provider, and the
enrolment of a second factor, with axe audits of every page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.services import mfa
from tests.browser.conftest import assert_accessible, free_port, running_portal
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture(scope="module")
def sso_portal(tmp_path_factory, portal):
    """A portal with single sign-on configured against tests/oidc/provider.js.

    Its set-up app takes over the process's database handle (one per process);
    the main portal's is given back afterwards.
    """
    from portal.extensions import db
    from portal.store import open_database
    from tests.oidc.fixture import CLIENT_ID, start_provider

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = start_provider([f"{base}/admin/sso/callback"])
    try:
        with running_portal(
            tmp_path_factory.mktemp("sso-instance"),
            port,
            VARNA_BASE_URL=base,
            VARNA_SSO_ISSUER=provider.issuer,
            VARNA_SSO_CLIENT_ID=CLIENT_ID,
            VARNA_SSO_CLIENT_SECRET=provider.client_secret,
            VARNA_SSO_SCOPES="openid email groups",
            VARNA_SSO_ROLE_MAP="admin=varna-admins;hr=varna-hr;board=varna-board",
        ) as running:
            yield running
    finally:
        provider.stop()
        db.initialize(open_database(portal.app.config["DATABASE_URL"]))


def sign_in_at_provider(page, login: str) -> None:
    page.locator("#login").fill(login)
    page.locator("#password").fill(f"{login}-password")
    page.get_by_role("button", name="Sign in").click()


def test_single_sign_on_in_the_browser(sso_portal, desktop):
    desktop.goto(sso_portal.url("/admin/login?lang=en"))
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Log in with your organisation's account").click()
    expect(desktop.locator("h1")).to_have_text("Test identity provider")
    sign_in_at_provider(desktop, "hanna")
    expect(desktop).to_have_url(sso_portal.url("/admin/"))
    expect(desktop.locator("h1")).to_have_text("Overview")
    desktop.goto(sso_portal.url("/admin/sessions"))
    expect(desktop.locator("table")).to_contain_text("Single sign-on")
    assert_accessible(desktop)
    desktop.goto(sso_portal.url("/admin/sessions?lang=sv"))
    assert_accessible(desktop)


def test_single_sign_on_without_access_explains_why(sso_portal, desktop):
    desktop.goto(sso_portal.url("/admin/login?lang=sv"))
    desktop.get_by_role("link", name="Logga in med din organisations konto").click()
    sign_in_at_provider(desktop, "nils")
    expect(desktop.locator(".error-summary")).to_contain_text("ingen behörighet i Värna")
    assert_accessible(desktop)


def test_enrolling_a_second_factor_in_the_browser(sso_portal, desktop):
    portal = sso_portal  # password login stays on beside single sign-on
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
