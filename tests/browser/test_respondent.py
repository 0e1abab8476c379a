"""A staff member answers in a real browser: phone, keyboard only, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal import store
from portal.extensions import db
from portal.store.models import Answer
from surveys.definition import load_template
from tests.browser.conftest import PHONE, assert_accessible, new_page
from tests.factories import answer_pairs, issue_codes, waiting_submissions

STAFF = load_template("staff_threats")
# The survey page's language switch: a button of the answers form, in the site header.
SWITCH = '.site-header nav.language button[value="language"]'


def open_survey(portal, access="link", codes=0):
    with portal.app.app_context(), db.connection_context():
        survey = store.create_survey(
            STAFF, title_sv="Trygg på jobbet 2026", title_en="Safe at work 2026", access=access
        )
        generated = issue_codes(survey, codes, portal.app.config["SECRET_KEY"]) if codes else []
        store.set_status(survey, "open")
    return survey, generated


def stored(portal, slug):
    """Responses and (question, value) pairs, mixed into the tables or waiting in the inbox."""
    with portal.app.app_context(), db.connection_context():
        survey = store.get_survey(slug)
        responses = store.response_count(survey)
        answers = {(a.question, a.value) for a in Answer.select().where(Answer.survey == survey.id)}
        for waiting in waiting_submissions(survey):
            answers |= answer_pairs(waiting)
    return responses, answers


def tab_to(page, selector: str, limit: int = 400, key: str = "Tab") -> None:
    """Press Tab (or ``key``, e.g. Shift+Tab) until the element matching ``selector`` has focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def choose(page, item: str, option_index: int = 0) -> None:
    """Keyboard only: tab into a radio group, then arrow to the option (arrows also check it)."""
    tab_to(page, f'input[name="{item}"]')
    page.keyboard.press("Space")
    for _ in range(option_index):
        page.keyboard.press("ArrowDown")


def in_header_top_right(page, control) -> None:
    """``control`` sits in the site header, on its right half; the page does not scroll sideways."""
    # Both boxes in one snapshot: measured one after the other, a scroll still settling
    # after the focus moved could put them in different places.
    header, box = control.evaluate(
        """e => [e.closest('.site-header'), e].map(n => {
            const r = n.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        })"""
    )
    width = page.viewport_size["width"]
    assert header["y"] <= box["y"]
    assert box["y"] + box["height"] <= header["y"] + header["height"]
    assert box["x"] > width / 2, box
    assert box["x"] + box["width"] <= width, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def answer_every_required_question(page) -> None:
    """The first option of every unconditional single choice on the current page."""
    for item in STAFF.items():
        if item.kind == "single" and item.question.condition is None:
            inputs = page.locator(f'input[type="radio"][name="{item.key}"]:visible')
            if inputs.count():
                inputs.first.check()


def answer_every_page(page) -> None:
    """Keep answering the required questions of each page and going on, up to the summary."""
    for _ in range(8):
        if page.locator("#summary-title").count():
            return
        answer_every_required_question(page)
        page.locator('button.button[value="next"]').click()
    raise AssertionError("the summary page was never reached")


def step(page) -> str:
    return page.locator("#step").inner_text()


def keyboard_next(page) -> None:
    tab_to(page, 'button.button[value="next"]')
    page.keyboard.press("Enter")


