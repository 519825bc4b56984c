"""The home page in headless Chromium, with the network limited to 127.0.0.1."""

from __future__ import annotations

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


def _load_home(local_only_page, server) -> None:
    page = local_only_page.page
    page.goto(server.url + "/", wait_until="load")
    page.wait_for_selector("path.country-outline", timeout=15_000)


def test_markers_and_outlines_show_with_no_request_leaving_localhost(
    live_app_factory, local_only_page, demo_counts
):
    with live_app_factory(TILE_URL="") as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        assert page.locator("path.place-marker").count() == demo_counts["locations"]
        # One outline path per country polygon set: at least one per country.
        assert page.locator("path.country-outline").count() >= demo_counts["countries"]
        assert page.locator("path.route-line").count() >= 6
        assert page.locator("path.place-marker--consulate").first.is_visible()
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_outlines_show_when_the_tile_server_does_not_answer(live_app_factory, local_only_page):
    tile_url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    with live_app_factory(TILE_URL=tile_url) as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        assert page.locator("path.country-outline").count() > 0
        assert page.locator("path.place-marker").count() > 0
    tried = {urlsplit(url).hostname for url in local_only_page.blocked}
    assert tried <= {"tile.openstreetmap.org"}, "only the configured tile server may be asked"


def test_popup_opens_on_a_marker(live_app_factory, local_only_page):
    with live_app_factory(TILE_URL="") as server:
        _load_home(local_only_page, server)
        page = local_only_page.page
        page.locator("path.place-marker--shelter").first.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        assert "Not verified" in popup.inner_text()


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
