"""Barriers no road crosses, such as the Darién Gap: which help lies across one, and where a
route enters one.

A shelter 60 km away in a straight line may be days away on foot through the jungle. So a
search flags a place when the straight line from the searcher to it crosses a barrier, and
ranks it after the help on the searcher's own side when there is any within
``REACHABLE_KM`` (``directory.places.nearest``); a route page warns at the point where the
route enters a barrier, in the order of the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from directory.corridors.models import Barrier, Route
from directory.places.models import Location
from geo.coordinates import LonLat, point_geometry

# Help on the searcher's side this near comes before help across a barrier.
REACHABLE_KM = 150.0


def crossed_barrier(position: LonLat) -> ScalarSelect:
    """For each location row: the code of a barrier the straight line from ``position``
    to it crosses, or NULL. Nothing is "across" for a searcher inside a barrier: from
    there every way out is hard, and the list stays in distance order."""
    origin = point_geometry(position)
    line = func.ST_MakeLine(origin, func.geometry(Location.point))
    return (
        select(Barrier.code)
        .where(Barrier.archived_at.is_(None))
        .where(func.ST_Intersects(Barrier.area, line))
        .where(~func.ST_Covers(Barrier.area, origin))
        .order_by(Barrier.code)
        .limit(1)
        .correlate(Location)
        .scalar_subquery()
    )


def barriers_by_code(session: Session, codes: set[str]) -> dict[str, Barrier]:
    """The barriers named in a result list (no query when none was crossed)."""
    if not codes:
        return {}
    return {
        barrier.code: barrier
        for barrier in session.scalars(select(Barrier).where(Barrier.code.in_(codes)))
    }


@dataclass(frozen=True, slots=True)
class RouteBarrier:
    """A barrier a route enters, ``along_m`` metres from the route's start."""

    barrier: Barrier
    along_m: float


def route_barriers(session: Session, route: Route) -> list[RouteBarrier]:
    """The barriers ``route`` passes through, in the order it enters them."""
    path = select(Route.path).where(Route.id == route.id).scalar_subquery()
    crossing = func.ST_GeometryN(func.ST_Multi(func.ST_Intersection(path, Barrier.area)), 1)
    fraction = func.ST_LineLocatePoint(path, func.ST_StartPoint(crossing))
    along = func.ST_Length(func.geography(func.ST_LineSubstring(path, 0, fraction)))
    rows = session.execute(
        select(Barrier, along.label("along_m"))
        .where(Barrier.archived_at.is_(None))
        .where(func.ST_Intersects(Barrier.area, path))
        .order_by("along_m")
    ).all()
    return [RouteBarrier(barrier, along_m) for barrier, along_m in rows]
