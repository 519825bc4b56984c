"""Points inside a map's visible area, thinned into grid clusters when there are many.

A phone showing a whole country must not download 100,000 points. When an area holds more
than ``max_points`` rows, the database snaps them to a grid of about ``grid_cells`` cells
across and returns one cluster per occupied cell (its centre of mass and count).
"""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2 import Geography, Geometry
from sqlalchemy import ColumnElement, Select, cast, func, select

from geo.coordinates import CoordinateError, LonLat

POLE_LIMIT = 89.999999


@dataclass(frozen=True, slots=True)
class BBox:
    """A map area, ``min_lon, min_lat, max_lon, max_lat`` (no crossing of the antimeridian)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        parts = text.split(",")
        if len(parts) != 4:
            raise CoordinateError("bbox", "must be four numbers: minLon,minLat,maxLon,maxLat")
        low = LonLat.parse(parts[0], parts[1])
        high = LonLat.parse(parts[2], parts[3])
        if low.lon >= high.lon or low.lat >= high.lat:
            raise CoordinateError("bbox", "minimum must be below maximum (minLon,minLat,…)")
        return cls(low.lon, low.lat, high.lon, high.lat)

    def envelope(self) -> ColumnElement:
        """The box as a polygon. Its latitudes stop just short of the poles: an edge along a
        pole is degenerate on the sphere, and geography refuses it (no place lies there)."""
        south = max(self.min_lat, -POLE_LIMIT)
        north = min(self.max_lat, POLE_LIMIT)
        return func.ST_MakeEnvelope(self.min_lon, south, self.max_lon, north, 4326)


def within(point: ColumnElement, bbox: BBox) -> ColumnElement:
    """``point`` (geography) inside the area, using its GiST index."""
    return point.op("&&")(cast(bbox.envelope(), Geography))


def grid_clusters(rows: Select, point: ColumnElement, bbox: BBox, grid_cells: int) -> Select:
    """One row per occupied grid cell: ``lon``, ``lat`` (mean position) and ``count``."""
    cell = (bbox.max_lon - bbox.min_lon) / grid_cells
    snapped = func.ST_SnapToGrid(cast(point, Geometry), cell)
    area_rows = rows.with_only_columns(
        snapped.label("cell"), cast(point, Geometry).label("geom")
    ).subquery()
    return select(
        func.avg(func.ST_X(area_rows.c.geom)).label("lon"),
        func.avg(func.ST_Y(area_rows.c.geom)).label("lat"),
        func.count().label("count"),
    ).group_by(area_rows.c.cell)
