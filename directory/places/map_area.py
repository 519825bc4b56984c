"""What the map shows in its visible area: places, or clusters of them when many."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from geoalchemy2 import Geometry
from sqlalchemy import cast, func
from sqlalchemy.orm import Session

from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location, Organization
from geo.area import BBox, grid_clusters, within

MAX_POINTS = 1500
GRID_CELLS = 48


@dataclass(frozen=True, slots=True)
class AreaPoint:
    id: int
    lon: float
    lat: float
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class AreaCluster:
    lon: float
    lat: float
    count: int


@dataclass(frozen=True, slots=True)
class AreaContent:
    points: list[AreaPoint]
    clusters: list[AreaCluster]


def area_content(
    session: Session, bbox: BBox, filters: LocationFilters, at: dt.datetime | None = None
) -> AreaContent:
    """The places in ``bbox`` passing ``filters``; grid clusters past ``MAX_POINTS``."""
    rows = apply_filters(active_locations(), filters, at or dt.datetime.now(dt.UTC)).where(
        within(Location.point, bbox)
    )
    total = session.scalar(rows.with_only_columns(func.count()).order_by(None))
    if total > MAX_POINTS:
        clusters = session.execute(grid_clusters(rows, Location.point, bbox, GRID_CELLS))
        return AreaContent([], [AreaCluster(lon, lat, count) for lon, lat, count in clusters])
    geometry = cast(Location.point, Geometry)
    points = session.execute(
        rows.with_only_columns(
            Location.id,
            func.ST_X(geometry),
            func.ST_Y(geometry),
            func.coalesce(Location.name, Organization.name),
            Organization.kind,
        ).order_by(Location.id)
    )
    return AreaContent(
        [AreaPoint(id_, lon, lat, name, kind.value) for id_, lon, lat, name, kind in points], []
    )
