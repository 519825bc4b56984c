"""The published HSDS 3.0 specification files, kept in this repository (``spec/``).

The import validates every file against the specification's own JSON Schemas, so they
must be where the app runs, with no network: ``spec/`` is a copy of tag v3.0 of
openreferral/specification as handed to the project in ``shared/hsds-3.0`` (schemas,
examples, the OpenAPI document; CC BY-SA 4.0, see ``spec/LICENSE``). The compiled schemas
(17 MB of JSON) are kept gzip-compressed (1.3 MB); ``read_json`` opens either form.
``spec/SHA256SUMS`` lists the SHA-256 of every original file, so a test proves the copy is
the published text, byte for byte.
"""

from __future__ import annotations

import gzip
import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Final

SPEC_DIR: Final = Path(os.environ.get("HSDS_SPEC_DIR") or Path(__file__).with_name("spec"))
SCHEMA_DIR: Final = SPEC_DIR / "schema"
EXAMPLES_DIR: Final = SPEC_DIR / "examples"


def read_bytes(relative: str) -> bytes:
    """The original bytes of ``relative`` (``schema/compiled/service.json``), from its
    plain or gzipped copy."""
    path = SPEC_DIR / relative
    if path.is_file():
        return path.read_bytes()
    return gzip.decompress(path.with_name(path.name + ".gz").read_bytes())


@cache
def read_json(relative: str) -> Any:
    """The JSON document at ``relative`` under ``spec/`` (cached: the schemas never change
    while the app runs). Callers must not modify what they get."""
    return json.loads(read_bytes(relative))
