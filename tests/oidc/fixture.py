"""A real OpenID provider for the SSO tests: tests/oidc/provider.js on Node.js (oidc-provider).

``start_provider`` installs the npm packages when they are missing (``npm ci``
from the committed package-lock.json), starts the provider on a free loopback
port and returns it; ``provider_login`` signs a test account in on it the way
a browser would, over plain HTTP, and returns the address the provider sends
the browser back to (the portal's callback with the code and state).

Without Node.js, npm or the package, the SSO tests are skipped with one line,
unless VARNA_REQUIRE_OIDC=1 (set by .ci/run), where that is an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest

HERE = Path(__file__).resolve().parent
REQUIRED = os.environ.get("VARNA_REQUIRE_OIDC") == "1"
CLIENT_ID = "varna"
OTHER_CLIENT_ID = "another-app"


def unavailable(reason: str):
    """Skip (or, when required, fail) with one clear line."""
    message = f"OpenID provider unavailable: {reason} (VARNA_REQUIRE_OIDC=1 makes this an error)"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


def _installed() -> bool:
    return (HERE / "node_modules" / "oidc-provider" / "package.json").is_file()


def _install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm not found (install Node.js 20 or newer with npm)")
    result = subprocess.run(  # noqa: S603 - npm from PATH, in our own folder
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not _installed():
        unavailable(f"`npm ci` in tests/oidc failed: {result.stderr.strip()[-300:]}")


@dataclass
class RunningProvider:
    issuer: str
    client_secret: str
    process: subprocess.Popen
    log: list[str]

    def stop(self) -> None:
        """Close its standard input (it exits), or kill it; close the pipes."""
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if not stream.closed:
                stream.close()


def start_provider(redirect_uris: list[str]) -> RunningProvider:
    """Start provider.js for ``redirect_uris``; skips (or fails) when it cannot run."""
    node = shutil.which("node")
    if node is None:
        unavailable("node not found (install Node.js 20 or newer)")
    if not _installed():
        _install()
    env = {**os.environ, "OIDC_REDIRECT_URIS": ",".join(redirect_uris)}
    process = subprocess.Popen(  # noqa: S603 - our own provider script on loopback
        [node, str(HERE / "provider.js")],
        cwd=HERE,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The provider's warnings (an in-memory store, the Node.js version) go to stderr,
    # kept for a failure message.
    log: list[str] = []
    threading.Thread(target=_drain, args=(process.stderr, log), daemon=True).start()
    first = _read_line(process, timeout=30)
    try:
        ready = json.loads(first)
    except ValueError:
        process.kill()
        process.wait(timeout=5)
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
        unavailable(f"provider.js did not start: {(first + ''.join(log)).strip()[-500:]}")
    threading.Thread(target=_drain, args=(process.stdout, log), daemon=True).start()
    return RunningProvider(ready["issuer"], ready["client_secret"], process, log)


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0] if line else ""


def _drain(stream, log: list[str]) -> None:
    for line in stream:
        log.append(line)


_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def provider_login(authorize_url: str, login: str, password: str, callback_prefix: str) -> str:
    """Sign ``login`` in at the provider, starting from ``authorize_url``, as a browser would.

    Returns the address the provider redirects to under ``callback_prefix``
    (the portal's callback with ``code`` and ``state``).
    """
    import requests

    browser = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            target = urljoin(url, response.headers["Location"])
            if target.startswith(callback_prefix):
                return target
            url, method, data = target, "GET", None
            continue
        match = _FORM_ACTION.search(response.text)
        if response.status_code != 200 or match is None:
            raise AssertionError(f"unexpected answer from the provider: {response.status_code}")
        url = urljoin(url, unescape(match.group(1)))
        method, data = "POST", {"login": login, "password": password}
    raise AssertionError("the provider did not send the browser back")
