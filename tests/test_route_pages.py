"""The routes list and the page of one route, server-rendered (no JavaScript)."""

from __future__ import annotations

import html
import json
import re

import pytest
from shapely.geometry import LineString, Point, shape

from directory.cli import SEEDS_DIR
from directory.gazetteer.services import load_gazetteer
from directory.places.models import ServiceCategory
from directory.public import routes as route_pages
from tests import factories

PATH = [(-92.26, 14.9), (-92.0, 15.5), (-91.5, 16.0)]


@pytest.fixture
def route_with_places(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.9))
    db_session.add(ServiceCategory(code="food", names={"en": "Food"}, icon="utensils"))
    route = factories.route(db_session, "test-route", PATH)
    route.country_codes = ["MX", "GT"]
    org = factories.organization(db_session, name="Albergue Belén")
    start = factories.location(db_session, org, -92.27, 14.9, city="Tapachula")
    start.phones = ["+52 962 000 0000"]
    start.opening_hours = {"always": True}
    middle = factories.location(db_session, org, -92.0, 15.52, city="Motozintla")
    middle.name = "Casa Motozintla"
    end = factories.location(db_session, org, -91.52, 16.0, city="Comitán")
    end.name = "Comedor Comitán"
    db_session.flush()
    return route, [start, middle, end]


def _page(client, url: str):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def _map_config(page: str) -> dict:
    raw = re.search(r"id=\"route-map\" data-config='([^']*)'", page).group(1)
    return json.loads(html.unescape(raw))


def test_the_routes_list_names_countries_and_length(client, route_with_places):
    response, page = _page(client, "/routes")
    assert response.status_code == 200
    assert 'href="/routes/test-route"' in page
    assert "Route test-route" in page
    assert "Mexico, Guatemala" in page
    assert re.search(r"1[45]\d km", page)
    assert re.search(r"/static/css/routes(\.[0-9a-f]{12})?\.css", page)  # hashed when built


def test_without_a_starting_point_the_list_starts_at_the_beginning(client, route_with_places):
    _route, places = route_with_places
    response, page = _page(client, "/routes/test-route")
    assert response.status_code == 200
    assert "From the start of the route" in page
    assert page.index("Albergue Belén") < page.index("Casa Motozintla") < page.index("Comedor")
    assert '<span class="along">Here</span>' in page  # the first place is at the start
    assert "1.1 km off the route" in page
    assert re.search(r"In 7\d\.?\d? km", page)  # the second, about 72 km on
    assert 'href="tel:+529620000000"' in page
    assert "Open 24 hours" in page
    assert "Not verified" not in page  # no badge that every record carries
    assert f'href="/places/{places[1].id}?back=' in page
    assert response.headers["Cache-Control"] == "public, max-age=300"  # no position given


def test_the_map_gets_the_route_the_corridor_and_numbered_places(client, route_with_places):
    _route, _places = route_with_places
    _response, page = _page(client, "/routes/test-route?buffer_km=25")
    config = _map_config(page)
    assert LineString(PATH).equals_exact(shape(config["line"]), 1e-5)
    corridor = shape(config["corridor"])
    assert corridor.contains(LineString(PATH))
    assert corridor.contains(Point(-92.26 - 0.18, 14.9))  # about 19 km west of the start
    assert not corridor.contains(Point(-92.26 - 0.3, 14.9))  # about 32 km
    assert [r["rank"] for r in config["results"]] == [1, 2, 3]
    assert config["results"][1]["coordinates"] == [-92.0, 15.52]
    assert config["origin"] is None
    assert config["tiles"] is None


def test_a_position_shows_only_what_lies_ahead(client, route_with_places):
    response, page = _page(client, "/routes/test-route?lat=15.3&lon=-92.1")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "From your location" in page
    assert "Albergue Belén" not in page
    assert page.index("Casa Motozintla") < page.index("Comedor Comitán")
    # Positive control: from the start of the route, the same page lists it.
    assert "Albergue Belén" in _page(client, "/routes/test-route")[1]
    assert _map_config(page)["origin"] == [-92.1, 15.3]


def test_far_from_the_route_the_page_says_where_the_list_starts(client, route_with_places):
    _response, page = _page(client, "/routes/test-route?lat=15.3&lon=-93.0")
    assert "the list starts where the route passes closest to you" in page


def test_an_unknown_town_says_so_and_lists_from_the_start(client, route_with_places, db_session):
    load_gazetteer(db_session, SEEDS_DIR, cities=[])  # places.csv and the places' cities
    _response, page = _page(client, "/routes/test-route?q=Qwxzvbnm")
    assert "We found no town called" in page
    assert "Albergue Belén" in page
    # Positive control: the same search for a town the gazetteer holds finds it.
    _response, found = _page(client, "/routes/test-route?q=Motozintla")
    assert "We found no town called" not in found
    assert "From the start of the route" not in found


def test_nothing_found_suggests_a_wider_corridor(client, route_with_places):
    _response, page = _page(client, "/routes/test-route?buffer_km=5&lat=15.99&lon=-91.4")
    assert "Nothing within 5 km of the route ahead of you" in page
    link = re.search(r'<a class="wider" href="([^"]+)"', page).group(1)
    assert "buffer_km=10" in link
    assert "lat=15.99" in link
    # Positive control: the same corridor from further back finds what lies ahead.
    _response, found = _page(client, "/routes/test-route?buffer_km=5&lat=15.3&lon=-92.1")
    assert "Nothing within" not in found
    assert "Comedor Comitán" in found


def test_a_filter_narrows_the_list(client, route_with_places, db_session):
    _route, places = route_with_places
    places[2].categories.append(db_session.query(ServiceCategory).one())
    db_session.flush()
    _response, page = _page(client, "/routes/test-route?category=food")
    assert "Comedor Comitán" in page
    assert "Casa Motozintla" not in page
    assert "Casa Motozintla" in _page(client, "/routes/test-route")[1]  # positive control
    assert 'value="food" checked' in page


def test_long_lists_continue_on_a_next_page(client, route_with_places, monkeypatch):
    monkeypatch.setattr(route_pages, "PAGE_SIZE", 2)
    _response, page = _page(client, "/routes/test-route")
    assert "Comedor Comitán" not in page
    more = html.unescape(re.search(r'<p class="more"><a class="action" href="([^"]+)"', page)[1])
    _response, second = _page(client, more)
    assert "Comedor Comitán" in second
    assert "Casa Motozintla" not in second
    assert 'data-rank="3"' in second


def test_bad_form_input_says_what_to_fix(client, route_with_places):
    response, page = _page(client, "/routes/test-route?buffer_km=500")
    assert response.status_code == 400
    assert "Please check the form: buffer_km:" in page


@pytest.mark.parametrize("url", ["/routes/nope", "/routes/nope?lat=15&lon=-92"])
def test_an_unknown_route_is_a_404_page(client, route_with_places, url):
    response, page = _page(client, url)
    assert response.status_code == 404
    assert "Not Found" in page
    # Positive control: the known route, with the same query, is found.
    assert client.get(url.replace("/nope", "/test-route")).status_code == 200


def test_an_archived_route_is_gone(client, route_with_places, db_session):
    route, _places = route_with_places
    # Positive control: before it is archived, the route has its page and is listed.
    assert client.get("/routes/test-route").status_code == 200
    assert "test-route" in client.get("/routes").get_data(as_text=True)
    route.archived_at = route.created_at
    db_session.flush()
    assert client.get("/routes/test-route").status_code == 404
    assert "test-route" not in client.get("/routes").get_data(as_text=True)
