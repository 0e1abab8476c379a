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
    # The breakdown selector is a plain link; by role the key figures are one table by group.
    desktop.get_by_role("link", name="Roll", exact=True).click()
    expect(desktop.locator("#indicators-title")).to_contain_text("Roll")
    desktop.goto(portal.url(f"/board/{reports.slug}?by=role&lang=en"))
    expect(desktop.get_by_role("button", name="Print / save as PDF")).to_be_visible()
    expect(desktop.locator("table.key-figures")).to_be_visible()
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
    # The summary opens the document; the contents and the full report start a new page.
    breaks = desktop.locator(".report-section").evaluate_all(
        "els => els.map(e => [e.id || e.className, getComputedStyle(e).breakBefore])"
    )
    assert breaks[0] == ["summary", "auto"]
    assert breaks[1] == ["report-section toc", "page"]
    bar = desktop.locator(".bar-exact").first
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(68, 68, 68)"
    assert_black_and_white_charts(desktop)

    pdf = desktop.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    # Header with the indicators, the questions (several pages), the comments, the method.
    assert len(pages) >= 4
    for width, height in pages:
        assert abs(width - A4_POINTS[0]) < 2
        assert abs(height - A4_POINTS[1]) < 2
    # For all staff every question's full distribution follows the key figures. The same
    # stylesheet prints every breakdown, so axe audits the print of this one too.
    desktop.goto(portal.url(f"/board/{reports.slug}"))
    assert_accessible(desktop, media="print")
    assert len(pdf_pages(desktop.pdf(prefer_css_page_size=True))) >= 3


def test_public_page_is_accessible(portal, reports, desktop):
    with portal.app.app_context(), db.connection_context():
        store.set_public_results(store.get_survey(reports.slug), True)
    desktop.goto(portal.url(f"/results/{reports.slug}"))
    expect(desktop.locator("h1")).to_have_text("Testenkät")
    expect(desktop.locator("#summary-title")).to_be_visible()
    assert_accessible(desktop)
    assert_accessible(desktop, media="print")


# -- the summary, paper and phone (issue 18) ----------------------------------------------------

# The width of an A4 page inside the print margins (210 mm − 2 × 13 mm) in CSS pixels.
A4_CONTENT = {"width": 695, "height": 1000}
OVERFLOW = """limit => [...document.querySelectorAll('article *')]
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'
                          && !e.closest('.visually-hidden, .stackable thead')
                          && (r.right > limit + 1 || r.left < -1); })
    .slice(0, 5).map(e => e.tagName + '.' + (e.getAttribute('class') || '') + ': '
                          + (e.textContent || '').trim().slice(0, 60))"""


# Every figure (value, count, last time's figure, "x") lies inside its own cell: none is cut off
# by, or spills over, the edge of its column.
SPILLED = """() => [...document.querySelectorAll('article td .value, article td .count,'
                                        + 'article td .earlier, article td .suppressed')]
    .filter(e => { const r = e.getBoundingClientRect(), c = e.closest('td').getBoundingClientRect();
                   return r.width > 0 && (r.left < c.left - 1 || r.right > c.right + 1); })
    .slice(0, 5).map(e => e.closest('table').querySelector('caption').textContent.trim()
                                  .slice(0, 50) + ': ' + e.textContent.trim())"""
SUMMARY_ONLY = (
    "document.querySelectorAll('.toc, .report-section.full, #comments, .method')"
    ".forEach(e => e.remove())"
)


def pdf_page_count(page) -> int:
    """The pages of the page as a person prints it: Chromium's PDF at the stylesheet's page
    size (A4 and its margins), laid out with the print stylesheet. (page.pdf keeps an emulated
    "screen" medium: a PDF made after emulate_media("screen") is the screen layout on paper.)"""
    page.emulate_media(media="print")
    try:
        pages = pdf_pages(page.pdf(prefer_css_page_size=True, print_background=True))
    finally:
        page.emulate_media(media="screen")
    for width, height in pages:
        assert abs(width - A4_POINTS[0]) < 2
        assert abs(height - A4_POINTS[1]) < 2
    return len(pages)


