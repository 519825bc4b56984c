"""The production server: gunicorn with gunicorn.conf.py, as `make serve` runs it.

It serves, says it is ready, and leaves searchers' positions and terms out of its access
and error logs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET_LAT, SECRET_LON, SECRET_TOWN = "14.918273", "-92.263544", "Qwertyville"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def gunicorn(demo_database, tmp_path):
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    environment = {
        **os.environ,
        "DATABASE_URL": demo_database.url.render_as_string(hide_password=False),
        "SECRET_KEY": "a-test-secret",
        "DIRECTORY_ENV": "production",
        "TILE_URL": "",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(base + "/readyz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not become ready:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_gunicorn_serves_and_logs_no_search(gunicorn):
    base, log = gunicorn
    searches = [
        f"/api/v1/locations/nearest?lat={SECRET_LAT}&lon={SECRET_LON}",
        f"/near?q={SECRET_TOWN}&fbclid=x",
        f"/api/v1/towns?q=Villa+O'{SECRET_TOWN}",
        f"/api/v1/locations/nearest?lat=9{SECRET_LAT}&lon={SECRET_LON}",  # a 400
    ]
    assert [_get(base + path) for path in searches] == [200, 200, 200, 400]
    assert _get(base + "/healthz") == 200
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
