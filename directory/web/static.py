"""Static files: served by WhiteNoise, compressed, long-cached behind content-hashed names.

``make`` builds ``directory/static-dist/`` from ``directory/static/``
(scripts/build-static.py): our scripts and styles minified by esbuild, a copy of every file
named by its content (``css/site.0123456789ab.css``) listed in ``manifest.json``, and
``.gz``/``.br`` copies. WhiteNoise, wrapped around the app's WSGI callable, answers
``/static/…`` from that folder before Flask sees the request: Brotli or gzip as the client
accepts, hashed names cached for a year as ``immutable``, plain names for an hour. The
security headers are added to its answers too (the app's ``after_request`` never runs for
them). Templates link files with ``asset_url('css/site.css')``, which gives the hashed name
when the manifest knows the file, else the plain one (served by Flask's static view when
nothing was built).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask, current_app, url_for
from whitenoise import WhiteNoise

from directory.web import security

BUILD_DIR = Path(__file__).resolve().parent.parent / "static-dist"
MANIFEST = "manifest.json"
# ``name.<12 hex digits>.ext``: the names scripts/build-static.py gives the copies.
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
# Plain names may change in place at the next deployment: an hour, then ask again.
PLAIN_MAX_AGE = 3600


def is_hashed(_path: str, url: str) -> bool:
    return bool(HASHED_NAME.search(url))


def _add_headers(headers: Any, _path: str, _url: str) -> None:
    for name, value in security.HEADERS:
        headers[name] = value


def load_manifest(folder: Path = BUILD_DIR) -> dict[str, str]:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def asset_url(path: str) -> str:
    """The URL of a static file, by its content-hashed name when one was built."""
    manifest = current_app.extensions["asset_manifest"]
    return url_for("static", filename=manifest.get(path, path))


def install(app: Flask, folder: Path = BUILD_DIR) -> None:
    """Serve ``folder`` at /static/ in front of the app; ``asset_url`` for templates."""
    app.extensions["asset_manifest"] = load_manifest(folder)
    app.add_template_global(asset_url)
    whitenoise = WhiteNoise(
        app.wsgi_app,
        max_age=PLAIN_MAX_AGE,
        immutable_file_test=is_hashed,
        add_headers_function=_add_headers,
        allow_all_origins=False,  # as before: CORS is for the API (directory/web/cors.py)
    )
    if folder.is_dir():
        whitenoise.add_files(str(folder), prefix="static/")
    app.wsgi_app = whitenoise  # type: ignore[method-assign]
