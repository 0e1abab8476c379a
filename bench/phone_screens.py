"""Phone screens per page of the staff survey form (issue 19), measured in Chromium.

    python bench/phone_screens.py [--width 360] [--height 640]

Starts the portal on a temporary SQLite database on a loopback port, opens a
link-mode staff survey (the staff_threats template) and walks its pages in
Debian's Chromium (/usr/bin/chromium) on a phone of 360 × 640 CSS px, as two
staff members: one with nothing to report, and one threatened once (who gets
the follow-up pages). On every page it answers the required questions with
their first option and presses Next, up to the summary page (nothing is sent).
A page's phone screens are the height of the whole document divided by the
height of the screen. It walks the pages with JavaScript (the browser pages
itself) and without (the server pages), and prints every page's figure, the
median per walk and the median of all pages of both staff members with
JavaScript: the figure the README records.

tests/browser/test_respondent.py::test_phone_screens_per_page walks the pages
with the same function (``walk``) and bounds the median.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveys.definition import load_template  # noqa: E402 - after the path above
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

# A common phone in CSS pixels (the "360 px phone"), as the README records it.
PHONE = {"width": 360, "height": 640}
# The answers of someone who was threatened once: the follow-up pages come.
EXPOSED = "#exp_threats-once"
# A walk never has more pages than this (the staff survey has at most six).
MAX_PAGES = 10
STAFF = load_template("staff_threats")


def screens(page) -> float:
    """The height of the whole document in screens of this page's viewport."""
    return page.evaluate("document.documentElement.scrollHeight / window.innerHeight")


def answer_required(page) -> None:
    """The first option of every unconditional single choice on the page shown (the
    required questions of both templates are single choices without a condition)."""
    for item in STAFF.items():
        if item.kind == "single" and item.question.condition is None:
            inputs = page.locator(f'input[type="radio"][name="{item.key}"]:visible')
            if inputs.count():
                inputs.first.check()


def walk(page, url: str, exposed: bool) -> list[tuple[str, float]]:
    """Open the form at ``url`` and go through its pages up to the summary: the step and
    the phone screens of every page, the summary included. Works with JavaScript (the
    browser changes the page) and without (the server sends the next one)."""
    from playwright.sync_api import expect

    page.goto(url)
    walked: list[tuple[str, float]] = []
    for _ in range(MAX_PAGES):
        summary = page.locator("#summary-title").count() > 0
        if not summary:
            answer_required(page)
            if exposed and page.locator(EXPOSED).count():
                page.locator(EXPOSED).check()
        # Measured once answered, as sent (an answer may show a question on the page).
        step = page.locator("#step").inner_text()
        walked.append((step, screens(page)))
        if summary:
            return walked
        page.locator('button.button[value="next"]').click()
        # The step changes on every page but when an answer was refused (then this fails).
        expect(page.locator("#step")).not_to_have_text(step)
        expect(page.locator("#error-summary")).to_have_count(0)
        # A page the server sent is measured when it has loaded (its stylesheet applied).
        page.wait_for_load_state("load")
    raise AssertionError(f"the summary page was never reached: {walked}")


def median(figures: list[float]) -> float:
    return statistics.median(figures)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=PHONE["width"])
    parser.add_argument("--height", type=int, default=PHONE["height"])
    options = parser.parse_args()
    viewport = {"width": options.width, "height": options.height}
    if not os.access(CHROMIUM, os.X_OK):
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    instance = Path(tempfile.mkdtemp(prefix="varna-screens-"))
    port = free_port()
    env = {
        **os.environ,
        "VARNA_INSTANCE_PATH": str(instance),
        "VARNA_SECRET_KEY": "phone-screens",
        "VARNA_HOST": "127.0.0.1",
        "VARNA_PORT": str(port),
    }
    env.pop("VARNA_DATABASE_URL", None)
    os.environ.update(env)
    from playwright.sync_api import sync_playwright

    from portal import create_app, store
    from portal.extensions import db
    from tests.factories import give_key

    app = create_app()
    with app.app_context(), db.connection_context():
        survey = store.create_survey(
            STAFF,
            title_sv="Trygg på jobbet 2026",
            title_en="Safe at work 2026",
            access="link",
        )
        give_key(survey)  # as HR does before opening (the key is not needed here again)
        store.set_status(survey, "open")
    server = subprocess.Popen(  # noqa: S603 - our own portal on loopback
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/s/{survey.slug}"
        print(f"Staff survey on a {viewport['width']} × {viewport['height']} CSS px phone")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            headline: list[float] = []
            for javascript in (True, False):
                context = browser.new_context(
                    viewport=viewport,
                    is_mobile=True,
                    has_touch=True,
                    java_script_enabled=javascript,
                )
                page = context.new_page()
                for exposed in (False, True):
                    walked = walk(page, url, exposed)
                    figures = [figure for _, figure in walked]
                    if javascript:
                        headline += figures
                    who = "threatened once" if exposed else "nothing to report"
                    script = "with JavaScript" if javascript else "without JavaScript"
                    print(f"\n{who}, {script}:")
                    for step, figure in walked:
                        print(f"  {step:<14} {figure:4.1f} screens")
                    print(f"  median         {median(figures):4.1f} screens")
                context.close()
            browser.close()
        print(
            f"\nMedian of every page of both, with JavaScript: {median(headline):.1f} screens "
            f"(pages of {min(headline):.1f}–{max(headline):.1f})"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
