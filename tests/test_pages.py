"""Home page and API responses, through the Flask test client."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from directory.db import OrganizationKind
from directory.places.kinds import KINDS
from tests import factories

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
# Scripts, styles and icons (not the <link rel="alternate" hreflang> to the page in the
# other languages).
ASSET_LINK = re.compile(
    r"""<(?:script|link)\b(?![^>]*rel="alternate")[^>]*(?:src|href)=["']([^"']+)["']"""
)


def _home_directory(session) -> None:
    factories.country(session)
    shelter = factories.organization(session, name="Albergue <Belén>")
    factories.location(session, shelter, -92.2667, 14.9, city="Tapachula")
    consulate = factories.organization(session, OrganizationKind.CONSULATE, "MX")
    factories.location(session, consulate, -99.13, 19.43)
    factories.route(session, "pacific", [(-92.27, 14.9), (-99.13, 19.43)])


def _synthetic_locations(session, count: int) -> None:
    """``count`` shelters spread over Mexico, in one statement (inside the test's
    transaction, so they are rolled back with it)."""
    organization = factories.organization(session, name="Synthetic shelter")
    session.execute(
        text(
            """
            INSERT INTO locations (external_id, organization_id, city, country_code, point,
                timezone, phones, populations, languages, source, status, version)
            SELECT 'synthetic:' || n, :organization, 'Synthetic', 'MX',
                ST_SetSRID(ST_MakePoint(-117 + (n % 300) * 0.1, 15 + (n / 300) * 0.5),
                           4326)::geography,
                'America/Mexico_City', '{}', '{}', '{es}', 'tests', 'open', 1
            FROM generate_series(1, :count) AS n
            """
        ),
        {"organization": organization.id, "count": count},
    )


def test_home_page_holds_no_place_and_no_inline_script(client, db_session):
    _home_directory(db_session)

    response = client.get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The places are loaded by area from the API, never carried by the page.
    assert "Albergue" not in html
    assert "-92.2667" not in html
    assert "Route pacific" not in html
    config = json.loads(re.search(r"id=\"overview-map\" data-config='([^']*)'", html).group(1))
    assert config["areaUrl"] == "/api/v1/locations"
    assert config["routesUrl"] == "/api/v1/routes"
    assert config["outlinesUrl"] == "/api/v1/countries/outlines"
    assert config["tiles"] is None
    # Every script is a file of ours: a strict Content-Security-Policy can forbid inline ones.
    scripts = SCRIPT_TAG.findall(html)
    assert scripts
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert " style=" not in html
    linked = ASSET_LINK.findall(html)
    assert any(re.search(r"/overview(\.[0-9a-f]{12})?\.js$", url) for url in linked)
    assert all(url.startswith("/static/") for url in linked), linked
    hrefs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert all(url.startswith(("/", "#")) for url in hrefs), hrefs  # our origin, or this page


def test_home_page_weighs_the_same_with_5000_more_places(client, db_session):
    _home_directory(db_session)
    before = len(client.get("/").data)

    _synthetic_locations(db_session, 5000)

    assert db_session.scalar(text("SELECT count(*) FROM locations")) == 5002
    after = len(client.get("/").data)
    assert abs(after - before) <= before * 0.10, (before, after)


def test_home_page_legend_names_every_kind_from_the_shared_vocabulary(client):
    html = client.get("/").get_data(as_text=True)
    for kind in OrganizationKind:
        entry = KINDS[kind]
        assert f'<li data-kind="{kind.value}">' in html
        assert f'fill="{entry.color}"' in html
        assert str(entry.plural) in html  # a lazy translation: English outside a request
    scripts_kinds = json.loads(re.search(r"<body [^>]*data-kinds='([^']*)'", html).group(1))
    assert [kind["key"] for kind in scripts_kinds] == [kind.value for kind in KINDS]
    assert scripts_kinds[2] == {
        "key": "shelter", "label": "Shelter", "plural": "Shelters", "color": KINDS["shelter"].color,
    }  # fmt: skip


def test_home_page_with_an_empty_directory_still_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'id="overview-map"' in response.get_data(as_text=True)


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
    assert '<option value="MX">Mexico</option>' in html
    assert '<option value="SV">El Salvador</option>' in html  # served by a joint office
    assert '<option value="GT">' not in html
