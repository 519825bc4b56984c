"""Keeping searchers' positions and search terms out of every log.

A migrant's coordinates and what they searched for are never logged or stored. They travel
in query strings (``/api/v1/locations/nearest?lat=…&lon=…``, ``/near?q=…``), which access
logs print by default, and in tile paths (``/tiles/15/7395/14950.png`` says where somebody
looked on the map). So:

* every log record of the request loggers (and of the app's own logger, which names the
  path of a failed request) has its query strings and tile paths cut: ``GET /near?q=…``
  becomes ``GET /near?[redacted]``, ``GET /tiles/15/7395/14950.png`` becomes
  ``GET /tiles/[redacted]``;
* the engine is created with ``hide_parameters=True`` (see ``directory.config``), and
  database errors are logged without their message (``directory.web.errors``).

Behind gunicorn, use an access log format without the query string, e.g.
``access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s'`` (``%(U)s`` is the path only).
"""

from __future__ import annotations

import logging
import re

# The loggers that print request lines: the development server's, gunicorn's access log and
# gunicorn's error log ("Error handling request GET /…?lat=…", malformed request lines), and
# the one that names the path of a request that failed (directory.web.errors).
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "directory.web.errors")
# Everything from "?" to the next white space: a query may hold quotes (O'Higgins). A "?"
# at the end of a word ("out of memory?") starts no query and is left alone.
_QUERY = re.compile(r"\?\S+")


# From "/tiles/" to the next white space or quote (an access log quotes the request line).
_TILE_PATH = re.compile(r"/tiles/[^\s\"']*")


def redact_query_strings(text: str) -> str:
    """Replace every ``?query`` in ``text`` by ``?[redacted]``."""
    return _QUERY.sub("?[redacted]", text)


def redact_tile_paths(text: str) -> str:
    """Replace every ``/tiles/…`` path in ``text`` by ``/tiles/[redacted]``."""
    return _TILE_PATH.sub("/tiles/[redacted]", text)


class RedactSearches(logging.Filter):
    """A logging filter that removes query strings and tile paths from the record's final
    message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message or "/tiles/" in message:
            record.msg = redact_tile_paths(redact_query_strings(message))
            record.args = None
        return True


def install(*extra_loggers: str) -> None:
    """Add the filter to the request loggers and ``extra_loggers`` (an app's own), once
    each, however many apps are created."""
    for name in (*REQUEST_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSearches) for f in logger.filters):
            logger.addFilter(RedactSearches())
