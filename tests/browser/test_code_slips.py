"""Code slips as printed: ten to an A4 page, each with the short address and a QR code."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_admin_surveys import hr_login


def test_a_hundred_slips_print_on_ten_a4_pages(portal, desktop):
    hr_login(portal, desktop, "hr.slips@example.se")
    desktop.goto(portal.url("/admin/surveys/new?lang=en"))
    desktop.get_by_label("Title (Swedish)").fill("Slippar 2026")
    desktop.get_by_label("A single-use code for each person").check()
    desktop.get_by_role("button", name="Create the draft").click()
    desktop.get_by_role("button", name="Save the draft").click()
    desktop.get_by_label("Number of codes").fill("100")
    desktop.get_by_role("button", name="Generate codes").click()
    slips = desktop.locator(".slip")
    expect(slips).to_have_count(100)
    first = slips.first
    expect(first).to_contain_text("Your code:")
    expect(first).to_contain_text(portal.url("/kod"))
    expect(first.locator("svg")).to_have_count(1)
    expect(first).to_contain_text("cannot be connected to your answers")
    assert_accessible(desktop, media="print")
    # assert_accessible leaves the page emulating the screen, which page.pdf() would honour.
    desktop.emulate_media(media="print")
    pdf = desktop.pdf(format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages > 1
    # Issue 19: 100 codes took 13 pages; 8 or more slips a page is at most 13, ten is 10.
    assert pages <= 10, pages
    # Every slip has the same fixed height, so five rows always fit a page.
    heights = desktop.evaluate(
        "[...document.querySelectorAll('.slip')].map(s => s.getBoundingClientRect().height)"
    )
    desktop.emulate_media(media="screen")
    assert max(heights) - min(heights) < 1
