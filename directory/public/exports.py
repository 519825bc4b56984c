"""Public downloads of the whole directory: ``/downloads/directory.geojson`` and ``.csv``.

Streamed straight from the database cursor (``directory.exports``), so the server holds a
batch of rows at a time whatever the directory's size. The data is the same for everyone
and changes slowly: shared caches may keep it an hour. No ETag is computed (that would
need the whole body in memory first); ``direct_passthrough`` tells the HTTP policy so.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, stream_with_context

from directory.db import db
from directory.exports.writers import csv_chunks, geojson_chunks
from directory.public import public
from directory.web import http

DOWNLOAD_MAX_AGE = 3600


def _download(chunks: Iterator[str], mimetype: str, filename: str) -> Response:
    body = (chunk.encode("utf-8") for chunk in chunks)
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.direct_passthrough = True
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public.get("/downloads/directory.geojson")
@http.policy(http.public(DOWNLOAD_MAX_AGE))
def directory_geojson() -> Response:
    """Every public location as a GeoJSON FeatureCollection (RFC 7946)."""
    return _download(geojson_chunks(db.session), http.GEOJSON, "directory.geojson")


@public.get("/downloads/directory.csv")
@http.policy(http.public(DOWNLOAD_MAX_AGE))
def directory_csv() -> Response:
    """Every public location as CSV, UTF-8 with a byte order mark (for spreadsheets)."""
    return _download(csv_chunks(db.session), "text/csv", "directory.csv")
