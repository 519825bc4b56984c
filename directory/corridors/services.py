"""Help along a route: the places within a corridor of a route, in the order one meets them.

Membership is ``ST_DWithin(point, route::geography, buffer)`` on the spheroid; each place
gets ``along_m`` (how far along the route, from its start or from where the searcher
stands) and ``offset_m`` (how far off the route). With a starting point only what lies
ahead counts: the places whose projection on the route is at or past the starting point's,
or less than ``BEHIND_SLACK_M`` before it (those are "here", ``along_m`` 0).
Results are ordered by ``(along_m, id)`` and paged by keyset (``after``).

At a million places (Pacific route, 3,412 km; 116,000 places within 10 km, 255,000 within
50 km) computing along/offset/rank for the whole corridor took 15-25 s. The places are now
met window by window along the route (``_Walk``: the places projecting on each piece of
the line, found through the plain-degree index in bands across the line), so a first page
reads a few hundred to a few thousand rows, sized from the places counted for the map
around where it starts (in-process, 2 shared cores at load 2: p50 32-136 ms, p95 129-275
ms, one statement for the page); a later page also counts the rows before its cursor, for
its ranks (0.1-0.3 s).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    case,
    cast,
    false,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from directory.corridors.models import Route
from directory.db import keyset_after
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.map_area import area_cells
from directory.places.models import Location
from directory.places.opening_hours import OpenState
from directory.places.records import public_details
from geo import corridor
from geo.area import Grid, geometry_of
from geo.coordinates import LonLat, point_geometry
from geo.geojson import EMPTY_COLLECTION, feature_collection

DEFAULT_BUFFER_KM = 10.0
MAX_BUFFER_KM = 100.0
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# From a starting point, what lies up to this far behind it still counts, as "here": a
# migrant in Tapachula wants the consulate 300 m behind where the route passes them.
BEHIND_SLACK_M = 1000.0


@dataclass(frozen=True, slots=True)
class CorridorQuery:
    buffer_km: float = DEFAULT_BUFFER_KM
    start: LonLat | None = None
    filters: LocationFilters = field(default_factory=LocationFilters)
    limit: int = DEFAULT_LIMIT
    after: tuple[float, int] | None = None  # (along_m, id) of the last row of the last page


@dataclass(frozen=True, slots=True)
class CorridorLocation:
    location: Location
    along_m: float
    offset_m: float
    rank: int  # position in the whole sequence, 1-based, stable across pages
    state: OpenState

    @property
    def sort_key(self) -> tuple[float, int]:
        return (self.along_m, self.location.id)


@dataclass(frozen=True, slots=True)
class Start:
    """Where the starting point projects on the route."""

    fraction: float
    along_m: float
    offset_m: float


@dataclass(frozen=True, slots=True)
class CorridorResult:
    length_m: float
    start: Start | None
    items: list[CorridorLocation]
    more: bool  # rows remain after the last item


def find_route(session: Session, key: str) -> Route | None:
    """An active route by numeric id or by code (``darien``)."""
    condition = (
        Route.id == int(key)
        if key.isascii() and key.isdigit() and len(key) < 10
        else Route.code == key
    )
    return session.scalar(select(Route).where(condition, Route.archived_at.is_(None)))


def active_routes(session: Session, language: str = "en") -> list[tuple[Route, float]]:
    """Active routes with their spheroid length in metres, by their name in ``language``
    (else in English)."""
    rows = session.execute(
        select(Route, corridor.length_m(Route.path))
        .where(Route.archived_at.is_(None))
        .order_by(
            func.coalesce(
                func.nullif(Route.names[language].astext, ""),
                Route.names["en"].astext,
                Route.code,
            )
        )
    )
    return [(route, length) for route, length in rows.all()]


def route_line(route: Route) -> ColumnElement:
    """The route's stored path as a constant of the query (a scalar subquery), so the
    spatial index serves ``ST_DWithin`` against it."""
    return select(Route.path).where(Route.id == route.id).scalar_subquery()


def corridor_locations(
    session: Session,
    line: ColumnElement,
    query: CorridorQuery,
    at: dt.datetime | None = None,
) -> CorridorResult:
    """The active locations passing ``query.filters`` within ``query.buffer_km`` of
    ``line`` (ahead of ``query.start`` when given), in order along the line.

    The places are met window by window along the line (``_Walk``), so a page costs what
    its stretch of the line holds, not the whole corridor; along/offset are computed for the
    page only. Lines that plain degrees cannot follow (across the antimeridian, near a
    pole) and lines of very many positions (a drawn zigzag: its windows would be made of
    thousands of pieces) are searched whole (``_whole_corridor``)."""
    at = at or dt.datetime.now(dt.UTC)
    facts_query = corridor.line_facts(line)
    if query.start is not None:
        projected = corridor.projection(line, query.start).subquery("projected")
        facts_query = facts_query.add_columns(
            projected.c.fraction, projected.c.along_m, projected.c.offset_m
        )
    first_point = (
        func.ST_ClosestPoint(line, point_geometry(query.start))
        if query.start is not None
        else func.ST_StartPoint(line)
    )
    facts_query = facts_query.add_columns(_places_near(first_point).label("places_near"))
    facts = session.execute(facts_query).one()
    start = (
        Start(fraction=facts.fraction, along_m=facts.along_m, offset_m=facts.offset_m)
        if query.start is not None
        else None
    )
    buffer_m = query.buffer_km * 1000
    max_lat = facts.max_abs_lat + buffer_m / corridor.METRES_PER_DEGREE_MIN + 0.5
    plain = corridor.PlainLine.from_geojson(facts.geojson)
    if (
        facts.lon_extent > corridor.MAX_PLAIN_LONGITUDES
        or max_lat > corridor.MAX_PLAIN_LATITUDE
        or not facts.planar_length
        or len(plain.points) > MAX_WALKED_POSITIONS
    ):
        return _whole_corridor(session, line, query, at, start, facts.length_m)
    walk = _Walk(
        session=session,
        line=line,
        query=query,
        at=at,
        start=start,
        length_m=facts.length_m,
        planar_length=facts.planar_length,
        max_lat=max_lat,
        reach=corridor.degrees_at_most(buffer_m * (1 + corridor.REACH_SLACK) + 1.0, max_lat)
        + facts.bulge
        + 1e-5,
        bulge=facts.bulge + 1e-5,
        plain=plain,
        first_window_m=_first_window_m(facts.places_near, buffer_m, query.limit + 1),
    )
    return walk.page()


# The most positions a line may have to be walked window by window: the routes have fewer
# than 50; a line drawn with thousands (up to the corridor's input bound) is searched whole,
# as before the walk, which keeps its time bounded by the statement timeout.
MAX_WALKED_POSITIONS = 500

# The places counted ahead for the map (``area_cells``) say how crowded the line is where
# the walk starts: 3 × 3 cells of this level (0.35°, about 39 km) around it.
DENSITY_LEVEL = 10
METRES_PER_DEGREE = 111_320.0


def _places_near(point: ColumnElement) -> ColumnElement:
    """The active places in the 3 × 3 cells of ``DENSITY_LEVEL`` around ``point``."""
    grid = Grid(DENSITY_LEVEL)
    x, y = grid.cell_x(func.ST_X(point)), grid.cell_y(func.ST_Y(point))
    return (
        select(func.coalesce(func.sum(area_cells.c.places), 0))
        .where(
            area_cells.c.level == DENSITY_LEVEL,
            area_cells.c.x.between(x - 1, x + 1),
            area_cells.c.y.between(y - 1, y + 1),
        )
        .scalar_subquery()
    )


def _first_window_m(places_near: int, buffer_m: float, need: int) -> float:
    """A first window long enough for ``need`` rows where the places are as crowded as
    around the walk's start (one statement in the sparse places, a short stretch in a
    city): the block's places spread evenly, ``2 × buffer`` wide."""
    side_m = 3 * Grid(DENSITY_LEVEL).size * METRES_PER_DEGREE
    if not places_near:
        return math.inf
    per_metre = places_near * min(2 * buffer_m, side_m) / side_m**2
    return max(FIRST_WINDOW_M, 1.5 * need / per_metre)