def record_requests(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_phone_keyboard_only_with_conditions_and_a_corrected_error(portal, phone):
    survey, _ = open_survey(portal)
    requests = record_requests(phone)
    phone.goto(portal.url(f"/s/{survey.slug}"))
    expect(phone.locator("h1")).to_have_text("Trygg på jobbet 2026")
    expect(phone.locator("#step")).to_have_text("Steg 1 av 4")
    expect(phone.locator("#q-exp legend").first).to_contain_text("(obligatorisk)")
    # The follow-up questions are on pages of their own.
    expect(phone.locator("#q-aim")).to_be_hidden()
    assert_accessible(phone)

    phone.keyboard.press("Tab")
    expect(phone.locator(".skip-link")).to_be_focused()
    # Every exp_* row: "never", except threats: "once" (index 1), which adds the follow-up pages.
    for item in STAFF.question("exp").items:
        choose(phone, item.key, 1 if item.key == "exp_threats" else 0)
    # The support contacts end the exposure section.
    expect(phone.locator("#support-title")).to_be_visible()
    keyboard_next(phone)

    expect(phone.locator("#step")).to_have_text("Steg 2 av 6")
    expect(phone.locator("#q-aim")).to_be_visible()
    expect(phone.locator("#q-police_by")).to_be_hidden()
    assert_accessible(phone)
    choose(phone, "police", 1)  # "some" reveals who made the report
    expect(phone.locator("#q-police_by")).to_be_visible()
    keyboard_next(phone)
    expect(phone.locator("#step")).to_have_text("Steg 3 av 6")
    assert_accessible(phone)
    keyboard_next(phone)
    expect(phone.locator("#step")).to_have_text("Steg 4 av 6")
    tab_to(phone, "#suggestions")
    phone.keyboard.type("Larmknappar i alla mottagningsrum")
    # Back and forth keeps the answers.
    tab_to(phone, 'button[value="back"]')
    phone.keyboard.press("Enter")
    expect(phone.locator("#step")).to_have_text("Steg 3 av 6")
    keyboard_next(phone)
    expect(phone.locator("#suggestions")).to_have_value("Larmknappar i alla mottagningsrum")
    keyboard_next(phone)
    expect(phone.locator("#step")).to_have_text("Steg 5 av 6")
    choose(phone, "role", 0)
    choose(phone, "unit", 1)
    # "years" is left out on purpose: this page must not let the form go on.
    keyboard_next(phone)

    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("arbetat i yrket")
    expect(phone.locator("#step")).to_have_text("Steg 5 av 6")
    assert_accessible(phone)
    # Printed with its errors (red text, grey hints) the form is still readable.
    assert_accessible(phone, media="print")
    expect(phone.locator("#role-ss_children")).to_be_checked()
    # Follow the summary's link with the keyboard: it lands on the field.
    phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    expect(phone.locator("#years-lt2")).to_be_focused()
    phone.keyboard.press("Space")
    keyboard_next(phone)

    expect(phone.locator("#step")).to_have_text("Steg 6 av 6")
    expect(phone.locator("#summary-title")).to_be_visible()
    expect(phone.locator(".summary")).to_contain_text("Larmknappar i alla mottagningsrum")
    expect(phone.locator(".summary")).to_contain_text("Ja, några")
    assert_accessible(phone)
    assert stored(portal, survey.slug) == (0, set())
    tab_to(phone, 'button.button[value="submit"]')
    phone.keyboard.press("Enter")

    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    expect(phone.locator("#support-title")).to_be_visible()
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
    # Nothing about the form travelled in an address.
    assert all("exp_" not in url and "years" not in url for url in requests)


def test_language_switch_in_the_header_keeps_the_answers(portal, phone):
    survey, _ = open_survey(portal)
    phone.goto(portal.url(f"/s/{survey.slug}"))
    choose(phone, "exp_harassment", 0)
    choose(phone, "exp_threats", 2)  # "2–5 times": the follow-up pages will come
    # Back up to the header: the switch is the first control after the brand.
    tab_to(phone, SWITCH, key="Shift+Tab")
    switch = phone.locator(SWITCH)
    expect(switch).to_have_text("English")
    in_header_top_right(phone, switch)
    phone.keyboard.press("Enter")

    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("h1")).to_have_text("Safe at work 2026")
    # Exposed: the follow-up pages count already.
    expect(phone.locator("#step")).to_have_text("Step 1 of 6")
    expect(phone.locator("#error-summary")).to_have_count(0)

    def answers_kept() -> None:
        expect(phone.locator("#exp_harassment-never")).to_be_checked()
        expect(phone.locator("#exp_threats-2to5")).to_be_checked()

    answers_kept()
    expect(phone.locator("#q-exp")).to_contain_text("How often in the last 12 months")
    in_header_top_right(phone, switch)
    assert_accessible(phone)

    # The switch is the third stop on the page: skip link, brand, language.
    tab_to(phone, SWITCH)
    expect(switch).to_have_text("Svenska")
    phone.keyboard.press("Space")
    expect(phone.locator("html")).to_have_attribute("lang", "sv")
    expect(phone.locator("h1")).to_have_text("Trygg på jobbet 2026")
    answers_kept()

    # Enter on an answer goes on (the switch is not the form's default button): the
    # required rows left open on this page are reported, in Swedish.
    tab_to(phone, "#exp_threats-2to5")
    phone.keyboard.press("Enter")
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(phone.locator("html")).to_have_attribute("lang", "sv")
    answers_kept()
    assert stored(portal, survey.slug) == (0, set())
    # The six rows left open are one line under the question, each row a link to its row.
    expect(summary.locator("ul ul a")).to_have_count(6)
    assert_accessible(phone)
    summary.get_by_role("link", name="Fysiskt våld").click()
    expect(phone.locator("#exp_violence-never")).to_be_focused()
    # On the next page, the switch keeps the answers of this page and the one before.
    for item in STAFF.question("exp").items[2:]:
        phone.locator(f"#{item.key}-never").check()
    phone.locator('button.button[value="next"]').click()
    phone.locator("#aim-some").check()
    phone.locator(SWITCH).click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("#aim-some")).to_be_checked()
    phone.locator('button[value="back"]').click()
    answers_kept()


