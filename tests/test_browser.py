"""The home page in headless Chromium, with the network limited to 127.0.0.1."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from directory.places.models import Country, Location

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_counts(browser_database):
    engine = create_engine(browser_database)
    with Session(engine) as session:
        counts = {
            "locations": session.scalar(select(func.count()).select_from(Location)),
            "countries": session.scalar(select(func.count()).select_from(Country)),
        }
    engine.dispose()
    return counts


def _load_home(local_only_page, server) -> dict:
    """Open the home page; return the first answer of the area endpoint it asked."""
    page = local_only_page.page
    with page.expect_response(lambda r: "/api/v1/locations?bbox=" in r.url) as area:
        page.goto(server.url + "/", wait_until="load")
    page.wait_for_selector("#overview-map[data-loaded=true]", state="attached", timeout=15_000)
    page.wait_for_selector("path.country-outline", state="attached", timeout=15_000)
    return area.value.json()


def _places_drawn(page) -> int:
    """Single markers plus the places counted by the browser's clusters."""
    clustered = sum(int(text) for text in page.locator(".place-cluster").all_inner_texts())
    return page.locator(".place-marker").count() + clustered


def test_markers_come_from_the_area_endpoint_with_no_request_leaving_localhost(
    live_app_factory, local_only_page, demo_counts
):
    with live_app_factory(TILE_URL="") as server:
        area = _load_home(local_only_page, server)
        page = local_only_page.page
        points = [f for f in area["features"] if not f["properties"].get("cluster")]
        # The demo data is under the server's clustering threshold: it sends points, and the
        # browser draws every one of them, singly or in a cluster.
        assert 100 < len(points) <= demo_counts["locations"]
        assert _places_drawn(page) == len(points)
        assert page.locator(".kind-icon--consulate.place-marker").first.is_visible()
        # One outline path per country polygon set: at least one per country.
        assert page.locator("path.country-outline").count() >= demo_counts["countries"]
        page.wait_for_selector("path.route-line", state="attached")
        assert page.locator("path.route-line").count() >= 6
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_outlines_show_when_the_tile_server_does_not_answer(live_app_factory, local_only_page):
    tile_url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    with live_app_factory(TILE_URL=tile_url) as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        assert page.locator("path.country-outline").count() > 0
        assert _places_drawn(page) > 0
    tried = {urlsplit(url).hostname for url in local_only_page.blocked}
    assert tried <= {"tile.openstreetmap.org"}, "only the configured tile server may be asked"


def test_popup_opens_on_a_marker_and_links_to_the_place(live_app_factory, local_only_page):
    with live_app_factory(TILE_URL="") as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        marker = page.locator(".kind-icon--consulate.place-marker").first
        name = marker.get_attribute("title")
        marker.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        link = popup.locator("a")
        assert link.inner_text() == name
        assert re.fullmatch(r"/places/\d+", link.get_attribute("href"))
        assert "Consulate" in popup.inner_text()  # the kind, from the shared vocabulary
    assert local_only_page.console_errors == []


def test_the_layer_switcher_hides_and_shows_a_kind(live_app_factory, local_only_page):
    with live_app_factory(TILE_URL="") as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        everything = _places_drawn(page)
        page.hover(".leaflet-control-layers")
        toggle = page.get_by_label("Consulates", exact=True)
        toggle.uncheck()
        assert page.locator(".kind-icon--consulate").count() == 0
        assert _places_drawn(page) < everything
        toggle.check()
        assert _places_drawn(page) == everything
    assert local_only_page.console_errors == []


def test_the_consular_districts_of_a_chosen_country_are_drawn(live_app_factory, local_only_page):
    with live_app_factory(TILE_URL="") as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        page.select_option("#district-nationality", "GT")
        page.wait_for_selector(".district-picker[data-loaded]", state="attached")
        drawn = page.locator("path.district-area").count()
        # Guatemala has consular offices in several host countries of the demo data.
        assert drawn >= 5
        assert "districts" in page.inner_text("#district-status")
        page.select_option("#district-nationality", "")
        assert page.locator("path.district-area").count() == 0
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []
