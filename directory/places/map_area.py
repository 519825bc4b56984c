"""What the map shows in its visible area: places, or clusters of them when many.

Up to ``MAX_POINTS`` places come as points (the browser clusters them further); past that,
one cluster per occupied cell of a grid a phone can read (``geo.area.display_level``: 5 to
10 cells across the shorter side), each with its exact count and its places' mean position.

Why server clusters counted ahead of time, and not vector tiles (measured on 1,000,000
places, ``bench_1m``, in-process, 2 shared cores at load 4-9, November 2026):

* before: Mexico + Central America ``-118,7,-77,33`` p50 4.4 s, p95 7.1 s (counting all
  948,736 rows in the box to compare with 1,500, then ``GROUP BY ST_SnapToGrid`` over all
  of them, 586 clusters); Mexico City ``-99.35,19.2,-98.9,19.6`` (76,809 places) p50 1.2 s,
  p95 2.1 s, 2,150 clusters, 294 KB;
* vector tiles: ``ST_AsMVT`` of the one z5 tile over central Mexico took 2.5 s and 7.96 MB
  with every place in it; grouping its places into 0.25° cells inside the tile query still
  took 2.1 s (13 KB): it reads every row of the tile. A tile is as slow as the box unless
  its places are counted ahead of time too, and the map script would need a vector-tile
  renderer on top of that;
* so ``area_cells`` (migration 0011) holds the active places counted per cell of global
  grids of levels ``CELL_LEVELS`` (``360 / 2**level`` degrees; 160,000 rows, 14 MB, at 1M
  places), kept exact by triggers. A box reads the cells of a level up to
  ``2**FINER_LEVELS`` finer than its display grid that lie wholly inside it (23,104 cells
  of level 12 for Mexico, 12 ms) and counts the strips along its edges from the rows
  through the plain-degree index (3,168 rows), so every count stays exact. After, warm,
  at load 3.4: Mexico + Central America p50 27 ms, p95 39 ms (83 clusters, 11.7 KB);
  Mexico City p50 20 ms, p95 27 ms (121 clusters, 16.8 KB).

With filters (``kind=…``, ``open_now``…) nothing is counted ahead: the rows are counted per
display cell with integer keys (slower over a whole country: the map script sends none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from directory.db import Base
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location, Organization
from geo.area import BBox, CellRange, Grid, border_strips, display_level, geometry_of, within

MAX_POINTS = 1500
# Levels counted ahead in ``area_cells`` (migrations 0011 and 0014 list the same). Level 16
# cells are 0.0055° (600 m): at 1M places it holds 480,000 cells, level 14 130,000, level 12
# about 25,000. Level 16 is for a city (0.2° across, display level 14): without it, its places
# were counted row by row (171 ms in Mexico City; 10 ms with it). 18 made that box slower.
CELL_LEVELS = (6, 8, 10, 12, 14, 16)
# The cells read are at most this many levels finer than the display grid: 32 × 32 fine
# cells per cluster, so the strips along the box's edges counted from the rows are at most
# 1/32 of a cluster thick.
FINER_LEVELS = 5
# ... and at least this many finer, else the edge strips are a large part of the box and
# counting the rows is as quick (boxes a few kilometres wide).
MIN_FINER_LEVELS = 1

# The places counted per grid cell, for the map (migration 0011 creates it and its triggers).
area_cells = Table(
    "area_cells",
    Base.metadata,
    Column("level", SmallInteger, nullable=False),
    Column("x", Integer, nullable=False),
    Column("y", Integer, nullable=False),
    Column("places", Integer, nullable=False),
    Column("lon_sum", Float(precision=53), nullable=False),
    Column("lat_sum", Float(precision=53), nullable=False),
    PrimaryKeyConstraint("level", "x", "y", name="pk_area_cells"),
    Index("ix_area_cells_empty", "level", postgresql_where=text("places <= 0")),
)

# The plain-degree index the map area and the corridor ask (migration 0011).
Index(
    "ix_locations_point_geometry",
    geometry_of(Location.__table__.c.point),
    postgresql_using="gist",
)


@dataclass(frozen=True, slots=True)
class AreaPoint:
    id: int
    lon: float
    lat: float
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class AreaCluster:
    lon: float
    lat: float
    count: int


@dataclass(frozen=True, slots=True)
class AreaContent:
    points: list[AreaPoint]
    clusters: list[AreaCluster]


def area_content(
    session: Session, bbox: BBox, filters: LocationFilters, at: dt.datetime | None = None
) -> AreaContent:
    """The places in ``bbox`` passing ``filters``; grid clusters past ``MAX_POINTS``."""
    rows = apply_filters(active_locations(), filters, at or dt.datetime.now(dt.UTC)).where(
        within(Location.point, bbox)
    )
    display = Grid(display_level(bbox))
    fine = _fine_level(display.level) if filters == LocationFilters() else None
    if fine is not None:
        # The clusters come from counts kept ahead; their total says whether points will do.
        clusters = _clusters(session, _counted_ahead(bbox, display, Grid(fine)))
        if sum(cluster.count for cluster in clusters) > MAX_POINTS:
            return AreaContent([], clusters)
    else:
        # Enough to tell "more than MAX_POINTS" without counting a country's worth of rows.
        first = rows.with_only_columns(Location.id).order_by(None).limit(MAX_POINTS + 1)
        if session.scalar(select(func.count()).select_from(first.subquery())) > MAX_POINTS:
            return AreaContent([], _clusters(session, _counted_rows(rows, display)))
    geometry = geometry_of(Location.point)
    points = session.execute(
        rows.with_only_columns(
            Location.id,
            func.ST_X(geometry),
            func.ST_Y(geometry),
            func.coalesce(Location.name, Organization.name),
            Organization.kind,
        ).order_by(Location.id)
    )
    return AreaContent(
        [AreaPoint(id_, lon, lat, name, kind.value) for id_, lon, lat, name, kind in points], []
    )


def _clusters(session: Session, cells) -> list[AreaCluster]:
    """One cluster per occupied display cell of ``cells`` (``x, y, places, lon_sum,
    lat_sum`` rows, several per cell)."""
    totals = (
        select(
            func.sum(cells.c.places).label("places"),
            func.sum(cells.c.lon_sum).label("lon_sum"),
            func.sum(cells.c.lat_sum).label("lat_sum"),
        )
        .group_by(cells.c.x, cells.c.y)
        .order_by(cells.c.x, cells.c.y)
    )
    return [
        AreaCluster(lon_sum / places, lat_sum / places, int(places))
        for places, lon_sum, lat_sum in session.execute(totals)
        if places > 0
    ]


def _fine_level(display_level_: int) -> int | None:
    """The level of ``area_cells`` to read for a display grid, if one is fine enough."""
    usable = [
        level
        for level in CELL_LEVELS
        if display_level_ + MIN_FINER_LEVELS <= level <= display_level_ + FINER_LEVELS
    ]
    return max(usable, default=None)


def _counted_rows(rows, display: Grid):
    """Every row of the box counted per display cell (``x, y, places, lon_sum, lat_sum``)."""
    geometry = geometry_of(Location.point)
    lon, lat = func.ST_X(geometry), func.ST_Y(geometry)
    return rows.with_only_columns(
        display.cell_x(lon).label("x"),
        display.cell_y(lat).label("y"),
        literal(1).label("places"),
        lon.label("lon_sum"),
        lat.label("lat_sum"),
    ).subquery("counted")


def _counted_ahead(bbox: BBox, display: Grid, fine: Grid):
    """The cells of ``fine`` wholly inside the box, read from ``area_cells`` and regrouped
    by display cell, and the rows of the strips left along the box's edges, counted one by
    one (``x, y, places, lon_sum, lat_sum`` per part)."""
    shift = fine.level - display.level
    inner: list[CellRange] = []
    strips = []
    for west, east in bbox.spans():
        cells = fine.inner(west, bbox.min_lat, east, bbox.max_lat)
        if cells is not None:
            inner.append(cells)
        strips.extend(border_strips(bbox, west, east, cells))
    parts = []
    if inner:
        parts.append(
            select(
                area_cells.c.x.op(">>")(shift).label("x"),
                area_cells.c.y.op(">>")(shift).label("y"),
                area_cells.c.places,
                area_cells.c.lon_sum,
                area_cells.c.lat_sum,
            ).where(
                area_cells.c.level == fine.level,
                or_(*(cells.contains(area_cells.c.x, area_cells.c.y) for cells in inner)),
            )
        )
    geometry = geometry_of(Location.point)
    lon, lat = func.ST_X(geometry), func.ST_Y(geometry)
    edge_rows = active_locations().where(
        or_(*(func.ST_Intersects(geometry, strip) for strip in strips)),
        *(not_(cells.holds(lon, lat)) for cells in inner),
    )
    parts.append(
        edge_rows.with_only_columns(
            display.cell_x(lon).label("x"),
            display.cell_y(lat).label("y"),
            literal(1).label("places"),
            lon.label("lon_sum"),
            lat.label("lat_sum"),
        )
    )
    return union_all(*parts).subquery("counted")


def rebuild_area_cells(session: Session) -> int:
    """Count the active places into ``area_cells`` from scratch (the triggers keep it
    exact; this repairs it after a bulk change made with the triggers disabled). Returns
    the number of cells. The caller commits."""
    session.execute(area_cells.delete())
    geometry = geometry_of(Location.point)
    lon, lat = func.ST_X(geometry), func.ST_Y(geometry)
    for level in CELL_LEVELS:
        grid = Grid(level)
        x, y = grid.cell_x(lon), grid.cell_y(lat)
        counted = (
            active_locations()
            .with_only_columns(x, y, func.count(), func.sum(lon), func.sum(lat))
            .group_by(x, y)
            .add_columns(literal(level))
        )
        session.execute(
            area_cells.insert().from_select(
                ["x", "y", "places", "lon_sum", "lat_sum", "level"], counted
            )
        )
    return session.scalar(select(func.count()).select_from(area_cells)) or 0


def stored_cells(session: Session) -> dict[tuple[int, int, int], tuple[int, float, float]]:
    """``area_cells`` as a dict ``(level, x, y) → (places, lon_sum, lat_sum)``, for checks."""
    rows = session.execute(
        select(
            area_cells.c.level,
            area_cells.c.x,
            area_cells.c.y,
            area_cells.c.places,
            area_cells.c.lon_sum,
            area_cells.c.lat_sum,
        )
    )
    return {(level, x, y): (places, lons, lats) for level, x, y, places, lons, lats in rows}