def test_without_javascript_the_pages_carry_the_answers(portal, no_javascript):
    page = no_javascript
    survey, _ = open_survey(portal)
    page.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_required_question(page)
    page.locator("#exp_threats-once").check()
    page.get_by_role("button", name="Nästa").click()
    expect(page.locator("#step")).to_have_text("Steg 2 av 6")
    page.locator("#aim-some").check()
    tab_to(page, SWITCH, key="Shift+Tab")
    in_header_top_right(page, page.locator(SWITCH))
    page.keyboard.press("Enter")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Safe at work 2026")
    expect(page.locator("#aim-some")).to_be_checked()
    expect(page.locator(SWITCH)).to_have_text("Svenska")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.locator("#suggestions").fill("Fler larmknappar")
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#suggestions")).to_have_value("Fler larmknappar")
    answer_every_page(page)
    expect(page.locator(".summary")).to_contain_text("Fler larmknappar")
    # Nothing was stored, and nothing of the answers is in the address.
    assert stored(portal, survey.slug) == (0, set())
    assert re.search(r"/s/[\w-]+$", page.url)
    # The form still carries its one-time token: the answers can be sent after the switch.
    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("h1")).to_have_text("Thank you for your answers")
    responses, answers = stored(portal, survey.slug)
    assert responses == 1
    assert {("exp_threats", "once"), ("aim", "some")} <= answers


def test_without_javascript_every_question_shows_and_hidden_answers_are_ignored(
    portal, no_javascript
):
    page = no_javascript
    survey, _ = open_survey(portal)
    page.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_required_question(page)
    page.locator("#exp_threats-once").check()
    page.get_by_role("button", name="Nästa").click()
    # Without the script a question that depends on this page shows, with its condition.
    expect(page.locator("#q-police_by")).to_be_visible()
    expect(page.locator("#q-police_by .condition-hint")).to_be_visible()
    # axe needs JavaScript in the page, so this state is not audited here.
    page.locator("#police-none").check()
    page.locator("#police_by-me").check()  # police "none": must be ignored
    answer_every_page(page)
    expect(page.locator(".summary")).not_to_contain_text("Jag själv")
    page.locator('button.button[value="submit"]').click()
    expect(page.locator("h1")).to_have_text("Tack för dina svar")
    responses, answers = stored(portal, survey.slug)
    assert responses == 1
    assert not any(question == "police_by" for question, _ in answers)


def test_every_page_state_without_the_script_is_accessible(portal, browser):
    """axe runs as a script in the page, so a context without JavaScript cannot be audited:
    here the pages are audited as the server sends them to a browser without JavaScript,
    with respond.js not loaded (every page, the error summary, a follow-up question shown
    with its condition, the summary, the thank-you page)."""
    survey, _ = open_survey(portal)
    with new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True) as page:
        page.route("**/static/respond.js", lambda route: route.abort())
        page.goto(portal.url(f"/s/{survey.slug}"))
        expect(page.locator("html")).not_to_have_class(re.compile(r"\bjs\b"))
        assert_accessible(page)
        page.get_by_role("button", name="Nästa").click()
        expect(page.locator("#error-summary")).to_be_visible()
        assert_accessible(page)
        answer_every_required_question(page)
        page.locator("#exp_threats-once").check()
        page.get_by_role("button", name="Nästa").click()
        expect(page.locator("#step")).to_have_text("Steg 2 av 6")
        expect(page.locator("#q-police_by .condition-hint")).to_be_visible()
        assert_accessible(page)
        for step in range(3, 7):
            answer_every_required_question(page)
            page.get_by_role("button", name="Nästa").click()
            expect(page.locator("#step")).to_have_text(f"Steg {step} av 6")
            assert_accessible(page)
        expect(page.locator("#summary-title")).to_be_visible()
        page.locator('button.button[value="submit"]').click()
        expect(page.locator("h1")).to_have_text("Tack för dina svar")
        assert_accessible(page)
    assert stored(portal, survey.slug)[0] == 1


