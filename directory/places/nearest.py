"""Nearest-help search: the places nearest to a point, with filters and open/closed state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def find_nearest(
    session: Session, query: NearestQuery, at: dt.datetime | None = None
) -> list[NearbyLocation]:
    """The ``query.limit`` active locations nearest to ``query.position`` that pass the
    filters, nearest first; ``at`` (default: now) decides "open now"."""
    at = at or dt.datetime.now(dt.UTC)
    rows = apply_filters(active_locations(), query.filters, at)
    statement = nearest(
        rows,
        Location.point,
        query.position,
        limit=query.limit,
        tiebreak=Location.id,
        radius_m=query.radius_km * 1000 if query.radius_km is not None else None,
    ).options(*public_details())
    return [
        NearbyLocation(
            location=location,
            distance_m=distance,
            rank=rank,
            state=location.open_state(at),
        )
        for rank, (location, distance) in enumerate(session.execute(statement).all(), start=1)
    ]


def unknown_codes(session: Session, column: Any, codes: tuple[str, ...]) -> list[str]:
    """The ``codes`` not found in ``column`` (e.g. ``ServiceCategory.code``), in order.

    No query at all when no codes were given: most searches use no such filter.
    """
    if not codes:
        return []
    known = set(session.scalars(select(column).where(column.in_(codes))))
    return [code for code in codes if code not in known]
