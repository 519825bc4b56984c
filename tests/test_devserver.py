"""`make run`'s development server answers without naming its software's versions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from tests.servers import ROOT, free_port


def test_the_development_server_sends_no_version_banner(test_database):
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": test_database.render_as_string(hide_password=False),
        "DIRECTORY_ENV": "development",
    }
    command = [sys.executable, "-m", "directory.devserver", "--port", str(port), "--no-reload"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    headers = r.headers
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert headers["Server"] == "protection-directory"
    everything = str(headers)
    assert "Werkzeug" not in everything
    assert "Python" not in everything
