"""Points inside a map's visible area, thinned into grid clusters when there are many.

A phone showing a whole country must not download 100,000 points. When an area holds more
than ``max_points`` rows, the database snaps them to a grid of about ``grid_cells`` cells
across and returns one cluster per occupied cell (its centre of mass and count).

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

from geoalchemy2 import Geography, Geometry
from sqlalchemy import ColumnElement, Select, and_, cast, func, or_, select

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


def within(point: ColumnElement, bbox: BBox) -> ColumnElement:
    """``point`` (geography) inside the area: the GiST index finds the candidates of each
    piece, and the box in plain degrees decides (edges included)."""
    geometry = cast(point, Geometry)
    return or_(
        *(
            and_(
                point.op("&&")(bbox.index_polygon(west, east)),
                func.ST_Intersects(geometry, bbox.envelope(west, east)),
            )
            for west, east in bbox.pieces()
        )
    )


def grid_clusters(rows: Select, point: ColumnElement, bbox: BBox, grid_cells: int) -> Select:
    """One row per occupied grid cell: ``lon``, ``lat`` (mean position) and ``count``.

    Cells are ``bbox.width / grid_cells`` degrees of plain longitude, so places on either
    side of the antimeridian never share a cell (whose mean would land near longitude 0)."""
    cell = bbox.width / grid_cells
    snapped = func.ST_SnapToGrid(cast(point, Geometry), cell)
    area_rows = rows.with_only_columns(
        snapped.label("cell"), cast(point, Geometry).label("geom")
    ).subquery()
    return select(
        func.avg(func.ST_X(area_rows.c.geom)).label("lon"),
        func.avg(func.ST_Y(area_rows.c.geom)).label("lat"),
        func.count().label("count"),
    ).group_by(area_rows.c.cell)