# The first window along the line is at least this long (``_first_window_m``); the next
# ones are sized from how many places the windows before held (at most MAX_GROWTH times
# longer each time).
FIRST_WINDOW_M = 250.0
MAX_GROWTH = 4.0
# Rows that precede a page are counted (for its ranks) in windows about this long.
COUNT_WINDOW_M = 25_000.0
# Positions along the line found by sampling it (a cursor's) are bracketed this finely.
SAMPLES = 64


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Where the last page ended: rows with a fraction below ``lo`` come before it, rows
    above ``hi`` after it; between, ``(along_m, id)`` is compared with ``key``."""

    lo: float
    hi: float
    key: tuple[float, int]


@dataclass
class _Walk:
    """One page of the corridor, met window by window along the line.

    Order: by ``(along_m, id)``, where ``along_m = max(L(fraction) - s, 0)`` (``L`` the
    spheroid length from the line's start, ``s`` the start's own); ``L`` grows with the
    fraction, so this is the order of ``(max(fraction, start fraction), id)``, which needs
    no ``L``. ``L`` is computed for the page's rows, for the rows in the stretch just behind
    the start (``BEHIND_SLACK_M``) and for those around a cursor's position."""

    session: Session
    line: ColumnElement
    query: CorridorQuery
    at: dt.datetime
    start: Start | None
    length_m: float
    planar_length: float
    max_lat: float
    reach: float
    bulge: float
    plain: corridor.PlainLine
    first_window_m: float

    @property
    def surely_within(self) -> float:
        """A plain-degree distance from the line within which a place is surely within the
        buffer: a plain degree is at most 111,700 m, and every point of the line in plain
        degrees is within ``bulge`` of the line on the spheroid."""
        return self.query.buffer_km * 1000 * (1 - 1e-6) / corridor.METRES_PER_DEGREE_MAX - (
            self.bulge
        )

    @property
    def vertices(self) -> list[float]:
        return self.plain.vertex_fractions()

    @property
    def start_fraction(self) -> float:
        return self.start.fraction if self.start else 0.0

    @property
    def start_along(self) -> float:
        return self.start.along_m if self.start else 0.0

    def fraction_for(self, metres: float) -> float:
        """At least the fraction of the line that ``metres`` along it (spheroid) span."""
        degrees = corridor.degrees_at_most(metres, self.max_lat)
        return degrees / self.planar_length

    def page(self) -> CorridorResult:
        query = self.query
        need = query.limit + 1
        behind = self.behind_fraction()
        lo = behind
        cursor = None
        rank_offset = 0
        if query.after is not None:
            cursor_lo, cursor_hi = self.bracket(self.start_along + query.after[0])
            if query.after[0] > 0:
                lo = max(lo, cursor_lo)
            else:  # rows "here" tie at 0 and go by id: each is compared with the cursor
                cursor_lo = -1.0
            cursor = _Cursor(cursor_lo, cursor_hi, query.after)
            rank_offset = self.count_before(behind, cursor)
        found_rows: list[tuple[Location, float, float]] = []
        size = 1.0 if math.isinf(self.first_window_m) else self.fraction_for(self.first_window_m)
        first = True
        while len(found_rows) < need and lo <= 1.0:
            hi = min(1.0, lo + size)
            if first and self.start is not None:
                # The rows just behind the start tie at along 0: one window holds them all.
                hi = min(1.0, max(hi, self.start_fraction + size))
            hi = corridor.window_edges(lo, hi, self.vertices)
            found = self.window(lo, hi, need - len(found_rows), cursor)
            found_rows.extend(found)
            if hi >= 1.0:
                break
            growth = (need - len(found_rows)) / len(found) * 1.25 if found else MAX_GROWTH
            size *= min(MAX_GROWTH, max(growth, 1.0))
            lo, first = hi, False
        return CorridorResult(
            length_m=self.length_m,
            start=self.start,
            items=self.items(found_rows[: query.limit], rank_offset),
            more=len(found_rows) > query.limit,
        )

    def behind_fraction(self) -> float:
        """The walk starts here: a little before the start, for the rows "here"."""
        if self.start is None:
            return 0.0
        return max(0.0, self.start_fraction - self.fraction_for(BEHIND_SLACK_M + 1.0))

    def fraction(self, geometry: ColumnElement) -> ColumnElement:
        return func.ST_LineLocatePoint(self.line, geometry)

    def along(self, fraction: ColumnElement) -> ColumnElement:
        return func.greatest(corridor.along_m(self.line, fraction) - self.start_along, 0.0)

    def members(self, lo: float, hi: float, cursor: _Cursor | None, *, after: bool) -> Select:
        """The rows of the window ``[lo, hi)`` in the corridor (``id``, ``key``): with a
        cursor, those after it (``after``) or those at or before it.

        The candidates (the window's area, through the plain-degree index) are a subquery
        that the planner keeps apart (``OFFSET 0``): else it also asks the geography index
        for the exact ``ST_DWithin`` against the whole line, whose box holds half the
        table; and ``fraction`` is computed once per row."""
        area = self.plain.window_area(lo, hi, self.reach)
        geometry = geometry_of(Location.point)
        candidates = (
            apply_filters(active_locations(), self.query.filters, self.at)
            .with_only_columns(
                Location.id,
                Location.point,
                self.fraction(geometry).label("fraction"),
                func.ST_Distance(geometry, self.line).label("plain_offset"),
            )
            .where(corridor.window_condition(geometry, area))
            .offset(0)
            .subquery("candidates")
        )
        fraction, row_id = candidates.c.fraction, candidates.c.id
        buffer_m = self.query.buffer_km * 1000
        conditions = [
            corridor.in_window(fraction, lo, hi),
            # Surely within when near enough in plain degrees (``surely_within``); the
            # spheroid decides the rest.
            case(
                (candidates.c.plain_offset <= self.surely_within, true()),
                else_=corridor.within(candidates.c.point, self.line, buffer_m),
            ),
        ]
        if self.start is not None and lo < self.start_fraction:
            floor = self.start_along - BEHIND_SLACK_M
            conditions.append(
                case(
                    (fraction >= self.start_fraction, true()),
                    else_=corridor.along_m(self.line, fraction) >= floor,
                )
            )
        if cursor is not None and lo <= cursor.hi:
            exact = keyset_after(self.along(fraction), row_id, cursor.key)
            if after:
                conditions.append(case((fraction > cursor.hi, true()), else_=exact))
            elif hi > cursor.lo:
                conditions.append(
                    case(
                        (fraction > cursor.hi, false()),
                        (fraction < cursor.lo, true()),
                        else_=~exact,
                    )
                )
        key = func.greatest(fraction, self.start_fraction)
        return select(row_id.label("id"), key.label("key")).where(*conditions)

    def window(
        self, lo: float, hi: float, limit: int, cursor: _Cursor | None
    ) -> list[tuple[Location, float, float]]:
        """The first ``limit`` rows of the window after the cursor, in order, loaded with
        their along and offset (computed for these rows only) in the same statement."""
        rows = self.members(lo, hi, cursor, after=True).subquery("window")
        page = select(rows.c.id, rows.c.key).order_by(rows.c.key, rows.c.id).limit(limit)
        page = page.subquery("page")
        located = aliased(Location, name="located")
        fraction = self.fraction(geometry_of(located.point))
        statement = (
            select(located, self.along(fraction), corridor.offset_m(located.point, self.line))
            .join(page, page.c.id == located.id)
            .order_by(page.c.key, page.c.id)
            .options(*public_details(located))
        )
        rows = self.session.execute(statement)
        return [(location, along, offset) for location, along, offset in rows]

    def count_before(self, lo: float, cursor: _Cursor) -> int:
        """How many rows come at or before the cursor (for the ranks of a later page)."""
        if cursor.hi < lo:
            return 0
        hi = min(1.0, cursor.hi + 1e-9)
        count = max(1, math.ceil((hi - lo) / self.fraction_for(COUNT_WINDOW_M)))
        edges = [lo + (hi - lo) * i / count for i in range(count)] + [hi]
        total = 0
        a = lo
        for b in edges[1:]:
            b = corridor.window_edges(a, b, self.vertices)
            rows = self.members(a, b, cursor, after=False).subquery("counted")
            total += self.session.scalar(select(func.count()).select_from(rows)) or 0
            a = b
        return total

    def bracket(self, target: float) -> tuple[float, float]:
        """Fractions ``lo <= hi`` such that ``L < target`` before ``lo`` and ``L > target``
        after ``hi`` (``L`` sampled twice, ``SAMPLES`` points each time)."""
        lo, hi = 0.0, 1.0
        for _ in range(2):
            fractions = [lo + (hi - lo) * i / SAMPLES for i in range(SAMPLES + 1)]
            sample = (
                func.unnest(literal(fractions, ARRAY(Float)))
                .table_valued("f")
                .render_derived("samples")
            )
            lengths = self.session.execute(
                select(sample.c.f, corridor.along_m(self.line, sample.c.f)).order_by(sample.c.f)
            ).all()
            below = [f for f, length in lengths if length < target - 0.01]
            above = [f for f, length in lengths if length > target + 0.01]
            lo = max(below, default=lo)
            hi = min(above, default=hi)
        return lo, hi

    def items(
        self, rows: list[tuple[Location, float, float]], rank_offset: int
    ) -> list[CorridorLocation]:
        """The page's rows as results, ranked."""
        return [
            CorridorLocation(
                location=location,
                along_m=along,
                offset_m=offset,
                rank=rank_offset + index,
                state=location.open_state(self.at),
            )
            for index, (location, along, offset) in enumerate(rows, start=1)
        ]


