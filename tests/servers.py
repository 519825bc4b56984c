"""The production server for tests: gunicorn with gunicorn.conf.py, as `make serve` runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The language the tests read pages in unless a test says otherwise (tests/conftest.py).
TEST_READER_LANGUAGE = "en"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start_gunicorn(database_url: str, log: Path, **settings: str) -> tuple[subprocess.Popen, int]:
    """Start gunicorn (production settings, a free port) writing everything to ``log``;
    ``settings`` are more environment variables (TILE_URL, RATELIMIT_ENABLED, …)."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "a-test-secret",
        "DIRECTORY_ENV": "production",
        "TILE_URL": "",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        **settings,
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, port


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def gunicorn(database_url: str, log: Path, **settings: str) -> Iterator[str]:
    """Serve the app with gunicorn until the block ends; yield its base URL once
    ``/readyz`` answers 200."""
    process, port = start_gunicorn(database_url, log, **settings)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if status_of(base + "/readyz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not become ready:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        stop_gunicorn(process)
