"""Shared fixtures: an app on a temporary SQLite file (or the PostgreSQL server
named by VARNA_TEST_DATABASE_URL), its client and CLI runner."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from portal import create_app
from portal.extensions import db
from tests.factories import FAST_ARGON2

POSTGRES_URL = os.environ.get("VARNA_TEST_DATABASE_URL")

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
    """Tests about SQLite's own behaviour do not apply to a PostgreSQL run."""
    if not POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="SQLite-specific (this run uses PostgreSQL)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID provider (oidc-provider on Node.js) on loopback, for the SSO tests.

    Registered for the test apps' callback (BASE_URL's default) and the browser
    tests' portal (set by its fixture through VARNA_TEST_OIDC_REDIRECT).
    """
    from tests.oidc.fixture import start_provider

    uris = ["http://127.0.0.1:5000/admin/sso/callback"]
    uris += [u for u in os.environ.get("VARNA_TEST_OIDC_REDIRECT", "").split(",") if u]
    provider = start_provider(uris)
    yield provider
    provider.stop()
