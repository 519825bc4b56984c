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

# The loggers that print request lines: the development server's, gunicorn's access log and
# gunicorn's error log ("Error handling request GET /…?lat=…", malformed request lines).
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
# Everything from "?" to the next white space: a query may hold quotes (O'Higgins). A "?"
# at the end of a word ("out of memory?") starts no query and is left alone.
_QUERY = re.compile(r"\?\S+")


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
