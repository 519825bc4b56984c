"""Search along a route (service level): membership, order, the starting point, paging."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random

import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text

from directory.corridors.services import (
    BEHIND_SLACK_M,
    CorridorQuery,
    find_route,
    line_corridor,
    route_corridor,
)
from directory.places.filters import LocationFilters
from directory.places.models import ServiceCategory
from geo.coordinates import LonLat
from tests import factories

# A route that bends back on itself in longitude, so "along" is not "eastwards".
PATH = [(-93.0, 15.0), (-92.4, 15.5), (-91.8, 15.2), (-91.5, 15.9), (-92.0, 16.3)]
AREA = (-93.5, 14.5, -91.0, 16.8)
EARTH_RADIUS_M = 6_371_008.8
AT = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(db_session):
    """A multi-segment route and 300 seeded-random places around it (3 at one spot)."""
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    route = factories.route(db_session, "test-route", PATH)
    org = factories.organization(db_session)
    rng = random.Random(20261123)
    places = [
        factories.location(
            db_session, org, rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
        )
        for _ in range(297)
    ]
    places += [factories.location(db_session, org, -92.1, 15.35) for _ in range(3)]
    return route, places


def _within(db_session, route, metres: float) -> set[int]:
    """The reference: ST_DWithin against the route over every row of the table."""
    rows = db_session.execute(
        text(
            "SELECT id FROM locations "
            "WHERE ST_DWithin(point, (SELECT path FROM routes WHERE id = :id)::geography, :m)"
        ),
        {"id": route.id, "m": metres},
    )
    return {row.id for row in rows}


def _search(db_session, route, **options):
    options.setdefault("limit", 500)
    return route_corridor(db_session, route, CorridorQuery(**options), at=AT)


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _along_on_sphere(line: LineString, fraction: float) -> float:
    """Metres along ``line`` (straight in degrees between vertices) up to ``fraction``:
    an independent computation with shapely and a spherical Earth."""
    target = fraction * line.length
    coords = list(line.coords)
    total, walked = 0.0, 0.0
    for start, end in itertools.pairwise(coords):
        piece = math.dist(start, end)
        if walked + piece >= target:
            share = (target - walked) / piece if piece else 0.0
            middle = (
                start[0] + share * (end[0] - start[0]),
                start[1] + share * (end[1] - start[1]),
            )
            return total + _haversine(start, middle)
        total += _haversine(start, end)
        walked += piece
    return total


@pytest.mark.parametrize("buffer_km", [1, 5, 10, 25, 60])
def test_the_corridor_holds_exactly_the_places_within_the_buffer(db_session, world, buffer_km):
    route, _places = world
    result = _search(db_session, route, buffer_km=buffer_km)
    returned = [item.location.id for item in result.items]
    assert len(returned) == len(set(returned))
    assert set(returned) == _within(db_session, route, buffer_km * 1000)
    assert not result.more


@pytest.mark.parametrize("buffer_km", [3, 12, 30])
def test_long_segments_miss_nothing_near_the_buffer_edge(db_session, buffer_km):
    """The index is asked piece by piece of the line: a 900 km segment, and places
    crowded around the edge of the buffer all along it, must give the same set."""
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    route = factories.route(db_session, "long", [(-100.0, 20.0), (-92.0, 16.0)])
    org = factories.organization(db_session)
    rng = random.Random(buffer_km)
    margin = buffer_km / 111 * 1.6
    for _ in range(150):
        share = rng.uniform(-0.02, 1.02)
        lon, lat = -100.0 + 8.0 * share, 20.0 - 4.0 * share
        factories.location(
            db_session, org, lon + rng.uniform(-margin, margin), lat + rng.uniform(-margin, margin)
        )
    expected = _within(db_session, route, buffer_km * 1000)
    assert 20 < len(expected) < 140
    result = _search(db_session, route, buffer_km=buffer_km)
    assert {item.location.id for item in result.items} == expected


def test_the_buffers_used_here_are_not_trivial(db_session, world):
    route, places = world
    assert 0 < len(_within(db_session, route, 5_000)) < len(_within(db_session, route, 25_000))
    assert len(_within(db_session, route, 60_000)) < len(places)


def test_places_come_in_order_along_the_route(db_session, world):
    route, _places = world
    line = LineString(PATH)
    result = _search(db_session, route, buffer_km=25)
    keys = [item.sort_key for item in result.items]
    assert keys == sorted(keys)
    assert [item.rank for item in result.items] == list(range(1, len(keys) + 1))
    for item in result.items:
        position = item.location.position
        fraction = line.project(Point(position.lon, position.lat), normalized=True)
        expected = _along_on_sphere(line, fraction)
        assert item.along_m == pytest.approx(expected, rel=5e-3, abs=50)
        assert item.offset_m <= 25_000 + 1e-6
    # The three places at one spot tie on along_m and come by id.
    tied = [
        item.location.id for item in result.items if item.location.position == LonLat(-92.1, 15.35)
    ]
    assert tied == sorted(tied)
    assert len(tied) == 3


def test_offsets_agree_with_a_distance_to_the_line(db_session, world):
    route, _places = world
    result = _search(db_session, route, buffer_km=25)
    line = LineString(PATH)
    for item in result.items[:40]:
        position = item.location.position
        nearest = line.interpolate(line.project(Point(position.lon, position.lat)))
        # The route's segments are geodesics on the spheroid, shapely's are straight in
        # degrees: they part by tens of metres here; sphere and spheroid by under 1 %.
        expected = _haversine((position.lon, position.lat), nearest.coords[0])
        assert item.offset_m == pytest.approx(expected, rel=0.01, abs=100)


def test_a_starting_point_drops_what_lies_behind(db_session, world):
    route, _places = world
    line = LineString(PATH)
    start = LonLat(-91.7, 15.45)  # beside the third segment
    start_fraction = line.project(Point(start.lon, start.lat), normalized=True)
    everything = _search(db_session, route, buffer_km=25)
    ahead = _search(db_session, route, buffer_km=25, start=start)

    assert ahead.start is not None
    assert ahead.start.fraction == pytest.approx(start_fraction, abs=1e-9)
    assert ahead.start.along_m == pytest.approx(_along_on_sphere(line, start_fraction), rel=5e-3)
    assert 0 < ahead.start.offset_m < 25_000

    # Ahead, or less than BEHIND_SLACK_M behind (those count as "here", at 0 km).
    expected = {
        item.location.id
        for item in everything.items
        if item.along_m >= ahead.start.along_m - BEHIND_SLACK_M
    }
    returned = [item.location.id for item in ahead.items]
    assert set(returned) == expected
    assert 0 < len(returned) < len(everything.items)
    # Distances now count from the starting point's projection.
    for item in ahead.items:
        full = next(i for i in everything.items if i.location.id == item.location.id)
        assert item.along_m == pytest.approx(max(0.0, full.along_m - ahead.start.along_m), abs=1.0)
    assert [item.sort_key for item in ahead.items] == sorted(i.sort_key for i in ahead.items)
    # The rule agrees with where the points project in degrees (shapely), away from the edge.
    line_length = ahead.length_m
    for item in everything.items:
        fraction = line.project(
            Point(item.location.position.lon, item.location.position.lat), normalized=True
        )
        if fraction > start_fraction + 0.01:
            assert item.location.id in expected
        if fraction < start_fraction - 0.01 - BEHIND_SLACK_M / line_length:
            assert item.location.id not in expected


def test_a_place_just_behind_the_start_counts_as_here(db_session, world):
    """Less than BEHIND_SLACK_M behind the searcher is "here" (0 km); more is dropped.

    Points on the first segment, (-93, 15) → (-92.4, 15.5), about 85 km long, at a share t
    of it: about t × 85 km along.
    """
    route, _places = world
    org = factories.organization(db_session)

    def on_first_segment(share: float) -> tuple[float, float]:
        return -93.0 + 0.6 * share, 15.0 + 0.5 * share

    first_vertex = factories.location(db_session, org, *on_first_segment(0.0))
    just_behind = factories.location(db_session, org, *on_first_segment(0.045))  # ~3.8 km

    from_there = _search(db_session, route, buffer_km=5, start=LonLat(*on_first_segment(0.05)))
    found = {item.location.id: item for item in from_there.items}
    assert 4000 < from_there.start.along_m < 4500
    assert found[just_behind.id].along_m == 0
    assert first_vertex.id not in found

    from_the_start = _search(
        db_session,
        route,
        buffer_km=5,
        start=LonLat(*on_first_segment(0.004)),  # ~340 m
    )
    found = {item.location.id: item for item in from_the_start.items}
    assert found[first_vertex.id].along_m == 0
    assert found[just_behind.id].along_m == pytest.approx(
        from_there.start.along_m - from_the_start.start.along_m, abs=500
    )


def test_a_start_before_the_route_keeps_everything(db_session, world):
    route, _places = world
    before = _search(db_session, route, buffer_km=10, start=LonLat(-93.4, 14.7))
    assert before.start.fraction == 0
    assert {i.location.id for i in before.items} == _within(db_session, route, 10_000)


def test_filters_narrow_the_corridor(db_session, world):
    route, places = world
    food = ServiceCategory(code="food", names={"en": "Food"}, icon="utensils")
    db_session.add(food)
    for place in places[::4]:
        place.categories.append(food)
    db_session.flush()
    everything = _search(db_session, route, buffer_km=25)
    with_food = _search(
        db_session, route, buffer_km=25, filters=LocationFilters(categories=("food",))
    )
    expected = [i.location.id for i in everything.items if food in i.location.categories]
    assert [i.location.id for i in with_food.items] == expected
    assert 0 < len(expected) < len(everything.items)


def test_archived_places_and_organizations_are_left_out(db_session, world):
    route, _places = world
    inside = _search(db_session, route, buffer_km=25).items
    archived_place = inside[0].location
    archived_place.archived_at = AT
    other_org = factories.organization(db_session)
    gone = factories.location(db_session, other_org, *PATH[1])
    other_org.archived_at = AT
    db_session.flush()
    returned = {i.location.id for i in _search(db_session, route, buffer_km=25).items}
    assert archived_place.id not in returned
    assert gone.id not in returned
    assert len(returned) == len(inside) - 1


def test_pages_follow_each_other_like_one_big_page(db_session, world):
    route, _places = world
    whole = _search(db_session, route, buffer_km=25)
    seen, after = [], None
    while True:
        page = _search(db_session, route, buffer_km=25, limit=7, after=after)
        seen.extend(page.items)
        if not page.more:
            break
        after = page.items[-1].sort_key
    assert [(i.location.id, i.rank) for i in seen] == [(i.location.id, i.rank) for i in whole.items]
    assert len(seen) > 14


def test_pages_with_a_starting_point_too(db_session, world):
    route, _places = world
    start = LonLat(-92.3, 15.3)
    whole = _search(db_session, route, buffer_km=25, start=start)
    first = _search(db_session, route, buffer_km=25, start=start, limit=5)
    second = _search(db_session, route, buffer_km=25, start=start, limit=5,
                     after=first.items[-1].sort_key)  # fmt: skip
    assert [i.location.id for i in first.items + second.items] == [
        i.location.id for i in whole.items[:10]
    ]
    assert second.items[0].rank == 6


def test_a_line_from_outside_the_directory_gives_the_same_answer(db_session, world):
    route, _places = world
    positions = [LonLat(lon, lat) for lon, lat in PATH]
    query = CorridorQuery(buffer_km=10, start=LonLat(-92.0, 15.3), limit=500)
    by_route = route_corridor(db_session, route, query, at=AT)
    by_line = line_corridor(db_session, positions, query, at=AT)
    assert [i.location.id for i in by_line.items] == [i.location.id for i in by_route.items]
    assert by_line.length_m == pytest.approx(by_route.length_m)
    assert by_line.start == by_route.start


def test_routes_are_found_by_id_or_code_but_not_when_archived(db_session, world):
    route, _places = world
    assert find_route(db_session, "test-route") is route
    assert find_route(db_session, str(route.id)) is route
    assert find_route(db_session, "nope") is None
    assert find_route(db_session, "99999999999999999999") is None
    route.archived_at = AT
    db_session.flush()
    assert find_route(db_session, "test-route") is None