def test_summary_first_then_contents_and_nothing_wider_than_a4(portal, reports, browser):
    """Every breakdown, Swedish and English, laid out at the width of an A4 page as printed:
    no figure is cut off or wider than the page, and the summary takes one or two pages."""
    with new_page(browser, viewport=A4_CONTENT) as page:
        board_login(portal, page)
        for lang in ("sv", "en"):
            for by in ("all", "role", "unit", "years"):
                page.goto(portal.url(f"/board/{reports.slug}?by={by}&lang={lang}"))
                order = page.evaluate("() => [...document.querySelectorAll('h2')].map(h => h.id)")
                # By group the key figures; every question's full distribution for all staff.
                sections = ["summary-title", "toc-title", "indicators-title", "key-figures-title"]
                if by == "all":
                    sections.append("questions-title")
                assert order[: len(sections)] == sections
                page.emulate_media(media="print")
                assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT["width"]
                assert page.evaluate(OVERFLOW, A4_CONTENT["width"]) == [], (lang, by)
                assert page.evaluate(SPILLED) == [], (lang, by)
                # Tables break between rows and repeat their header on every page.
                assert set(
                    page.locator(".data-table thead").evaluate_all(
                        "els => els.map(e => getComputedStyle(e).display)"
                    )
                ) == {"table-header-group"}
                assert set(
                    page.locator(".data-table tbody tr").evaluate_all(
                        "els => els.map(e => getComputedStyle(e).breakInside)"
                    )
                ) == {"avoid"}
                page.emulate_media(media="screen")
        # The whole document and the summary alone, printed by Chromium, in both languages.
        for lang in ("sv", "en"):
            page.goto(portal.url(f"/board/{reports.slug}?by=role&lang={lang}"))
            by_role = pdf_page_count(page)
            page.goto(portal.url(f"/board/{reports.slug}?by=all&lang={lang}"))
            # The compact full report: one line per question for all staff, under 15 pages
            # for the staff survey (the fixture is the staff survey's template, every question).
            all_staff = pdf_page_count(page)
            assert all_staff < 15, (lang, all_staff)
            # By role the questions are one table of key figures: compact too (every option
            # of every question by role took more than 20 pages).
            assert by_role < 15, (lang, by_role)
            page.evaluate(SUMMARY_ONLY)
            assert pdf_page_count(page) <= 2, lang


def test_heat_maps_are_real_tables_in_greys(portal, reports, desktop):
    board_login(portal, desktop)
    desktop.goto(portal.url(f"/board/{reports.slug}"))
    heatmaps = desktop.locator("table.heatmap")
    expect(heatmaps).to_have_count(2)  # by role and by unit
    expect(heatmaps.first.locator("caption")).to_have_text("Huvudindikatorer per roll")
    # Row headers are the indicators, column headers the groups: a screen reader names both.
    assert heatmaps.first.locator("tbody th[scope=row]").count() > 5
    assert heatmaps.first.locator("thead th[scope=col]").count() >= 3
    for media in ("screen", "print"):
        desktop.emulate_media(media=media)
        shades = desktop.locator("table.heatmap td").evaluate_all(
            "els => els.map(e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color])"
        )
        for background, colour in shades:
            level = grey_level(background)
            assert level is not None, background  # greys only: the same in greyscale
            assert colour == "rgb(0, 0, 0)"
            # Black text on every shade: the contrast of black on a grey is its ratio to white's.
            assert 21 / contrast_with_white(level) >= 4.5, background
    desktop.emulate_media(media="screen")
    # The managers (two people) are never a column of their own: they are published with
    # the administrators (a merged group, named after both).
    columns = desktop.locator("table.heatmap").first.locator("thead th").all_inner_texts()
    names = [re.sub(r"\s+", " ", name).strip() for name in columns]
    assert "Chef" not in names
    assert any(name.startswith("Chef och Administratör") for name in names)


