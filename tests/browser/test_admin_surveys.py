"""HR runs a survey in a real browser: keyboard-usable forms, accessible pages, codes once."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal import store
from portal.extensions import db
from portal.services import passwords
from tests.browser.conftest import assert_accessible
from tests.factories import complete_answers, open_form, submit

PASSWORD = "a long and unguessable passphrase"


def hr_login(portal, page, email: str, audit: bool = False) -> None:
    """Create an HR account and log in, in English (``audit``: axe on the login page)."""
    with portal.app.app_context(), db.connection_context():
        store.create_user(email, passwords.hash_password(PASSWORD), "hr", dt.datetime(2026, 1, 1))
    page.goto(portal.url("/admin/login?lang=en"))
    if audit:
        assert_accessible(page)
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("h1")).to_have_text("Overview")


def answer_with_code(portal, slug: str, code: str) -> None:
    """A staff member answers with ``code`` (through the portal's own form handling)."""
    client = portal.app.test_client()
    hidden = open_form(client, slug, code=code)
    with portal.app.app_context(), db.connection_context():
        definition = store.get_survey(slug).definition()
    response = submit(client, slug, complete_answers(definition), hidden)
    assert response.status_code == 303, response.get_data(as_text=True)


def test_hr_runs_a_survey_with_codes_from_draft_to_closed(portal, desktop):
    """Create, generate codes (shown once), open, follow the responses, close; axe on every page."""
    hr_login(portal, desktop, "hr.codes@example.se", audit=True)
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Surveys").first.click()
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Create a survey").click()
    expect(desktop.locator("h1")).to_have_text("Create a survey")
    assert_accessible(desktop)
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
    counts = desktop.locator("dl.code-counts")
    expect(counts).to_contain_text("Codes issued3")
    expect(desktop.get_by_role("link", name="Revoke all unused codes")).to_be_visible()
    assert_accessible(desktop)

    # The survey key first: without it there is no button to open the survey.
    responses = desktop.locator("section[aria-labelledby=responses-title]")
    expect(responses).to_contain_text("No one can answer before the survey opens.")
    expect(desktop.get_by_role("button", name="Open the survey now")).to_have_count(0)
    desktop.get_by_role("button", name="Make the survey key").click()
    expect(desktop.get_by_role("heading", name="The survey key")).to_be_visible()
    key = desktop.locator("#survey-key-text").inner_text().strip()
    assert re.fullmatch(r"(?:[A-Z2-7]{4}-){12}[A-Z2-7]{4}", key)
    assert_accessible(desktop)
    desktop.emulate_media(media="print")  # the key prints without the navigation
    expect(desktop.locator("nav.admin-nav")).to_be_hidden()
    expect(desktop.locator("#survey-key-text")).to_be_visible()
    desktop.emulate_media(media="screen")
    desktop.get_by_role("link", name="I have saved the key").click()
    expect(desktop.locator("body")).not_to_contain_text(key)

    # Open: the lifecycle button on the survey page.
    desktop.get_by_role("button", name="Open the survey now").click()
    expect(desktop.locator(".flash")).to_contain_text("The survey is open")
    expect(desktop.locator(".survey-status")).to_contain_text("Open")
    expect(responses.locator(".response-total")).to_have_text("Responses so far: 0")
    assert_accessible(desktop)

    # While it is open HR follows the total only.
    answer_with_code(portal, slug_of(desktop), codes[1])
    desktop.reload()
    expect(responses.locator(".response-total")).to_have_text("Responses so far: 1")
    expect(responses).to_contain_text("only the total is shown")
    expect(responses.locator("table")).to_have_count(0)
    expect(counts).to_contain_text("Used1")
    expect(counts).to_contain_text("Unused2")
    assert_accessible(desktop)

    # Close, after the confirmation page.
    desktop.get_by_role("link", name="Close the survey now").click()
    expect(desktop.locator("h1")).to_have_text("Close the survey?")
    expect(desktop.locator("main")).to_contain_text("Responses received: 1.")
    assert_accessible(desktop)
    desktop.get_by_label("Survey key").fill(key.lower().replace("-", " "))
    desktop.get_by_role("button", name="Yes, close the survey").click()
    expect(desktop.locator(".flash")).to_contain_text("The survey is closed.")
    expect(desktop.locator("main")).not_to_contain_text("The answers are sealed")
    expect(desktop.locator(".survey-status")).to_contain_text("Closed")
    expect(responses.locator(".response-total")).to_have_text("Responses: 1")
    expect(desktop.locator("main")).to_contain_text("The codes were deleted when the survey closed")
    expect(desktop.get_by_role("button", name="Open the survey now")).to_have_count(0)
    assert_accessible(desktop)


def slug_of(page) -> str:
    """The survey's slug from the address of one of its administration pages."""
    return re.search(r"/admin/surveys/([\w-]+)", page.url).group(1)


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
    desktop.get_by_role("button", name="Make the survey key").click()
    desktop.get_by_role("link", name="I have saved the key").click()
    desktop.get_by_role("button", name="Open the survey now").click()
    expect(desktop.locator(".flash")).to_contain_text("The survey is open")
    expect(desktop.get_by_role("link", name="Close the survey now")).to_be_visible()
    assert_accessible(desktop)
