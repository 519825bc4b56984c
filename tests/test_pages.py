"""Home page and API responses, through the Flask test client."""

from __future__ import annotations

import json
import re

import pytest

from directory.db import OrganizationKind
from tests import factories


def test_home_page_embeds_markers_and_routes_and_links_only_our_assets(client, db_session):
    factories.country(db_session)
    shelter = factories.organization(db_session, name="Albergue <Belén>")
    factories.location(db_session, shelter, -92.2667, 14.9, city="Tapachula")
    consulate = factories.organization(db_session, OrganizationKind.CONSULATE, "MX")
    factories.location(db_session, consulate, -99.13, 19.43)
    factories.route(db_session, "pacific", [(-92.27, 14.9), (-99.13, 19.43)])

    response = client.get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "place-marker--shelter" in html
    assert "place-marker--consulate" in html
    assert "[-92.2667, 14.9]" in html  # the shelter's point, longitude first
    # Names travel as JSON data (set with textContent in the browser), never as markup.
    assert "Albergue \\u003cBel" in html
    assert "Albergue <Bel" not in html
    assert "route-line" in html
    assert "/api/v1/countries/outlines" in html
    linked = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert linked, "the page links its scripts and styles"
    assert all(url.startswith("/") for url in linked), linked


def test_home_page_with_an_empty_directory_still_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "place-marker" not in response.get_data(as_text=True)


def test_country_outlines_are_geojson_built_by_postgis(client, db_session):
    factories.country(db_session, "GT", (-92.0, 13.7, -88.2, 17.8))
    response = client.get("/api/v1/countries/outlines")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.cache_control.max_age == 86400
    data = json.loads(response.data)
    assert data["type"] == "FeatureCollection"
    [feature] = data["features"]
    assert feature["properties"] == {"code": "GT", "name": "Country GT"}
    assert feature["geometry"]["type"] == "MultiPolygon"


def test_unknown_api_path_gets_the_json_error_shape(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json == {
        "error": {"code": "not_found", "message": response.json["error"]["message"], "details": {}}
    }


def test_unknown_page_gets_an_html_page(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_pages_and_geojson_are_compressed_for_weak_connections(client, db_session):
    # Enough outlines to pass the 500-byte threshold under which compressing is not worth it.
    for index, code in enumerate(["GT", "SV", "HN", "NI", "CR", "PA"]):
        factories.country(db_session, code, (-92.0 + index, 8.0, -91.5 + index, 17.8))
    for path in ("/", "/api/v1/countries/outlines"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.headers["Content-Encoding"] == "gzip", path


def test_district_layer_returns_one_nationalitys_districts(client, db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    tapachula = factories.consular_office(db_session, "GT", -92.26, 14.9, "MX", name="Consulado GT")
    factories.district(db_session, tapachula, (-95.0, 14.5, -86.5, 18.0))
    other = factories.consular_office(db_session, "MX", -90.5, 14.6, "GT")
    factories.district(db_session, other, (-92.3, 13.7, -88.2, 17.8))

    response = client.get("/api/v1/districts?nationality=gt")

    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    (feature,) = response.json["features"]
    assert feature["properties"]["location_id"] == tapachula.id
    assert feature["properties"]["name"] == "Consulado GT"
    assert feature["properties"]["origin"] == "computed"
    assert feature["geometry"]["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "nationality: is required"), ("?nationality=GTM", "nationality: must be an ISO"),
     ("?nationality=QQ", "nationality: unknown country 'QQ'")],
)  # fmt: skip
def test_district_layer_needs_a_known_nationality(client, db_session, query, message):
    response = client.get(f"/api/v1/districts{query}")
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith(message)


def test_home_page_offers_the_districts_of_nationalities_with_offices(client, db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "SV", (-90.2, 13.1, -87.6, 14.5))
    factories.consular_office(db_session, "MX", -90.5, 14.6, "GT", also_serves=("SV",))
    html = client.get("/").get_data(as_text=True)
    assert '<option value="MX">Country MX</option>' in html
    assert '<option value="SV">Country SV</option>' in html  # served by a joint office
    assert '<option value="GT">' not in html
