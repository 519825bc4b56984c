"""Security headers: every page and API answer says what a browser may load and send."""

from __future__ import annotations

import pytest

from directory.web.security import content_security_policy
from tests import factories
from tests.conftest import make_test_app

PAGES = [
    "/",
    "/near",
    "/near?q=Tapachula",
    "/consulates",
    "/consulates/serving",
    "/routes",
    "/routes/headers-route",
    "/api/v1/locations/nearest?lat=14.9&lon=-92.26",
    "/api/v1/routes",
    "/does-not-exist",
]


@pytest.fixture
def directory(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    factories.route(db_session, "headers-route", [(-92.26, 14.9), (-92.0, 15.5)])
    return factories.location(db_session, factories.organization(db_session), -92.25, 14.91)


@pytest.mark.parametrize("url", PAGES)
def test_every_answer_carries_the_security_headers(client, directory, url):
    response = client.get(url)
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "geolocation=(self)" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored


def test_a_place_page_has_them_too_and_https_adds_hsts(client, directory):
    response = client.get(f"/places/{directory.id}", base_url="https://directory.example")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("tile_url", ["", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"])
def test_images_come_from_our_own_origin_only(test_database, tile_url):
    """Even the base map's tiles: pages get them from /tiles/, so whatever TILE_URL names,
    no third-party host is allowed to a page."""
    page = make_test_app(test_database, TILE_URL=tile_url).test_client().get("/nope")
    policy = page.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["img-src"] == "'self' data:"
    assert policy == content_security_policy()
    assert "openstreetmap" not in policy


def test_behind_a_trusted_proxy_https_is_seen_and_hsts_sent(test_database):
    behind = make_test_app(test_database, TRUSTED_PROXIES=1).test_client()
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" in behind.get("/nope", headers=forwarded).headers
    # Without a trusted proxy, anybody could claim HTTPS: the header is not believed.
    direct = make_test_app(test_database).test_client()
    assert "Strict-Transport-Security" not in direct.get("/nope", headers=forwarded).headers
