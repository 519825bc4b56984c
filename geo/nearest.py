"""Nearest-neighbour queries on a ``geography(Point)`` column, exact and index-assisted.

PostGIS's KNN operator ``<->`` walks the GiST index, but on geography it orders by distance
on a sphere, while we report (and promise to order by) ``ST_Distance`` on the spheroid; the
two can disagree for places at nearly the same distance. So the search runs in two steps,
both on the index:

1. KNN: the ``limit`` rows nearest on the sphere; ``reach`` = the largest spheroid distance
   among them (plus a metre of slack). At least ``limit`` rows lie within ``reach``, so the
   true ``limit`` nearest on the spheroid all do too.
2. ``ST_DWithin(point, origin, reach)`` (spheroid, index-assisted), ordered by
   ``ST_Distance`` with a tie-breaker, limited to ``limit``.

The origin is a constant expression built from bound parameters, as the index requires.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, select

from geo.coordinates import LonLat, point_geography

REACH_SLACK = 1e-6


def nearest(
    rows: Select,
    point: ColumnElement,
    position: LonLat,
    *,
    limit: int,
    tiebreak: ColumnElement,
    radius_m: float | None = None,
) -> Select:
    """``rows`` (already filtered) ordered by spheroid distance from ``position``.

    Adds a ``distance_m`` column; ``radius_m`` caps the distance. ``tiebreak`` (a primary
    key) makes the order of equally distant rows stable.
    """
    origin = point_geography(position)
    if radius_m is not None:
        rows = rows.where(func.ST_DWithin(point, origin, radius_m))
    knn = (
        rows.with_only_columns(func.ST_Distance(point, origin).label("distance"))
        .order_by(point.op("<->")(origin))
        .limit(limit)
        .subquery("knn")
    )
    # ST_DWithin and ST_Distance compute the spheroid distance by different routes, so a
    # row exactly at ``reach`` may fall out; a little slack only adds candidates, which the
    # final ORDER BY and LIMIT sort out.
    reach = select(func.max(knn.c.distance) * (1 + REACH_SLACK) + 1.0).scalar_subquery()
    distance = func.ST_Distance(point, origin).label("distance_m")
    return (
        rows.add_columns(distance)
        .where(func.ST_DWithin(point, origin, reach))
        .order_by(distance, tiebreak)
        .limit(limit)
    )
