"""gunicorn settings for Värna: ``gunicorn -c portal/gunicorn.conf.py app:app``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import logging
import os
import re

from gunicorn.glogging import Logger

# The default is put in the environment too: create_app (preloaded below, after this file)
# takes printed links from it when VARNA_BASE_URL is not set (portal.config.default_base_url),
# so that slips and the CLI print the address gunicorn really listens on. Give the address
# as VARNA_BIND rather than --bind, or set VARNA_BASE_URL.
bind = os.environ.setdefault("VARNA_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("VARNA_WORKERS", "4"))
threads = int(os.environ.get("VARNA_THREADS", "1"))
timeout = 30
graceful_timeout = 20
# The app opens no database connection at import time, so preloading is safe
# and lets a bad configuration fail once, in the master, before forking.
preload_app = True
# No access log: request lines would hold client addresses and survey paths.
accesslog = None
errorlog = "-"

# gunicorn's own error log names the client in some messages ("Invalid request
# from ip=…" for a malformed request). Every message it writes passes this
# filter, which removes anything that looks like an IPv4 or IPv6 address; only
# the server's own "Listening at" line keeps the address it binds to.
_ADDRESS = re.compile(
    r"(?:ip=\S+?(?=:\s|\s|$))"
    r"|(?:\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b)"
    r"|(?:\[?\b(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b\]?)"
)


class _NoAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Listening at"):
            record.msg = _ADDRESS.sub("[address not logged]", message)
            record.args = ()
        return True


class AddressFreeLogger(Logger):
    """gunicorn's logger with every client address removed from the error log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(_NoAddresses())


logger_class = AddressFreeLogger
loglevel = os.environ.get("VARNA_LOG_LEVEL", "info")
# Headers a TLS-terminating proxy sets are interpreted by the app (VARNA_BEHIND_PROXY).
forwarded_allow_ips = os.environ.get("VARNA_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Files the workers create (the SQLite database, its WAL and journal) are
# readable by the portal's user only; create_app sets the same umask.
umask = 0o077
# Bound the damage of oversized requests before Flask sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
