"""The development server for ``python app.py``: loopback only, no client addresses in its log."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.serving import WSGIRequestHandler


class AnonymousRequestHandler(WSGIRequestHandler):
    """Logs method, path without query string, and status: never the client's address."""

    def log_request(self, code="-", size="-") -> None:
        path = self.path.split("?", 1)[0]
        self.log_message('"%s %s" %s', self.command, path, code)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - werkzeug's signature
        print(format % args, flush=True)

    def address_string(self) -> str:
        return "-"


def run_development_server(app: Flask) -> None:
    """Serve on 127.0.0.1 (``VARNA_HOST``/``VARNA_PORT`` override) with the embedded database."""
    host = os.environ.get("VARNA_HOST", "127.0.0.1")
    port = int(os.environ.get("VARNA_PORT", "5000"))
    app.run(host=host, port=port, request_handler=AnonymousRequestHandler, use_reloader=False)
