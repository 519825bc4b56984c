"""The reference for ``GET /api/v1/locations/nearest``: the app's SQL with nothing around it.

A bare WSGI callable (no Flask, no ORM, no marshmallow): a psycopg2 connection pool, the
statement the app's fast path sends (``geo.nearest.nearest_candidates`` over the app's
``active_locations()`` and ``apply_filters``, compiled here by SQLAlchemy once per filter
set, so it follows any change to the app's query) and ``json.dumps`` of five fields per
place. ``bench/http_load.py`` serves it under gunicorn with the app's settings and compares the
app with it: the gap between the two is what the app adds on top of the database.

What it leaves out on purpose: the exactness check and its retries (nearly every search ends
at the first try), the barrier flag, the ORM loading of details, opening state and GeoJSON.

    DATABASE_URL=postgresql://… gunicorn -c gunicorn.conf.py bench.reference_app:app
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import psycopg2.pool
from geoalchemy2 import Geometry
from sqlalchemy import cast, func
from sqlalchemy.dialects import postgresql

from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location, Organization
from directory.places.nearest import EXTRA_CANDIDATES
from geo.coordinates import LonLat
from geo.nearest import nearest_candidates

# Values no request sends: compiled into the statement, then found again among its
# parameters to know which ones carry the request's position and time.
_LON, _LAT = -111.123456789, 22.987654321
_AT = dt.datetime(2001, 2, 3, 4, 5, 6, 789, tzinfo=dt.UTC)
MAX_LIMIT = 100

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Statement:
    """One compiled nearest statement: its SQL and how to fill in its parameters."""

    def __init__(self, categories: tuple[str, ...], open_now: bool, limit: int) -> None:
        filters = LocationFilters(categories=categories, open_now=open_now)
        geometry = cast(Location.point, Geometry)
        rows = apply_filters(active_locations(), filters, _AT).with_only_columns(
            Location.id,
            func.coalesce(Location.name, Organization.name),
            Organization.kind,
            func.ST_X(geometry),
            func.ST_Y(geometry),
        )
        statement = nearest_candidates(
            rows,
            Location.point,
            LonLat(_LON, _LAT),
            limit=limit,
            candidates=limit + EXTRA_CANDIDATES,
            tiebreak=Location.id,
        )
        compiled = statement.compile(
            dialect=postgresql.psycopg2.dialect(), compile_kwargs={"render_postcompile": True}
        )
        self.sql = compiled.string
        self.params = dict(compiled.params)
        self.lon = [name for name, value in self.params.items() if value == _LON]
        self.lat = [name for name, value in self.params.items() if value == _LAT]
        self.at = [name for name, value in self.params.items() if value == _AT]
        if not self.lon or not self.lat or (open_now and not self.at):
            raise RuntimeError("the nearest statement no longer takes the position as expected")

    def parameters(self, lon: float, lat: float, at: dt.datetime) -> dict[str, Any]:
        values = dict(self.params)
        values.update(dict.fromkeys(self.lon, lon))
        values.update(dict.fromkeys(self.lat, lat))
        values.update(dict.fromkeys(self.at, at))
        return values


_statements: dict[tuple[tuple[str, ...], bool, int], Statement] = {}
_lock = threading.Lock()
_pool: psycopg2.pool.ThreadedConnectionPool | None = None


def _statement(categories: tuple[str, ...], open_now: bool, limit: int) -> Statement:
    key = (categories, open_now, limit)
    with _lock:
        if key not in _statements:
            _statements[key] = Statement(categories, open_now, limit)
        return _statements[key]


def _connection_pool() -> psycopg2.pool.ThreadedConnectionPool:
    global _pool
    with _lock:
        if _pool is None:
            # As many connections as gunicorn gives a worker threads (gunicorn.conf.py).
            size = int(os.environ.get("THREADS", "4"))
            # The app's session settings that change plans' cost (directory/config.py: no JIT),
            # so that the two differ by what is around the SQL, not by how it is run.
            _pool = psycopg2.pool.ThreadedConnectionPool(
                1, size, os.environ["DATABASE_URL"], options="-c jit=off"
            )
        return _pool


def _answer(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """``/nearest?lat=&lon=[&limit=][&category=…][&open_now=true]``."""
    if environ.get("PATH_INFO") != "/nearest":
        return _answer(start_response, "404 Not Found", {"error": "not found"})
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        lat = float(query["lat"][0])
        lon = float(query["lon"][0])
        limit = min(MAX_LIMIT, int(query.get("limit", ["10"])[0]))
    except (KeyError, ValueError):
        return _answer(start_response, "400 Bad Request", {"error": "lat, lon, limit"})
    categories = tuple(query.get("category", ()))
    open_now = query.get("open_now", ["false"])[0] == "true"
    statement = _statement(categories, open_now, limit)
    pool = _connection_pool()
    connection = pool.getconn()
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.parameters(lon, lat, dt.datetime.now(dt.UTC)))
            rows = cursor.fetchall()
    finally:
        pool.putconn(connection)
    features = [
        {"id": id_, "name": name, "kind": kind, "lon": x, "lat": y, "distance_m": round(d, 1)}
        for id_, name, kind, x, y, d, *_ in rows
    ]
    return _answer(start_response, "200 OK", {"features": features})
