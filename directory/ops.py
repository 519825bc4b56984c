"""Probes for whoever runs the app: is the process alive, is this instance ready.

``/healthz`` touches nothing (a process that answers is alive); ``/readyz`` asks the
database (``directory.readiness``). Neither is cached, logged with data, or rate limited.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from directory.db import db
from directory.readiness import readiness
from directory.web import http

ops = Blueprint("ops", __name__)


@ops.get("/healthz")
@http.policy(http.SEARCH)  # never cached: a probe must see this instant
def healthz() -> Response:
    return jsonify({"status": "ok"})


@ops.get("/readyz")
@http.policy(http.SEARCH)
def readyz() -> tuple[Response, int]:
    state = readiness(db.session)
    body = {
        "status": "ready" if state.ready else "not_ready",
        "database": state.database,
        "migrations_at_head": state.migrated,
    }
    return jsonify(body), 200 if state.ready else 503
