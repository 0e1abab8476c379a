"""Browser tests: the portal under its own server on a loopback port, driven by Chromium.

Chromium comes from Debian's package (/usr/bin/chromium, installed by .ci/run).
Without it the browser tests are skipped with one line in the summary, unless
VARNA_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser fails the run.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal.config import ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_TIME_COST
from tests.browser import CHROMIUM, CHROMIUM_ARGS, SKIP_PREFIX

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _chromium_missing() -> str:
    """Why Chromium cannot be used here, or '' when it can."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return ""
    return (
        f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
        "(apt-get install chromium) or set VARNA_CHROMIUM to its path"
    )


def pytest_collection_modifyitems(config, items):
    """Skip the browser tests, with one line in the summary (tests/conftest.py folds them),
    when Chromium is missing, unless VARNA_REQUIRE_BROWSER=1: then they fail, saying why."""
    missing = _chromium_missing()
    if not missing:
        return
    browser = [item for item in items if BROWSER_TESTS in Path(str(item.path)).parents]
    if not browser:
        return
    if os.environ.get("VARNA_REQUIRE_BROWSER") == "1":
        return  # they run and fail, saying why (the browser fixture); also under xdist
    skip = pytest.mark.skip(
        reason=f"{SKIP_PREFIX}{missing} (VARNA_REQUIRE_BROWSER=1 makes this an error)"
    )
    for item in browser:
        item.add_marker(skip)


# The cheapest Argon2 parameters the portal accepts from its environment (OWASP's minimum,
# portal.config), for the server and for the set-up app that makes its accounts, so that
# logins need no rehash: the production default (64 MiB, t=3, p=4) cost about 0.2 s of CPU
# per hash, paid for every account a browser test makes and every login.
BROWSER_ARGON2 = {
    "ARGON2_MEMORY_COST": ARGON2_MIN_MEMORY_KIB,
    "ARGON2_TIME_COST": ARGON2_MIN_TIME_COST,
    "ARGON2_PARALLELISM": 1,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Portal:
    """A running portal: its base URL and an app object on the same database for set-up."""

    def __init__(self, base_url: str, app, log: Path):
        self.base_url = base_url
        self.app = app
        self.log = log
        self._checked = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def server_errors(self) -> str:
        """The server's log since the last call when a request in it ended in a 500, else ''."""
        with self.log.open("rb") as log:
            log.seek(self._checked)
            text = log.read().decode(errors="replace")
            self._checked = log.tell()
        return text if re.search(r'^".*" 500$', text, re.MULTILINE) else ""


@contextmanager
def running_portal(instance: Path, port: int | None = None, **env_extra: str):
    """The portal (app.py) on a loopback port with its data in ``instance``; ``env_extra``
    adds VARNA_* settings. Yields a Portal; the server stops afterwards, and a request
    that ended in a 500 fails the test run."""
    from portal import create_app

    port = port or free_port()
    env = {
        **os.environ,
        "VARNA_INSTANCE_PATH": str(instance),
        "VARNA_SECRET_KEY": "browser-test-secret",
        "VARNA_PORT": str(port),
        "VARNA_HOST": "127.0.0.1",
        **{f"VARNA_{key}": str(value) for key, value in BROWSER_ARGON2.items()},
        **env_extra,
    }
    env.pop("VARNA_DATABASE_URL", None)
    env.pop("VARNA_TEST_DATABASE_URL", None)
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(  # noqa: S603 - our own portal on loopback
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log.close()
                output = (instance / "server.log").read_text(errors="replace")
                pytest.fail(f"the portal did not start:\n{output}")
            time.sleep(0.1)
    app = create_app(
        {
            "SECRET_KEY": "browser-test-secret",
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'varna.sqlite3'}",
            **BROWSER_ARGON2,
        }
    )
    running = Portal(base_url, app, instance / "server.log")
    try:
        yield running
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    errors = running.server_errors()
    assert not errors, f"a request ended in a 500:\n{errors}"


@pytest.fixture(scope="session")
def portal(tmp_path_factory):
    with running_portal(tmp_path_factory.mktemp("browser-instance")) as running:
        yield running


@pytest.fixture(autouse=True)
def no_server_error(portal):
    """No request of the test ended in a 500 (a page an axe run would still find accessible)."""
    portal.server_errors()
    yield
    errors = portal.server_errors()
    assert not errors, f"a request ended in a 500:\n{errors}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    missing = _chromium_missing()
    if missing:
        pytest.fail(f"VARNA_REQUIRE_BROWSER=1, but {missing}", pytrace=False)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any failure to start is a test failure
            pytest.fail(f"Chromium could not start from {CHROMIUM}: {exc}")
        yield chromium
        chromium.close()


@contextmanager
def new_page(browser, **options):
    """A page in a browser context of its own (viewport, JavaScript …), closed afterwards."""
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser):
    with new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True) as page:
        yield page


@pytest.fixture
def desktop(browser):
    with new_page(browser, viewport=DESKTOP) as page:
        yield page


@pytest.fixture
def no_javascript(browser):
    with new_page(browser, viewport=PHONE, java_script_enabled=False) as page:
        yield page


AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    # Every node of a violation is reported; passes are only counted (on the long board
    # pages, serialising every passing node would cost seconds per run).
    "resultTypes": ["violations"],
}


def assert_accessible(page, media: str = "screen") -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on the page as it is now.

    With ``media="print"`` the page is audited as printed: its print stylesheet applies
    (contrast of what is left on paper, what is hidden), and the screen is restored afterwards.
    """
    from axe_playwright_python.sync_playwright import Axe

    if media not in ("screen", "print"):
        raise ValueError(f"unknown media {media!r}")
    page.emulate_media(media=media)
    try:
        results = Axe().run(page, options=AXE_OPTIONS)
    finally:
        page.emulate_media(media="screen")
    violations = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in results.response["violations"]
    ]
    violations += heading_problems(page)
    assert not violations, f"{page.url} ({media}):\n" + "\n".join(violations)


# The levels of the page's headings in document order (hidden ones too: a screen reader's
# heading list follows the markup, and conditional questions appear and disappear).
_HEADINGS = "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1])"


def heading_problems(page) -> list[str]:
    """One h1, first, and no level skipped on the way down (axe counts heading order as
    a best practice outside the WCAG tags it runs, so it is checked here)."""
    levels = page.evaluate(_HEADINGS)
    problems = []
    if levels.count(1) != 1 or levels[0] != 1:
        problems.append(f"heading structure: expected one h1, first; levels {levels}")
    for before, after in zip(levels, levels[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading structure: h{before} followed by h{after}; levels {levels}")
            break
    return problems


def pass_second_factor(page, portal, email: str) -> None:
    """On the code page after the password, enter the account's current TOTP code (accounts
    made by ``tests.factories.make_user`` have a known secret), as a person would."""
    from playwright.sync_api import expect

    from tests.factories import totp_code

    expect(page).to_have_url(portal.url("/admin/login/code"))
    page.locator("#code").fill(totp_code(portal.app, email))
    page.locator("#code").press("Enter")
