"""Failures after the view has answered: closing the session, or anything escaping the app.

Before, a connection that died between the last query and the end of the request made
Flask-SQLAlchemy's teardown raise, and the server answered its own HTML 500 on an API path.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from directory.db import db
from tests.conftest import LiveServer, make_test_app


@pytest.fixture
def app_with_probe_routes(test_database):
    app = make_test_app(test_database)
    killer = create_engine(test_database)

    def answer_then_lose_the_connection():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return {"answered": True}

    app.add_url_rule("/api/v1/_lost", view_func=answer_then_lose_the_connection)
    app.add_url_rule("/_lost", endpoint="page_lost", view_func=answer_then_lose_the_connection)
    yield app
    killer.dispose()


@pytest.mark.parametrize("path", ["/api/v1/_lost", "/_lost"])
def test_a_connection_lost_after_the_answer_does_not_spoil_it(app_with_probe_routes, path, caplog):
    client = app_with_probe_routes.test_client()
    with caplog.at_level(logging.WARNING, logger="directory.web.errors"):
        response = client.get(path + "?lat=14.918273&lon=-92.263544")
    assert response.status_code == 200
    assert response.json == {"answered": True}
    assert "connection lost while closing" in caplog.text
    assert "14.918273" not in caplog.text
    # The next request gets a fresh connection from the pool.
    assert client.get("/api/v1/routes").status_code == 200


def _broken_app(test_database):
    app = make_test_app(test_database)

    @app.teardown_request
    def broken_teardown(_error):
        raise RuntimeError("a bug in a teardown")

    return app


def _fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_an_error_escaping_the_app_answers_the_api_in_the_error_shape(test_database, caplog):
    # A real server: werkzeug's test client re-raises whatever start_response is given.
    with caplog.at_level(logging.ERROR), LiveServer(_broken_app(test_database)) as server:
        status, content_type, body = _fetch(server.url + "/api/v1/routes?q=Qwertyville")
    assert status == 500
    assert content_type == "application/json"
    assert json.loads(body)["error"]["code"] == "internal_error"
    assert "a bug in a teardown" in caplog.text  # logged for us, with the path
    assert "Qwertyville" not in caplog.text  # but not the query


def test_an_error_escaping_the_app_on_a_page_is_left_to_the_server(test_database):
    with LiveServer(_broken_app(test_database)) as server:
        status, content_type, _body = _fetch(server.url + "/consulates")
    assert status == 500
    assert content_type.startswith("text/html")
