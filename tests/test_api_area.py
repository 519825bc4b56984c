"""GET /api/v1/locations?bbox=…: the map's visible area, as points or grid clusters."""

from __future__ import annotations

import pytest

from directory.places import map_area
from tests import factories


@pytest.fixture
def grid(db_session):
    """A 10 × 10 grid of places, 0.1° apart, south-west corner at (-92, 15)."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session)
    return [
        factories.location(db_session, org, -92 + x / 10, 15 + y / 10)
        for x in range(10)
        for y in range(10)
    ]


def test_points_inside_the_area_and_none_outside(client, grid):
    response = client.get("/api/v1/locations?bbox=-92.05,14.95,-91.75,15.25")
    assert response.status_code == 200
    features = response.json["features"]
    assert len(features) == 9  # x and y in 0..2
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        assert -92.05 <= lon <= -91.75
        assert 14.95 <= lat <= 15.25
        assert set(feature["properties"]) == {"id", "name", "kind"}


def test_many_points_come_as_clusters_that_add_up(client, grid, monkeypatch):
    monkeypatch.setattr(map_area, "MAX_POINTS", 20)
    # A continent-wide view: grid cells of 1.25°, wider than the whole 1° grid of places.
    response = client.get("/api/v1/locations?bbox=-120,0,-60,40")
    features = response.json["features"]
    assert all(feature["properties"]["cluster"] for feature in features)
    assert sum(feature["properties"]["count"] for feature in features) == 100
    assert len(features) <= 4


def test_filters_apply_to_the_area(client, grid):
    response = client.get("/api/v1/locations?bbox=-93,14,-90,17&kind=consulate")
    assert response.json["features"] == []
    # Positive control: the same area with the kind the grid has finds every place.
    shelters = client.get("/api/v1/locations?bbox=-93,14,-90,17&kind=shelter")
    assert {feature["id"] for feature in shelters.json["features"]} == {place.id for place in grid}


@pytest.mark.parametrize(
    "bbox",
    ["", "1,2,3", "a,b,c,d", "-92,15,-93,16", "-92,15,-91,15", "-200,15,-91,16", "0,nan,1,2"],
)
def test_bad_bbox_is_a_400_naming_it(client, grid, bbox):
    response = client.get(f"/api/v1/locations?bbox={bbox}")
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("bbox: ")


def test_bbox_is_required(client, grid):
    response = client.get("/api/v1/locations")
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("bbox: ")
