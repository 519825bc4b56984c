"""A bug's log entry says where and what, never a searcher's values.

psycopg2 writes parameters into the SQL text, and PostgreSQL's error message quotes the
statement around the fault (``LINE 1: SELECT ST_MakePoint(-92.263544, …``), so logging a
database error's message would log the search that hit it.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from directory.db import db
from tests.conftest import make_test_app

LAT, LON = 14.918273, -92.263544


@pytest.fixture
def client_with_a_bug(test_database):
    app = make_test_app(test_database, PROPAGATE_EXCEPTIONS=False)

    def search_with_a_bug():
        statement = text("SELECT ST_MakePoint(:lon, :lat) + 1")  # no such operator
        db.session.execute(statement, {"lon": LON, "lat": LAT})
        return {}

    app.add_url_rule("/api/v1/_bug", view_func=search_with_a_bug)
    app.add_url_rule("/_bug", endpoint="page_bug", view_func=search_with_a_bug)
    return app.test_client()


@pytest.mark.parametrize("path", ["/api/v1/_bug", "/_bug"])
def test_a_database_bug_is_logged_without_the_statement(client_with_a_bug, path, caplog):
    with caplog.at_level(logging.ERROR):
        response = client_with_a_bug.get(f"{path}?lat={LAT}&lon={LON}")
    assert response.status_code == 500
    assert "SQLSTATE 42883" in caplog.text  # undefined_function: what went wrong
    assert "search_with_a_bug" in caplog.text  # and where (the stack frames)
    assert str(LAT) not in caplog.text
    assert str(LON) not in caplog.text
    assert "ST_MakePoint" not in caplog.text


def test_other_bugs_keep_their_message_and_traceback(test_database, caplog):
    app = make_test_app(test_database, PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise KeyError("a missing key")

    app.add_url_rule("/api/v1/_broken", view_func=broken)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v1/_broken")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "a missing key" in caplog.text
    assert "Traceback" in caplog.text
