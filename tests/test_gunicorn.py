"""The production server: gunicorn with gunicorn.conf.py, as `make serve` runs it.

It serves, says it is ready, and leaves searchers' positions and terms out of its access
and error logs.
"""

from __future__ import annotations

import time
import urllib.request

import pytest

from tests import servers
from tests.servers import status_of

SECRET_LAT, SECRET_LON, SECRET_TOWN = "14.918273", "-92.263544", "Qwertyville"


@pytest.fixture
def gunicorn(demo_database, tmp_path):
    log = tmp_path / "gunicorn.log"
    with servers.gunicorn(demo_database.url.render_as_string(hide_password=False), log) as base:
        yield base, log


def test_gunicorn_serves_and_logs_no_search(gunicorn):
    base, log = gunicorn
    searches = [
        f"/api/v1/locations/nearest?lat={SECRET_LAT}&lon={SECRET_LON}",
        f"/near?q={SECRET_TOWN}&fbclid=x",
        f"/api/v1/towns?q=Villa+O'{SECRET_TOWN}",
        f"/api/v1/locations/nearest?lat=9{SECRET_LAT}&lon={SECRET_LON}",  # a 400
    ]
    assert [status_of(base + path) for path in searches] == [200, 200, 200, 400]
    assert status_of(base + "/healthz") == 200
    time.sleep(0.5)  # let the access log reach the file
    text = log.read_text()
    assert '"GET /api/v1/locations/nearest"' in text  # the access log did run
    for secret in (SECRET_LAT, SECRET_LON, SECRET_TOWN):
        assert secret not in text


def test_gunicorn_names_no_versions(gunicorn):
    base, _log = gunicorn
    with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
        server = response.headers.get("Server", "")
    assert not any(character.isdigit() for character in server), server
