"""A staff member answers in a real browser: phone, keyboard only, with and without JavaScript."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal import store
from portal.extensions import db
from portal.models import Answer, Response
from surveys.definition import load_template
from tests.browser.conftest import assert_accessible

STAFF = load_template("staff_threats")


def open_survey(portal, access="link", codes=0):
    with portal.app.app_context(), db.connection_context():
        survey = store.create_survey(
            STAFF, title_sv="Trygg på jobbet 2026", title_en="Safe at work 2026", access=access
        )
        generated = (
            store.generate_codes(survey, codes, portal.app.config["SECRET_KEY"]) if codes else []
        )
        store.set_status(survey, "open")
    return survey, generated


def stored(portal, slug):
    with portal.app.app_context(), db.connection_context():
        survey = store.get_survey(slug)
        responses = Response.select().where(Response.survey == survey.id).count()
        answers = {(a.question, a.value) for a in Answer.select().where(Answer.survey == survey.id)}
    return responses, answers


def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the element matching ``selector`` has focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def choose(page, item: str, option_index: int = 0) -> None:
    """Keyboard only: tab into a radio group, then arrow to the option (arrows also check it)."""
    tab_to(page, f'input[name="{item}"]')
    page.keyboard.press("Space")
    for _ in range(option_index):
        page.keyboard.press("ArrowDown")


def record_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_phone_keyboard_only_with_conditions_and_a_corrected_error(portal, phone):
    survey, _ = open_survey(portal)
    requests = record_requests(phone)
    phone.goto(portal.url(f"/s/{survey.slug}"))
    expect(phone.locator("h1")).to_have_text("Trygg på jobbet 2026")
    expect(phone.locator("#q-aim")).to_be_hidden()
    assert_accessible(phone)

    phone.keyboard.press("Tab")
    expect(phone.locator(".skip-link")).to_be_focused()
    # Every exp_* row: "never", except threats: "once" (index 1), which reveals follow-ups.
    for item in STAFF.question("exp").items:
        choose(phone, item.key, 1 if item.key == "exp_threats" else 0)
    expect(phone.locator("#q-aim")).to_be_visible()
    expect(phone.locator("#q-police_by")).to_be_hidden()
    choose(phone, "police", 1)  # "some" reveals who made the report
    expect(phone.locator("#q-police_by")).to_be_visible()
    tab_to(phone, "#suggestions")
    phone.keyboard.type("Larmknappar i alla mottagningsrum")
    choose(phone, "role", 0)
    choose(phone, "unit", 1)
    # "years" is left out on purpose: the first submit must fail.
    tab_to(phone, 'button.button[value="submit"]')
    phone.keyboard.press("Enter")

    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("arbetat i yrket")
    assert_accessible(phone)
    expect(phone.locator("#suggestions")).to_have_value("Larmknappar i alla mottagningsrum")
    expect(phone.locator("#exp_threats-once")).to_be_checked()
    # Follow the summary's link with the keyboard: it lands on the field.
    phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    expect(phone.locator("#years-lt2")).to_be_focused()
    phone.keyboard.press("Space")
    tab_to(phone, 'button.button[value="submit"]')
    phone.keyboard.press("Enter")

    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    assert_accessible(phone)
    responses, answers = stored(portal, survey.slug)
    assert responses == 1
    assert ("exp_threats", "once") in answers
    assert ("police", "some") in answers
    assert ("years", "lt2") in answers
    origin = portal.base_url
    assert requests
    assert all(url.startswith(origin + "/") for url in requests), [
        url for url in requests if not url.startswith(origin + "/")
    ]


def test_without_javascript_every_question_shows_and_hidden_answers_are_ignored(
    portal, no_javascript
):
    page = no_javascript
    survey, _ = open_survey(portal)
    page.goto(portal.url(f"/s/{survey.slug}"))
    expect(page.locator("#q-aim")).to_be_visible()
    expect(page.locator("#q-aim .condition-hint")).to_be_visible()
    # axe needs JavaScript in the page, so this state is not audited here.
    for item in STAFF.items():
        if item.kind == "single" and item.question.condition is None:
            page.locator(f'input[name="{item.key}"]').first.check()
    page.locator("#aim-all").check()  # not exposed: must be ignored
    page.locator('button.button[value="submit"]').click()
    expect(page.locator("h1")).to_have_text("Tack för dina svar")
    responses, answers = stored(portal, survey.slug)
    assert responses == 1
    assert not any(question == "aim" for question, _ in answers)


def test_codes_and_english(portal, desktop):
    survey, codes = open_survey(portal, access="codes", codes=2)
    desktop.goto(portal.url(f"/s/{survey.slug}"))
    desktop.get_by_role("link", name="English").click()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    expect(desktop.locator("h1")).to_have_text("Safe at work 2026")
    desktop.locator("#code").fill("wrong-code")
    desktop.get_by_role("button", name="Continue").click()
    expect(desktop.locator("#error-summary")).to_be_focused()
    assert_accessible(desktop)
    desktop.locator("#code").fill(codes[0].lower().replace("-", " "))
    desktop.get_by_role("button", name="Continue").click()
    expect(desktop.get_by_role("heading", name="Your answers are anonymous")).to_be_visible()
    assert_accessible(desktop)
    # The code travels in the form body only, never in the address.
    assert codes[0] not in desktop.url
    assert re.search(r"/s/[\w-]+$", desktop.url)


def test_information_pages_are_accessible(portal, phone):
    for path in ("/", "/privacy", "/nowhere"):
        phone.goto(portal.url(path))
        assert_accessible(phone)
    phone.goto(portal.url("/privacy?lang=en"))
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(phone)
