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
    [
        "",
        "1,2,3",
        "a,b,c,d",
        "-92,15,-91,15",  # no height
        "-92,16,-91,15",  # south above north
        "-92,15,-92,16",  # no width
        "190,15,-170,16",  # no width either: one meridian, written twice
        "0,-95,1,2",
        "0,nan,1,2",
        "inf,15,1,16",
        "1e400,15,1,16",
    ],
)
def test_bad_bbox_is_a_400_naming_it(client, grid, bbox):
    response = client.get(f"/api/v1/locations?bbox={bbox}")
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("bbox: ")


def test_bbox_is_required(client, grid):
    response = client.get("/api/v1/locations")
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("bbox: ")


# Places on both sides of the antimeridian, near the poles, and on the box edges.
WORLD = [
    (-180.0, 0.0),
    (-179.5, 1.0),
    (179.5, -1.0),
    (180.0, 5.0),
    (175.0, 9.5),
    (-175.0, -9.5),
    (165.0, 0.0),
    (-165.0, 0.0),
    (0.0, 0.0),
    (-92.26, 14.9),
    (100.0, 80.0),
    (-60.0, -84.9),
    (-85.0, 10.0005),  # just inside the south edge of a wide box (see below)
]


@pytest.fixture
def world(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session)
    return {(lon, lat): factories.location(db_session, org, lon, lat).id for lon, lat in WORLD}


def _ids(client, bbox: str) -> set[int]:
    response = client.get(f"/api/v1/locations?bbox={bbox}")
    assert response.status_code == 200, response.json
    return {feature["id"] for feature in response.json["features"]}


def _expected(world, west, south, east, north) -> set[int]:
    """The places inside the box in plain degrees, ``west > east`` crossing ±180."""

    def inside(lon: float) -> bool:
        if west <= east:
            return west <= lon <= east
        return lon >= west or lon <= east

    return {id_ for (lon, lat), id_ in world.items() if inside(lon) and south <= lat <= north}


@pytest.mark.parametrize(
    "bbox",
    [
        "-180,-90,180,90",
        "-180,-85,180,85",  # what Leaflet gives at its widest
        "-540,-85,540,85",  # a map wider than the world, panned
        "-200.5,-85,170,85",  # 370.5° wide
        "0,-85,0.0001,85",  # not world-wide: one sliver
    ],
)
def test_a_world_wide_box_returns_every_place_inside_it(client, world, bbox):
    west, south, east, north = (float(part) for part in bbox.split(","))
    expected = (
        _expected(world, west, south, east, north)
        if east - west < 360
        else _expected(world, -180, south, 180, north)
    )
    assert _ids(client, bbox) == expected
    if bbox != "0,-85,0.0001,85":
        assert expected == set(world.values())  # every place of the fixture


@pytest.mark.parametrize(
    ("bbox", "same_as"),
    [
        ("170,-10,-170,10", None),  # RFC 7946: west greater than east crosses ±180
        ("170,-10,190,10", "170,-10,-170,10"),  # Leaflet, panned east across ±180
        ("-190,-10,-170,10", "170,-10,-170,10"),  # … and west across it
        ("530,-10,550,10", "170,-10,-170,10"),  # a world further east
        ("179,-90,-179,90", None),
        ("-92,-90,-93,90", None),  # 359° wide: everything but one degree
    ],
)
def test_a_box_across_the_antimeridian_returns_every_place_inside_it(client, world, bbox, same_as):
    got = _ids(client, bbox)
    west, south, east, north = (float(part) for part in (same_as or bbox).split(","))
    assert got == _expected(world, west, south, east, north)
    if bbox == "170,-10,-170,10":
        inside = [(-180.0, 0.0), (-179.5, 1.0), (179.5, -1.0), (180.0, 5.0)]
        inside += [(175.0, 9.5), (-175.0, -9.5)]
        assert got == {world[position] for position in inside}
    if bbox == "-92,-90,-93,90":
        assert world[(-92.26, 14.9)] not in got
        assert len(got) == len(world) - 1


def test_a_wide_box_keeps_the_places_along_its_southern_edge(client, world):
    """On the sphere a great circle between two corners of the box runs north of the
    parallel; places just inside the southern edge must still be found."""
    assert world[(-85.0, 10.0005)] in _ids(client, "-130,10,-40,80")
    assert world[(-85.0, 10.0005)] not in _ids(client, "-130,10.001,-40,80")


def test_world_wide_and_crossing_boxes_still_cluster(client, world, monkeypatch):
    monkeypatch.setattr(map_area, "MAX_POINTS", 3)
    every = client.get("/api/v1/locations?bbox=-180,-90,180,90").json["features"]
    assert all(feature["properties"]["cluster"] for feature in every)
    assert sum(feature["properties"]["count"] for feature in every) == len(world)

    crossing = client.get("/api/v1/locations?bbox=170,-10,-170,10").json["features"]
    assert all(feature["properties"]["cluster"] for feature in crossing)
    assert sum(feature["properties"]["count"] for feature in crossing) == 6
    # A cell never mixes the two sides of ±180 (their mean would fall near longitude 0).
    for feature in crossing:
        lon, _lat = feature["geometry"]["coordinates"]
        assert abs(lon) >= 170
