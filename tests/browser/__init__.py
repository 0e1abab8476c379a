"""Browser tests (see conftest.py), and the Chromium they and the bench scripts use."""

import os

# Debian's Chromium (installed by .ci/run), launched headless and offline.
CHROMIUM = os.environ.get("VARNA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The start of the reason every browser test is skipped with when Chromium is missing:
# tests/conftest.py folds them into one line of the summary.
SKIP_PREFIX = "Chromium unavailable: "
