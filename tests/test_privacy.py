"""A searcher's coordinates and search terms appear in no log line."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from directory.db import OrganizationKind
from directory.places.models import Location, Organization
from directory.privacy import redact_query_strings

SECRET_LAT, SECRET_LON = "14.918273", "-92.263544"
SECRET_TERM = "Zyxwvutown"


def test_query_strings_are_cut_from_request_lines():
    line = '127.0.0.1 - - "GET /api/v1/locations/nearest?lat=1&lon=2 HTTP/1.1" 200 -'
    assert redact_query_strings(line) == (
        '127.0.0.1 - - "GET /api/v1/locations/nearest?[redacted] HTTP/1.1" 200 -'
    )


def _logged_while_fetching(live_app_factory, paths, caplog, capfd) -> tuple[list[int], str]:
    """The statuses of ``paths`` fetched from a live server, and everything logged meanwhile
    (log records, and what the server printed)."""
    caplog.set_level(logging.DEBUG)
    statuses = []
    with live_app_factory() as server:
        for path in paths:
            try:
                with urllib.request.urlopen(server.url + path) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    captured = capfd.readouterr()
    everything = "\n".join(
        [*(record.getMessage() for record in caplog.records), captured.out, captured.err]
    )
    return statuses, everything


@pytest.mark.browser
def test_searches_leave_no_trace_in_the_logs(live_app_factory, caplog, capfd):
    paths = [
        f"/api/v1/locations/nearest?lat={SECRET_LAT}&lon={SECRET_LON}&limit=3",
        f"/api/v1/locations/nearest?lat={SECRET_LAT}&lon={SECRET_LON}&category={SECRET_TERM}",
        f"/api/v1/locations/nearest?lat=999{SECRET_LAT}&lon={SECRET_LON}",
    ]
    statuses, everything = _logged_while_fetching(live_app_factory, paths, caplog, capfd)
    assert statuses == [200, 400, 400]
    assert "/api/v1/locations/nearest?[redacted]" in everything  # the access log did run
    for secret in (SECRET_LAT, SECRET_LON, SECRET_TERM):
        assert secret not in everything


@pytest.mark.browser
def test_a_typed_place_leaves_no_trace_in_the_logs(live_app_factory, demo_session, caplog, capfd):
    """The consulate page's typed place (where the national is: a town, coordinates) and the
    partners API's ``from`` appear in no log line, as for every search (issue 15)."""
    office_id = demo_session.scalar(
        select(Location.id)
        .join(Location.organization)
        .where(Organization.kind == OrganizationKind.CONSULATE)
        .where(Organization.sending_country_code == "GT", Location.city == "Tapachula")
    )
    assert office_id is not None
    paths = [
        f"/consulates/{office_id}?q={SECRET_TERM}",
        f"/consulates/{office_id}?q={SECRET_LAT},{SECRET_LON}",
        f"/consulates/{office_id}?q=999{SECRET_LAT},{SECRET_LON}",
        f"/api/v1/consulates/{office_id}/partners?from={SECRET_LAT},{SECRET_LON}",
    ]
    statuses, everything = _logged_while_fetching(live_app_factory, paths, caplog, capfd)
    assert statuses == [200, 200, 400, 200]
    assert f"/consulates/{office_id}?[redacted]" in everything  # the access log did run
    for secret in (SECRET_TERM, SECRET_LAT, SECRET_LON):
        assert secret not in everything


@pytest.mark.parametrize(
    "line",
    [
        '"GET /near?q=Villa+O\'Higgins&lat=1 HTTP/1.1" 200 -',
        "Error handling request GET /api/v1/locations/nearest?lat=-47.0&lon=-72.5",
        "Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'GET /near?q=O\"Hi x'",
    ],
)
def test_every_byte_of_a_query_is_cut_whatever_it_holds(line):
    redacted = redact_query_strings(line)
    assert "?[redacted]" in redacted
    for secret in ("Higgins", "-47.0", "-72.5", "Hi"):
        assert secret not in redacted


def test_gunicorns_error_log_is_filtered_too(app):
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    logger = logging.getLogger("gunicorn.error")
    handler = Keep()
    logger.addHandler(handler)
    try:
        logger.error("Error handling request %s %s", "GET", "/near?q=Villa+O'Higgins")
    finally:
        logger.removeHandler(handler)
    assert records == ["Error handling request GET /near?[redacted]"]
