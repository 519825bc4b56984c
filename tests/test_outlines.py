"""The country outlines at two levels of detail: ``coarse`` for the small zooms, ``fine``.

The maps load ``coarse`` first and ``fine`` only at zoom 6 or more (static/js/map-base.js):
``coarse`` must be much lighter, and both must hold every country. That they are valid
and oriented as RFC 7946 says is tests/test_geojson_standards.py's.
"""

from __future__ import annotations

import json

import brotli
import pytest
from shapely.geometry import shape
from sqlalchemy import select

from directory.db import db
from directory.places.countries import OUTLINE_DETAILS
from directory.places.models import Country

URL = "/api/v1/countries/outlines"


@pytest.fixture
def client(demo_app):  # the demo database as it is: these tests only read
    return demo_app.test_client()


@pytest.fixture(scope="module")
def country_codes(demo_app) -> set[str]:
    with demo_app.app_context():
        codes = set(db.session.scalars(select(Country.code)))
    assert len(codes) > 5  # the demo data
    return codes


def _decimals(geometry: dict) -> int:
    """The most decimals of any coordinate of a MultiPolygon."""
    most = 0
    for polygon in geometry["coordinates"]:
        for ring in polygon:
            for position in ring:
                for value in position:
                    text = repr(value)
                    most = max(most, len(text.split(".", 1)[1]) if "." in text else 0)
    return most


def _outlines(client, query: str = "") -> tuple[bytes, dict]:
    response = client.get(URL + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/geo+json"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["ETag"].startswith('W/"')
    return response.data, json.loads(response.data)


def test_coarse_is_much_lighter_than_fine_and_both_hold_every_country(client, country_codes):
    sizes = {}
    for detail in OUTLINE_DETAILS:
        body, data = _outlines(client, f"?detail={detail}")
        assert data["type"] == "FeatureCollection"
        assert {feature["properties"]["code"] for feature in data["features"]} == country_codes
        for feature in data["features"]:
            assert feature["geometry"]["type"] == "MultiPolygon", feature["properties"]
            assert feature["geometry"]["coordinates"], feature["properties"]
            assert set(feature["properties"]) == {"code", "name"}
        # The level's decimals, except for an islet with no area on its grid (Aruba at one
        # decimal), sent with up to 6 rather than dropped or drawn invalid.
        digits = OUTLINE_DETAILS[detail].decimal_digits
        finer = {
            feature["properties"]["code"]: shape(feature["geometry"]).area
            for feature in data["features"]
            if _decimals(feature["geometry"]) > digits
        }
        assert len(finer) <= len(data["features"]) // 10, (detail, finer)
        assert all(area < 100 * (10.0**-digits) ** 2 for area in finer.values()), finer
        assert max(_decimals(feature["geometry"]) for feature in data["features"]) <= 6
        served = client.get(f"{URL}?detail={detail}", headers={"Accept-Encoding": "br"})
        assert served.headers["Content-Encoding"] == "br"
        assert brotli.decompress(served.data) == body
        sizes[detail] = {"raw": len(body), "br": len(served.data)}
    print(f"\noutlines in bytes: {sizes}")
    # On the wire (Brotli, as Flask-Compress sends them): about a third. Raw, the JSON
    # structure weighs more of the whole: under a half.
    assert sizes["coarse"]["br"] < 0.4 * sizes["fine"]["br"], sizes
    assert sizes["coarse"]["raw"] < 0.5 * sizes["fine"]["raw"], sizes


def test_without_detail_the_answer_is_fine_as_before(client):
    plain, _ = _outlines(client)
    fine, _ = _outlines(client, "?detail=fine")
    assert plain == fine
    blank, _ = _outlines(client, "?detail=")  # a blank value is the same as none
    assert blank == fine


def test_each_detail_has_its_own_validator(client):
    coarse = client.get(URL + "?detail=coarse")
    fine = client.get(URL + "?detail=fine")
    assert coarse.headers["ETag"] != fine.headers["ETag"]
    again = client.get(URL + "?detail=coarse", headers={"If-None-Match": coarse.headers["ETag"]})
    assert again.status_code == 304
    other = client.get(URL + "?detail=fine", headers={"If-None-Match": coarse.headers["ETag"]})
    assert other.status_code == 200


@pytest.mark.parametrize("value", ["medium", "COARSE", "0.1"])
def test_an_unknown_detail_is_a_400_with_the_error_shape(client, value):
    response = client.get(URL + f"?detail={value}", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error"}
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["message"].startswith("detail: ")
    assert list(body["error"]["details"]["parameters"]) == ["detail"]


def test_the_document_describes_detail(client):
    spec = client.get("/api/v1/openapi.json").json
    (operation,) = spec["paths"][URL]["get"]["parameters"][:1]
    assert operation["name"] == "detail"
    assert operation["in"] == "query"
    assert not operation["required"]
    assert operation["schema"]["enum"] == ["coarse", "fine"]
    assert operation["schema"]["default"] == "fine"
    assert operation["description"]
