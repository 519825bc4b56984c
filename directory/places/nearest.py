"""Nearest-help search: the places nearest to a point, with filters and open/closed state.

Nearest in a straight line is not nearest on foot where a barrier lies between (the Darién
Gap): a place across one is flagged (``across``) and comes after the help on the searcher's
side within ``REACHABLE_KM``, when there is any (``directory.corridors.barriers``).
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, Integer, Row, Select, bindparam, select
from sqlalchemy.orm import Session

from directory.corridors.barriers import REACHABLE_KM, crossed_barrier
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location
from directory.places.opening_hours import OpenState, state_at
from directory.places.records import public_columns, public_details
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


@dataclass(frozen=True, slots=True)
class NearbyPlace:
    """A result of ``find_nearby_places``: the place's public columns
    (``directory.places.records.public_columns``: ``place.id``, ``place.lon``…), no ORM
    object."""

    place: Row[Any]
    distance_m: float
    rank: int
    state: OpenState
    across: str | None = None


def find_nearest(
    session: Session, query: NearestQuery, at: dt.datetime | None = None
) -> list[NearbyLocation]:
    """The ``query.limit`` active locations nearest to ``query.position`` that pass the
    filters, nearest first; ``at`` (default: now) decides "open now". ORM objects with
    what their public feature shows, for the pages."""
    at = at or dt.datetime.now(dt.UTC)
    position = query.position

    def within(near_side: bool, radius_km: float | None) -> list[Row[Any]]:
        rows = _filtered(query.filters, at, position, near_side=near_side)
        return nearest_rows(
            session,
            rows.add_columns(crossed_barrier(position).label("across")),
            position,
            limit=query.limit,
            radius_m=None if radius_km is None else radius_km * 1000,
            options=public_details(),
        )

    found = _search(query, within, key=lambda row: row[0].id)
    return [
        NearbyLocation(
            location=row[0],
            distance_m=row.distance_m,
            rank=rank,
            state=row[0].open_state(at),
            across=row.across,
        )
        for rank, row in enumerate(found, start=1)
    ]


def find_nearby_places(
    session: Session, query: NearestQuery, at: dt.datetime | None = None
) -> list[NearbyPlace]:
    """``find_nearest``'s answer (the same places, order, distances and states) as plain
    rows of public columns, for the API's hot path: one statement per search, and that
    statement built once per kind of search (``_place_statements``), not per request."""
    at = at or dt.datetime.now(dt.UTC)
    lon, lat = query.position

    def within(near_side: bool, radius_km: float | None) -> list[Row[Any]]:
        with_radius = radius_km is not None
        if query.filters.open_now:  # the instant is in the statement: not one to keep
            fast, exact = _build_place_statements(query.filters, at, near_side, with_radius)
        else:
            fast, exact = _place_statements(query.filters, near_side, with_radius)
        values: dict[str, Any] = {"lon": lon, "lat": lat, "limit": query.limit}
        if radius_km is not None:
            values["radius_m"] = radius_km * 1000
        return _walk(
            lambda candidates: session.execute(fast, {**values, "candidates": candidates}).all(),
            lambda: session.execute(exact, values).all(),
            limit=query.limit,
            latitude=lat,
        )

    found = _search(query, within, key=lambda row: row.id)
    return [
        NearbyPlace(
            place=row,
            distance_m=row.distance_m,
            rank=rank,
            state=state_at(
                row.opening_hours,
                row.status,
                row.status_until,
                row.timezone,
                at,
                confirmed=row.hours_confirmed,
            ),
            across=row.across,
        )
        for rank, row in enumerate(found, start=1)
    ]


def _search(
    query: NearestQuery,
    within: Callable[[bool, float | None], list[Row[Any]]],
    *,
    key: Callable[[Row[Any]], int],
) -> list[Row[Any]]:
    """The rows of a nearest search. ``within(near_side, radius_km)`` runs it (only on the
    searcher's side of any barrier when ``near_side``); ``key`` is a row's location id."""
    found = within(False, query.radius_km)
    if any(row.across for row in found):
        # Help on the searcher's side first: the nearest places no barrier separates.
        reachable_km = min(REACHABLE_KM, query.radius_km or REACHABLE_KM)
        first = within(True, reachable_km)
        seen = {key(row) for row in first}
        found = (first + [row for row in found if key(row) not in seen])[: query.limit]
    return found


def _filtered(
    filters: LocationFilters, at: dt.datetime, position: LonLat, *, near_side: bool
) -> Select[Any]:
    rows = apply_filters(active_locations(), filters, at)
    if near_side:
        rows = rows.where(crossed_barrier(position).is_(None))
    return rows


# Where a kept statement has its search's values: bind parameters, given at execution.
_BOUND_POSITION = LonLat(
    typing.cast(float, bindparam("lon", type_=Float)),
    typing.cast(float, bindparam("lat", type_=Float)),
)
_BOUND_LIMIT = typing.cast(int, bindparam("limit", type_=Integer))
_BOUND_CANDIDATES = typing.cast(int, bindparam("candidates", type_=Integer))
_BOUND_RADIUS = typing.cast(float, bindparam("radius_m", type_=Float))


def _build_place_statements(
    filters: LocationFilters, at: dt.datetime, near_side: bool, with_radius: bool
) -> tuple[Select[Any], Select[Any]]:
    """The fast-path and the exact statements of ``find_nearby_places`` for one kind of
    search, the position, limits and radius left as bind parameters (``lon``, ``lat``,
    ``limit``, ``candidates``, ``radius_m``)."""
    position = _BOUND_POSITION
    rows = _filtered(filters, at, position, near_side=near_side).with_only_columns(
        *public_columns(), crossed_barrier(position).label("across")
    )
    radius_m = _BOUND_RADIUS if with_radius else None
    fast = nearest_candidates(
        rows,
        Location.point,
        position,
        limit=_BOUND_LIMIT,
        candidates=_BOUND_CANDIDATES,
        tiebreak=Location.id,
        radius_m=radius_m,
    )
    exact = nearest(
        rows, Location.point, position, limit=_BOUND_LIMIT, tiebreak=Location.id, radius_m=radius_m
    )
    return fast, exact


@functools.lru_cache(maxsize=512)
def _place_statements(
    filters: LocationFilters, near_side: bool, with_radius: bool
) -> tuple[Select[Any], Select[Any]]:
    """``_build_place_statements``, kept per kind of search (filters without "open now").

    Building the statement and SQLAlchemy's cache key of it (which a kept statement
    remembers) cost about a millisecond a request, as much as the rest of the Python.
    """
    return _build_place_statements(filters, dt.datetime.now(dt.UTC), near_side, with_radius)


def nearest_rows(
    session: Session,
    rows: Select[Any],
    position: LonLat,
    *,
    limit: int,
    radius_m: float | None = None,
    options: tuple[Any, ...] = (),
) -> list[Row[Any]]:
    """The ``limit`` rows of ``rows`` (a select over ``Location``) nearest to ``position``
    on the spheroid (ties by id): each row has ``rows``' columns, then ``distance_m``.

    Exact, as ``geo.nearest.nearest`` is, but in one index walk where that can be proven
    (``geo.nearest.candidates_are_enough``), which is nearly always: the sweep of a large
    ``ST_DWithin`` box is left for the rare case where it cannot.
    """

    def candidates_statement(candidates: int) -> list[Row[Any]]:
        statement = nearest_candidates(
            rows,
            Location.point,
            position,
            limit=limit,
            candidates=candidates,
            tiebreak=Location.id,
            radius_m=radius_m,
        )
        return list(session.execute(statement.options(*options)).all())

    def exact_statement() -> list[Row[Any]]:
        statement = nearest(
            rows, Location.point, position, limit=limit, tiebreak=Location.id, radius_m=radius_m
        )
        return list(session.execute(statement.options(*options)).all())

    return _walk(candidates_statement, exact_statement, limit=limit, latitude=position.lat)


def _walk(
    with_candidates: Callable[[int], Sequence[Row[Any]]],
    exact: Callable[[], Sequence[Row[Any]]],
    *,
    limit: int,
    latitude: float,
) -> list[Row[Any]]:
    """The fast path's tries, then the exact search: ``with_candidates(n)`` runs
    ``geo.nearest.nearest_candidates`` with ``n`` candidates, ``exact()`` ``nearest``;
    ``latitude`` is the search's (how close sphere and spheroid are there)."""
    candidates = limit + EXTRA_CANDIDATES
    while candidates <= MAX_CANDIDATES:
        result = with_candidates(candidates)
        distances = [row.distance_m for row in result]
        bound = result[0].sphere_bound_m if result else None
        count = result[0].candidate_count if result else None
        if candidates_are_enough(
            distances, bound, count, limit=limit, candidates=candidates, latitude=latitude
        ):
            return list(result)
        candidates *= GROWTH
    return list(exact())


def unknown_codes(session: Session, column: Any, codes: tuple[str, ...]) -> list[str]:
    """The ``codes`` not found in ``column`` (e.g. ``ServiceCategory.code``), in order.

    No query at all when no codes were given: most searches use no such filter.
    """
    if not codes:
        return []
    known = set(session.scalars(select(column).where(column.in_(codes))))
    return [code for code in codes if code not in known]
