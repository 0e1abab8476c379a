"""Threat model T3: with JavaScript, every submission of the survey form has one size on
the wire, whatever the answers (portal/web/padding.py, static/respond.js)."""

from __future__ import annotations

from playwright.sync_api import expect

from surveys.definition import load_template
from tests.browser.test_respondent import (
    answer_every_page,
    answer_every_required_question,
    open_survey,
    stored,
)

STAFF = load_template("staff_threats")
PAD_BLOCK = 16384


def record_posts(page) -> list[int]:
    """The body size of every POST the page sends."""
    sizes: list[int] = []
    page.on(
        "request",
        lambda request: (
            sizes.append(len(request.post_data_buffer or b"")) if request.method == "POST" else None
        ),
    )
    return sizes


def test_posts_of_the_survey_form_have_one_size_whatever_the_answers(portal, phone):
    desktop = phone  # the staff form as most staff answer it
    survey, _ = open_survey(portal)
    sizes = record_posts(desktop)
    # 1. Not exposed, no comment.
    desktop.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_page(desktop)
    desktop.locator('button.button[value="submit"]').click()
    expect(desktop.locator("h1")).to_have_text("Tack för dina svar")
    # 2. Exposed, follow-ups answered, a comment with line breaks and non-ASCII letters.
    #    With JavaScript the pages change in the browser: only the sending posts.
    desktop.goto(portal.url(f"/s/{survey.slug}"))
    # This device has answered once (link mode keeps a marker): answer again, as on a
    # shared device.
    desktop.get_by_role("button", name="Svara igen (någon annan på en delad enhet)").click()
    answer_every_required_question(desktop)
    desktop.locator("#exp_threats-once").check()
    desktop.locator("#exp_violence-more5").check()
    desktop.locator('button.button[value="next"]').click()
    answer_every_page(desktop)
    expect(desktop.locator('button.button[value="submit"]')).to_be_visible()
    desktop.locator('button.button[value="submit"]').click()
    expect(desktop.locator("h1")).to_have_text("Tack för dina svar")

    assert len(sizes) >= 2, sizes  # the two sendings, and any other post of the form
    assert set(sizes) == {PAD_BLOCK}, sizes
    responses, answers = stored(portal, survey.slug)
    assert responses == 2
    assert ("exp_threats", "once") in answers
    assert ("exp_violence", "more5") in answers
