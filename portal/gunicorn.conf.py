"""gunicorn settings for Värna: ``gunicorn -c portal/gunicorn.conf.py app:app``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os

bind = os.environ.get("VARNA_BIND", "127.0.0.1:8000")
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
loglevel = os.environ.get("VARNA_LOG_LEVEL", "info")
# Headers a TLS-terminating proxy sets; only the scheme is honoured (VARNA_BEHIND_PROXY).
forwarded_allow_ips = os.environ.get("VARNA_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Files the workers create (the SQLite database, its WAL and journal) are
# readable by the portal's user only; create_app sets the same umask.
umask = 0o077
# Bound the damage of oversized requests before Flask sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
