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

Step 2 is exact but can be slow: where data is sparse the ``limit``-th neighbour is far,
and the index box of that radius sweeps whole dense regions (at a point in the Pacific,
200,000 rows rechecked for 10 results at a million locations). ``nearest_candidates`` is
the fast path, one statement: the ``candidates`` rows nearest on the sphere (the KNN index
walk alone), re-ranked on the spheroid with the tie-breaker. It is exact whenever the
candidates provably hold the true ``limit`` nearest (``candidates_are_enough``): a row
that is not a candidate is at least as far on the sphere as the farthest candidate, and
the spheroid distance is never shorter than the sphere distance by more than
``SPHERE_GAP``. The caller asks again with more candidates, or falls back to ``nearest``,
when that cannot be shown.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Float, Select, func, select

from geo.coordinates import LonLat, point_geography

REACH_SLACK = 1e-6
# WGS84 geodesic distance over PostGIS's sphere distance (mean radius 6,371,008.8 m) lies
# between about 0.9944 (north-south at the equator, where the meridian's radius of
# curvature is 6,335 km) and 1.0045 (near the poles); 0.007 leaves a margin.
SPHERE_GAP = 0.007


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


def nearest_candidates(
    rows: Select,
    point: ColumnElement,
    position: LonLat,
    *,
    limit: int,
    candidates: int,
    tiebreak: ColumnElement,
    radius_m: float | None = None,
) -> Select:
    """One statement: ``rows`` among the ``candidates`` nearest on the sphere, ordered by
    spheroid distance and ``tiebreak``, limited to ``limit``.

    Adds ``distance_m`` (spheroid), and on every row ``sphere_bound_m`` (the farthest
    candidate on the sphere) and ``candidate_count``, which ``candidates_are_enough``
    needs. ``tiebreak`` must be a unique column of ``rows`` (a primary key).
    """
    origin = point_geography(position)
    if radius_m is not None:
        rows = rows.where(func.ST_DWithin(point, origin, radius_m))
    sphere = point.op("<->", return_type=Float)(origin)
    knn = (
        rows.with_only_columns(
            tiebreak.label("key"),
            sphere.label("sphere_m"),
            func.ST_Distance(point, origin).label("distance_m"),
        )
        .order_by(sphere)
        .limit(candidates)
        .cte("knn")
    )
    bound = select(func.max(knn.c.sphere_m)).scalar_subquery()
    count = select(func.count()).select_from(knn).scalar_subquery()
    return (
        rows.add_columns(
            knn.c.distance_m.label("distance_m"),
            bound.label("sphere_bound_m"),
            count.label("candidate_count"),
        )
        .join(knn, knn.c.key == tiebreak)
        .order_by(knn.c.distance_m, tiebreak)
        .limit(limit)
    )


def candidates_are_enough(
    distances_m: list[float],
    sphere_bound_m: float | None,
    candidate_count: int | None,
    *,
    limit: int,
    candidates: int,
) -> bool:
    """Whether ``nearest_candidates``' answer is the exact ``limit`` nearest.

    True when every matching row was a candidate (fewer than ``candidates`` came back from
    the walk), or when the nearest row left out is provably farther on the spheroid than the
    last one kept: it is at least ``sphere_bound_m`` away on the sphere, so at least
    ``sphere_bound_m × (1 − SPHERE_GAP)`` on the spheroid. Strictly farther, so that a row
    left out cannot even tie (and win on the tie-breaker).
    """
    if not distances_m or candidate_count is None or candidate_count < candidates:
        return True
    if len(distances_m) < limit or sphere_bound_m is None:
        return False
    return sphere_bound_m * (1 - SPHERE_GAP) > distances_m[-1]
