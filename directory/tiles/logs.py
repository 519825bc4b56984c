"""Keeping tile coordinates out of the request logs.

A tile's ``z/x/y`` is a place: ``GET /tiles/15/7395/14950.png`` in an access log says where
somebody looked, as much as ``/near?lat=…`` would. ``directory.privacy`` cuts query strings
from the request loggers; this filter, on the same loggers and the app's own, replaces
every tile path by ``/tiles/[redacted]`` (``GET /tiles/[redacted] HTTP/1.1`` 200).
"""

from __future__ import annotations

import logging
import re

# The development server's request log, gunicorn's access and error logs, and the loggers
# that name the path of a request that failed (directory.web.errors).
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "directory.web.errors")
# From "/tiles/" to the next white space or quote (an access log quotes the request line).
_TILE_PATH = re.compile(r"/tiles/[^\s\"']*")


def redact_tile_paths(text: str) -> str:
    """Replace every ``/tiles/…`` path in ``text`` by ``/tiles/[redacted]``."""
    return _TILE_PATH.sub("/tiles/[redacted]", text)


class RedactTilePaths(logging.Filter):
    """A logging filter that removes tile coordinates from the record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/tiles/" in message:
            record.msg = redact_tile_paths(message)
            record.args = None
        return True


def install(*extra_loggers: str) -> None:
    """Add the filter to the request loggers and ``extra_loggers`` (the app's), once."""
    for name in (*REQUEST_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTilePaths) for f in logger.filters):
            logger.addFilter(RedactTilePaths())
