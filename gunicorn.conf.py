"""gunicorn's settings for `make serve` and production (gunicorn reads this file itself).

Every value can be set from the environment; the defaults suit a 2-core machine. Workers
time out well after the database's statement timeout (STATEMENT_TIMEOUT_MS, 10 s), so a
slow query is ended by the database, which answers 503, not by killing the worker.
"""

import os

from directory import privacy

bind = os.environ.get("BIND", "127.0.0.1:" + os.environ.get("PORT", "8000"))
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Bounded request lines and headers: a malformed or huge one is refused before the app.
limit_request_line = 8190
limit_request_fields = 60
# The path without the query string: searchers' positions and terms stay out of the log.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
# No control socket: gunicorn 27 puts one at ~/.gunicorn/gunicorn.ctl, shared by every
# gunicorn of the user, and nothing here uses it.
control_socket_disable = True


def on_starting(_server):
    """Redact query strings in the master's logs too (workers do it when the app loads)."""
    privacy.install()
