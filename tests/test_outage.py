"""When the database cannot answer: a 503 that says to try again, never a 500 or a hang.

A database that is down (here: nothing listens on the port), restarting, or a statement
that runs past ``statement_timeout`` all answer 503 with ``Retry-After``: the error shape on
API paths, a page on the others, and one log line per outage instead of a traceback per
request.
"""

from __future__ import annotations

import logging
import socket
import time

import pytest
from sqlalchemy import text

from directory import cli
from directory.config import engine_options
from directory.db import db
from directory.web import errors
from tests.conftest import make_test_app


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def down_client(test_database, monkeypatch):
    monkeypatch.setattr(errors, "_last_outage_log", 0.0)
    down = test_database.set(host="127.0.0.1", port=_closed_port())
    app = make_test_app(down)
    return app.test_client()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/locations/nearest?lat=14.9&lon=-92.26",
        "/api/v1/towns?q=Tapachula",
        "/api/v1/routes",
    ],
)
def test_an_api_call_during_an_outage_is_a_quick_503_in_the_error_shape(down_client, url):
    started = time.monotonic()
    response = down_client.get(url)
    # No hang: nothing waits for the 3 s connect timeout, let alone a worker's 30 s. (A
    # bound, not a speed figure: those come from bench/.)
    assert time.monotonic() - started < 3.0
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", ["/", "/near?q=Tapachula", "/consulates/serving"])
def test_a_page_during_an_outage_says_to_try_again(down_client, url):
    response = down_client.get(url)
    assert response.status_code == 503
    assert "Try again soon" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"


def test_an_outage_is_logged_once_in_one_line_without_the_search(down_client, caplog):
    with caplog.at_level(logging.ERROR):
        for _ in range(5):
            assert down_client.get("/api/v1/towns?q=Villa O'Higgins").status_code == 503
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1
    assert "database unavailable" in lines[0]
    assert "Higgins" not in caplog.text
    assert "Traceback" not in caplog.text


def test_a_statement_past_the_timeout_is_a_503(test_database):
    app = make_test_app(test_database, SQLALCHEMY_ENGINE_OPTIONS=engine_options(100, 30_000))

    @app.get("/api/v1/slow")
    def slow():
        db.session.execute(text("SELECT pg_sleep(10)"))
        return "finished"

    @app.get("/api/v1/quick")
    def quick():
        db.session.execute(text("SELECT pg_sleep(0.01)"))
        return "finished"

    client = app.test_client()
    started = time.monotonic()
    response = client.get("/api/v1/slow")
    assert time.monotonic() - started < 5.0  # the database ended it, not the 10 s sleep
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    assert client.get("/api/v1/quick").status_code == 200  # the connection is fine after
    with app.app_context():
        cli._begin_load()  # what the loading commands do
        db.session.execute(text("SELECT pg_sleep(0.3)"))
        db.session.rollback()
        db.engine.dispose()
