"""Nearest-help search: the places nearest to a point, with filters and open/closed state.

Nearest in a straight line is not nearest on foot where a barrier lies between (the Darién
Gap): a place across one is flagged (``across``) and comes after the help on the searcher's
side within ``REACHABLE_KM``, when there is any (``directory.corridors.barriers``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from directory.corridors.barriers import REACHABLE_KM, crossed_barrier
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location
from directory.places.opening_hours import OpenState
from directory.places.records import public_details
from geo.coordinates import LonLat
from geo.nearest import candidates_are_enough, nearest, nearest_candidates

MAX_LIMIT = 100
# The fast path's first try takes this many candidates beyond the limit, then GROWTH times
# more while exactness cannot be shown, up to MAX_CANDIDATES; past that, the exact
# two-step search (``geo.nearest.nearest``). Almost every search ends at the first try.
EXTRA_CANDIDATES = 20
GROWTH = 8
MAX_CANDIDATES = 3_000


@dataclass(frozen=True, slots=True)
class NearestQuery:
    position: LonLat
    limit: int = 10
    radius_km: float | None = None
    filters: LocationFilters = field(default_factory=LocationFilters)


@dataclass(frozen=True, slots=True)
class NearbyLocation:
    location: Location
    distance_m: float
    rank: int
    state: OpenState
    across: str | None = None  # the code of a barrier between the searcher and the place


def find_nearest(
    session: Session, query: NearestQuery, at: dt.datetime | None = None
) -> list[NearbyLocation]:
    """The ``query.limit`` active locations nearest to ``query.position`` that pass the
    filters, nearest first; ``at`` (default: now) decides "open now"."""
    at = at or dt.datetime.now(dt.UTC)
    rows = apply_filters(active_locations(), query.filters, at)
    found = _nearest_rows(session, rows, query, query.radius_km)
    if any(across for _, _, across in found):
        # Help on the searcher's side first: the nearest places no barrier separates.
        reachable_km = min(REACHABLE_KM, query.radius_km or REACHABLE_KM)
        near_side = rows.where(crossed_barrier(query.position).is_(None))
        first = _nearest_rows(session, near_side, query, reachable_km)
        seen = {location.id for location, _, _ in first}
        found = (first + [row for row in found if row[0].id not in seen])[: query.limit]
    return [
        NearbyLocation(
            location=location,
            distance_m=distance,
            rank=rank,
            state=location.open_state(at),
            across=across,
        )
        for rank, (location, distance, across) in enumerate(found, start=1)
    ]


def _nearest_rows(
    session: Session, rows: Any, query: NearestQuery, radius_km: float | None
) -> list[tuple[Location, float, str | None]]:
    found = nearest_locations(
        session,
        rows,
        query.position,
        limit=query.limit,
        radius_m=radius_km * 1000 if radius_km is not None else None,
        extra=(crossed_barrier(query.position).label("across"),),
    )
    return [(location, distance, across) for location, distance, (across,) in found]


def nearest_locations(
    session: Session,
    rows: Select[Any],
    position: LonLat,
    *,
    limit: int,
    radius_m: float | None = None,
    extra: tuple[ColumnElement[Any], ...] = (),
) -> list[tuple[Location, float, tuple[Any, ...]]]:
    """The ``limit`` locations of ``rows`` nearest to ``position`` on the spheroid (ties by
    id), each with its distance and the values of the ``extra`` columns; loaded with what a
    public feature shows.

    Exact, as ``geo.nearest.nearest`` is, but in one index walk where that can be proven
    (``geo.nearest.candidates_are_enough``), which is nearly always: the sweep of a large
    ``ST_DWithin`` box is left for the rare case where it cannot.
    """
    candidates = limit + EXTRA_CANDIDATES
    while candidates <= MAX_CANDIDATES:
        statement = nearest_candidates(
            rows,
            Location.point,
            position,
            limit=limit,
            candidates=candidates,
            tiebreak=Location.id,
            radius_m=radius_m,
        )
        result = session.execute(statement.add_columns(*extra).options(*public_details())).all()
        distances = [row.distance_m for row in result]
        bound = result[0].sphere_bound_m if result else None
        count = result[0].candidate_count if result else None
        if candidates_are_enough(distances, bound, count, limit=limit, candidates=candidates):
            return [(row[0], row[1], tuple(row[4:])) for row in result]
        candidates *= GROWTH
    statement = nearest(
        rows, Location.point, position, limit=limit, tiebreak=Location.id, radius_m=radius_m
    )
    result = session.execute(statement.add_columns(*extra).options(*public_details())).all()
    return [(row[0], row[1], tuple(row[2:])) for row in result]


def unknown_codes(session: Session, column: Any, codes: tuple[str, ...]) -> list[str]:
    """The ``codes`` not found in ``column`` (e.g. ``ServiceCategory.code``), in order.

    No query at all when no codes were given: most searches use no such filter.
    """
    if not codes:
        return []
    known = set(session.scalars(select(column).where(column.in_(codes))))
    return [code for code in codes if code not in known]
