"""HR shapes a draft in a real browser: questions, a local question, the preview; axe on the
new pages (questions, import, templates)."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal.extensions import db
from portal.services import lifecycle
from tests.browser.conftest import assert_accessible
from tests.browser.test_admin import admin_account, log_in
from tests.browser.test_admin_surveys import hr_login


def _draft(portal) -> str:
    with portal.app.app_context(), db.connection_context():
        survey = lifecycle.create_survey(
            "staff_threats",
            lifecycle.SurveySettings("Hot 2027", "Threats 2027", "link"),
            actor=None,
            today=dt.date.today(),
        )
    return survey.slug


def test_hr_customises_and_previews_a_draft(portal, desktop):
    hr_login(portal, desktop, "hr.customise@example.se")
    slug = _draft(portal)
    desktop.goto(portal.url(f"/admin/surveys/{slug}?lang=en"))
    desktop.get_by_role("link", name="Questions", exact=True).click()
    expect(desktop.locator("h1")).to_contain_text("Questions of the draft")
    assert_accessible(desktop)
    # A question others depend on says why it cannot be left out.
    police = desktop.locator("#q-police")
    police.locator("summary").click()
    expect(police).to_contain_text("Other questions are shown depending on the answer to this one.")
    # Leave an optional question out, rename the incident system, add a local question.
    decision = desktop.locator("#q-decision")
    decision.locator("summary").click()
    decision.get_by_label("Leave this question out of this survey").check()
    desktop.locator("#variable-incident_system-sv").fill("KIA")
    desktop.locator("#variable-incident_system-en").fill("KIA")
    desktop.locator("#local-new-section").select_option("safety")
    desktop.locator("#local-new-type").select_option("single")
    desktop.locator("#local-new-text-sv").fill("Har ni larmknappar?")
    desktop.locator("#local-new-text-en").fill("Do you have alarm buttons?")
    desktop.locator("#local-new-options-sv").fill("Ja\nNej")
    desktop.locator("#local-new-options-en").fill("Yes")
    desktop.get_by_role("button", name="Save the questions").click()
    # The mismatch is shown beside the field, and in the summary.
    expect(desktop.locator("#error-summary")).to_be_visible()
    expect(desktop.locator("#local-local_1-options-error")).to_contain_text("both languages")
    assert_accessible(desktop)
    desktop.locator("#local-local_1-options-en").fill("Yes\nNo")
    desktop.get_by_role("button", name="Save the questions").click()
    expect(desktop.locator(".flash, [role=status]").first).to_contain_text("saved")
    desktop.get_by_role("link", name="Preview as staff see it").first.click()
    expect(desktop.locator("h1")).to_have_text("Threats 2027")
    expect(desktop.get_by_text("Do you have alarm buttons?")).to_be_visible()
    expect(desktop.locator("#q-decision")).to_have_count(0)
    expect(desktop.locator("#q-ia legend")).to_contain_text("KIA")
    assert_accessible(desktop)


def test_import_and_template_pages_are_accessible(portal, desktop):
    hr_login(portal, desktop, "hr.import@example.se")
    slug = _draft(portal)
    desktop.goto(portal.url(f"/admin/surveys/{slug}/edit?lang=en"))
    expect(desktop.locator("#roles")).to_be_visible()
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Import units and roles from a CSV or XLSX file").click()
    expect(desktop.locator("h1")).to_have_text("Import units and roles")
    assert_accessible(desktop)
    desktop.locator("#file").set_input_files(
        files=[{"name": "units.csv", "mimeType": "text/csv", "buffer": b"type,name_sv\nteam,A\n"}]
    )
    desktop.get_by_role("button", name="Import").click()
    expect(desktop.locator("#error-summary")).to_contain_text(re.compile("Line 2"))
    assert_accessible(desktop)
    # An administrator signs in with the second factor main requires (issue 21).
    admin_account(portal, "admin.templates@example.se")
    desktop.context.clear_cookies()
    log_in(desktop, portal, "admin.templates@example.se")
    desktop.goto(portal.url("/admin/?lang=en"))
    desktop.get_by_role("link", name="Templates").first.click()
    expect(desktop.locator("h1")).to_have_text("Templates")
    assert_accessible(desktop)
