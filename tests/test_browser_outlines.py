"""The country outlines per zoom level, in headless Chromium.

A map asks ``detail=coarse`` while it is below zoom 6 and ``detail=fine`` once it is at 6 or
more: once, drawn in place of the coarse outlines (never both, never back to coarse). A map
whose first view is already that close asks ``fine`` alone.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
OUTLINES = "/api/v1/countries/outlines"
OUTLINE_PATH = "path.country-outline"


def _record_outline_requests(page) -> list[str]:
    """The ``detail`` of every outlines request the page makes, in order."""
    asked: list[str] = []

    def record(request) -> None:
        parts = urlsplit(request.url)
        if parts.path == OUTLINES:
            asked.append(",".join(parse_qs(parts.query).get("detail", ["(none)"])))

    page.on("request", record)
    return asked


def _zoom_in(page, times: int) -> None:
    for _ in range(times):
        page.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(400)  # the zoom animation


def test_the_overview_asks_coarse_then_fine_from_zoom_6(server, open_page):
    opened = open_page(viewport=DESKTOP)
    page = opened.page
    asked = _record_outline_requests(page)
    with page.expect_response(lambda r: OUTLINES in r.url) as first:
        page.goto(server.url + "/", wait_until="load")
    assert "detail=coarse" in first.value.url
    page.wait_for_selector("#overview-map[data-loaded=true]", state="attached")
    page.wait_for_selector(OUTLINE_PATH, state="attached", timeout=15_000)
    page.wait_for_load_state("networkidle")
    assert asked == ["coarse"]  # the overview opens at zoom 4: no fine outlines
    drawn = page.locator(OUTLINE_PATH).count()
    assert drawn > 0

    _zoom_in(page, 1)  # zoom 5: still coarse
    page.wait_for_load_state("networkidle")
    assert asked == ["coarse"]

    with page.expect_response(lambda r: OUTLINES in r.url and "detail=fine" in r.url) as fine:
        _zoom_in(page, 1)  # zoom 6
    assert fine.value.status == 200
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # the fine outlines drawn
    # One layer of outlines, the fine one in place of the coarse: as many paths as before.
    assert page.locator(OUTLINE_PATH).count() == drawn

    # Further zooms, in or out, ask nothing more and never bring the coarse ones back.
    _zoom_in(page, 1)
    page.locator(".leaflet-control-zoom-out").click()
    page.wait_for_timeout(400)
    page.locator(".leaflet-control-zoom-out").click()
    page.wait_for_timeout(400)
    page.locator(".leaflet-control-zoom-out").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert asked == ["coarse", "fine"]
    assert page.locator(OUTLINE_PATH).count() == drawn
    assert opened.blocked == []
    assert opened.console_errors == []


def test_a_map_that_opens_close_asks_fine_alone(server, open_page):
    """The results of a town's search open the map at zoom 6 or more: coarse outlines
    would be replaced at once, so they are not asked."""
    opened = open_page(viewport=DESKTOP)
    page = opened.page
    asked = _record_outline_requests(page)
    page.goto(server.url + "/near?q=Tapachula", wait_until="load")
    page.wait_for_selector("#near-map .result-marker", state="attached", timeout=15_000)
    page.wait_for_selector(OUTLINE_PATH, state="attached", timeout=15_000)
    page.wait_for_load_state("networkidle")
    assert asked == ["fine"]
    assert opened.console_errors == []
