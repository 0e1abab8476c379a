"""The board report in Chromium: accessible, and printed to an A4 PDF without navigation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import store
from portal.extensions import db
from portal.services import passwords
from tests.browser.conftest import assert_accessible, new_page
from tests.portal.board_fixtures import current_survey, earlier_survey

pytest.importorskip("surveys.disclosure")

PASSWORD = "a long and unguessable passphrase"
A4_POINTS = (595, 842)


@pytest.fixture(scope="module")
def reports(portal):
    """Last year's and this year's survey, published, and a board member's account."""
    earlier_survey(portal.app)
    current = current_survey(portal.app)
    with portal.app.app_context(), db.connection_context():
        store.create_user(
            "board.print@example.se",
            passwords.hash_password(PASSWORD),
            "board",
            dt.datetime(2026, 1, 1),
        )
    return current


def board_login(portal, page) -> None:
    page.goto(portal.url("/admin/login?lang=sv"))
    page.locator("#email").fill("board.print@example.se")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("h1")).to_have_text("Översikt")


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size in points of every page of a PDF written by Chromium."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def grey_level(colour: str) -> int | None:
    """The level (0 black … 255 white) of a computed ``rgb()`` grey; None for any other colour."""
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, 1)?\)", colour)
    if match is None or len(set(match.groups())) != 1:
        return None
    return int(match.group(1))


def contrast_with_white(level: int) -> float:
    """The WCAG contrast ratio of a grey against white paper."""
    channel = level / 255
    linear = channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
    return 1.05 / (linear + 0.05)


def assert_black_and_white_charts(page) -> None:
    """As printed, every chart is drawn in greys only: black text, and marks that stand out.

    axe cannot judge text or shapes inside SVG, so the computed colours are checked here.
    """
    drawn = page.locator(".bar-chart").evaluate_all(
        """charts => charts.flatMap(chart => [...chart.querySelectorAll('*')].map(e => {
            const style = getComputedStyle(e);
            return {tag: e.tagName, cls: e.getAttribute('class') || '',
                    fill: style.fill, stroke: style.stroke};
        }))"""
    )
    assert drawn
    for mark in drawn:
        for paint in ("fill", "stroke"):
            colour = mark[paint]
            if colour == "none" or colour.startswith("url("):  # a hatch pattern, checked too
                continue
            assert grey_level(colour) is not None, f"{mark} is not black and white"
        if mark["tag"] == "text":
            assert mark["fill"] == "rgb(0, 0, 0)", mark
        if "bar-exact" in mark["cls"] or (mark["tag"] == "line" and mark["stroke"] != "none"):
            # The bars and the hatching of ranges: non-text contrast (WCAG 1.4.11) on paper.
            paint = mark["fill"] if "bar-exact" in mark["cls"] else mark["stroke"]
            assert contrast_with_white(grey_level(paint)) >= 3, mark


def test_board_report_is_accessible_in_both_languages(portal, reports, desktop):
    board_login(portal, desktop)
    assert_accessible(desktop)  # the board's overview
    desktop.get_by_role("link", name="Rapporter till nämnden").first.click()
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Testenkät").first.click()
    expect(desktop.locator("h1")).to_have_text("Testenkät")
    # Scripts run here: the print button shows itself.
    expect(desktop.get_by_role("button", name="Skriv ut / spara som PDF")).to_be_visible()
    assert_accessible(desktop)
    # The breakdown selector is a plain link; by role the charts have a heading per group.
    desktop.get_by_role("link", name="Roll", exact=True).click()
    expect(desktop.locator(".report-facts")).to_contain_text("Roll")
    desktop.goto(portal.url(f"/board/{reports.slug}?by=role&lang=en"))
    expect(desktop.get_by_role("button", name="Print / save as PDF")).to_be_visible()
    expect(desktop.locator(".chart-heading").first).to_be_visible()
    assert_accessible(desktop)


def test_without_javascript_the_print_button_stays_hidden(portal, reports, browser):
    with new_page(browser, java_script_enabled=False) as page:
        board_login(portal, page)
        page.goto(portal.url(f"/board/{reports.slug}?by=years"))
        expect(page.get_by_role("link", name="År i yrket")).to_have_attribute(
            "aria-current", "page"
        )
        expect(page.locator("[data-print]")).to_be_hidden()
        expect(page.locator(".bar-chart").first).to_be_visible()


def test_print_view_is_an_a4_document_without_navigation(portal, reports, desktop):
    board_login(portal, desktop)
    desktop.goto(portal.url(f"/board/{reports.slug}?by=role"))
    desktop.emulate_media(media="print")
    for hidden in ("nav.admin-nav", ".report-tools", ".site-header", ".site-footer"):
        expect(desktop.locator(hidden)).to_be_hidden()
    expect(desktop.locator("h1")).to_have_text("Testenkät")
    expect(desktop.locator("#method-title")).to_be_visible()
    heads = desktop.locator(".report-table thead").first
    assert heads.evaluate("e => getComputedStyle(e).display") == "table-header-group"
    breaks = desktop.locator(".report-section").evaluate_all(
        "els => els.map(e => getComputedStyle(e).breakBefore)"
    )
    assert breaks[0] == "auto"
    assert set(breaks[1:]) == {"page"}
    bar = desktop.locator(".bar-exact").first
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(68, 68, 68)"
    assert_black_and_white_charts(desktop)

    pdf = desktop.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    # Header with the indicators, the questions (several pages), the comments, the method.
    assert len(pages) >= 4 + 2
    for width, height in pages:
        assert abs(width - A4_POINTS[0]) < 2
        assert abs(height - A4_POINTS[1]) < 2
    # By unit the tables are shorter: a shorter document, still one section per page at least.
    # The same stylesheet prints every breakdown, so axe audits the print of this shorter one.
    desktop.goto(portal.url(f"/board/{reports.slug}"))
    assert_accessible(desktop, media="print")
    shorter = pdf_pages(desktop.pdf(prefer_css_page_size=True))
    assert 4 <= len(shorter) < len(pages)


def test_public_page_is_accessible(portal, reports, desktop):
    with portal.app.app_context(), db.connection_context():
        store.set_public_results(store.get_survey(reports.slug), True)
    desktop.goto(portal.url(f"/results/{reports.slug}"))
    expect(desktop.locator("h1")).to_have_text("Testenkät")
    expect(desktop.locator("#indicators-title")).to_be_visible()
    assert_accessible(desktop)