def test_an_unexposed_respondent_skips_the_follow_up_pages(portal, phone):
    survey, _ = open_survey(portal)
    phone.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_required_question(phone)
    phone.locator('button.button[value="next"]').click()
    expect(phone.locator("#step")).to_have_text("Steg 2 av 4")
    expect(phone.locator("#section-safety")).to_be_visible()
    assert_accessible(phone)


def test_link_mode_back_after_thanks_says_already_answered_on_this_device(portal, phone):
    survey, _ = open_survey(portal)
    phone.goto(portal.url(f"/s/{survey.slug}"))
    answer_every_page(phone)
    phone.locator('button.button[value="submit"]').click()
    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    # respond.js writes the marker when it runs, after the heading is on the page.
    phone.wait_for_load_state("load")
    # The marker holds no identifier: only which survey was answered here.
    stored_marker = phone.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert stored_marker == f'[["varna-answered:{survey.slug}","1"]]'
    assert phone.context.cookies() == [] or all(
        c["name"] == "varna" for c in phone.context.cookies()
    )
    # Opening the form again (Back, or the link) says so instead of taking a second response.
    phone.goto(portal.url(f"/s/{survey.slug}"))
    notice = phone.locator("#answered-notice")
    expect(notice).to_be_visible()
    expect(notice).to_be_focused()
    expect(phone.locator("#answers")).to_be_hidden()
    assert_accessible(phone)
    # Someone else on a shared device can answer.
    phone.get_by_role("button", name="Svara igen (någon annan på en delad enhet)").click()
    expect(phone.locator("#answers")).to_be_visible()
    answer_every_page(phone)
    phone.locator('button.button[value="submit"]').click()
    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    assert stored(portal, survey.slug)[0] == 2


def test_link_mode_the_browsers_back_and_a_second_tab_cannot_send_twice(portal, phone):
    """Issue 19: Back after the thank-you page restored the form, and one more tap stored a
    second response. Here the browser's own Back, and a tap on "Send" in a second tab of
    the same browser that was left on the summary page."""
    survey, _ = open_survey(portal)
    url = portal.url(f"/s/{survey.slug}")
    other = phone.context.new_page()
    for page in (other, phone):
        page.bring_to_front()  # a tab in the background gets no animation frames
        page.goto(url)
        answer_every_page(page)
    phone.locator('button.button[value="submit"]').click()
    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    assert stored(portal, survey.slug)[0] == 1
    # Back past the summary (fetched by a POST, which Chromium only offers to send again)
    # to the form, which says it was answered here instead of taking answers.
    phone.evaluate("history.go(-2)")
    phone.wait_for_url(url)
    expect(phone.locator("#answered-notice")).to_be_visible()
    expect(phone.locator("#answers")).to_be_hidden()
    # The other tab's summary is still on screen: one more tap sends nothing.
    other.bring_to_front()
    other.locator('button.button[value="submit"]').click()
    expect(other.locator("#answered-notice")).to_be_visible()
    expect(other.locator("#answers")).to_be_hidden()
    assert_accessible(other)
    other.close()
    assert stored(portal, survey.slug)[0] == 1


