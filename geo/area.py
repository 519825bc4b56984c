"""Points inside a map's visible area, thinned into grid clusters when there are many.

A phone showing a whole country must not download 100,000 points. When an area holds many
rows they are counted per cell of a global grid (``Grid``: cells of ``360 / 2**level``
degrees, aligned on -180 and -90, so a cell never straddles the antimeridian), coarse
enough that a phone shows a handful of clusters across (``display_level``), one cluster per
occupied cell (its places' mean position and count).

An area is what a map shows: every point whose longitude lies between its west and east
edges and whose latitude lies between its south and north edges (edges included), in
plain degrees. Any box is accepted:

* a ``west`` greater than ``east`` crosses the antimeridian (RFC 7946, section 5.2):
  ``170,-10,-170,10`` is the 20° around ±180;
* longitudes outside -180..180 (a map panned around the world gives ``-200`` or ``560``)
  are wrapped, and a box 360° wide or wider covers every longitude.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Select, and_, cast, func, or_, select
from sqlalchemy.types import UserDefinedType

from geo.coordinates import CoordinateError, coordinate

POLE_LIMIT = 89.999999
FULL_CIRCLE = 360.0
# The geography index is asked with pieces at most this wide: a polygon on the sphere has
# great-circle edges, so a wider piece would stray further from the lines of latitude.
PIECE_DEGREES = 90.0
# ... and with edges cut every degree and moved this far north and south, so that the
# polygon the index sees covers the box on the sphere (a great-circle arc between two
# points of a parallel strays from it by at most about 0.001° for 1° of longitude).
SEGMENT_DEGREES = 1.0
MARGIN_DEGREES = 0.01


def _longitude(value: str) -> float:
    """Any finite number of degrees: a longitude out of range is wrapped, not refused."""
    try:
        number = float(value)
    except ValueError:
        raise CoordinateError("bbox", "must be four numbers: minLon,minLat,maxLon,maxLat") from None
    except OverflowError:
        raise CoordinateError("bbox", "must be finite numbers (not NaN or infinity)") from None
    if not math.isfinite(number):
        raise CoordinateError("bbox", "must be finite numbers (not NaN or infinity)")
    return number


def _latitude(value: str) -> float:
    try:
        return coordinate("lat", value)
    except CoordinateError as error:
        raise CoordinateError("bbox", error.message) from None


def _wrap(lon: float) -> float:
    """``lon`` in -180..180 (left as it is when it already is, so edges stay exact)."""
    if -180.0 <= lon <= 180.0:
        return lon
    return (lon + 180.0) % FULL_CIRCLE - 180.0


@dataclass(frozen=True, slots=True)
class BBox:
    """A map area, ``min_lon, min_lat, max_lon, max_lat`` (west, south, east, north).

    Longitudes are within -180..180; ``min_lon > max_lon`` when the area crosses the
    antimeridian; ``-180, …, 180, …`` is every longitude. Build it with ``parse`` or
    ``from_edges``, which normalise any box."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """``minLon,minLat,maxLon,maxLat``, as ``from_edges`` takes them."""
        parts = text.split(",")
        if len(parts) != 4:
            raise CoordinateError("bbox", "must be four numbers: minLon,minLat,maxLon,maxLat")
        west, east = _longitude(parts[0]), _longitude(parts[2])
        south, north = _latitude(parts[1]), _latitude(parts[3])
        return cls.from_edges(west, south, east, north)

    @classmethod
    def from_edges(cls, west: float, south: float, east: float, north: float) -> BBox:
        """The area from ``west`` eastwards to ``east``, ``south`` northwards to ``north``.

        ``west > east`` goes east across the antimeridian; longitudes out of range are
        wrapped; 360° or more of longitude is the whole circle."""
        if south >= north:
            raise CoordinateError("bbox", "minLat must be below maxLat (minLon,minLat,…)")
        width = east - west
        if width <= 0:  # west of east after crossing the antimeridian
            width += FULL_CIRCLE
        if width <= 0 or west == east:
            raise CoordinateError(
                "bbox", "minLon and maxLon leave no width (minLon,minLat,maxLon,maxLat)"
            )
        if width >= FULL_CIRCLE:
            return cls(-180.0, south, 180.0, north)
        if -180.0 <= west <= 180.0 and -180.0 <= east <= 180.0:
            return cls(west, south, east, north)  # as given: exact edges
        start = _wrap(west)
        if start == 180.0:
            start = -180.0
        end = start + width
        return cls(start, south, end - FULL_CIRCLE if end > 180.0 else end, north)

    @property
    def crosses_antimeridian(self) -> bool:
        return self.min_lon > self.max_lon

    @property
    def width(self) -> float:
        """Degrees of longitude covered, more than 0 and at most 360."""
        if self.crosses_antimeridian:
            return self.max_lon - self.min_lon + FULL_CIRCLE
        return self.max_lon - self.min_lon

    def spans(self) -> list[tuple[float, float]]:
        """The area's longitudes as one or two ``(west, east)`` ranges within -180..180,
        each with ``west < east`` (two when it crosses the antimeridian)."""
        if not self.crosses_antimeridian:
            return [(self.min_lon, self.max_lon)]
        parts = [(self.min_lon, 180.0), (-180.0, self.max_lon)]
        return [(west, east) for west, east in parts if west < east]

    def pieces(self) -> list[tuple[float, float]]:
        """``spans`` cut into ranges at most ``PIECE_DEGREES`` wide."""
        cut: list[tuple[float, float]] = []
        for west, east in self.spans():
            count = math.ceil((east - west) / PIECE_DEGREES)
            step = (east - west) / count
            edges = [west + step * i for i in range(count)] + [east]
            cut.extend(itertools.pairwise(edges))
        return cut

    def envelope(self, west: float, east: float) -> ColumnElement:
        """One range of the box as a polygon in plain degrees (``geometry``)."""
        return func.ST_MakeEnvelope(west, self.min_lat, east, self.max_lat, 4326)

    def index_polygon(self, west: float, east: float) -> ColumnElement:
        """A polygon for the geography index that covers the range on the sphere.

        geography joins corners by great circles, which leave a parallel: the edge between
        (-130, 10) and (-40, 10) runs north of latitude 10, and the index would miss places
        just inside the box. So the edges are cut every degree and moved a little north and
        south. Its latitudes stop just short of the poles: an edge along a pole is
        degenerate on the sphere, and geography refuses it (no place lies there)."""
        south = max(self.min_lat - MARGIN_DEGREES, -POLE_LIMIT)
        north = min(self.max_lat + MARGIN_DEGREES, POLE_LIMIT)
        envelope = func.ST_MakeEnvelope(west, south, east, north, 4326)
        return cast(func.ST_Segmentize(envelope, SEGMENT_DEGREES), Geography)


class PlainGeometry(UserDefinedType):
    """``geometry`` with no type modifier. ``cast(…, Geometry)`` renders
    ``geometry(GEOMETRY,-1)``, a different expression, which no index on
    ``point::geometry`` serves."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "geometry"


