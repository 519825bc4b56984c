"""The first load of "Help near me" and of the home page is light: under 250 KB on the
wire, map tiles aside.

A cheap phone on a weak connection pays for every byte. Headless Chromium loads ``/near``
and ``/`` with an empty cache, at 360×740 (a phone: the map is not created until "Show on
map", so no outlines or markers are fetched) and at a desktop size (the map beside the list,
the coarse country outlines with it: the maps open below zoom 6, where the fine ones are not
asked), and the bytes received for every request of the load are
summed, as sent: compressed, headers included (the DevTools protocol's
``encodedDataLength``). The live server is the app's whole WSGI chain, WhiteNoise included,
so the static files come compressed as in production. Tiles are blocked: the server has no
``TILE_URL``, and a request to ``/tiles/`` would be aborted anyway.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.browser

BUDGET = 250 * 1024
PAGES = ["/near", "/"]
VIEWPORTS = {
    "phone-360x740": {"width": 360, "height": 740},
    "desktop-1366x900": {"width": 1366, "height": 900},
}


@pytest.fixture(scope="module")
def weighed_server(live_app_factory) -> Iterator:
    with live_app_factory(TILE_URL="") as running:
        yield running


def first_load_bytes(
    open_page, base_url: str, viewport: dict[str, int], path: str = "/near"
) -> dict[str, int]:
    """The bytes received per URL while ``path`` loads in a fresh context (empty cache)."""
    opened = open_page(viewport=viewport)
    page = opened.page
    page.route("**/tiles/**", lambda route: route.abort())
    session = opened.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    received: dict[str, int] = {}
    session.on(
        "Network.requestWillBeSent",
        lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]),
    )
    session.on(
        "Network.loadingFinished",
        lambda event: received.__setitem__(event["requestId"], int(event["encodedDataLength"])),
    )
    page.goto(f"{base_url}{path}", wait_until="networkidle")
    page.wait_for_timeout(300)  # the last loadingFinished events
    by_url: dict[str, int] = {}
    for request_id, size in received.items():
        url = urls.get(request_id, request_id).removeprefix(base_url)
        by_url[url] = by_url.get(url, 0) + size
    return by_url


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_the_first_load_is_under_250_kb(open_page, weighed_server, viewport, path):
    by_url = first_load_bytes(open_page, weighed_server.url, viewport, path)
    total = sum(by_url.values())
    listing = "\n".join(
        f"  {size:>8} {url}" for url, size in sorted(by_url.items(), key=lambda kv: -kv[1])
    )
    print(f"\n{path} at {viewport['width']}x{viewport['height']}: {total} bytes\n{listing}")
    assert any(url.split("?")[0] == path for url in by_url), by_url
    assert not any("/tiles/" in url for url in by_url)
    # The maps open below zoom 6: the coarse outlines only (directory/places/countries.py).
    outlines = [url for url in by_url if url.startswith("/api/v1/countries/outlines")]
    assert all("detail=coarse" in url for url in outlines), outlines
    assert total < BUDGET, f"{total} bytes > {BUDGET}:\n{listing}"
