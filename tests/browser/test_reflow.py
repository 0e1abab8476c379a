"""Every page reflows to a 320 px wide screen (WCAG 1.4.10): no page-wide sideways scrolling.

A wide table may scroll inside its own region; the page itself must not become
wider than the screen, or every line of text would have to be scrolled to read.
"""

from __future__ import annotations

import pytest

from portal import store
from portal.extensions import db
from portal.store.models import Survey
from tests.browser.conftest import assert_accessible, new_page, pass_second_factor
from tests.factories import make_survey, make_user, private_key
from tests.portal.board_fixtures import answer, current_survey

PASSWORD = "a long and unguessable passphrase"
NARROW = {"width": 320, "height": 640}

# The width of the page's content against the screen's, and what sticks out, if anything.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width || e.scrollWidth > e.clientWidth + 1)
    .filter(e => !e.closest('.table-scroll, .report-data'))
    .slice(0, 5)
    .map(e => e.tagName + (e.className ? '.' + e.className : '') + ': '
              + (e.textContent || '').trim().slice(0, 40));
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


@pytest.fixture(scope="module")
def surveys(portal):
    """A published survey, a closed one, open ones (link and codes) and a draft; an admin."""
    app = portal.app
    published = current_survey(app)
    closed, _ = make_survey(app)
    answer(app, closed, 6)
    with app.app_context(), db.connection_context():
        store.set_status(closed, "closed", private_key(closed))
    sealed, _ = make_survey(app)
    answer(app, sealed, 2)
    with app.app_context(), db.connection_context():
        store.set_status(sealed, "closed")  # without its key: the answers wait sealed
    opened, _ = make_survey(app)
    coded, _ = make_survey(app, access="codes", codes=3)
    draft, _ = make_survey(app, status="draft")
    make_user(app, "reflow.admin@example.se", "admin", password=PASSWORD)
    with app.app_context(), db.connection_context():
        users = [u.id for u in store.list_users()]
        published = Survey.get_by_id(published.id)
    return {
        "published": published.slug,
        "closed": closed.slug,
        "sealed": sealed.slug,
        "open": opened.slug,
        "codes": coded.slug,
        "draft": draft.slug,
        "user": users[0],
    }


@pytest.fixture
def narrow(browser):
    with new_page(browser, viewport=NARROW, is_mobile=True, has_touch=True) as page:
        yield page


def pages(s: dict) -> list[str]:
    return [
        "/",
        "/privacy",
        "/accessibility",
        f"/s/{s['open']}",
        f"/s/{s['codes']}",
        "/admin/",
        "/admin/surveys",
        "/admin/surveys?archived=1",
        "/admin/surveys/new",
        f"/admin/surveys/{s['draft']}",
        f"/admin/surveys/{s['draft']}/edit",
        f"/admin/surveys/{s['draft']}/preview",
        f"/admin/surveys/{s['open']}",
        f"/admin/surveys/{s['open']}/close",
        f"/admin/surveys/{s['open']}/poster",
        f"/admin/surveys/{s['codes']}",
        f"/admin/surveys/{s['codes']}/revoke",
        f"/admin/surveys/{s['closed']}",
        f"/admin/surveys/{s['closed']}/results",
        f"/admin/surveys/{s['closed']}/comments",
        f"/admin/surveys/{s['closed']}/publish",
        f"/admin/surveys/{s['sealed']}",
        f"/admin/surveys/{s['sealed']}/purge",
        f"/admin/surveys/{s['published']}",
        f"/admin/surveys/{s['published']}/purge",
        f"/admin/surveys/{s['published']}/archive",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{s['user']}",
        "/admin/audit",
        "/admin/password",
        "/admin/organisation",
        "/admin/organisation/import",
        "/admin/organisation/pages",
        "/board/",
        f"/board/{s['published']}",
        f"/board/{s['published']}?by=role",
        f"/board/{s['published']}?by=unit&lang=en",
    ]


def test_every_page_fits_a_320_px_screen(portal, narrow, surveys):
    narrow.goto(portal.url("/admin/login"))
    narrow.locator("#email").fill("reflow.admin@example.se")
    narrow.locator("#password").fill(PASSWORD)
    narrow.locator("#password").press("Enter")
    pass_second_factor(narrow, portal, "reflow.admin@example.se")
    narrow.wait_for_url("**/admin/")
    # The pages whose tables scroll in a region of their own: keyboard-usable and labelled.
    # (HR's results preview, every table of every breakdown, takes axe about half a minute.)
    audited = {
        f"/admin/surveys/{surveys['closed']}",
        f"/admin/surveys/{surveys['closed']}/results",
        "/admin/surveys/new",
    }
    too_wide = []
    for path in pages(surveys):
        response = narrow.goto(portal.url(path))
        assert response is not None, path
        assert response.status == 200, path
        if path in audited:
            assert_accessible(narrow)
        found = narrow.evaluate(OVERFLOW)
        if found["scroll"] > found["width"]:
            too_wide.append(f"{path}: {found['scroll']} px > {found['width']} px {found['wide']}")
    # The survey key, shown once in the answer to making it: readable on the phone too.
    narrow.goto(portal.url(f"/admin/surveys/{surveys['draft']}"))
    narrow.locator("#survey-key button").click()
    narrow.wait_for_selector("#survey-key-text")
    assert_accessible(narrow)
    found = narrow.evaluate(OVERFLOW)
    if found["scroll"] > found["width"]:
        too_wide.append(f"survey key page: {found['scroll']} px > {found['width']} px")
    assert not too_wide, "\n".join(too_wide)
