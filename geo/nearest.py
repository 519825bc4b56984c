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

import math

from sqlalchemy import ColumnElement, Float, Select, func, select

from geo.coordinates import LonLat, point_geography

REACH_SLACK = 1e-6
# WGS84 geodesic distance over PostGIS's sphere distance (mean radius 6,371,008.8 m) lies
# between about 0.9944 (north-south at the equator, where the meridian's radius of
# curvature is 6,335 km) and 1.0045 (near the poles); 0.007 leaves a margin. It is the
# bound anywhere; ``sphere_gap`` gives a tighter one for a search's latitude.
SPHERE_GAP = 0.007

# WGS84 and PostGIS's sphere, for ``sphere_gap``.
WGS84_A = 6_378_137.0
WGS84_E2 = 0.006_694_379_990_14
SPHERE_RADIUS = 6_371_008.771_415  # (2a + b) / 3, the radius PostGIS's sphere distances use
MERIDIAN_RADIUS_MIN = WGS84_A * (1 - WGS84_E2)  # at the equator: 6,335,439 m
# Far above the rounding of either distance (about 1e-12 of it).
GAP_MARGIN = 1e-4


def sphere_gap(latitude: float, reach_m: float) -> float:
    """How much shorter (as a fraction) than its distance on PostGIS's sphere a place within
    ``reach_m`` on the spheroid of a point at ``latitude`` can be on the spheroid.

    Along any path on the ellipsoid the length element is at least ``M(φ)`` times the
    sphere's element over ``R`` (``M``, the meridian's radius of curvature, is the smaller
    of the two principal radii), and the geodesic is at least as long on the sphere as the
    great circle; so the spheroid distance is at least ``min M / R`` times the sphere
    distance, the minimum over the latitudes the geodesic passes. ``M`` grows away from the
    equator, and a geodesic between two points of one hemisphere never comes nearer to the
    equator than its nearer end; that end is within ``reach_m`` (at most ``reach_m /
    M(0)`` radians of latitude) of ``latitude``. At the equator this is the global bound
    (0.56 %); at 20° and 100 km 0.45 %; at 30° 0.31 %.
    """
    band = math.degrees(reach_m / MERIDIAN_RADIUS_MIN)
    nearest_to_equator = max(0.0, abs(latitude) - band)
    sine = math.sin(math.radians(nearest_to_equator))
    meridian_radius = MERIDIAN_RADIUS_MIN / (1 - WGS84_E2 * sine * sine) ** 1.5
    return min(SPHERE_GAP, 1 - meridian_radius / SPHERE_RADIUS + GAP_MARGIN)


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
    latitude: float | None = None,
) -> bool:
    """Whether ``nearest_candidates``' answer is the exact ``limit`` nearest.

    True when every matching row was a candidate (fewer than ``candidates`` came back from
    the walk), or when the nearest row left out is provably farther on the spheroid than the
    last one kept: it is at least ``sphere_bound_m`` away on the sphere, so at least
    ``sphere_bound_m × (1 − gap)`` on the spheroid, where ``gap`` is ``SPHERE_GAP``, or
    ``sphere_gap`` of the search's ``latitude`` when given. Strictly farther, so that a
    row left out cannot even tie (and win on the tie-breaker).
    """
    if not distances_m or candidate_count is None or candidate_count < candidates:
        return True
    if len(distances_m) < limit or sphere_bound_m is None:
        return False
    # Only a row nearer than the last one kept matters: within that reach of the search.
    gap = SPHERE_GAP if latitude is None else sphere_gap(latitude, distances_m[-1])
    return sphere_bound_m * (1 - gap) > distances_m[-1]
