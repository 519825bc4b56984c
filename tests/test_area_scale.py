"""The map area at scale: clusters from counts kept ahead (``area_cells``) stay exact.

The counts per grid cell are kept by triggers (migration 0011); a box reads the cells
wholly inside it and counts the strips along its edges row by row. Whatever the box, the
clusters must be exactly what counting every place in the box would give.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict

import pytest
from sqlalchemy import delete

from directory.db import OrganizationKind
from directory.places import map_area
from directory.places.filters import LocationFilters
from directory.places.map_area import area_content, rebuild_area_cells, stored_cells
from directory.places.models import Location
from geo.area import BBox, Grid, display_level
from tests import factories

AT = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _cells(db_session) -> dict:
    return stored_cells(db_session)


def _same_cells(kept: dict, rebuilt: dict) -> None:
    assert kept.keys() == rebuilt.keys()
    for key, (places, lons, lats) in rebuilt.items():
        assert kept[key][0] == places
        assert kept[key][1] == pytest.approx(lons, abs=1e-6)
        assert kept[key][2] == pytest.approx(lats, abs=1e-6)


@pytest.fixture
def places(db_session):
    """500 places around two towns, 40 of them on lines of the level-12 and -14 grids."""
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    rng = random.Random(14)
    orgs = [factories.organization(db_session) for _ in range(3)]
    made = []
    for index in range(460):
        lon, lat = (-99.1, 19.4) if index % 2 else (-92.26, 14.9)
        made.append(
            factories.location(
                db_session,
                orgs[index % 3],
                lon + rng.gauss(0, 0.3),
                lat + rng.gauss(0, 0.3),
            )
        )
    for index in range(40):
        size = Grid(12 if index % 2 else 14).size
        lon = math.floor((-99.1 + 180) / size + index) * size - 180
        lat = math.floor((19.4 + 90) / size - index) * size - 90
        made.append(factories.location(db_session, orgs[0], lon, lat))
    return orgs, made


def test_the_cells_follow_inserts_edits_archives_and_deletes(db_session, places):
    orgs, made = places
    counted = sum(places for (level, _, _), (places, _, _) in _cells(db_session).items())
    assert counted == len(made) * len(map_area.CELL_LEVELS)

    made[0].point = factories.location(db_session, orgs[1], -90.0, 16.0).point  # moved
    made[1].archived_at = AT
    orgs[2].archived_at = AT  # a third of the places leave the map
    db_session.flush()
    db_session.execute(delete(Location).where(Location.id == made[3].id))
    db_session.flush()
    kept = _cells(db_session)
    rebuild_area_cells(db_session)
    _same_cells(kept, _cells(db_session))

    orgs[2].archived_at = None  # restored: they come back
    made[1].archived_at = None
    db_session.flush()
    kept = _cells(db_session)
    total = sum(places for (level, _, _), (places, _, _) in kept.items() if level == 14)
    assert total == len(made)  # one moved, one deleted, one added by the move's helper
    rebuild_area_cells(db_session)
    _same_cells(kept, _cells(db_session))


def _expected_clusters(made, bbox: BBox) -> dict[tuple[int, int], tuple[int, float, float]]:
    """Counting every place inside the box, per display cell, in Python."""
    grid = Grid(display_level(bbox))
    cells: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0.0, 0.0])
    for place in made:
        if place.archived_at is not None or place.organization.archived_at is not None:
            continue
        lon, lat = place.position.lon, place.position.lat
        inside_lon = any(west <= lon <= east for west, east in bbox.spans())
        if inside_lon and bbox.min_lat <= lat <= bbox.max_lat:
            key = (
                math.floor((lon + 180.0) / grid.size),
                math.floor((lat + 90.0) / grid.size),
            )
            cells[key][0] += 1
            cells[key][1] += lon
            cells[key][2] += lat
    return {key: (n, lons / n, lats / n) for key, (n, lons, lats) in cells.items()}


BOXES = [
    "-118,7,-77,33",  # Mexico and Central America: cells of level 12, strips along the edges
    "-99.35,19.2,-98.9,19.6",  # a city: cells of level 14
    "-100,18.5,-98,20.5",
    "-92.8,14.4,-91.7,15.5",
    # Edges on grid lines of levels 12 and 14 (multiples of 0.087890625 and 0.02197265625)
    f"{-180 + 922 * 0.087890625},{-90 + 1245 * 0.087890625},"
    f"{-180 + 935 * 0.087890625},{-90 + 1255 * 0.087890625}",
    f"{-180 + 3680 * 0.02197265625},{-90 + 4975 * 0.02197265625},"
    f"{-180 + 3700 * 0.02197265625},{-90 + 4990 * 0.02197265625}",
]


@pytest.mark.parametrize("box", BOXES)
def test_clusters_count_exactly_the_places_in_the_box(db_session, places, monkeypatch, box):
    monkeypatch.setattr(map_area, "MAX_POINTS", 5)
    _orgs, made = places
    bbox = BBox.parse(box)
    expected = _expected_clusters(made, bbox)
    assert sum(n for n, _, _ in expected.values()) > 5
    content = area_content(db_session, bbox, LocationFilters(), at=AT)
    assert content.points == []
    grid = Grid(display_level(bbox))
    got = {
        (
            math.floor((cluster.lon + 180.0) / grid.size),
            math.floor((cluster.lat + 90.0) / grid.size),
        ): cluster
        for cluster in content.clusters
    }
    assert got.keys() == expected.keys()
    for key, (count, lon, lat) in expected.items():
        assert got[key].count == count
        assert got[key].lon == pytest.approx(lon, abs=1e-9)
        assert got[key].lat == pytest.approx(lat, abs=1e-9)


@pytest.mark.parametrize("box", BOXES[:3])
def test_counted_ahead_and_counted_row_by_row_agree(db_session, places, monkeypatch, box):
    """With a filter the rows are counted one by one; a filter every place passes must
    give the clusters the counts kept ahead give."""
    monkeypatch.setattr(map_area, "MAX_POINTS", 5)
    bbox = BBox.parse(box)
    ahead = area_content(db_session, bbox, LocationFilters(), at=AT).clusters
    rows = area_content(
        db_session, bbox, LocationFilters(kinds=(OrganizationKind.SHELTER,)), at=AT
    ).clusters
    assert [cluster.count for cluster in ahead] == [cluster.count for cluster in rows]
    for one, other in zip(ahead, rows, strict=True):
        assert one.lon == pytest.approx(other.lon, abs=1e-9)
        assert one.lat == pytest.approx(other.lat, abs=1e-9)


def test_a_phone_gets_a_handful_of_clusters_across(db_session, places, monkeypatch):
    monkeypatch.setattr(map_area, "MAX_POINTS", 5)
    for box in BOXES[:3]:
        bbox = BBox.parse(box)
        shorter = min(bbox.width, bbox.max_lat - bbox.min_lat)
        assert 5 <= shorter / Grid(display_level(bbox)).size < 10


def test_an_archived_organization_leaves_the_clusters(db_session, places, monkeypatch):
    monkeypatch.setattr(map_area, "MAX_POINTS", 5)
    orgs, made = places
    bbox = BBox.parse(BOXES[0])
    before = sum(c.count for c in area_content(db_session, bbox, LocationFilters()).clusters)
    orgs[1].archived_at = AT
    db_session.flush()
    after = sum(c.count for c in area_content(db_session, bbox, LocationFilters()).clusters)
    assert before - after == sum(1 for place in made if place.organization is orgs[1])
    assert after == sum(n for n, _, _ in _expected_clusters(made, bbox).values())


def test_the_command_counts_the_cells_again_after_they_were_lost(db_session, places, runner):
    """``flask seed area-cells`` repairs counts that a bulk change without triggers lost."""
    _orgs, made = places
    kept = _cells(db_session)
    db_session.execute(map_area.area_cells.delete())
    db_session.flush()
    assert _cells(db_session) == {}
    result = runner.invoke(args=["seed", "area-cells"])
    assert result.exit_code == 0, result.output
    assert "cells" in result.output
    _same_cells(kept, _cells(db_session))
    assert len(made) > 0