def test_hr_enters_support_contacts_and_staff_see_them_where_needed(portal, desktop, phone):
    from tests.browser.test_admin_surveys import hr_login

    hr_login(portal, desktop, "hr.support@example.se")
    desktop.goto(portal.url("/admin/surveys/new?lang=en"))
    desktop.get_by_label("Title (Swedish)").fill("Stöd 2026")
    desktop.get_by_role("button", name="Create the draft").click()
    field = desktop.get_by_label("Support contacts")
    # The browser stops typing at the limit (the server's refusal is tested without it).
    expect(field).to_have_attribute("maxlength", "2000")
    assert_accessible(desktop)
    contacts = (
        "Företagshälsovården Avonova: 010-123 45 67\n"
        "Säkerhetssamordnare Kim Berg: 08-123 456 78\n"
        "Skyddsombud: Stadshuset, rum 3"
    )
    field.fill(contacts)
    desktop.get_by_role("button", name="Save the draft").click()
    expect(desktop.locator("#support_contacts-error")).to_have_count(0)
    slug = re.search(r"/admin/surveys/([\w-]+)", desktop.url).group(1)
    with portal.app.app_context(), db.connection_context():
        store.set_status(store.get_survey(slug), "open")
    phone.goto(portal.url(f"/s/{slug}"))
    # At the end of the exposure section, the first page.
    support = phone.locator("section[data-page='experiences'] .support")
    expect(support).to_be_visible()
    expect(support).to_contain_text("Säkerhetssamordnare Kim Berg: 08-123 456 78")
    expect(support.locator("br")).to_have_count(2)
    assert_accessible(phone)
    answer_every_page(phone)
    phone.locator('button.button[value="submit"]').click()
    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    expect(phone.locator(".support")).to_contain_text("Skyddsombud: Stadshuset, rum 3")
    assert_accessible(phone)


def test_a_code_alone_opens_the_survey_and_a_used_code_is_told_apart(portal, phone):
    survey, codes = open_survey(portal, access="codes", codes=2)
    phone.goto(portal.url("/"))
    assert_accessible(phone)
    phone.locator("#code").fill(codes[0].lower())
    phone.locator("#code").press("Enter")
    expect(phone.locator("h1")).to_have_text("Trygg på jobbet 2026")
    expect(phone.locator("#step")).to_have_text("Steg 1 av 4")
    assert codes[0].lower() not in phone.url
    answer_every_page(phone)
    phone.locator('button.button[value="submit"]').click()
    expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    phone.goto(portal.url("/kod"))
    assert_accessible(phone)
    phone.locator("#code").fill(codes[0])
    phone.get_by_role("button", name="Fortsätt").click()
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("redan använts – dina svar sparades")
    expect(phone.locator("#code")).to_have_value(codes[0])
    assert_accessible(phone)
    mistyped = codes[1][:-1] + ("A" if codes[1][-1] != "A" else "B")
    phone.locator("#code").fill(mistyped)
    phone.get_by_role("button", name="Fortsätt").click()
    expect(phone.locator("#error-summary")).to_contain_text("Kontrollera stavningen")
    expect(phone.locator("#code")).to_have_value(mistyped)
    assert_accessible(phone)


def test_phone_screens_per_page(portal, browser):
    """The median number of phone screens per page, on the phone of the figure the README
    records (bench/phone_screens.py prints it, with the same walk through the pages)."""
    from bench.phone_screens import PHONE as SCREEN
    from bench.phone_screens import median, walk

    figures = []
    with new_page(browser, viewport=SCREEN, is_mobile=True, has_touch=True) as page:
        for exposed in (False, True):
            survey, _ = open_survey(portal)
            walked = walk(page, portal.url(f"/s/{survey.slug}"), exposed)
            assert [step for step, _ in walked][-1] == ("Steg 6 av 6" if exposed else "Steg 4 av 4")
            figures += [screens for _, screens in walked]
    # Before paging: one page of 12 screens with nothing to report, 17 threatened once.
    assert median(figures) <= 6, figures
    assert max(figures) < 8, figures


def looks(control) -> dict:
    """Where ``control`` ends on the right, its vertical middle, and how its text is drawn."""
    return control.evaluate(
        """e => {
            const box = e.getBoundingClientRect(), style = getComputedStyle(e);
            return {right: Math.round(box.right), middle: Math.round(box.top + box.height / 2),
                    color: style.color, size: style.fontSize, weight: style.fontWeight,
                    family: style.fontFamily, line: style.textDecorationLine};
        }"""
    )


