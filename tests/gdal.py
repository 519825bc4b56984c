"""GDAL's ``ogrinfo`` as a third-party reader of our GeoJSON (issue 15).

``ogrinfo`` comes from Debian's ``gdal-bin``, which ``make test`` installs
(``scripts/ensure-system-packages.sh --with-gdal``): a test that needs it fails, never skips,
when it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def ogrinfo() -> str:
    found = shutil.which("ogrinfo")
    if found is None:
        pytest.fail(
            "ogrinfo (GDAL) is not installed: `make test` installs it (Debian gdal-bin); "
            "or run `apt-get install gdal-bin`"
        )
    return found


def gdal_faults(path: Path, expected_features: int) -> list[str]:
    """What GDAL says against the file: a warning or error on opening it (the summary, and
    reading every feature), or a feature count other than ``expected_features``."""
    faults = []
    runs = {
        "summary": [ogrinfo(), "-ro", "-al", "-so", str(path)],
        "every feature": [ogrinfo(), "-ro", "-q", "-al", str(path)],
    }
    outputs = {}
    for name, command in runs.items():
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        said = done.stdout + done.stderr
        if done.returncode != 0:
            faults.append(f"ogrinfo ({name}) exited with {done.returncode}: {said[-500:]}")
        for line in said.splitlines():
            if re.search(r"warning|error", line, re.IGNORECASE):
                faults.append(f"ogrinfo ({name}): {line}")
        outputs[name] = done.stdout
    counts = re.findall(r"^Feature Count: (\d+)$", outputs["summary"], re.MULTILINE)
    if counts != [str(expected_features)]:
        faults.append(f"ogrinfo counts {counts} features, the body holds {expected_features}")
    return faults
