"""Browser tests (see conftest.py)."""

# The start of the reason every browser test is skipped with when Chromium is missing:
# tests/conftest.py folds them into one line of the summary.
SKIP_PREFIX = "Chromium unavailable: "
