"""The Flask application. ``create_app`` is the only place where the parts are wired together.

Layers (the import direction is enforced by tests/test_architecture.py):
``portal.web`` (HTTP) → ``portal.services`` and ``portal.reports`` (rules, plain
functions) → ``portal.store`` (the only queries) → ``surveys`` (the pure domain).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from flask import Flask, request
from peewee import SqliteDatabase

from portal import cli, config, files
from portal.extensions import babel, csrf, db
from portal.services import passwords
from portal.store import database, inbox, migrations
from portal.web import admin, board, errors, health, respond, security, templating
from portal.web.locale import select_locale


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``test_config`` overrides the environment."""
    test_config = dict(test_config or {})
    instance_path = test_config.pop("INSTANCE_PATH", None) or os.environ.get("VARNA_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.from_mapping(config.DEFAULTS)
    app.config.update(config.from_environment())
    app.config.update(test_config)
    files.protect_instance(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = config.default_database_url(app.instance_path)
    if not app.config.get("BASE_URL"):
        app.config["BASE_URL"] = config.default_base_url()

    # peewee logs every query with its parameters at DEBUG: response ids and free
    # text would reach the log. Its warnings and errors still pass.
    logging.getLogger("peewee").setLevel(logging.WARNING)
    _init_database(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)

    passwords.init_app(app)
    security.register(app)
    app.register_blueprint(respond.bp)
    app.register_blueprint(admin.create_blueprint())
    app.register_blueprint(board.bp)
    app.register_blueprint(health.bp)
    errors.register(app)
    cli.register(app)
    templating.register(app)
    return app


# The connection the requests of this thread opened (kept open on SQLite), so that a
# request never closes a connection that a command or a test opened around it.
_requests_connection = threading.local()


def _init_database(app: Flask) -> None:
    connection = database.open_database(
        app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )
    db.initialize(connection)
    inbox.configure(app.config["SECRET_KEY"], app.config["MIX_BATCH"])
    # The connection is opened here only to create missing tables, and closed at
    # once: no connection may survive into gunicorn's forked workers.
    with db.connection_context():
        migrations.migrate()
    files.protect_database(app.config["DATABASE_URL"])
    # A pool keeps "closed" connections for reuse: empty it, or gunicorn's
    # workers would inherit and share one socket after the fork.
    if hasattr(connection, "close_all"):
        connection.close_all()

    sqlite = isinstance(connection, SqliteDatabase)

    @app.before_request
    def _connect() -> None:
        if request.endpoint != "static":
            # Only a connection that requests opened is given back or kept by them: a
            # request context pushed inside a command's or test's own connection
            # (connection_context) leaves that connection to its owner.
            opened = db.is_closed()
            database.connect_checked()
            if opened:
                _requests_connection.raw = db.connection()

    @app.teardown_request
    def _release(exc: BaseException | None) -> None:
        """Give the connection back after each request, also after an error.

        PostgreSQL: back to the pool (the socket stays open for the next request).
        SQLite: the connection stays open for this worker's next request, so its
        pragmas are not paid again per request; it is opened in the first request
        after gunicorn forks, never before. A transaction left open by a failed
        request is rolled back, so no lock outlives the request.
        """
        if db.is_closed() or getattr(_requests_connection, "raw", None) is not db.connection():
            return
        if sqlite and not app.config.get("CLOSE_CONNECTION_PER_REQUEST"):
            if db.connection().in_transaction:
                db.connection().rollback()
            return
        _requests_connection.raw = None
        db.close()