def geometry_of(point: ColumnElement) -> ColumnElement:
    """``CAST(point AS geometry)``: plain degrees, the expression
    ``ix_locations_point_geometry`` indexes (migration 0011), so a box or a strip of the map
    is one index range."""
    return cast(point, PlainGeometry())


def within(point: ColumnElement, bbox: BBox) -> ColumnElement:
    """``point`` (geography) inside the area, edges included.

    The box is asked in plain degrees (``ST_Intersects`` with one envelope per span, which
    the index on ``point::geometry`` serves): asking the geography index instead compares
    geocentric boxes, which for a country-wide box sweep far more rows than the box holds
    (``index_polygon`` keeps that form for callers without the plain-degree index)."""
    geometry = geometry_of(point)
    return or_(
        *(func.ST_Intersects(geometry, bbox.envelope(west, east)) for west, east in bbox.spans())
    )


# A map shows clusters a finger can tell apart: at least this many grid cells across its
# shorter side (and fewer than twice as many: the grid's cells halve from level to level).
# 5 across a 360-pixel phone is a cell of 36-72 pixels, the size of a cluster disc.
MIN_CELLS_ACROSS = 5
MAX_LEVEL = 30
# Cells are inside a box when they are this far from its edges and more: a point's cell is
# computed from ``lon + 180`` in floating point, which may round a point lying within a few
# units in the last place of a cell's edge into its neighbour.
EDGE_SLACK_DEGREES = 1e-9


