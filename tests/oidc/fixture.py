"""A real OpenID provider for the SSO tests: tests/oidc/provider.js on Node.js (oidc-provider).

``start_provider`` installs the npm packages when they are missing (``npm ci``
from the committed package-lock.json), starts the provider on a free loopback
port and returns it; ``provider_login`` signs a test account in on it the way
a browser would, over plain HTTP, and returns the address the provider sends
the browser back to (the portal's callback with the code and state).

Without Node.js (20 or newer), npm or the package, the SSO tests are skipped
with one line, unless VARNA_REQUIRE_OIDC=1 (set by .ci/run), where that is an
error. ``problem`` finds out cheaply (no install, no start) at collection
(tests/conftest.py), so the tests that need the provider (``NEEDS_PROVIDER``)
are skipped by a mark, which pytest folds into one line per file; a failure
found only later (``npm ci`` or the provider's start failing) skips or fails
with one line too.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
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
MIN_NODE = 20  # oidc-provider 9 needs Node.js 20 or newer
# The fixtures that start the provider: tests using them are skipped when it cannot run.
NEEDS_PROVIDER = frozenset({"oidc_provider", "sso_portal"})


SKIP_PREFIX = "OpenID provider unavailable: "


def skip_message(reason: str) -> str:
    """The one line that says why the SSO tests did not run (whitespace folded)."""
    reason = " ".join(reason.split())
    return f"{SKIP_PREFIX}{reason} (VARNA_REQUIRE_OIDC=1 makes this an error)"


def unavailable(reason: str):
    """Skip (or, when required, fail) with one clear line."""
    if REQUIRED:
        pytest.fail(skip_message(reason))
    pytest.skip(skip_message(reason))


@functools.cache
def _node_major(node: str) -> int | None:
    try:
        result = subprocess.run(  # noqa: S603 - node from PATH, asked its version
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"v(\d+)\.", result.stdout.strip())
    return int(match.group(1)) if match else None


def problem() -> str:
    """Why the provider cannot run on this machine, or '' (no install, no start: cheap)."""
    node = shutil.which("node")
    if node is None:
        return f"node not found (install Node.js {MIN_NODE} or newer with npm)"
    major = _node_major(node)
    if major is None or major < MIN_NODE:
        found = f"Node.js {major}" if major is not None else f"{node} (no version)"
        return f"{found} is too old: oidc-provider needs Node.js {MIN_NODE} or newer"
    if not _installed() and shutil.which("npm") is None:
        return "npm not found and tests/oidc/node_modules missing (install npm, or `npm ci` there)"
    return ""


def _installed() -> bool:
    return (HERE / "node_modules" / "oidc-provider" / "package.json").is_file()


def _install() -> None:
    """``npm ci`` from the lock file, once: test workers starting together wait for each other."""
    npm = shutil.which("npm")
    if npm is None:
        unavailable(f"npm not found (install Node.js {MIN_NODE} or newer with npm)")
    folder = hashlib.sha256(str(HERE).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"varna-oidc-npm-{folder}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():  # another worker installed it while this one waited
            return
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
    reason = problem()
    if reason:
        unavailable(reason)
    node = shutil.which("node") or "node"
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
