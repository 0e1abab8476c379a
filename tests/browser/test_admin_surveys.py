"""HR runs a survey in a real browser: keyboard-usable forms, accessible pages, codes once."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal import passwords, store
from portal.extensions import db
from tests.browser.conftest import assert_accessible

PASSWORD = "a long and unguessable passphrase"


def hr_login(portal, page, email: str) -> None:
    with portal.app.app_context(), db.connection_context():
        store.create_user(email, passwords.hash_password(PASSWORD), "hr", dt.datetime(2026, 1, 1))
    page.goto(portal.url("/admin/login?lang=en"))
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("h1")).to_have_text("Overview")


def test_hr_creates_a_survey_with_codes_and_sees_them_once(portal, desktop):
    hr_login(portal, desktop, "hr.codes@example.se")
    desktop.get_by_role("link", name="Surveys").first.click()
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Create a survey").click()
    desktop.get_by_label("Minimum group size (k)").fill("2")
    desktop.get_by_role("button", name="Create the draft").click()
    expect(desktop.locator("#error-summary")).to_be_visible()
    expect(desktop.locator("#title_sv-error")).to_be_visible()
    expect(desktop.locator("#min_group-error")).to_be_visible()
    assert_accessible(desktop)
    desktop.get_by_label("Title (Swedish)").fill("Hot och våld 2026")
    desktop.get_by_label("Minimum group size (k)").fill("5")
    desktop.get_by_label("A single-use code for each person").check()
    desktop.get_by_role("button", name="Create the draft").click()
    expect(desktop.locator("h1")).to_contain_text("Edit the draft")
    assert_accessible(desktop)
    desktop.get_by_role("button", name="Save the draft").click()
    expect(desktop.locator("h1")).to_have_text("Hot och våld 2026")
    assert_accessible(desktop)
    desktop.get_by_label("Number of codes").fill("3")
    desktop.get_by_role("button", name="Generate codes").click()
    expect(
        desktop.get_by_role("heading", name="The codes are shown only this once")
    ).to_be_visible()
    codes = desktop.locator(".slip-code").all_inner_texts()
    assert len(codes) == 3
    assert all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", c) for c in codes)
    assert_accessible(desktop)
    # Printing shows the slips without the navigation.
    desktop.emulate_media(media="print")
    expect(desktop.locator("nav.admin-nav")).to_be_hidden()
    expect(desktop.locator(".slip").first).to_be_visible()
    desktop.emulate_media(media="screen")
    assert_accessible(desktop, media="print")
    desktop.get_by_role("link", name="Back to the survey").click()
    expect(desktop.locator("body")).not_to_contain_text(codes[0])


def test_link_survey_detail_poster_and_preview_are_accessible(portal, desktop):
    hr_login(portal, desktop, "hr.link@example.se")
    from surveys.definition import load_template

    with portal.app.app_context(), db.connection_context():
        survey = store.create_survey(
            load_template("staff_threats"),
            title_sv="Trygg 2026",
            title_en="Safe 2026",
            access="link",
        )
    for path in ("", "/poster", "/preview", "/close"):
        desktop.goto(portal.url(f"/admin/surveys/{survey.slug}{path}?lang=en"))
        assert_accessible(desktop)
    desktop.goto(portal.url(f"/admin/surveys/{survey.slug}"))
    expect(desktop.locator(".qr svg")).to_be_visible()
    desktop.get_by_role("button", name="Open the survey now").click()
    expect(desktop.locator(".flash")).to_contain_text("The survey is open")
