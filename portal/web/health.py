"""Health check for load balancers: the application answers and the database is reachable."""

from __future__ import annotations

from flask import Blueprint

from portal import store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 "ok" when the database answers, else 503."""
    if store.database_ok():
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return "database unavailable\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
