"""The Darién Gap, on the demo data: help on the searcher's side first, help across the Gap
flagged, and the route's warning where the route enters it."""

from __future__ import annotations

import html
import re

import pytest

from directory.corridors.barriers import route_barriers
from directory.corridors.services import find_route
from directory.places.filters import LocationFilters
from directory.places.nearest import NearestQuery, find_nearest
from geo.coordinates import LonLat

ACANDI = LonLat(-77.279, 8.512)  # Colombia, where people leave the coast for the jungle
BAJO_CHIQUITO = LonLat(-77.543, 8.066)  # Panama, the first village after it


@pytest.fixture
def demo_client(demo_app, demo_session):
    return demo_app.test_client()


def test_from_the_colombian_side_colombian_help_comes_first(demo_session):
    results = find_nearest(demo_session, NearestQuery(ACANDI, limit=12))
    across = [r for r in results if r.across]
    near_side = [r for r in results if not r.across]
    assert across, "help in Panama lies nearer in a straight line than some in Colombia"
    assert {r.across for r in across} == {"darien-gap"}
    assert {r.location.country_code for r in across} == {"PA"}
    assert all(r.location.country_code == "CO" for r in near_side)
    assert max(r.rank for r in near_side) < min(r.rank for r in across)
    # Without the barrier, Lajas Blancas (63 km) would come before Apartadó (100 km).
    assert min(r.distance_m for r in across) < max(r.distance_m for r in near_side)


def test_when_no_help_is_on_the_near_side_the_far_side_is_listed_flagged(demo_session):
    shelters = LocationFilters(categories=("shelter",))
    results = find_nearest(demo_session, NearestQuery(ACANDI, limit=3, filters=shelters))
    assert results[0].location.country_code == "PA"
    assert results[0].across == "darien-gap"


def test_on_the_panamanian_side_panama_is_near(demo_session):
    results = find_nearest(demo_session, NearestQuery(BAJO_CHIQUITO, limit=5))
    assert results[0].location.country_code == "PA"
    assert results[0].across is None


def test_the_near_page_flags_help_across_the_gap_and_the_border(demo_client):
    page = demo_client.get(f"/near?lat={ACANDI.lat}&lon={ACANDI.lon}").get_data(as_text=True)
    items = page.split('<li class="result"')[1:]
    flagged = [i for i, item in enumerate(items) if 'data-across="darien-gap"' in item]
    assert flagged
    assert "Across the Darién Gap" in items[flagged[0]]
    assert "several days on foot through the jungle" in items[flagged[0] - 1]  # once, before
    assert "In Panama — across the border." in items[flagged[0]]
    assert all("across the border" not in item for item in items[: flagged[0]])


def test_the_api_names_the_barrier(demo_client):
    answer = demo_client.get(f"/api/v1/locations/nearest?lat={ACANDI.lat}&lon={ACANDI.lon}")
    values = [feature["properties"]["across_barrier"] for feature in answer.json["features"]]
    assert None in values
    assert "darien-gap" in values
    assert values.index("darien-gap") > values.index(None)


def test_the_darien_route_warns_where_it_enters_the_gap(demo_client, demo_session):
    (entry,) = route_barriers(demo_session, find_route(demo_session, "darien"))
    assert 40_000 < entry.along_m < 120_000  # between Acandí and Bajo Chiquito
    page = html.unescape(demo_client.get("/routes/darien").get_data(as_text=True))
    positions = [
        (kind, float(along))
        for kind, along in re.findall(
            r'<li class="(ahead-item|barrier-warning)"[^>]*data-along-m="([\d.]+)"', page
        )
    ]
    kinds = [kind for kind, _ in positions]
    assert "barrier-warning" in kinds
    warning = kinds.index("barrier-warning")
    assert 0 < warning < len(kinds) - 1  # between the places before and after the Gap
    alongs = [along for _, along in positions]
    assert alongs == sorted(alongs)  # in order along the route
    assert "several days on foot through the jungle" in page
