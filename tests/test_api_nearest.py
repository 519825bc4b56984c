"""GET /api/v1/locations/nearest: the GeoJSON answer and every kind of bad input."""

from __future__ import annotations

import pytest

from directory.places.models import ServiceCategory
from tests import factories


@pytest.fixture
def two_places(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    db_session.add(ServiceCategory(code="food", names={"en": "Food"}, icon="utensils"))
    org = factories.organization(db_session, name="Albergue Belén")
    near = factories.location(db_session, org, -92.2667, 14.9, city="Tapachula")
    far = factories.location(db_session, org, -99.13, 19.43, city="Ciudad de México")
    return near, far


def test_nearest_returns_a_ranked_feature_collection(client, two_places):
    near, far = two_places
    response = client.get("/api/v1/locations/nearest?lat=14.91&lon=-92.27&limit=5")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert "no-store" in response.headers["Cache-Control"]
    body = response.json
    assert body["type"] == "FeatureCollection"
    first, second = body["features"]
    assert [first["id"], second["id"]] == [near.id, far.id]
    assert first["geometry"] == {"type": "Point", "coordinates": [-92.2667, 14.9]}
    assert first["properties"]["rank"] == 1
    assert second["properties"]["rank"] == 2
    assert 1000 < first["properties"]["distance_m"] < 1500
    assert first["properties"]["name"] == "Albergue Belén"
    assert first["properties"]["timezone"] == "America/Mexico_City"
    assert first["properties"]["state"] == "unknown"


def test_an_empty_result_is_an_empty_collection(client, two_places):
    response = client.get("/api/v1/locations/nearest?lat=-33.4&lon=-70.6&radius_km=5")
    assert response.status_code == 200
    assert response.json["features"] == []
    # Positive control: the same radius around a place finds it.
    near, _ = two_places
    found = client.get("/api/v1/locations/nearest?lat=14.91&lon=-92.27&radius_km=5")
    assert [feature["id"] for feature in found.json["features"]] == [near.id]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lat=91&lon=0", "lat"),
        ("lat=-90.5&lon=0", "lat"),
        ("lat=0&lon=180.1", "lon"),
        ("lat=abc&lon=0", "lat"),
        ("lat=nan&lon=0", "lat"),
        ("lat=0&lon=inf", "lon"),
        ("lat=0&lon=-Infinity", "lon"),
        ("lon=0", "lat"),
        ("lat=0", "lon"),
        ("lat=0&lon=0&limit=0", "limit"),
        ("lat=0&lon=0&limit=101", "limit"),
        ("lat=0&lon=0&limit=ten", "limit"),
        ("lat=0&lon=0&radius_km=0", "radius_km"),
        ("lat=0&lon=0&radius_km=-3", "radius_km"),
        ("lat=0&lon=0&category=unicorns", "category"),
        ("lat=0&lon=0&network=NOPE", "network"),
        ("lat=0&lon=0&population=aliens", "population"),
        ("lat=0&lon=0&language=spanish", "language"),
        ("lat=0&lon=0&kind=spaceport", "kind"),
        ("lat=0&lon=0&open_now=maybe", "open_now"),
        ("lat=0&lon=0&free=perhaps", "free"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, two_places, query, parameter):
    response = client.get(f"/api/v1/locations/nearest?{query}")
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{parameter}: ")
    assert parameter in error["details"]["parameters"]


def test_blank_optional_parameters_count_as_absent(client, two_places):
    response = client.get("/api/v1/locations/nearest?lat=14.91&lon=-92.27&radius_km=&limit=")
    assert response.status_code == 200
    assert len(response.json["features"]) == 2
