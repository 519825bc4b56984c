"""Nearest-help search: the places nearest to a point, with filters and open/closed state.

Nearest in a straight line is not nearest on foot where a barrier lies between (the Darién
Gap): a place across one is flagged (``across``) and comes after the help on the searcher's
side within ``REACHABLE_KM``, when there is any (``directory.corridors.barriers``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.corridors.barriers import REACHABLE_KM, crossed_barrier
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location
from directory.places.opening_hours import OpenState
from directory.places.records import public_details
from geo.coordinates import LonLat
from geo.nearest import nearest

MAX_LIMIT = 100


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
    statement = nearest(
        rows,
        Location.point,
        query.position,
        limit=query.limit,
        tiebreak=Location.id,
        radius_m=radius_km * 1000 if radius_km is not None else None,
    )
    statement = statement.add_columns(crossed_barrier(query.position).label("across"))
    result = session.execute(statement.options(*public_details()))
    return [(location, distance, across) for location, distance, across in result.all()]


def unknown_codes(session: Session, column: Any, codes: tuple[str, ...]) -> list[str]:
    """The ``codes`` not found in ``column`` (e.g. ``ServiceCategory.code``), in order.

    No query at all when no codes were given: most searches use no such filter.
    """
    if not codes:
        return []
    known = set(session.scalars(select(column).where(column.in_(codes))))
    return [code for code in codes if code not in known]
