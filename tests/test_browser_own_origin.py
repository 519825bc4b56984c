"""No request from a public page leaves our own origin, not even for the base map.

With ``TILE_URL`` pointing at a stub tile server on another loopback address (127.0.0.2:
``local_only_page`` would block the browser from reaching it, and records it if tried), every
public page is opened, searches with a position or a town included, and every request the
page makes is recorded (``page.on("request")``): each goes to the server's own origin. The
map pages show tiles all the same, which only our server fetched from the stub.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.test_tiles import USER_AGENT, StubUpstream

pytestmark = pytest.mark.browser

STUB_HOST = "127.0.0.2"
MAP_PAGES = [
    "/",
    "/near?lat=14.9&lon=-92.26",
    "/near?q=Tapachula",
    "/consulates/serving?nationality=GT&q=Tapachula",
    "/consulates/serving?nationality=GT&lat=14.9&lon=-92.26",
    "/routes",
    "/routes/pacific?lat=14.9&lon=-92.26",
    "/routes/pacific?q=Tapachula",
]
OTHER_PAGES = ["/near", "/consulates", "/consulates/serving", "/api/v1/docs"]


@pytest.fixture(scope="module")
def stub() -> Iterator[StubUpstream]:
    with StubUpstream(STUB_HOST) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def tiled_server(live_app_factory, stub, tmp_path_factory):
    with live_app_factory(
        TILE_URL=stub.template,
        TILE_CACHE_DIR=str(tmp_path_factory.mktemp("tiles")),
        TILE_USER_AGENT=USER_AGENT,
    ) as running:
        yield running


def _nearest(server, query: str) -> int:
    url = f"{server.url}/api/v1/locations/nearest?lat=14.9&lon=-92.26&limit=1{query}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["features"][0]["id"]


def _visit(open_page, server, path: str, *, has_map: bool) -> list[str]:
    """Open ``path``; return the URL of every request the page made."""
    visitor = open_page(viewport={"width": 1024, "height": 768})
    requested: list[str] = []
    visitor.page.on("request", lambda request: requested.append(request.url))
    response = visitor.page.goto(server.url + path, wait_until="networkidle")
    assert response.status == 200, path
    assert visitor.blocked == [], path  # nothing tried to leave 127.0.0.1
    assert _foreign(server, requested) == [], path
    if has_map:
        visitor.page.wait_for_selector(".leaflet-tile-loaded", state="attached", timeout=15_000)
    assert visitor.console_errors == [], path
    return requested


def _foreign(server, urls: list[str]) -> list[str]:
    ours = urlsplit(server.url)
    return [
        url
        for url in urls
        if not url.startswith(("data:", "blob:"))
        and (urlsplit(url).scheme, urlsplit(url).netloc) != (ours.scheme, ours.netloc)
    ]


@pytest.mark.parametrize("path", MAP_PAGES)
def test_a_map_page_asks_only_our_origin_and_shows_tiles(open_page, tiled_server, stub, path):
    requested = _visit(open_page, tiled_server, path, has_map=True)
    assert _foreign(tiled_server, requested) == []
    tiles = [url for url in requested if urlsplit(url).path.startswith("/tiles/")]
    assert tiles, "the base map's tiles come from our /tiles/ endpoint"
    # The stub was reached, by our server only (its User-Agent, not a browser's).
    assert stub.requests
    assert {headers["User-Agent"] for _path, headers in stub.requests} == {USER_AGENT}


@pytest.mark.parametrize("path", OTHER_PAGES)
def test_a_page_asks_only_our_origin(open_page, tiled_server, path):
    requested = _visit(open_page, tiled_server, path, has_map=False)
    assert requested
    assert _foreign(tiled_server, requested) == []


def test_place_and_consulate_pages_ask_only_our_origin(open_page, tiled_server):
    place = _nearest(tiled_server, "&kind=shelter")
    office = _nearest(tiled_server, "&kind=consulate")
    for path in (f"/places/{place}", f"/consulates/{office}"):
        requested = _visit(open_page, tiled_server, path, has_map=path.startswith("/consulates"))
        assert _foreign(tiled_server, requested) == [], path


def test_with_the_upstream_down_the_map_shows_our_own_layers(open_page, live_app_factory, tmp_path):
    """Tiles answer 503 at once; the outlines, routes and places are drawn all the same."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with live_app_factory(
        TILE_URL=f"http://{STUB_HOST}:{closed}/{{z}}/{{x}}/{{y}}.png",
        TILE_CACHE_DIR=str(tmp_path),
        TILE_USER_AGENT=USER_AGENT,
    ) as server:
        visitor = open_page()
        answers: list[tuple[str, int]] = []
        visitor.page.on(
            "response", lambda response: answers.append((response.url, response.status))
        )
        visitor.page.goto(server.url + "/", wait_until="networkidle")
        page = visitor.page
        page.wait_for_selector("path.country-outline", state="attached", timeout=15_000)
        page.wait_for_selector("path.route-line", state="attached", timeout=15_000)
        assert page.locator(".place-marker, .place-cluster").count() > 0
    tiles = [status for url, status in answers if urlsplit(url).path.startswith("/tiles/")]
    assert tiles
    assert set(tiles) == {503}
    assert visitor.blocked == []
