"""Shared fixtures: an app on a temporary SQLite file (or the PostgreSQL server
named by VARNA_TEST_DATABASE_URL), its client and CLI runner.

The suite runs in parallel with pytest-xdist (``-n logical --dist loadfile`` in
pyproject.toml; ``-n 0`` runs it in one process): a test file runs whole in one
worker, the browser tests all in one (``pytest_xdist_make_scheduler``), and on
PostgreSQL each worker has a database of its own.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from hypothesis import settings
from jinja2 import BytecodeCache

from portal import create_app
from portal.extensions import db
from tests.factories import FAST_ARGON2


def _worker_database(url: str | None) -> str | None:
    """The database of this pytest-xdist worker on the server of ``url`` (created when
    missing): every test empties its database's schema, so workers cannot share one.

    Set as VARNA_TEST_DATABASE_URL too, for the tests and programs that read it there.
    Outside xdist (``-n 0``), ``url`` itself.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    import psycopg2
    from psycopg2 import errors, sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor, contextlib.suppress(errors.DuplicateDatabase):
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    url = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ["VARNA_TEST_DATABASE_URL"] = url
    return url


POSTGRES_URL = _worker_database(os.environ.get("VARNA_TEST_DATABASE_URL"))


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept for the whole test process.

    Every test builds an app of its own, and each app's new Jinja environment compiled
    every template it rendered again: a third of the CPU time of a typical web test.
    All apps of the suite come from ``create_app`` and so configure Jinja alike (same
    loader, extensions, autoescaping; filters and globals are looked up when a template
    runs, not compiled in), so they can share the compiled code. Jinja keys it by the
    template's name and checks it against a checksum of the source, so an edited
    template is compiled again.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


# Flask passes jinja_options to every app's environment when it is created.
Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": CompiledTemplates()}

# Property tests: "quick" (the default) draws a fixed, repeatable set of
# examples so the suite stays fast; "thorough" (HYPOTHESIS_PROFILE=thorough,
# as in .ci/run) draws many more, at random. Tests that state their own
# max_examples keep it.
settings.register_profile("quick", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def reset_postgres(url: str) -> None:
    """Give the test an empty schema on the throwaway PostgreSQL server."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    connection.close()


@pytest.fixture
def app(tmp_path):
    url = POSTGRES_URL or f"sqlite:///{tmp_path / 'varna.sqlite3'}"
    if POSTGRES_URL:
        reset_postgres(POSTGRES_URL)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            **FAST_ARGON2,
        }
    )
    yield app
    if not db.is_closed():
        db.close()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_collection_modifyitems(config, items):
    """Tests about SQLite's own behaviour do not apply to a PostgreSQL run; the SSO tests
    are skipped, with one line per file, where the OpenID provider cannot run (unless
    VARNA_REQUIRE_OIDC=1: then their fixture fails them, saying why)."""
    if POSTGRES_URL:
        skip = pytest.mark.skip(reason="SQLite-specific (this run uses PostgreSQL)")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)
    from tests.oidc import fixture as oidc

    sso = [i for i in items if oidc.NEEDS_PROVIDER.intersection(getattr(i, "fixturenames", ()))]
    reason = oidc.problem() if sso and not oidc.REQUIRED else ""
    if reason:
        skip = pytest.mark.skip(reason=oidc.skip_message(reason))
        for item in sso:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """The SSO tests skipped for want of the OpenID provider make one line in the summary,
    and so do the browser tests skipped for want of Chromium.

    pytest folds skips per file, and keeps parametrized tests and skips raised in a
    fixture on lines of their own; these all have one reason, so they are shown once.
    """
    from tests import browser
    from tests.oidc import fixture as oidc

    folds = ((oidc.SKIP_PREFIX, oidc.HERE), (browser.SKIP_PREFIX, Path(browser.__file__).parent))
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if not (isinstance(longrepr, tuple) and len(longrepr) == 3):
            continue
        for prefix, where in folds:
            if prefix in longrepr[2]:
                report.longrepr = (str(where), None, longrepr[2])


# optionalhook: without pytest-xdist (-p no:xdist) pytest does not know this hook.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` (pyproject.toml), with the browser tests as one file.

    Each test file runs whole in one worker, so that its module-scoped fixtures are
    built once (the demo's database, a report published once, a PostgreSQL cluster);
    the browser tests share one portal server and one Chromium (session-scoped), so
    they run together in one worker too.
    """
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserAsOneFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/browser/"):
                return "tests/browser/"
            return super()._split_scope(nodeid)

    return BrowserAsOneFile(config, log)


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID provider (oidc-provider on Node.js) on loopback, for the SSO tests.

    Registered for the test apps' callback (BASE_URL's default). The browser tests
    start one of their own for their portal's port (``sso_portal``).
    """
    from tests.oidc.fixture import start_provider

    provider = start_provider(["http://127.0.0.1:5000/admin/sso/callback"])
    yield provider
    provider.stop()
