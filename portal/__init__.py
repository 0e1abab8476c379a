"""The Flask application: configuration, extensions, blueprints and error pages."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from flask import Flask, g, request, session
from flask_babel import get_locale

from portal import config as config_module
from portal.extensions import babel, csrf, db

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``test_config`` overrides the environment."""
    test_config = dict(test_config or {})
    instance_path = test_config.pop("INSTANCE_PATH", None) or os.environ.get("VARNA_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.update(config_module.from_environment())
    app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key(app.instance_path)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = config_module.default_database_url(app.instance_path)

    # peewee logs every query with its parameters at DEBUG: response ids and free
    # text would reach the log. Its warnings and errors still pass.
    logging.getLogger("peewee").setLevel(logging.WARNING)
    _init_database(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)

    from portal import admin, errors, health, passwords, respond, security

    passwords.init_app(app)
    security.register(app)
    app.register_blueprint(respond.bp)
    from portal.admin import surveys as _survey_pages  # noqa: F401 - adds its views to admin.bp

    app.register_blueprint(admin.bp)
    from portal import board

    app.register_blueprint(board.bp)
    app.register_blueprint(health.bp)
    errors.register(app)

    from portal import cli, templating

    cli.register(app)
    templating.register(app)
    return app


def select_locale() -> str:
    """The visitor's language: ``?lang=`` (remembered for the visit), then the session, then sv."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    remembered = session.get("lang")
    if remembered in languages:
        return remembered
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The language code of the current request (``sv`` or ``en``)."""
    return str(get_locale() or "sv")


def current_date() -> dt.date:
    """Today's date where the portal is used (BABEL_DEFAULT_TIMEZONE), for the survey schedule.

    Tests set ``TODAY`` in the config, or move the injectable clock.
    """
    from zoneinfo import ZoneInfo

    from flask import current_app

    from portal import clock

    if current_app.config.get("TODAY"):
        return current_app.config["TODAY"]
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return clock.utcnow().replace(tzinfo=dt.UTC).astimezone(zone).date()


def _init_database(app: Flask) -> None:
    from portal import store

    database = store.open_database(
        app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )
    db.initialize(database)
    # The connection is opened here only to create missing tables, and closed at
    # once: no connection may survive into gunicorn's forked workers.
    from portal import migrations

    with db.connection_context():
        migrations.migrate()
    # A pool keeps "closed" connections for reuse: empty it, or gunicorn's
    # workers would inherit and share one socket after the fork.
    if hasattr(database, "close_all"):
        database.close_all()

    @app.before_request
    def _connect() -> None:
        if request.endpoint != "static":
            db.connect(reuse_if_open=True)
            g.db_connected = True

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not db.is_closed():
            db.close()
