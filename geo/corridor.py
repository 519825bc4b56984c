"""Points along a line: which lie within a buffer of it, how far along and how far off.

The line is a ``geometry(LineString, 4326)`` expression (a stored route, or one built from
validated coordinates); the points are a ``geography(Point)`` column. Membership and the
offset are spheroid distances to the whole line (``ST_DWithin``/``ST_Distance`` on
geography); the candidates come from the spatial index, asked piece by piece of the line
(``near_line``). The position along the line comes in two steps, because PostGIS 3.3
locates points on geometry only:

* ``fraction`` = ``ST_LineLocatePoint(line, point)``: where the point projects, as a
  fraction of the line (measured in degrees, which is fine: only its order matters);
* ``along`` = the spheroid length of the piece of line from its start to that fraction,
  in metres. It grows with the fraction, so ordering by it is ordering along the line;
  from a starting point, it is that minus the starting point's own ``along``.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.sql.functions import Function
from sqlalchemy.types import Text

from geo.area import PlainGeometry
from geo.coordinates import SRID, LonLat, point_geometry
from geo.geojson import GeometryError, polygons_geojson, read_geometry

MAX_POSITIONS = 10_000
# The work of a search along a line grows with its length (the index is asked piece by
# piece). The longest route of the region, Colombia to the US border, is about 6,000 km.
MAX_LINE_KM = 10_000.0
# Two positions this far apart (degrees of arc) are nearly antipodal: the edge between them
# is ambiguous on the sphere, and PostGIS refuses it.
MAX_EDGE_DEG = 179.0
EARTH_RADIUS_KM = 6371.0088
MIN_PIECE_M = 20_000
REACH_SLACK = 1e-3


def read_line(data: Any, max_positions: int = MAX_POSITIONS) -> list[LonLat]:
    """The positions of a GeoJSON LineString (or a Feature holding one) sent by a client.

    Checked by ``geo.geojson.read_geometry``: at least two ``[lon, lat]`` positions in range,
    at most ``max_positions``, not all at the same place; else ``GeometryError``.
    """
    geometry = read_geometry(data, ("LineString",), max_positions=max_positions)
    positions = [LonLat(float(p[0]), float(p[1])) for p in geometry["coordinates"]]
    length_km = 0.0
    for index, (start, end) in enumerate(itertools.pairwise(positions)):
        arc = arc_degrees(start, end)
        if arc > MAX_EDGE_DEG:
            raise GeometryError(
                "coordinates",
                f"positions {index} and {index + 1} are nearly opposite on the globe; "
                "add positions between them",
            )
        length_km += math.radians(arc) * EARTH_RADIUS_KM
    if length_km > MAX_LINE_KM:
        raise GeometryError(
            "coordinates",
            f"the line is {length_km:,.0f} km long; at most {MAX_LINE_KM:,.0f} km is searched",
        )
    return positions


def arc_degrees(start: LonLat, end: LonLat) -> float:
    """The great-circle angle between two positions, in degrees (haversine)."""
    lat1, lat2 = math.radians(start.lat), math.radians(end.lat)
    half_dlat = (lat2 - lat1) / 2
    half_dlon = math.radians(end.lon - start.lon) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(half_dlon) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h))))


def linestring_wkt(positions: Sequence[LonLat]) -> str:
    """WKT of a line through ``positions`` (full precision: ``repr`` of each float)."""
    if not all(math.isfinite(p.lon) and math.isfinite(p.lat) for p in positions):
        raise ValueError("positions must be finite")
    return "LINESTRING(" + ", ".join(f"{p.lon!r} {p.lat!r}" for p in positions) + ")"


def line_geometry(positions: Sequence[LonLat]) -> ColumnElement:
    """``ST_GeomFromText(:wkt, 4326)``: a constant line from validated positions."""
    return func.ST_GeomFromText(literal(linestring_wkt(positions)), SRID, type_=Geometry)


def as_geography(expression: ColumnElement) -> ColumnElement:
    return cast(expression, Geography)


def within(point: ColumnElement, line: ColumnElement, buffer_m: float) -> ColumnElement:
    """The point (geography) lies within ``buffer_m`` metres of the line (spheroid)."""
    return func.ST_DWithin(point, as_geography(line), buffer_m)


def fraction_of(line: ColumnElement, point: ColumnElement) -> ColumnElement:
    """Where a geography point projects on the line, as a fraction in [0, 1]."""
    return func.ST_LineLocatePoint(line, cast(point, Geometry))


def along_m(line: ColumnElement, fraction: ColumnElement) -> ColumnElement:
    """Spheroid length of the line from its start to ``fraction``, in metres."""
    return func.ST_Length(as_geography(func.ST_LineSubstring(line, 0.0, fraction)))


def offset_m(point: ColumnElement, line: ColumnElement) -> ColumnElement:
    """Spheroid distance from a geography point to the line, in metres."""
    return func.ST_Distance(point, as_geography(line))


def near_line(
    rows: Select, key: ColumnElement, point: ColumnElement, line: ColumnElement, *, buffer_m: float
) -> Select:
    """``rows`` narrowed to a superset of the points within ``buffer_m`` of the line, one
    row per ``key``, found through the spatial index piece by piece.

    ``ST_DWithin`` against the whole line asks the index for everything in the line's
    bounding box: for a route across Mexico that is most of the table. Against short pieces
    of it (geodesic, ``max(2 × buffer, 20 km)`` long at most) the boxes hug the line. The
    pieces lie on the line's own edges, so a point within the buffer of the line is within
    it of some piece; a little slack keeps rounding from dropping one. The caller applies
    the exact predicate (``along_line``) to what this returns, through a column of the
    subquery, so the database cannot answer it with the whole-line box again.
    """
    piece_m = max(2 * buffer_m, MIN_PIECE_M)
    segments = func.ST_DumpSegments(
        cast(func.ST_Segmentize(as_geography(line), piece_m), Geometry)
    ).table_valued("path", "geom")
    # An array unnested: its row estimate (10, not 1,000) keeps the plan cheap and simple.
    pieces = select(func.array_agg(as_geography(segments.c.geom))).scalar_subquery()
    piece = func.unnest(pieces).table_valued("piece").render_derived("pieces")
    reach = buffer_m * (1 + REACH_SLACK) + 1.0
    return rows.join(piece, func.ST_DWithin(point, piece.c.piece, reach)).ext(distinct_on(key))


def along_line(
    rows: Select,
    point: ColumnElement,
    line: ColumnElement,
    *,
    buffer_m: float,
    start_along_m: float = 0.0,
    behind_m: float = 0.0,
) -> Select:
    """``rows`` narrowed to points within ``buffer_m`` of ``line`` whose projection lies
    at most ``behind_m`` before ``start_along_m`` (metres from the line's start), with
    columns ``fraction``, ``along_m`` (from ``start_along_m``; 0 for a point just behind it)
    and ``offset_m``. Unordered: the caller orders (and pages) by ``along_m``."""
    fraction = fraction_of(line, point)
    from_line_start = along_m(line, fraction)
    selected = rows.add_columns(
        fraction.label("fraction"),
        func.greatest(from_line_start - start_along_m, 0.0).label("along_m"),
        offset_m(point, line).label("offset_m"),
    ).where(within(point, line, buffer_m))
    if start_along_m - behind_m > 0:
        selected = selected.where(from_line_start >= start_along_m - behind_m)
    return selected


def projection(line: ColumnElement, position: LonLat) -> Select:
    """One row: where ``position`` projects on the line (``fraction``), how far along from
    the line's start that is (``along_m``) and how far the position is from it
    (``offset_m``)."""
    point = point_geometry(position)
    fraction = func.ST_LineLocatePoint(line, point)
    return select(
        fraction.label("fraction"),
        along_m(line, fraction).label("along_m"),
        offset_m(as_geography(point), line).label("offset_m"),
    )


def length_m(line: ColumnElement) -> ColumnElement:
    return func.ST_Length(as_geography(line))


def corridor_area(
    line: ColumnElement, buffer_m: float, start_fraction: float = 0.0, *, tolerance: float = 0.005
) -> Select:
    """One row: GeoJSON text of the area within ``buffer_m`` of the line past
    ``start_fraction`` (buffered on geography, simplified by ``tolerance`` degrees), for
    drawing on a map, not for deciding membership: a MultiPolygon valid with its 4
    decimals, oriented as RFC 7946 says (``geo.geojson.polygons_geojson``)."""
    piece = func.ST_LineSubstring(line, start_fraction, 1.0)
    area = cast(func.ST_Buffer(as_geography(piece), buffer_m), Geometry)
    simplified = func.ST_SimplifyPreserveTopology(area, tolerance)
    return select(polygons_geojson(simplified, 4))


# Paging along the line, window by window (``directory.corridors.services``).
#
# A place's position along the line is its ``fraction``: where it projects on the line in
# plain degrees (``ST_LineLocatePoint``). The places whose fraction lies in ``[lo, hi)`` are
# within ``reach_degrees`` (plain degrees) of the piece of line between ``lo`` and ``hi``,
# and the line's nearest point to each is on that piece (``window_area``): the index on
# ``point::geometry`` finds them in a band across the line, not in a disc around it.

# Metres in one plain degree, at the least, at latitude 0: a degree of latitude is at least
# 110,574 m and a degree of longitude 111,320 m × cos(latitude).
METRES_PER_DEGREE_MIN = 110_574.0
# ... and at the most: a degree of latitude is at most 111,694 m (at the poles).
METRES_PER_DEGREE_MAX = 111_700.0
# The areas a window's places lie in are widened a little (relative) ...
BUFFER_WIDENING = 1.0001
# ... and by this much (plain degrees) for the rounding of positions and fractions.
EDGE_SLACK = 1e-8
# Where the line cannot be handled in plain degrees (across the antimeridian, near a pole),
# the corridor is computed whole instead.
MAX_PLAIN_LATITUDE = 80.0
MAX_PLAIN_LONGITUDES = 180.0


def degrees_at_most(metres: float, max_abs_lat: float) -> float:
    """Plain degrees between two points ``metres`` apart (spheroid) that both lie at
    latitudes within ``±max_abs_lat``, at the most: ds ≥ 110,574 m · cos(φ) · dθ."""
    return metres / (METRES_PER_DEGREE_MIN * math.cos(math.radians(max_abs_lat)))


def line_facts(line: ColumnElement) -> Select:
    """One row about the line: ``length_m`` (spheroid), ``planar_length`` (plain degrees),
    ``lon_extent``, ``max_abs_lat`` and ``bulge``: how far (plain degrees) its edges, which
    are geodesics on the spheroid, stray from the straight lines in plain degrees that
    ``ST_LineLocatePoint`` projects on (densified every 2 km, a few metres' slack), and
    ``geojson``: its positions (``PlainLine``)."""
    geodesic = cast(func.ST_Segmentize(as_geography(line), 2000.0), PlainGeometry())
    return select(
        length_m(line).label("length_m"),
        func.ST_Length(line).label("planar_length"),
        (func.ST_XMax(line) - func.ST_XMin(line)).label("lon_extent"),
        func.greatest(func.abs(func.ST_YMin(line)), func.abs(func.ST_YMax(line))).label(
            "max_abs_lat"
        ),
        func.ST_HausdorffDistance(line, geodesic).label("bulge"),
        # Not ``func.ST_AsGeoJSON``: GeoAlchemy reads a subquery given to it as a record.
        Function("ST_AsGeoJSON", line, 15, type_=Text()).label("geojson"),
    )


@dataclass(frozen=True, slots=True)
class PlainLine:
    """The line's positions in plain degrees, parametrised as ``ST_LineLocatePoint`` and
    ``ST_LineSubstring`` do: by the fraction of its length in plain degrees."""

    points: tuple[tuple[float, float], ...]
    walked: tuple[float, ...]  # length (plain degrees) from the start to each position

    @classmethod
    def from_geojson(cls, text: str) -> PlainLine:
        points = tuple((float(x), float(y)) for x, y, *_ in json.loads(text)["coordinates"])
        walked = [0.0]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            walked.append(walked[-1] + math.hypot(x2 - x1, y2 - y1))
        return cls(points, tuple(walked))

    @property
    def length(self) -> float:
        return self.walked[-1]

    def vertex_fractions(self) -> list[float]:
        """The fractions of the inner vertices."""
        return [w / self.length for w in self.walked[1:-1]] if self.length else []

    def at(self, fraction: float) -> tuple[float, float]:
        target = fraction * self.length
        index = min(bisect.bisect_right(self.walked, target), len(self.points) - 1)
        (x1, y1), (x2, y2) = self.points[index - 1], self.points[index]
        span = self.walked[index] - self.walked[index - 1]
        share = (target - self.walked[index - 1]) / span if span else 0.0
        share = min(max(share, 0.0), 1.0)
        return (x1 + (x2 - x1) * share, y1 + (y2 - y1) * share)

    def piece(self, lo: float, hi: float) -> list[tuple[float, float]]:
        """The positions from fraction ``lo`` to ``hi``: its ends and the vertices between."""
        inner = [
            point
            for point, walked in zip(self.points, self.walked, strict=True)
            if lo * self.length < walked < hi * self.length
        ]
        return [self.at(lo), *inner, self.at(hi)]

    def window_area(self, lo: float, hi: float, reach: float) -> list[str]:
        """Polygons (WKT) holding every point within ``reach`` (plain degrees) of the line
        whose nearest point on it lies between ``lo`` and ``hi``.

        That nearest point is inside an edge (the point lies square off it: a rectangle
        along the edge) or at a vertex (the point lies in the sector outside the bend: a
        fan around it), or the point lies past an end of the line (a square beyond it).
        ``lo`` and ``hi`` must not be vertices (``window_edges``): the places nearest to a
        vertex belong to the window that holds it inside."""
        radius = reach * BUFFER_WIDENING + EDGE_SLACK
        points = self.piece(lo, hi)
        polygons = []
        directions = []
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            size = math.hypot(x2 - x1, y2 - y1)
            if size == 0.0:
                continue
            ux, uy = (x2 - x1) / size, (y2 - y1) / size
            directions.append(((x1, y1), (ux, uy)))
            start = (x1 - ux * EDGE_SLACK, y1 - uy * EDGE_SLACK)
            end = (x2 + ux * EDGE_SLACK, y2 + uy * EDGE_SLACK)
            polygons.extend(_rectangle(start, end, (ux, uy), radius))
        for (_, before), (vertex, after) in itertools.pairwise(directions):
            polygons.extend(_fan(vertex, before, after, radius))
        if directions and lo <= 0.0:
            (x, y), (ux, uy) = directions[0]
            behind = (x - ux * radius, y - uy * radius)
            polygons.extend(_rectangle(behind, (x, y), (ux, uy), radius))
        if directions and hi >= 1.0:
            (x, y), (ux, uy) = points[-1], directions[-1][1]
            ahead = (x + ux * radius, y + uy * radius)
            polygons.extend(_rectangle((x, y), ahead, (ux, uy), radius))
        return polygons


def _wkt(ring: list[tuple[float, float]]) -> str:
    return "POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in [*ring, ring[0]]) + "))"


# The index compares bounding boxes: a long thin rectangle across a line that runs
# diagonally has a box far larger than itself. So rectangles are cut across into slices
# about as wide as they are long (at most this many).
MAX_SLICES = 32


def _rectangle(
    start: tuple[float, float], end: tuple[float, float], u: tuple[float, float], radius: float
) -> list[str]:
    """The rectangle from ``start`` to ``end`` (direction ``u``), ``radius`` to each side,
    in slices along its length."""
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    slices = max(1, min(MAX_SLICES, math.ceil(2 * radius / max(length, 1e-12))))
    nx, ny = -u[1], u[0]
    width = 2 * radius / slices
    polygons = []
    for index in range(slices):
        near = -radius + width * index
        far = near + width
        polygons.append(
            _wkt(
                [
                    (start[0] + nx * near, start[1] + ny * near),
                    (end[0] + nx * near, end[1] + ny * near),
                    (end[0] + nx * far, end[1] + ny * far),
                    (start[0] + nx * far, start[1] + ny * far),
                ]
            )
        )
    return polygons


def _fan(
    vertex: tuple[float, float],
    before: tuple[float, float],
    after: tuple[float, float],
    radius: float,
) -> list[str]:
    """Polygons holding the sector of radius ``radius`` outside the bend at ``vertex``
    (between the normals of the edges before and after it), its edges tangent to the arc."""
    turn = before[0] * after[1] - before[1] * after[0]
    side = -1.0 if turn > 0 else 1.0  # the outside of a left turn is on the right
    first = math.atan2(side * before[0], -side * before[1])
    last = math.atan2(side * after[0], -side * after[1])
    sweep = (last - first + math.pi) % (2 * math.pi) - math.pi
    steps = max(1, math.ceil(abs(sweep) / (math.pi / 4)))
    step = sweep / steps
    outer = radius / math.cos(abs(step) / 2)
    ring = [vertex]
    for index in range(steps + 1):
        angle = first + step * index
        ring.append((vertex[0] + outer * math.cos(angle), vertex[1] + outer * math.sin(angle)))
    polygons = [_wkt(ring)]
    if abs(sweep) > 0.99 * math.pi:  # (nearly) back on itself: the half disc ahead
        ahead = (vertex[0] + before[0] * radius, vertex[1] + before[1] * radius)
        polygons.extend(_rectangle(vertex, ahead, before, radius))
    return polygons


def window_condition(geometry: ColumnElement, polygons: Sequence[str]) -> ColumnElement:
    """``geometry`` (plain degrees, indexed) inside one of ``polygons``."""
    return or_(*(func.ST_Intersects(geometry, func.ST_GeomFromText(p, SRID)) for p in polygons))


def in_window(fraction: ColumnElement, lo: float, hi: float) -> ColumnElement:
    """``lo <= fraction < hi`` (``<= 1`` for the last window)."""
    upper = fraction <= hi if hi >= 1.0 else fraction < hi
    return and_(fraction >= lo, upper)


def window_edges(lo: float, hi: float, vertices: Sequence[float]) -> float:
    """``hi`` moved off a vertex's fraction (a flat end at a vertex would cut off the places
    projecting on the vertex from outside the bend)."""
    if hi >= 1.0:
        return hi
    for vertex in vertices:
        if abs(vertex - hi) < 1e-9 and lo < hi - 2e-9:
            return hi - 2e-9
    return hi
