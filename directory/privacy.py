"""Keeping searchers' positions and search terms out of every log.

A migrant's coordinates and what they searched for are never logged or stored. They travel
in query strings (``/api/v1/locations/nearest?lat=…&lon=…``, ``/near?q=…``), which access
logs print by default, and in SQL parameters, which SQLAlchemy prints in error messages.
So:

* every log record of the request loggers has its query strings cut
  (``GET /near?q=… HTTP/1.1`` becomes ``GET /near?[redacted] HTTP/1.1``);
* the engine is created with ``hide_parameters=True`` (see ``directory.config``).

Behind gunicorn, use an access log format without the query string, e.g.
``access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s'`` (``%(U)s`` is the path only).
"""

from __future__ import annotations

import logging
import re

# The logger the development server writes its access log to.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")
_QUERY = re.compile(r"\?[^\s\"']*")


def redact_query_strings(text: str) -> str:
    """Replace every ``?query`` in ``text`` by ``?[redacted]``."""
    return _QUERY.sub("?[redacted]", text)


class RedactQueryStrings(logging.Filter):
    """A logging filter that removes query strings from the record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = redact_query_strings(message)
            record.args = None
        return True


def install() -> None:
    """Add the filter to the request loggers (once, however many apps are created)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
            logger.addFilter(RedactQueryStrings())
