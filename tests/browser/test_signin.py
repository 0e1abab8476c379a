"""Single sign-on in a real browser, through a real OpenID provider, with axe audits of
every page on the way. (The enrolment of a second factor is in test_admin.py: it needs no
provider, so it runs where Node.js is missing too.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, free_port, running_portal


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
