"""The set-up contract: a test that needs a system program it cannot find is skipped with
one clear line, also when the suite runs in parallel, unless .ci/run requires it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(**env: str) -> subprocess.CompletedProcess:
    # On its own SQLite (the browser tests run in the SQLite pass), nothing required.
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VARNA_REQUIRE") and k != "VARNA_TEST_DATABASE_URL"
    }
    environment.update(env, VARNA_CHROMIUM="/nonexistent/chromium")
    return subprocess.run(  # noqa: S603 - this suite, on one of its own files
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "tests/browser/test_padding.py",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_without_chromium_the_browser_tests_are_skipped_with_one_line():
    run = _run()
    assert run.returncode == 0, run.stdout[-2000:]
    lines = [line for line in run.stdout.splitlines() if "Chromium unavailable" in line]
    assert len(lines) == 1, run.stdout[-2000:]
    assert lines[0].startswith("SKIPPED [")
    assert "/nonexistent/chromium" in lines[0]
    assert "VARNA_REQUIRE_BROWSER=1" in lines[0]


@pytest.mark.slow
def test_when_required_a_missing_chromium_fails_the_run_saying_why():
    run = _run(VARNA_REQUIRE_BROWSER="1")
    assert run.returncode != 0
    assert "VARNA_REQUIRE_BROWSER=1, but Chromium not found at /nonexistent/chromium" in (
        run.stdout
    )
