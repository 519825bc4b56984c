"""One error shape for the whole API, HTML error pages for people.

API errors are ``{"error": {"code": ..., "message": ..., "details": {...}}}`` with a 4xx
status. A 500 is always a bug: it is logged with its traceback, the session is rolled back,
and the client gets the same shape without internals.

Messages are in the request's language (the API: its ``Accept-Language``); ``code`` values
never change with it. Messages are made with gettext when the error is raised, within the
request; those defined once (``_l``) become text when the answer is made.

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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from directory.db import db


class ApiError(Exception):
    """An error the client can fix, reported with a machine-readable code.

    ``message`` is for people, in the request's language (made with gettext; a lazy string
    becomes text here); ``code`` is for programs and never translated."""

    def __init__(
        self,
        code: str,
        message: Any,
        *,
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        message = str(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


def invalid_parameter(name: str, message: Any) -> ApiError:
    """A 400 naming the parameter at fault; ``message`` is translated already."""
    message = str(message)
    return ApiError(
        "invalid_parameter",
        parameter_message(name, message),
        details={"parameters": {name: [message]}},
    )


def parameter_message(name: str, message: str) -> str:
    """``"lat: must be a number"``: the parameter (a name in the URL, never translated),
    then what is wrong with it."""
    # Translators: "lat: must be a number". %(parameter)s is a name in the URL (keep it as
    # it is); %(problem)s is what is wrong with its value, translated already.
    return _("%(parameter)s: %(problem)s", parameter=name, problem=message)


def error_response(
    code: str, message: str, status: int, details: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    response = jsonify(body)
    # The message is in the request's language, including on errors no view matched (404,
    # 405), which the language selection's own ``Vary`` does not reach.
    response.vary.add("Accept-Language")
    return response, status


SOMETHING_WENT_WRONG = _l("Something went wrong on our side.")
TRY_AGAIN = _l("The directory cannot answer right now; please try again in a few seconds.")
TOO_MANY_REQUESTS = _l("Too many requests from this device; please try again in a moment.")

# What people read for an HTTP error: the JSON ``message`` (werkzeug's description, in
# the reader's language) and the title of the HTML page. A description an error was raised
# with (not werkzeug's default) is the app's own, translated already.
HTTP_MESSAGES = {
    400: _l("The browser (or proxy) sent a request that this server could not understand."),
    403: _l(
        "You don't have the permission to access the requested resource. It is either "
        "read-protected or not readable by the server."
    ),
    404: _l(
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again."
    ),
    405: _l("The method is not allowed for the requested URL."),
    413: _l("The data value transmitted exceeds the capacity limit."),
    414: _l(
        "The length of the requested URL exceeds the capacity limit for this server. The "
        "request cannot be processed."
    ),
    415: _l("The server does not support the media type transmitted in the request."),
    429: TOO_MANY_REQUESTS,
    431: _l("One or more header fields exceeds the maximum size."),
}
HTTP_TITLES = {
    400: _l("Bad Request"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    413: _l("Request Entity Too Large"),
    414: _l("Request URI Too Large"),
    415: _l("Unsupported Media Type"),
    429: _l("Too Many Requests"),
    431: _l("Request Header Fields Too Large"),
}


def http_message(error: HTTPException) -> str:
    """The message of an HTTP error, in the reader's language."""
    status = error.code or 500
    default = type(error).description
    if error.description and error.description != default:
        return str(error.description)  # the app's own (the rate limiter's is translated)
    if status in HTTP_MESSAGES:
        return str(HTTP_MESSAGES[status])
    return str(error.description or error.name)


def http_title(error: HTTPException) -> str:
    status = error.code or 500
    return str(HTTP_TITLES[status]) if status in HTTP_TITLES else error.name


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
    """The JSON APIs (ours and the HSDS 3.0 API) answer errors in the JSON shape."""
    return request.path.startswith(("/api/", "/hsds/"))


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

    # Outside the app there is no request language: this one answer stays in English.
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
            return error_response(code, http_message(error), status)
        text = http_message(error) if status == 429 else None
        return render_template(
            "error.html", status=status, title=http_title(error), text=text
        ), status

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(error: OperationalError):
        """The database is down, restarting, or a statement ran out of time: a 503 that
        says to try again, at once (no retries that would hold the worker)."""
        _rollback_quietly()
        _log_outage(app, error)
        message = str(TRY_AGAIN)
        if _wants_json():
            response, status = error_response("unavailable", message, 503)
        else:
            page = render_template(
                "error.html", status=503, title=_("Try again soon"), text=message
            )
            response, status = app.make_response(page), 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response, status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _rollback_quietly()
        log_bug(app.logger, error, f"{request.method} {request.path}")
        if _wants_json():
            return error_response("internal_error", str(SOMETHING_WENT_WRONG), 500)
        return render_template("error.html", status=500, title=_("Internal error")), 500
