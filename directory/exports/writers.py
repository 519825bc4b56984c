"""The GeoJSON and CSV documents of the public directory, written as a stream of text.

Each writer is a generator of text chunks: a web view hands it to the response as it is
(the download starts before the last row is read) and a command writes it to a file. A
chunk gathers rows up to ``CHUNK_CHARS`` so neither side pays a call per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from directory.exports.rows import BATCH_SIZE, PublicLocation, public_rows
from directory.io.csv_files import safe_cell

CHUNK_CHARS = 64 * 1024

# Excel reads a CSV as UTF-8 only when the file starts with a byte order mark.
BOM = "\ufeff"

CSV_COLUMNS = (
    "id",
    "external_id",
    "name",
    "organization",
    "kind",
    "categories",
    "address",
    "city",
    "admin_area",
    "country",
    "latitude",
    "longitude",
    "phones",
    "whatsapp",
    "email",
    "website",
    "hours",
    "hours_confirmed",
    "status",
    "verified_at",
    "position_precision",
)

# Called once per row written (a command's progress bar); the web passes nothing.
RowSeen = Callable[[], None]


def _chunks(parts: Iterable[str]) -> Iterator[str]:
    """Join small strings into chunks of about ``CHUNK_CHARS``."""
    pending: list[str] = []
    size = 0
    for part in parts:
        pending.append(part)
        size += len(part)
        if size >= CHUNK_CHARS:
            yield "".join(pending)
            pending, size = [], 0
    if pending:
        yield "".join(pending)


def _seen(rows: Iterable[PublicLocation], on_row: RowSeen | None) -> Iterator[PublicLocation]:
    for row in rows:
        yield row
        if on_row is not None:
            on_row()


def feature(row: PublicLocation) -> dict[str, Any]:
    """One location as an RFC 7946 Feature: a Point, longitude first."""
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {
            "id": row.id,
            "external_id": row.external_id,
            "name": row.name,
            "organization": row.organization,
            "kind": row.kind,
            "categories": row.categories,
            "address": row.address,
            "city": row.city,
            "admin_area": row.admin_area,
            "country": row.country,
            "phones": row.phones,
            "whatsapp": row.whatsapp,
            "email": row.email,
            "website": row.website,
            "hours": row.hours,
            "hours_confirmed": row.hours_confirmed,
            "status": row.status,
            "verified_at": row.verified_at.isoformat() if row.verified_at else None,
            "position_precision": row.position_precision,
        },
    }


def geojson_chunks(
    session: Session, *, batch_size: int = BATCH_SIZE, on_row: RowSeen | None = None
) -> Iterator[str]:
    """The public directory as one GeoJSON FeatureCollection (RFC 7946: WGS84, lon/lat)."""

    def parts() -> Iterator[str]:
        yield '{"type":"FeatureCollection","features":['
        first = True
        for row in _seen(public_rows(session, batch_size), on_row):
            text = json.dumps(feature(row), ensure_ascii=False, separators=(",", ":"))
            yield text if first else "," + text
            first = False
        yield "]}\n"

    return _chunks(parts())


def csv_row(row: PublicLocation) -> list[Any]:
    """One location as CSV cells (lists joined by "; ", text cells formula-safe)."""
    cells: list[Any] = [
        row.id,
        row.external_id,
        row.name,
        row.organization,
        row.kind,
        "; ".join(row.categories),
        row.address or "",
        row.city,
        row.admin_area or "",
        row.country,
        row.lat,
        row.lon,
        "; ".join(row.phones),
        row.whatsapp or "",
        row.email or "",
        row.website or "",
        row.hours or "",
        "true" if row.hours_confirmed else "false",
        row.status,
        row.verified_at.isoformat() if row.verified_at else "",
        row.position_precision,
    ]
    return [safe_cell(cell) for cell in cells]


def csv_chunks(
    session: Session, *, batch_size: int = BATCH_SIZE, on_row: RowSeen | None = None
) -> Iterator[str]:
    """The public directory as CSV: UTF-8 with a BOM, a header, one line per location."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    def parts() -> Iterator[str]:
        yield BOM + line(CSV_COLUMNS)
        for row in _seen(public_rows(session, batch_size), on_row):
            yield line(csv_row(row))

    return _chunks(parts())
