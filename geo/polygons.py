"""Polygons as stored and as sent: valid, oriented as RFC 7946 says, at most 6 decimals.

Two rules, one per direction:

* **Stored** polygons are valid (``ST_IsValid``): whatever comes in (a country outline, a
  computed or uploaded district) goes through ``valid_multipolygon`` once, when it is loaded.
  Valid input is what every spatial predicate (``ST_Covers``, ``ST_Intersection``) assumes.
* **Sent** polygons (``drawn``) are simplified for drawing by the caller, then made valid
  *at the precision they are written with*, then oriented. The order matters:
  simplifying can make rings cross (``ST_SimplifyPreserveTopology`` keeps each ring simple,
  not the rings apart), and writing coordinates with 1 to 5 decimals moves every vertex to
  a grid, which can fold a narrow bay onto itself or shrink an islet to a line. So the
  polygons are first made valid, then snapped to that very grid with ``ST_ReducePrecision``
  (GEOS snap-rounding: its output is valid on the grid, and what has no area there is
  dropped), and only then oriented with ``ST_ForcePolygonCCW``: exterior rings
  counter-clockwise, holes clockwise (RFC 7946, section 3.1.6). Writing the result with the
  same number of decimals changes no vertex, so what the client parses is what PostGIS
  checked.

RFC 7946 (section 11.2) suggests 6 decimals (about 10 cm) as plenty; nothing here writes
more (``MAX_DECIMAL_DIGITS``).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, func

# RFC 7946, section 11.2: "6 decimal places ... ~10 centimeters", the most ever written.
MAX_DECIMAL_DIGITS = 6
# ``ST_CollectionExtract`` type number of polygons.
_POLYGONS = 3


def grid_size(decimal_digits: int) -> float:
    """The grid that ``decimal_digits`` decimals write coordinates on (1 → 0.1°)."""
    if not 0 <= decimal_digits <= MAX_DECIMAL_DIGITS:
        raise ValueError(f"between 0 and {MAX_DECIMAL_DIGITS} decimals, not {decimal_digits}")
    return 10.0**-decimal_digits


def valid_multipolygon(geometry: ColumnElement) -> ColumnElement:
    """SQL: the polygons of ``geometry`` made valid, as a MultiPolygon (empty when nothing
    with an area is left). What every polygon goes through before it is stored:
    ``ST_MakeValid`` keeps every vertex and may split a figure eight into two polygons or
    leave lines and points behind, which ``ST_CollectionExtract`` drops."""
    return func.ST_Multi(
        func.ST_CollectionExtract(func.ST_MakeValid(geometry), _POLYGONS),
        type_=Geometry(srid=4326),
    )


def drawn(geometry: ColumnElement, decimal_digits: int) -> ColumnElement:
    """SQL: ``geometry`` (polygons, simplified or not) as a MultiPolygon that is valid with
    its coordinates written with ``decimal_digits`` decimals, exterior rings
    counter-clockwise and holes clockwise (RFC 7946). Empty when it has no area on that
    grid (an islet a tenth of a degree across, at one decimal)."""
    on_grid = func.ST_ReducePrecision(valid_multipolygon(geometry), grid_size(decimal_digits))
    return func.ST_Multi(func.ST_ForcePolygonCCW(on_grid), type_=Geometry(srid=4326))
