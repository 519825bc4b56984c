"""CORS: other sites' scripts may read the public API, and nothing else of ours."""

from __future__ import annotations

import pytest

from tests import factories

PARTNER = "https://consulado.example.org"


@pytest.fixture
def directory(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    factories.route(db_session, "cors-route", [(-92.26, 14.9), (-92.0, 15.5)])
    return factories.location(db_session, factories.organization(db_session), -92.25, 14.91)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/locations/nearest?lat=14.9&lon=-92.26",
        "/api/v1/routes",
        "/api/v1/towns?q=Tapachula",
        "/api/v1/locations/nearest?lat=95&lon=0",  # errors too: the partner reads the message
    ],
)
def test_a_public_read_may_be_read_from_any_origin_without_credentials(client, directory, url):
    response = client.get(url, headers={"Origin": PARTNER})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "etag" in exposed
    assert "retry-after" in exposed


def test_a_corridor_search_by_body_passes_the_preflight(client, directory):
    response = client.options(
        "/api/v1/corridor",
        headers={
            "Origin": PARTNER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("url", ["/", "/near?q=Tapachula", "/consulates", "/healthz"])
def test_pages_and_probes_carry_no_cors_headers(client, directory, url):
    response = client.get(url, headers={"Origin": PARTNER})
    assert not [name for name, _value in response.headers if name.startswith("Access-Control")]


def test_the_only_write_method_under_the_public_api_is_the_corridor_search(app):
    """CORS lets any origin POST under /api/v1. The corridor search reads nothing and
    writes nothing; a signed-in or writing endpoint added there must leave the public
    prefix (``directory.web.cors.PUBLIC_READS``) first, and this test says so."""
    writes = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert writes == {"/api/v1/corridor"}
