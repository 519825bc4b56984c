"""A distance is never said more exactly than the place's point is known."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory.db import PositionPrecision
from directory.places.precision import IN_TOWN_M, STEP_M, rounded_distance_m, shown_distance
from tests import factories

CITY, STREET, EXACT = PositionPrecision.CITY, PositionPrecision.STREET, PositionPrecision.EXACT


@given(st.floats(min_value=0, max_value=5_000_000), st.sampled_from(list(PositionPrecision)))
def test_a_shown_distance_is_a_whole_step_of_its_precision(distance_m, precision):
    shown = shown_distance(distance_m, precision)
    if shown.in_town:
        assert precision is CITY
        assert distance_m < IN_TOWN_M
        return
    steps = shown.km * 1000 / STEP_M[precision]
    assert steps == pytest.approx(round(steps))
    assert shown.km * 1000 >= STEP_M[precision]  # never "0 km"
    assert abs(shown.km * 1000 - distance_m) <= STEP_M[precision] / 2 + 1e-6 or (
        distance_m < STEP_M[precision]
    )
    assert shown.approximate == (precision is not EXACT)


@given(st.floats(min_value=0, max_value=5_000_000))
def test_the_api_never_gives_a_city_point_to_the_metre(distance_m):
    assert rounded_distance_m(distance_m, CITY) % STEP_M[CITY] == 0


@pytest.fixture
def town_centre_places(db_session):
    factories.country(db_session, "MX")
    organization = factories.organization(db_session, name="Casa del Migrante")
    near = factories.location(
        db_session, organization, -92.2600, 14.9000, city="Tapachula", precision=CITY
    )
    far = factories.location(
        db_session, organization, -92.0500, 15.1000, city="Huixtla", precision=CITY
    )
    return near, far


def test_the_near_page_says_the_town_not_a_distance_to_a_town_centre(client, town_centre_places):
    page = client.get("/near?lat=14.91&lon=-92.27").get_data(as_text=True)
    assert "In Tapachula · exact place not known" in page
    assert re.search(r"About \d+ km in a straight line", page)  # Huixtla, ~31 km
    assert not re.search(r"\d+\.\d km", page)  # nothing to the hundred metres
    # Directions search the name in the maps app instead of leading to the town square.
    assert "geo:0,0?q=Casa%20del%20Migrante%2C%20Tapachula%2C%20MX" in page
    assert "geo:14.9" not in page


def test_the_api_rounds_distances_to_a_town_centre(client, town_centre_places):
    answer = client.get("/api/v1/locations/nearest?lat=14.91&lon=-92.27").json
    for feature in answer["features"]:
        properties = feature["properties"]
        assert properties["position_precision"] == "city"
        assert properties["distance_m"] % 5000 == 0


def test_an_exact_place_keeps_its_distance_and_its_directions(client, db_session):
    factories.country(db_session, "MX")
    factories.location(db_session, factories.organization(db_session), -92.26, 14.90)
    page = client.get("/near?lat=14.91&lon=-92.27").get_data(as_text=True)
    assert re.search(r"[\d.]+ km in a straight line", page)
    assert "About" not in page
    assert "geo:14.9,-92.26?q=14.9,-92.26" in page
