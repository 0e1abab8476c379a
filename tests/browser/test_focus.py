"""Keyboard focus is always visible: every stop of the Tab order has a clear outline."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import store
from portal.extensions import db
from portal.services import passwords
from tests.browser.test_respondent import open_survey

PASSWORD = "a long and unguessable passphrase"
# The first stops of the Tab order are enough to meet every kind of control on a page:
# skip link, header links, language switch, form fields, buttons.
STOPS = 25

# The focused element's outline (or ring of box-shadow), as the browser draws it.
FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : ""),
    outline: style.outlineStyle !== "none" ? parseFloat(style.outlineWidth) : 0,
    shadow: style.boxShadow !== "none",
    visible: el.getClientRects().length > 0,
  };
}"""


def assert_focus_visible(page, stops: int = STOPS) -> None:
    """Tab through the page: each focused element shows a ring of at least 2 px."""
    seen = 0
    for _ in range(stops):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:
            break
        seen += 1
        assert ring["visible"], f"{page.url}: focus on an invisible element {ring['tag']}"
        assert ring["outline"] >= 2 or ring["shadow"], f"{page.url}: no focus ring on {ring}"
    assert seen >= 3, f"{page.url}: only {seen} stops in the Tab order"


@pytest.fixture
def board_user(portal):
    email = "focus.board@example.se"
    with portal.app.app_context(), db.connection_context():
        if store.get_user_by_email(email) is None:
            store.create_user(
                email, passwords.hash_password(PASSWORD), "board", dt.datetime(2026, 1, 1)
            )
    return email


def test_focus_is_visible_on_the_survey_form(portal, phone):
    survey, _ = open_survey(portal)
    phone.goto(portal.url(f"/s/{survey.slug}"))
    assert_focus_visible(phone, stops=40)


def test_focus_is_visible_on_the_information_pages(portal, desktop):
    for path in ("/", "/privacy"):
        desktop.goto(portal.url(path))
        assert_focus_visible(desktop)


def test_focus_is_visible_on_the_login_and_the_logged_in_pages(portal, desktop, board_user):
    desktop.goto(portal.url("/admin/login"))
    assert_focus_visible(desktop)
    desktop.locator("#email").fill(board_user)
    desktop.locator("#password").fill(PASSWORD)
    desktop.locator("#password").press("Enter")
    desktop.wait_for_url("**/admin/")
    desktop.goto(portal.url("/board/"))
    assert_focus_visible(desktop)
