"""Help along a route: the places within a corridor of a route, in the order one meets them.

Membership is ``ST_DWithin(point, route::geography, buffer)`` on the spheroid; each place
gets ``along_m`` (how far along the route, from its start or from where the searcher
stands) and ``offset_m`` (how far off the route). With a starting point only what lies
ahead counts: the places whose projection on the route is at or past the starting point's,
or less than ``BEHIND_SLACK_M`` before it (those are "here", ``along_m`` 0).
Results are ordered by ``(along_m, id)`` and paged by keyset (``after``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Numeric, cast, func, select
from sqlalchemy.orm import Session, aliased

from directory.corridors.models import Route
from directory.db import keyset_after
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location
from directory.places.opening_hours import OpenState
from directory.places.records import public_details
from geo import corridor
from geo.coordinates import LonLat
from geo.geojson import EMPTY_COLLECTION, feature_collection

DEFAULT_BUFFER_KM = 10.0
MAX_BUFFER_KM = 100.0
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# From a starting point, what lies up to this far behind it still counts, as "here": a
# migrant in Tapachula wants the consulate 300 m behind where the route passes them.
BEHIND_SLACK_M = 1000.0


@dataclass(frozen=True, slots=True)
class CorridorQuery:
    buffer_km: float = DEFAULT_BUFFER_KM
    start: LonLat | None = None
    filters: LocationFilters = field(default_factory=LocationFilters)
    limit: int = DEFAULT_LIMIT
    after: tuple[float, int] | None = None  # (along_m, id) of the last row of the last page


@dataclass(frozen=True, slots=True)
class CorridorLocation:
    location: Location
    along_m: float
    offset_m: float
    rank: int  # position in the whole sequence, 1-based, stable across pages
    state: OpenState

    @property
    def sort_key(self) -> tuple[float, int]:
        return (self.along_m, self.location.id)


@dataclass(frozen=True, slots=True)
class Start:
    """Where the starting point projects on the route."""

    fraction: float
    along_m: float
    offset_m: float


@dataclass(frozen=True, slots=True)
class CorridorResult:
    length_m: float
    start: Start | None
    items: list[CorridorLocation]
    more: bool  # rows remain after the last item


def find_route(session: Session, key: str) -> Route | None:
    """An active route by numeric id or by code (``darien``)."""
    condition = (
        Route.id == int(key)
        if key.isascii() and key.isdigit() and len(key) < 10
        else Route.code == key
    )
    return session.scalar(select(Route).where(condition, Route.archived_at.is_(None)))


def active_routes(session: Session, language: str = "en") -> list[tuple[Route, float]]:
    """Active routes with their spheroid length in metres, by their name in ``language``
    (else in English)."""
    rows = session.execute(
        select(Route, corridor.length_m(Route.path))
        .where(Route.archived_at.is_(None))
        .order_by(
            func.coalesce(
                func.nullif(Route.names[language].astext, ""),
                Route.names["en"].astext,
                Route.code,
            )
        )
    )
    return [(route, length) for route, length in rows.all()]


def route_line(route: Route) -> ColumnElement:
    """The route's stored path as a constant of the query (a scalar subquery), so the
    spatial index serves ``ST_DWithin`` against it."""
    return select(Route.path).where(Route.id == route.id).scalar_subquery()


def corridor_locations(
    session: Session,
    line: ColumnElement,
    query: CorridorQuery,
    at: dt.datetime | None = None,
) -> CorridorResult:
    """The active locations passing ``query.filters`` within ``query.buffer_km`` of
    ``line`` (ahead of ``query.start`` when given), in order along the line."""
    at = at or dt.datetime.now(dt.UTC)
    start, length = _start_and_length(session, line, query.start)
    buffer_m = query.buffer_km * 1000
    near = corridor.near_line(
        select(Location.id, Location.point), Location.id, Location.point, line, buffer_m=buffer_m
    ).subquery("near")
    matching = corridor.along_line(
        apply_filters(active_locations(), query.filters, at)
        .with_only_columns(Location.id)
        .join(near, near.c.id == Location.id),
        near.c.point,
        line,
        buffer_m=buffer_m,
        start_along_m=start.along_m if start else 0.0,
        behind_m=BEHIND_SLACK_M,
    ).subquery("matching")
    ranked = select(
        matching.c.id,
        matching.c.along_m,
        matching.c.offset_m,
        func.row_number().over(order_by=(matching.c.along_m, matching.c.id)).label("rank"),
    ).subquery("ranked")
    located = aliased(Location, name="located")
    statement = (
        select(located, ranked.c.along_m, ranked.c.offset_m, ranked.c.rank)
        .join(ranked, ranked.c.id == located.id)
        .order_by(ranked.c.along_m, ranked.c.id)
        .limit(query.limit + 1)
        .options(*public_details(located))
    )
    if query.after is not None:
        statement = statement.where(keyset_after(ranked.c.along_m, ranked.c.id, query.after))
    rows = session.execute(statement).all()
    items = [
        CorridorLocation(
            location=location,
            along_m=along,
            offset_m=offset,
            rank=rank,
            state=location.open_state(at),
        )
        for location, along, offset, rank in rows[: query.limit]
    ]
    return CorridorResult(
        length_m=length,
        start=start,
        items=items,
        more=len(rows) > query.limit,
    )


def route_corridor(
    session: Session, route: Route, query: CorridorQuery, at: dt.datetime | None = None
) -> CorridorResult:
    return corridor_locations(session, route_line(route), query, at)


def line_corridor(
    session: Session, positions: list[LonLat], query: CorridorQuery, at: dt.datetime | None = None
) -> CorridorResult:
    """The same search along a line that is not in the directory (validated positions)."""
    return corridor_locations(session, corridor.line_geometry(positions), query, at)


def route_drawing(
    session: Session, route: Route, buffer_km: float, start: Start | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The route's line (5 decimals: about a metre) and the corridor searched (ahead of the
    start, simplified), as GeoJSON geometries, in one statement."""
    path = select(Route.path.label("line")).where(Route.id == route.id).subquery("route_path")
    area = corridor.corridor_area(path.c.line, buffer_km * 1000, start.fraction if start else 0.0)
    row = session.execute(
        select(func.ST_AsGeoJSON(path.c.line, 5), area.selected_columns[0]).select_from(path)
    ).one()
    return json.loads(row[0]), (json.loads(row[1]) if row[1] else None)