def test_codes_and_english(portal, desktop):
    survey, codes = open_survey(portal, access="codes", codes=2)
    desktop.goto(portal.url(f"/s/{survey.slug}"))
    expect(desktop.locator("#code")).to_be_visible()
    assert_accessible(desktop)
    link = desktop.get_by_role("link", name="English")
    other_pages = looks(link)
    link.click()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    expect(desktop.locator("h1")).to_have_text("Safe at work 2026")
    assert_accessible(desktop)
    desktop.locator("#code").fill("wrong-code")
    desktop.get_by_role("button", name="Continue").click()
    expect(desktop.locator("#error-summary")).to_be_focused()
    assert_accessible(desktop)
    expect(desktop.locator("#code")).to_have_value("wrong-code")
    desktop.locator("#code").fill(codes[0].lower().replace("-", " "))
    desktop.get_by_role("button", name="Continue").click()
    expect(desktop.get_by_role("heading", name="Your answers are anonymous")).to_be_visible()
    assert_accessible(desktop)
    # The survey's switch is a button of the form, drawn where and as the other pages' link.
    switch = desktop.locator(SWITCH)
    expect(switch).to_have_text("Svenska")
    in_header_top_right(desktop, switch)
    assert looks(switch) == other_pages
    desktop.locator("#exp_threats-once").check()
    switch.click()
    # Still the form, not the code page: the code travels with the switch.
    expect(desktop.get_by_role("heading", name="Dina svar är anonyma")).to_be_visible()
    expect(desktop.locator("#exp_threats-once")).to_be_checked()
    # The code travels in the form body only, never in the address.
    assert codes[0] not in desktop.url
    assert re.search(r"/s/[\w-]+$", desktop.url)


def test_information_pages_are_accessible(portal, phone):
    for path, status in (("/", 200), ("/privacy", 200), ("/nowhere", 404)):
        assert phone.goto(portal.url(path)).status == status
        assert_accessible(phone)
    phone.goto(portal.url("/privacy?lang=en"))
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(phone)


def test_the_print_audit_applies_the_print_stylesheet(portal, browser):
    """assert_accessible(media="print") sees what only the print stylesheet does, then restores."""
    # Our CSP refuses inline styles: this context ignores it to add a faint printed heading.
    with new_page(browser, bypass_csp=True) as page:
        page.goto(portal.url("/privacy"))
        page.add_style_tag(content="@media print { h1 { color: #bbb; } }")
        assert_accessible(page)
        with pytest.raises(AssertionError, match="color-contrast"):
            assert_accessible(page, media="print")
        assert page.evaluate("matchMedia('screen').matches")


def test_with_javascript_the_pages_change_without_requests(portal, phone):
    """T3: the number of requests does not tell whether the follow-up pages were shown."""
    counts = []
    for exposed in (False, True):
        survey, _ = open_survey(portal)
        phone.goto(portal.url(f"/s/{survey.slug}"))
        posts: list[str] = []
        phone.on(
            "request", lambda r, posts=posts: posts.append(r.url) if r.method == "POST" else None
        )
        steps = [step(phone)]
        for _ in range(8):
            if phone.locator("#summary-title").count():
                break
            answer_every_required_question(phone)
            if exposed and len(steps) == 1:
                phone.locator("#exp_threats-once").check()
                # The count of pages follows the answer at once.
                expect(phone.locator("#step")).to_have_text("Steg 1 av 6")
                steps[0] = step(phone)
            phone.locator('button.button[value="next"]').click()
            expect(phone.locator("#step")).not_to_have_text(steps[-1])
            steps.append(step(phone))
            if len(steps) == 2:
                # The browser's Back and Forward move between the pages too, answers kept.
                phone.go_back()
                expect(phone.locator("#step")).to_have_text(
                    "Steg 1 av 6" if exposed else "Steg 1 av 4"
                )
                expect(phone.locator("#exp_harassment-never")).to_be_checked()
                phone.go_forward()
                expect(phone.locator("#step")).to_have_text(steps[1])
                assert_accessible(phone)
        counts.append(len(posts))
        assert steps[-1] == ("Steg 6 av 6" if exposed else "Steg 4 av 4"), steps
        assert re.search(r"/s/[\w-]+$", phone.url)
        phone.locator('button.button[value="submit"]').click()
        expect(phone.locator("h1")).to_have_text("Tack för dina svar")
    # Only the summary page is fetched, whichever pages were shown.
    assert counts == [1, 1]