@dataclass(frozen=True, slots=True)
class Grid:
    """The global grid of ``level``: cells of ``360 / 2**level`` degrees, cell ``(x, y)``
    holding longitudes ``[x·size - 180, (x+1)·size - 180)`` and latitudes
    ``[y·size - 90, (y+1)·size - 90)``. Sizes are exact binary fractions, so the cell of a
    point is the same in Python, in a query and in the table migration 0011 fills."""

    level: int

    @property
    def size(self) -> float:
        return 360.0 / (1 << self.level)

    def cell_x(self, lon: ColumnElement) -> ColumnElement:
        return func.floor((lon + 180.0) / self.size)

    def cell_y(self, lat: ColumnElement) -> ColumnElement:
        return func.floor((lat + 90.0) / self.size)

    def inner(self, west: float, south: float, east: float, north: float) -> CellRange | None:
        """The cells lying wholly inside ``west..east`` × ``south..north`` (a span of a
        box, ``west < east``), or ``None`` when no cell does."""
        size = self.size
        x_lo = math.floor((west + 180.0) / size) + 1
        x_hi = math.floor((east + 180.0) / size) - 1
        y_lo = math.floor((south + 90.0) / size) + 1
        y_hi = math.floor((north + 90.0) / size) - 1
        if x_lo > x_hi or y_lo > y_hi:
            return None
        return CellRange(self, x_lo, x_hi, y_lo, y_hi)


@dataclass(frozen=True, slots=True)
class CellRange:
    """Cells ``x_lo..x_hi`` × ``y_lo..y_hi`` (inclusive) of a grid."""

    grid: Grid
    x_lo: int
    x_hi: int
    y_lo: int
    y_hi: int

    def contains(self, x: ColumnElement, y: ColumnElement) -> ColumnElement:
        """SQL: cell ``(x, y)`` of this grid is in the range."""
        return and_(x.between(self.x_lo, self.x_hi), y.between(self.y_lo, self.y_hi))

    def holds(self, lon: ColumnElement, lat: ColumnElement) -> ColumnElement:
        """SQL: the point's cell (computed as the table computes it) is in the range."""
        return self.contains(self.grid.cell_x(lon), self.grid.cell_y(lat))

    def edges(self) -> tuple[float, float, float, float]:
        """West, south, east and north edges of the range, in degrees."""
        size = self.grid.size
        return (
            self.x_lo * size - 180.0,
            self.y_lo * size - 90.0,
            (self.x_hi + 1) * size - 180.0,
            (self.y_hi + 1) * size - 90.0,
        )


def display_level(bbox: BBox, min_cells: int = MIN_CELLS_ACROSS) -> int:
    """The coarsest grid with at least ``min_cells`` cells across the box's shorter side."""
    shorter = min(bbox.width, bbox.max_lat - bbox.min_lat)
    level = 0
    while level < MAX_LEVEL and Grid(level).size * min_cells > shorter:
        level += 1
    return level


def border_strips(bbox: BBox, west: float, east: float, inner: CellRange | None) -> list:
    """Envelopes covering the span ``west..east`` of the box outside ``inner`` (the whole
    span when there is no inner range), each reaching ``EDGE_SLACK_DEGREES`` into it."""
    south, north = bbox.min_lat, bbox.max_lat
    if inner is None:
        return [func.ST_MakeEnvelope(west, south, east, north, 4326)]
    in_west, in_south, in_east, in_north = inner.edges()
    slack = EDGE_SLACK_DEGREES
    boxes = [
        (west, south, min(in_west + slack, east), north),
        (max(in_east - slack, west), south, east, north),
        (west, south, east, min(in_south + slack, north)),
        (west, max(in_north - slack, south), east, north),
    ]
    return [func.ST_MakeEnvelope(*edges, 4326) for edges in boxes]


def grid_clusters(rows: Select, point: ColumnElement, grid: Grid) -> Select:
    """The rows counted per cell of ``grid``: ``x``, ``y``, ``places``, ``lon_sum`` and
    ``lat_sum`` (integer cell keys: grouping by them is far cheaper than by snapped
    geometries). Cells never straddle the antimeridian, so places on either side of it
    never share one (whose mean would land near longitude 0)."""
    geometry = geometry_of(point)
    lon, lat = func.ST_X(geometry), func.ST_Y(geometry)
    x, y = grid.cell_x(lon).label("x"), grid.cell_y(lat).label("y")
    located = rows.with_only_columns(x, y, lon.label("lon"), lat.label("lat")).subquery()
    return select(
        located.c.x,
        located.c.y,
        func.count().label("places"),
        func.sum(located.c.lon).label("lon_sum"),
        func.sum(located.c.lat).label("lat_sum"),
    ).group_by(located.c.x, located.c.y)