def _start_and_length(
    session: Session, line: ColumnElement, position: LonLat | None
) -> tuple[Start | None, float]:
    """Where ``position`` projects on the line (if given) and the line's length, at once."""
    if position is None:
        return None, session.scalar(select(corridor.length_m(line))) or 0.0
    projected = corridor.projection(line, position).add_columns(
        corridor.length_m(line).label("length_m")
    )
    row = session.execute(projected).one()
    return Start(fraction=row.fraction, along_m=row.along_m, offset_m=row.offset_m), row.length_m


def routes_geojson(session: Session, language: str = "en") -> str:
    """The active routes as GeoJSON text (``id``, ``code``, ``name`` in ``language``, else
    English, ``length_km`` on the spheroid), built by PostGIS."""
    rows = (
        select(
            Route.path.label("geometry"),
            Route.id,
            Route.code,
            func.coalesce(
                func.nullif(Route.names[language].astext, ""), Route.names["en"].astext, Route.code
            ).label("name"),
            func.round(cast(corridor.length_m(Route.path) / 1000, Numeric), 2).label("length_km"),
        )
        .where(Route.archived_at.is_(None))
        .subquery()
    )
    query = feature_collection(
        rows, geometry="geometry", properties=["id", "code", "name", "length_km"]
    )
    return session.scalar(query) or EMPTY_COLLECTION