def _whole_corridor(
    session: Session,
    line: ColumnElement,
    query: CorridorQuery,
    at: dt.datetime,
    start: Start | None,
    length: float,
) -> CorridorResult:
    """The corridor computed whole, then paged: for lines plain degrees cannot follow."""
    buffer_m = query.buffer_km * 1000
    near = corridor.near_line(
        select(Location.id, Location.point), Location.id, Location.point, line, buffer_m=buffer_m
    ).subquery("near")
    matching = corridor.along_line(
        apply_filters(active_locations(), query.filters, at)
        .with_only_columns(Location.id)
        .join(near, near.c.id == Location.id),
        near.c.point,
        line,
        buffer_m=buffer_m,
        start_along_m=start.along_m if start else 0.0,
        behind_m=BEHIND_SLACK_M,
    ).subquery("matching")
    ranked = select(
        matching.c.id,
        matching.c.along_m,
        matching.c.offset_m,
        func.row_number().over(order_by=(matching.c.along_m, matching.c.id)).label("rank"),
    ).subquery("ranked")
    located = aliased(Location, name="located")
    statement = (
        select(located, ranked.c.along_m, ranked.c.offset_m, ranked.c.rank)
        .join(ranked, ranked.c.id == located.id)
        .order_by(ranked.c.along_m, ranked.c.id)
        .limit(query.limit + 1)
        .options(*public_details(located))
    )
    if query.after is not None:
        statement = statement.where(keyset_after(ranked.c.along_m, ranked.c.id, query.after))
    rows = session.execute(statement).all()
    items = [
        CorridorLocation(
            location=location,
            along_m=along,
            offset_m=offset,
            rank=rank,
            state=location.open_state(at),
        )
        for location, along, offset, rank in rows[: query.limit]
    ]
    return CorridorResult(
        length_m=length,
        start=start,
        items=items,
        more=len(rows) > query.limit,
    )


