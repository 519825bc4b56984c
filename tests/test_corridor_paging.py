"""The corridor met window by window along the line gives what computing it whole gives.

``directory.corridors.services`` pages the corridor window by window along the line (the
places projecting on each piece, found through the plain-degree index), computing along/
offset for the page only and counting what precedes a later page for its ranks. Here the
windows are made tiny, so every page crosses many of them, and every answer is compared
with the corridor computed whole (``_whole_corridor``) and with ``ST_DWithin`` over the
table.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text

from directory.corridors import services
from directory.corridors.services import CorridorQuery, route_corridor, route_line
from geo import corridor
from geo.coordinates import LonLat
from tests import factories

AT = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
# Sharp bends both ways, an edge that comes back along the one before, and a long edge.
PATH = [
    (-95.0, 16.0),
    (-94.5, 16.4),
    (-94.0, 16.0),
    (-94.45, 16.05),
    (-94.2, 16.6),
    (-92.0, 17.5),
]


@pytest.fixture
def bent(db_session, monkeypatch):
    # Tiny windows, whatever the density: every page crosses many of them.
    monkeypatch.setattr(services, "_first_window_m", lambda *_args: 300.0)
    monkeypatch.setattr(services, "MAX_GROWTH", 1.5)
    monkeypatch.setattr(services, "COUNT_WINDOW_M", 40_000.0)
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    route = factories.route(db_session, "bent", PATH)
    rng = random.Random(27)
    orgs = [factories.organization(db_session) for _ in range(2)]
    line = LineString(PATH)
    for index in range(260):
        # Near the line (its vertices and ends included), and three at one spot.
        share = rng.uniform(-0.03, 1.03)
        anchor = line.interpolate(min(max(share, 0.0), 1.0), normalized=True)
        lon, lat = anchor.x + rng.gauss(0, 0.15), anchor.y + rng.gauss(0, 0.15)
        factories.location(db_session, orgs[index % 2], lon, lat)
    for lon, lat in PATH:
        factories.location(db_session, orgs[0], lon, lat)
        factories.location(db_session, orgs[0], lon + 0.05, lat + 0.05)
    for _ in range(3):
        factories.location(db_session, orgs[1], -94.3, 16.3)
    return route


def _reference(db_session, route, query: CorridorQuery) -> services.CorridorResult:
    """The same page from the corridor computed whole."""
    line = route_line(route)
    start = None
    length = db_session.scalar(
        text("SELECT ST_Length(path::geography) FROM routes WHERE id = :id"), {"id": route.id}
    )
    if query.start is not None:
        row = db_session.execute(corridor.projection(line, query.start)).one()
        start = services.Start(row.fraction, row.along_m, row.offset_m)
    return services._whole_corridor(db_session, line, query, AT, start, length)


def _pages(db_session, route, **options) -> list:
    seen, after = [], None
    while True:
        page = route_corridor(db_session, route, CorridorQuery(after=after, **options), at=AT)
        seen.extend(page.items)
        if not page.more:
            return seen
        after = page.items[-1].sort_key


def _key(item) -> tuple:
    return (item.location.id, item.rank, round(item.along_m, 3), round(item.offset_m, 3))


@pytest.mark.parametrize("buffer_km", [2, 15, 60])
def test_pages_equal_the_corridor_computed_whole(db_session, bent, buffer_km):
    whole = _reference(db_session, bent, CorridorQuery(buffer_km=buffer_km, limit=500))
    members = {
        row.id
        for row in db_session.execute(
            text(
                "SELECT id FROM locations WHERE ST_DWithin(point, "
                "(SELECT path FROM routes WHERE id = :id)::geography, :m)"
            ),
            {"id": bent.id, "m": buffer_km * 1000},
        )
    }
    assert {item.location.id for item in whole.items} == members
    assert len(members) > 30
    paged = _pages(db_session, bent, buffer_km=buffer_km, limit=23)
    assert [_key(item) for item in paged] == [_key(item) for item in whole.items]


@pytest.mark.parametrize(
    "start",
    [
        LonLat(-94.5, 16.4),  # on a vertex
        LonLat(-94.3, 16.3),  # where three places tie
        LonLat(-93.0, 17.3),  # along the long edge
        LonLat(-96.0, 15.0),  # before the start of the line
    ],
)
def test_pages_from_a_starting_point_equal_the_whole(db_session, bent, start):
    query = CorridorQuery(buffer_km=20, start=start, limit=500)
    whole = _reference(db_session, bent, query)
    assert whole.items
    paged = _pages(db_session, bent, buffer_km=20, start=start, limit=17)
    assert [_key(item) for item in paged] == [_key(item) for item in whole.items]
    first = route_corridor(db_session, bent, CorridorQuery(buffer_km=20, start=start), at=AT)
    assert first.start == whole.start


def test_a_filtered_page_equals_the_whole(db_session, bent):
    from directory.db import OrganizationKind
    from directory.places.filters import LocationFilters

    filters = LocationFilters(kinds=(OrganizationKind.SHELTER,))
    whole = _reference(db_session, bent, CorridorQuery(buffer_km=30, filters=filters, limit=500))
    paged = _pages(db_session, bent, buffer_km=30, filters=filters, limit=19)
    assert [_key(item) for item in paged] == [_key(item) for item in whole.items]


def test_window_areas_hold_every_place_that_projects_inside_them():
    """The polygons of a window hold every point within reach whose nearest point on the
    line lies in the window (plain degrees), bends and ends included."""
    rng = random.Random(14)
    line = LineString(PATH)
    plain = corridor.PlainLine.from_geojson('{"coordinates": %s}' % [list(p) for p in PATH])
    from shapely import wkt
    from shapely.ops import unary_union

    vertices = plain.vertex_fractions()
    edges, lo = [], 0.0
    for index in range(1, 10):
        hi = corridor.window_edges(lo, index / 9, vertices)
        edges.append((lo, hi))
        lo = hi
    reach = 0.4
    areas = [unary_union([wkt.loads(p) for p in plain.window_area(a, b, reach)]) for a, b in edges]
    checked = 0
    for _ in range(4000):
        point = Point(rng.uniform(-95.6, -91.4), rng.uniform(15.4, 18.1))
        if line.distance(point) > reach:
            continue
        fraction = line.project(point, normalized=True)
        index = next(
            i for i, (a, b) in enumerate(edges) if a <= fraction < b or (b >= 1 and fraction <= 1)
        )
        assert areas[index].covers(point)
        checked += 1
    assert checked > 1000
    # ... and they are bands across the line, not discs around it.
    assert sum(area.area for area in areas) < 4 * line.length * 2 * reach
    assert math.isfinite(sum(area.area for area in areas))
