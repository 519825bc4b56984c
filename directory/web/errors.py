"""One error shape for the whole API, HTML error pages for people.

API errors are ``{"error": {"code": ..., "message": ..., "details": {...}}}`` with a 4xx
status. A 500 is always a bug: it is logged with its traceback, the session is rolled back,
and the client gets the same shape without internals.

Two failures happen after Flask's error handlers have run, and are caught here too:
closing the request's database session when the connection died after the answer was made
(the answer stands; the pool drops the connection), and anything else that escapes the app,
which ``LastResort`` answers on API paths in the error shape rather than the server's HTML.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from directory.db import db


class ApiError(Exception):
    """An error the client can fix, reported with a machine-readable code."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


def invalid_parameter(name: str, message: str) -> ApiError:
    """A 400 naming the parameter at fault."""
    return ApiError(
        "invalid_parameter", f"{name}: {message}", details={"parameters": {name: [message]}}
    )


def error_response(
    code: str, message: str, status: int, details: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


# A database outage is logged once a minute, in one line: not a traceback per request.
OUTAGE_LOG_INTERVAL_S = 60.0
RETRY_AFTER_S = 5
_last_outage_log = 0.0


def _log_outage(app: Flask, error: OperationalError) -> None:
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= OUTAGE_LOG_INTERVAL_S:
        _last_outage_log = now
        # The class and SQLSTATE only: the statement could hold a searcher's position.
        reason = type(error.orig).__name__ if error.orig is not None else type(error).__name__
        code = getattr(error.orig, "pgcode", None) or "-"
        app.logger.error("database unavailable (%s, SQLSTATE %s); answering 503", reason, code)


def _rollback_quietly() -> None:
    """Roll the session back; on a dead connection that can fail too, and must not mask
    the answer."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def log_bug(logger: logging.Logger, error: BaseException, where: str) -> None:
    """Log an unexpected error with its traceback, never a searcher's values.

    A database error's message quotes the SQL around the fault (``LINE 1: SELECT
    ST_MakePoint(-92.26, 14.91)…``: psycopg2 writes the values into the SQL text), so for
    those the class, SQLSTATE and stack frames are logged, not the message.
    """
    if isinstance(error, DBAPIError):
        original = error.orig if error.orig is not None else error
        frames = "".join(traceback.format_tb(error.__traceback__))
        code = getattr(original, "pgcode", None) or "-"
        name = type(original).__name__
        logger.error("database error %s (SQLSTATE %s) on %s\n%s", name, code, where, frames)
    else:
        logger.error("unhandled error on %s", where, exc_info=error)


def close_session_safely(_error: BaseException | None = None) -> None:
    """End the request's session; a connection that died after the answer was made must
    not turn that answer into a 500. Registered after Flask-SQLAlchemy's own teardown, so
    it runs first and leaves nothing for that one to fail on."""
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        db.session.registry.clear()  # the pool has invalidated the dead connection
        logging.getLogger(__name__).warning(
            "database connection lost while closing a request's session (%s)",
            type(getattr(error, "orig", None) or error).__name__,
        )


class LastResort:
    """WSGI middleware: an exception that escapes the Flask app (a teardown, a middleware)
    answers API paths with the error shape, not the server's HTML page.

    Logged with its traceback and the path, never the query string.
    """

    BODY = json.dumps(
        {
            "error": {
                "code": "internal_error",
                "message": "Something went wrong on our side.",
                "details": {},
            }
        }
    ).encode()

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            return self.wsgi_app(environ, start_response)
        except Exception as error:
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/api/"):
                raise  # the server's own 500 page; pages are rendered by the app
            log_bug(logging.getLogger(__name__), error, f"{path} (outside the app)")
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(self.BODY))),
                ("Cache-Control", "private, no-store"),
            ]
            start_response("500 INTERNAL SERVER ERROR", headers, sys.exc_info())
            return [self.BODY]


def register(app: Flask) -> None:
    app.teardown_appcontext(close_session_safely)
    app.wsgi_app = LastResort(app.wsgi_app)  # type: ignore[method-assign]

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error.code, error.message, error.status, error.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if isinstance(error, InternalServerError):
            return handle_unexpected(error)
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        if _wants_json():
            return error_response(code, error.description or error.name, status)
        return render_template("error.html", status=status, title=error.name), status

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(error: OperationalError):
        """The database is down, restarting, or a statement ran out of time: a 503 that
        says to try again, at once (no retries that would hold the worker)."""
        _rollback_quietly()
        _log_outage(app, error)
        message = "The directory cannot answer right now; please try again in a few seconds."
        if _wants_json():
            response, status = error_response("unavailable", message, 503)
        else:
            page = render_template("error.html", status=503, title="Try again soon", text=message)
            response, status = app.make_response(page), 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response, status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _rollback_quietly()
        log_bug(app.logger, error, f"{request.method} {request.path}")
        if _wants_json():
            return error_response("internal_error", "Something went wrong on our side.", 500)
        return render_template("error.html", status=500, title="Internal error"), 500
