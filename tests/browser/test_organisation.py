"""The organisation's pages in a real browser: axe audits of the tree, its import, the
organisation's own pages, the accessibility statement, the privacy page and a district's
slice of a city-wide report (issue 22)."""

from __future__ import annotations

from playwright.sync_api import expect

from portal import store
from portal.extensions import db
from tests.browser.conftest import assert_accessible
from tests.browser.test_admin import admin_account, log_in
from tests.factories import DEFAULT_PASSWORD, complete_answers, open_form_for, submit
from tests.portal.board_fixtures import CURRENT_DAY, publish


def _tree(app) -> dict[str, int]:
    with app.app_context(), db.connection_context(), store.write_transaction():
        root = store.ensure_root_node()
        north = store.create_node(root, "district", "Axe Norr", "Axe North")
        n1 = store.create_node(north, "unit", "Axe enhet 1", "")
        n2 = store.create_node(north, "unit", "Axe enhet 2", "")
    return {"root": root.id, "north": north.id, "n1": n1.id, "n2": n2.id}


def test_public_organisation_pages_are_accessible_in_both_languages(portal, phone):
    for path in ("/accessibility", "/privacy"):
        for lang in ("sv", "en"):
            phone.goto(portal.url(f"{path}?lang={lang}"))
            assert_accessible(phone)
    phone.goto(portal.url("/?lang=sv"))
    phone.get_by_role("link", name="Tillgänglighetsredogörelse").click()
    expect(phone.locator("h1")).to_contain_text("Tillgänglighet för")


def test_organisation_admin_pages_are_accessible(portal, desktop):
    tree = _tree(portal.app)
    admin_account(portal, "axe.org@example.se")
    log_in(desktop, portal, "axe.org@example.se")
    desktop.goto(portal.url("/admin/organisation"))
    assert_accessible(desktop)
    desktop.get_by_role("button", name="Lägg till").click()  # empty: errors beside fields
    expect(desktop.locator("#name_sv-error")).to_be_visible()
    assert_accessible(desktop)
    desktop.goto(portal.url(f"/admin/organisation/nodes/{tree['north']}"))
    assert_accessible(desktop)
    desktop.goto(portal.url("/admin/organisation/import"))
    assert_accessible(desktop)
    desktop.set_input_files(
        "#file",
        files=[{"name": "org.csv", "mimeType": "text/csv", "buffer": b"typ;namn\nteam;X\n"}],
    )
    desktop.get_by_role("button", name="Importera").click()
    expect(desktop.locator(".error-summary")).to_be_visible()
    assert_accessible(desktop)
    desktop.goto(portal.url("/admin/organisation/pages"))
    assert_accessible(desktop)
    desktop.goto(portal.url("/admin/organisation/pages?lang=en"))
    assert_accessible(desktop)


def test_a_districts_slice_of_a_city_report_is_accessible(portal, desktop):
    from portal.services import lifecycle
    from tests.portal.test_org_scope import account_at

    app = portal.app
    tree = _tree(app)
    with app.test_request_context(), db.connection_context():
        settings = lifecycle.SurveySettings(
            title_sv="Axe stad",
            title_en="Axe city",
            access="codes",
            node_id=tree["root"],
            city_wide=True,
        )
        survey = lifecycle.create_survey("staff_threats", settings, actor=None, today=CURRENT_DAY)
        store.set_status(survey, "open")
    client = app.test_client()
    for unit in ("n1", "n2"):
        for _ in range(5):
            hidden = open_form_for(app, client, survey)
            form = complete_answers(
                survey.definition(), district=f"n{tree['north']}", unit=f"n{tree[unit]}"
            )
            assert submit(client, survey.slug, form, hidden).status_code == 303
    publish(app, survey, CURRENT_DAY)
    account_at(app, "axe.board.north@example.se", "board", tree["north"])
    # A board account has no second factor: the password alone logs it in.
    desktop.goto(portal.url("/admin/login"))
    desktop.fill("#email", "axe.board.north@example.se")
    desktop.fill("#password", DEFAULT_PASSWORD)
    desktop.keyboard.press("Enter")
    expect(desktop).to_have_url(portal.url("/admin/"))
    desktop.goto(portal.url(f"/board/{survey.slug}"))
    expect(desktop.locator(".report-facts")).to_contain_text("Axe Norr")
    assert_accessible(desktop)
    assert_accessible(desktop, media="print")
