"""Shared fixtures: an app on a temporary SQLite file, its client and CLI runner."""

from __future__ import annotations

import pytest

from portal import create_app


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'varna.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
