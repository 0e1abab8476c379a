"""Threat model T3: with JavaScript, every submission of the survey form has one size on
the wire, whatever the answers (portal/web/padding.py, static/respond.js)."""

from __future__ import annotations

from playwright.sync_api import expect

from surveys.definition import load_template
from tests.browser.test_respondent import answer_every_required_question, open_survey, stored

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


def test_posts_of_the_survey_form_have_one_size_whatever_the_answers(portal, desktop):
    survey, _ = open_survey(portal)
    sizes = record_posts(desktop)
    # 1. Not exposed, no comment.
    desktop.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_required_question(desktop)
    desktop.locator('button.button[value="submit"]').click()
    expect(desktop.locator("h1")).to_have_text("Tack för dina svar")
    # 2. Exposed, follow-ups answered, a comment with line breaks and non-ASCII letters,
    #    and a language switch (which also sends the answers) before sending.
    desktop.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_required_question(desktop)
    desktop.locator("#exp_threats-once").check()
    desktop.locator("#exp_violence-more5").check()
    expect(desktop.locator("#q-aim")).to_be_visible()
    for name in ("aim", "police", "informed"):
        desktop.locator(f'input[name="{name}"]').first.check()
    desktop.locator("#suggestions").fill("Hot i väntrummet.\nLarmknapp, tack!\r\n€ 😀 (x) ~'*")
    desktop.locator('.site-header button[value="language"]').click()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    desktop.locator('button.button[value="submit"]').click()
    expect(desktop.locator("h1")).to_have_text("Thank you for your answers")

    assert len(sizes) == 3, sizes
    assert set(sizes) == {PAD_BLOCK}, sizes
    responses, answers = stored(portal, survey.slug)
    assert responses == 2
    assert ("exp_threats", "once") in answers
    assert ("exp_violence", "more5") in answers
