"""Screenshots of the main pages at phone and desktop width, for review.

    python bench/screenshots.py [OUTPUT_DIR]      # default: ./screenshots

Starts the portal on a temporary SQLite database on a loopback port, creates
an open survey (link and codes mode) and the demo data of ``flask --app app
demo`` (published staff surveys and an exit questionnaire, about half a
minute), and writes PNG files with Debian's Chromium (/usr/bin/chromium) of
the respondent pages, the HR pages (logged in as the demo administrator), the
board reports (the summary on screen and on a phone) and the public results
page. The board report is also printed as Chromium prints it (A4, the
stylesheet's own margins, the print stylesheet), in Swedish and English: the
whole all-staff report and the summary alone as PDF files with their page
counts, and the summary as printed in a PNG at the width of an A4 page.
Prints the files it wrote. The files are for review, not for the repository
(``screenshots/`` is ignored by git).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - after the path above

SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}
# The width of an A4 page inside the stylesheet's print margins (210 mm − 2 × 13 mm), in CSS px.
A4_CONTENT = {"width": 695, "height": 1000}
# Everything after the summary: left out to print the summary alone.
AFTER_SUMMARY = (
    "document.querySelectorAll('.toc, .report-section.full, #comments, .method')"
    ".forEach(e => e.remove())"
)


def fresh_code(secret: str, used_steps: list[int]) -> str:
    """A TOTP code of a time step not used yet (the portal accepts each step once)."""
    from portal.services import mfa

    while used_steps and int(time.time()) // mfa.INTERVAL <= used_steps[-1]:
        time.sleep(1)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    used_steps.append(int(time.time()) // mfa.INTERVAL)
    return mfa.code_at(secret, now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", nargs="?", default="screenshots")
    out = Path(parser.parse_args().output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    instance = Path(tempfile.mkdtemp(prefix="varna-shots-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "VARNA_INSTANCE_PATH": str(instance),
        "VARNA_SECRET_KEY": "shots",
        "VARNA_PORT": str(port),
    }
    os.environ.update(env)
    from playwright.sync_api import sync_playwright

    from portal import create_app, store
    from portal.extensions import db
    from portal.services import mfa
    from portal.services.demo import set_up_demo
    from surveys.definition import load_template
    from tests.factories import give_key

    app = create_app()
    with app.app_context(), db.connection_context():
        link = store.create_survey(
            load_template("staff_threats"),
            title_sv="Trygg på jobbet 2026",
            title_en="Safe at work 2026",
            access="link",
        )
        give_key(link)  # as HR does before opening
        store.set_status(link, "open")
        codes = store.create_survey(
            load_template("exit"),
            title_sv="Avslutningsenkät",
            title_en="Exit questionnaire",
            access="codes",
        )
        give_key(codes)
        store.set_status(codes, "open")
    with app.test_request_context(), db.connection_context():
        demo = set_up_demo(dt.date.today())
        staff, exit_survey = (
            next(s for s in demo.published() if s.template == template)
            for template in ("staff_threats", "exit")
        )
        # The demo administrator as after its first login: a second factor enrolled and
        # its generated password kept (the screenshots show the pages behind the login).
        admin = store.get_user_by_email(demo.account.email)
        secret = mfa.new_secret()
        encrypted = mfa.encrypt_secret(app.config["SECRET_KEY"], admin.id, secret)
        store.set_totp(admin.id, encrypted, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        store.set_must_change_password(admin.id, False)
        store.set_public_results(staff, True)  # the public page of headline indicators
    server = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,  # noqa: S603
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        pages = {
            "start": "/",
            "privacy": "/privacy",
            "survey": f"/s/{link.slug}",
            "survey-en": f"/s/{link.slug}?lang=en",
            "code": f"/s/{codes.slug}",
            "results-public": f"/results/{staff.slug}",
        }
        used_steps: list[int] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size, viewport in SIZES.items():
                page = browser.new_page(viewport=viewport)
                for name, path in pages.items():
                    page.goto(base + path)
                    target = out / f"{name}-{size}.png"
                    page.screenshot(path=target, full_page=name != "survey")
                    print(target)
                page.goto(base + f"/s/{link.slug}")
                page.locator('button.button[value="next"]').click()
                page.wait_for_load_state()
                target = out / f"survey-errors-{size}.png"
                page.screenshot(path=target)
                print(target)
                page.goto(base + "/admin/login?lang=sv")  # the survey-en page chose English
                page.locator("#email").fill(demo.account.email)
                page.locator("#password").fill(demo.account.password)
                page.locator("#password").press("Enter")
                page.wait_for_url("**/admin/login/code")
                page.locator("#code").fill(fresh_code(secret, used_steps))
                page.locator("#code").press("Enter")
                page.wait_for_load_state()
                for name, path in admin_pages(staff.slug, exit_survey.slug).items():
                    page.goto(base + path)
                    target = out / f"{name}-{size}.png"
                    page.screenshot(path=target, full_page=not name.startswith("board-report"))
                    print(target)
                if size == "desktop":
                    print_views(page, base, staff.slug, out)
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


def pdf_pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def print_views(page, base: str, slug: str, out: Path) -> None:
    """The board report as Chromium prints it (A4, the stylesheet's margins, print media):
    the compact all-staff report and the summary alone, in Swedish and English, with their
    page counts; and the summary as printed, in a PNG at the width of an A4 page."""
    page.set_viewport_size(A4_CONTENT)
    page.emulate_media(media="print")
    try:
        for lang in ("sv", "en"):
            page.goto(base + f"/board/{slug}?by=all&lang={lang}")
            target = out / f"board-report-print-{lang}.pdf"
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            target.write_bytes(pdf)
            print(target, pdf_pages(pdf), "pages (all staff)")
            page.evaluate(AFTER_SUMMARY)
            target = out / f"board-report-summary-{lang}.pdf"
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            target.write_bytes(pdf)
            print(target, pdf_pages(pdf), "pages (the summary)")
            target = out / f"board-report-summary-print-{lang}.png"
            page.screenshot(path=target, full_page=True)
            print(target)
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size(SIZES["desktop"])


def admin_pages(staff: str, exit_survey: str) -> dict[str, str]:
    """The HR and board pages to show, by file name."""
    return {
        "admin-overview": "/admin/",
        "admin-surveys": "/admin/surveys",
        "admin-survey": f"/admin/surveys/{staff}",
        "admin-new-survey": "/admin/surveys/new",
        "admin-sessions": "/admin/sessions",
        "board-reports": "/board/",
        "board-report": f"/board/{staff}",
        "board-report-by-role": f"/board/{staff}?by=role",
        "board-report-exit": f"/board/{exit_survey}",
        "board-report-contents": f"/board/{staff}#toc-title",
        "admin-results": f"/admin/surveys/{staff}/results?by=unit",
    }


if __name__ == "__main__":
    sys.exit(main())
