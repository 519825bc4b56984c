"""The HTTP policy: nothing that carries a position or a search term is ever cached.

Every URL that takes a searcher's position (``lat``/``lon``, ``from``, a drawn line) or
what they typed (``q``) answers ``Cache-Control: private, no-store``, whether it succeeds
or fails, page or API. Public directory data may be cached, and each route says so itself.
"""

from __future__ import annotations

import json

import pytest

from directory.web import http
from tests import factories
from tests.conftest import make_test_app

SEARCH_REQUESTS = [
    ("GET", "/near?q=Tapachula"),
    ("GET", "/near?lat=14.9&lon=-92.26"),
    ("GET", "/near?lat=14.9&lon=-92.26&category=nope"),  # a 400 page
    ("GET", "/consulates/serving?nationality=GT&q=Tapachula"),
    ("GET", "/consulates/serving?nationality=GT&lat=14.9&lon=-92.26"),
    ("GET", "/routes/policy-route?q=Tapachula"),
    ("GET", "/routes/policy-route?lat=14.9&lon=-92.26"),
    ("GET", "/routes/policy-route?lat=14.9&lon=-92.26&buffer_km=0"),  # a 400 page
    ("GET", "/api/v1/locations/nearest?lat=14.9&lon=-92.26"),
    ("GET", "/api/v1/locations/nearest?lat=14.9&lon=-200"),  # a 400
    ("GET", "/api/v1/consulates/serving?nationality=GT&lat=14.9&lon=-92.26"),
    ("GET", "/api/v1/towns?q=Tapachula"),
    ("GET", "/api/v1/places?q=Tapachula"),
    ("GET", "/api/v1/routes/policy-route/corridor?from=14.9,-92.26"),
    ("POST", "/api/v1/corridor"),
]
LINE = {"type": "LineString", "coordinates": [[-92.26, 14.9], [-92.0, 15.5]]}


@pytest.fixture
def directory(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.9))
    factories.route(db_session, "policy-route", [(-92.26, 14.9), (-92.0, 15.5)])
    factories.consular_office(db_session, "GT", -92.26, 14.9)
    organization = factories.organization(db_session)
    return factories.location(db_session, organization, -92.25, 14.91)


@pytest.mark.parametrize(("method", "url"), SEARCH_REQUESTS)
def test_every_search_is_private_and_never_stored(client, directory, method, url):
    body = json.dumps(LINE) if method == "POST" else None
    response = client.open(url, method=method, data=body, content_type="application/json")
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:200]
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("/routes/policy-route", "public, max-age=300"),
        ("/api/v1/routes/policy-route/corridor", "public, max-age=300"),
        ("/api/v1/routes", "public, max-age=3600"),
        ("/api/v1/countries/outlines", "public, max-age=86400"),
        ("/api/v1/locations?bbox=-93,14,-91,16", "private, max-age=300"),
    ],
)
def test_public_data_says_how_long_it_may_be_kept(client, directory, url, header):
    # The positive control of the test above: the policy is per route, not one header for all.
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == header


def test_every_route_declares_its_policy(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and http.declared_policy_of(app, rule.endpoint) is None
    ]
    assert undeclared == []


def test_a_route_that_declares_nothing_gets_the_safe_default(test_database):
    app = make_test_app(test_database)

    @app.get("/undeclared")
    def undeclared():
        return "where somebody is"

    @app.get("/declared")
    @http.policy(http.public(60))
    def declared():
        return "public data"

    client = app.test_client()
    assert client.get("/undeclared").headers["Cache-Control"] == "private, no-store"
    assert client.get("/declared").headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize(
    "url",
    [
        "/near?q=Tapachula",
        "/consulates/serving?nationality=GT&q=Tapachula",
        "/routes/policy-route?q=Tapachula",
        "/api/v1/locations/nearest?lat=14.9&lon=-92.26",
        "/api/v1/consulates/serving?nationality=GT&lat=14.9&lon=-92.26",
        "/api/v1/routes/policy-route/corridor",
    ],
)
def test_tracking_parameters_in_a_shared_link_are_ignored(client, directory, url):
    plain = client.get(url)
    separator = "&" if "?" in url else "?"
    tracked = client.get(f"{url}{separator}fbclid=IwAR0x&utm_source=whatsapp&colour=red")
    assert plain.status_code == 200
    assert tracked.status_code == 200
    assert tracked.get_data() == plain.get_data()


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_public_data_is_revalidated_with_a_weak_etag(test_database, encoding):
    # Compress everything, so that the gzip case is a compressed answer.
    client = make_test_app(test_database, COMPRESS_MIN_SIZE=0).test_client()
    headers = {"Accept-Encoding": encoding}
    first = client.get("/api/v1/routes", headers=headers)
    assert first.status_code == 200
    assert first.headers.get("Content-Encoding", "identity") == encoding
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')  # compression keeps it as it is
    again = client.get("/api/v1/routes", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    # The positive control: a different validator gets the data.
    other = client.get("/api/v1/routes", headers={**headers, "If-None-Match": 'W/"other"'})
    assert other.status_code == 200
    assert other.get_data() == first.get_data()


def test_a_search_gets_no_validator(client, directory):
    response = client.get("/api/v1/locations/nearest?lat=14.9&lon=-92.26")
    assert response.status_code == 200
    assert "ETag" not in response.headers
