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

import itertools
import math
from collections.abc import Sequence
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import ColumnElement, Select, cast, func, literal, select
from sqlalchemy.dialects.postgresql import distinct_on

from geo.coordinates import SRID, LonLat, point_geometry
from geo.geojson import GeometryError, read_geometry

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
    drawing on a map, not for deciding membership."""
    piece = func.ST_LineSubstring(line, start_fraction, 1.0)
    area = cast(func.ST_Buffer(as_geography(piece), buffer_m), Geometry)
    simplified = func.ST_SimplifyPreserveTopology(area, tolerance)
    return select(func.ST_AsGeoJSON(simplified, 4))