def route_corridor(
    session: Session, route: Route, query: CorridorQuery, at: dt.datetime | None = None
) -> CorridorResult:
    return corridor_locations(session, route_line(route), query, at)


def line_corridor(
    session: Session, positions: list[LonLat], query: CorridorQuery, at: dt.datetime | None = None
) -> CorridorResult:
    """The same search along a line that is not in the directory (validated positions)."""
    return corridor_locations(session, corridor.line_geometry(positions), query, at)


def route_drawing(
    session: Session, route: Route, buffer_km: float, start: Start | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The route's line (5 decimals: about a metre) and the corridor searched (ahead of the
    start, simplified), as GeoJSON geometries, in one statement."""
    path = select(Route.path.label("line")).where(Route.id == route.id).subquery("route_path")
    area = corridor.corridor_area(path.c.line, buffer_km * 1000, start.fraction if start else 0.0)
    row = session.execute(
        select(func.ST_AsGeoJSON(path.c.line, 5), area.selected_columns[0]).select_from(path)
    ).one()
    return json.loads(row[0]), (json.loads(row[1]) if row[1] else None)


def routes_geojson(session: Session, language: str = "en") -> str:
    """The active routes as GeoJSON text (``id``, ``code``, ``name`` in ``language``, else
    English, ``length_km`` on the spheroid), built by PostGIS."""
    rows = (
        select(
            Route.path.label("geometry"),
            Route.id,
            Route.code,
            func.coalesce(
                func.nullif(Route.names[language].astext, ""), Route.names["en"].astext, Route.code
            ).label("name"),
            func.round(cast(corridor.length_m(Route.path) / 1000, Numeric), 2).label("length_km"),
        )
        .where(Route.archived_at.is_(None))
        .subquery()
    )
    query = feature_collection(
        rows, geometry="geometry", properties=["id", "code", "name", "length_km"]
    )
    return session.scalar(query) or EMPTY_COLLECTION