def test_phone_shows_every_figure_without_sideways_scrolling(portal, reports, phone):
    board_login(portal, phone)
    for by in ("all", "role"):
        phone.goto(portal.url(f"/board/{reports.slug}?by={by}"))
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        assert phone.evaluate(OVERFLOW, 360) == []
        # Stacked rows: each figure carries its column's name, and is on screen.
        first = phone.locator(".report-table tbody td").first
        assert first.evaluate("e => getComputedStyle(e, '::before').content") == '"n"'
        for value in phone.locator(".report-table .value").all()[:40]:
            box = value.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 360
        # The narrow chart, whose text keeps its size (13 px, not shrunk to ~7 px).
        expect(phone.locator(".wide-chart").first).to_be_hidden()
        expect(phone.locator(".narrow-chart").first).to_be_visible()
        size = phone.locator(".narrow-chart text").first.evaluate(
            "e => e.getBoundingClientRect().height"
        )
        assert size >= 12
        assert_accessible(phone)
    with portal.app.app_context(), db.connection_context():
        store.set_public_results(store.get_survey(reports.slug), True)
    phone.goto(portal.url(f"/results/{reports.slug}"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.evaluate(OVERFLOW, 360) == []
    expect(phone.locator(".summary-table .headline-value").first).to_be_visible()
    assert_accessible(phone)


def test_hr_previews_the_board_page_and_chooses_the_comparison(portal, reports, desktop):
    """HR's preview of a closed survey is the board's page, marked as a preview; on the
    publish page HR chooses what to compare with, and the board report keeps that choice."""
    from portal.services import lifecycle
    from tests.browser.test_admin_surveys import hr_login
    from tests.factories import key_text, make_survey
    from tests.portal.board_fixtures import answer

    survey, _ = make_survey(portal.app, access="codes")
    answer(portal.app, survey, 6)
    with portal.app.test_request_context(), db.connection_context():
        survey = store.get_survey(survey.slug)
        lifecycle.close_survey(
            survey, key_text=key_text(survey), actor=None, today=dt.date(2026, 11, 20)
        )
    hr_login(portal, desktop, "hr.preview@example.se")
    desktop.goto(portal.url(f"/admin/surveys/{survey.slug}/results?lang=sv"))
    expect(desktop.locator(".preview-banner")).to_contain_text("Förhandsgranskning")
    expect(desktop.locator("#summary-title")).to_be_visible()
    assert_accessible(desktop)
    desktop.get_by_role("link", name="Roll", exact=True).click()
    assert "/admin/surveys/" in desktop.url
    assert "by=role" in desktop.url
    expect(desktop.locator("#indicators-title")).to_contain_text("Roll")
    assert_accessible(desktop)
    desktop.goto(portal.url(f"/admin/surveys/{survey.slug}/publish"))
    choices = desktop.get_by_role("radio")
    assert choices.count() >= 3  # this year's, last year's (and any other published), or none
    expect(choices.first).to_be_checked()
    assert_accessible(desktop)
    desktop.get_by_label("Ingen jämförelse").check()
    desktop.get_by_role("button", name="Ja, publicera").click()
    expect(desktop.locator(".flash")).to_contain_text("publicerad")
    desktop.goto(portal.url(f"/board/{survey.slug}"))
    expect(desktop.locator(".report-facts")).to_contain_text("Svarande")
    expect(desktop.locator(".report-facts")).not_to_contain_text("Jämförs med")
    assert desktop.locator(".earlier").count() == 0


def test_exit_report_prints_every_breakdown_within_the_page(portal, reports, browser):
    """The exit questionnaire's report (by half-year first, pooled periods, its own
    breakdowns, questions of 15 answers): on paper no figure is cut off or wider than the
    page, in both languages, and its summary takes one or two pages. (``reports`` gives the
    board member's account.)"""
    from tests.factories import make_survey
    from tests.portal.board_fixtures import answer, publish
    from tests.portal.test_board_exit import ANSWERS, PUBLISHED_ON

    survey, _ = make_survey(portal.app, template="exit", access="codes")
    try:
        for day, reasons in ANSWERS.items():
            portal.app.config["TODAY"] = day
            for reason in reasons:
                role = "decisive" if reason == "threats" else "none"
                answer(portal.app, survey, 1, main_reason=reason, threat_role=role)
        portal.app.config["TODAY"] = PUBLISHED_ON
        survey = publish(portal.app, survey, PUBLISHED_ON)
    finally:
        portal.app.config.pop("TODAY", None)
    with new_page(browser, viewport=A4_CONTENT) as page:
        board_login(portal, page)
        page.goto(portal.url(f"/board/{survey.slug}"))
        breakdowns = page.locator(".breakdown-nav a").evaluate_all(
            "links => links.map(a => new URL(a.href).searchParams.get('by'))"
        )
        assert "period" in breakdowns
        assert len(breakdowns) >= 2
        for lang in ("sv", "en"):
            for by in breakdowns:
                page.goto(portal.url(f"/board/{survey.slug}?by={by}&lang={lang}"))
                page.emulate_media(media="print")
                assert page.evaluate(OVERFLOW, A4_CONTENT["width"]) == [], (lang, by)
                assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT["width"]
                assert page.evaluate(SPILLED) == [], (lang, by)
                page.emulate_media(media="screen")
            page.goto(portal.url(f"/board/{survey.slug}?lang={lang}"))
            page.evaluate(SUMMARY_ONLY)
            assert pdf_page_count(page) <= 2, lang
