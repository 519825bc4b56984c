"""Find my consulate and an office's partners in headless Chromium, on the demo data.

The demo database has its consular districts computed (``compute_districts`` in the
browser database fixture), so Tapachula lies in the district of Guatemala's consulate there.
"""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.browser

TAPACHULA = {"latitude": 14.9057, "longitude": -92.2639}
GT_TAPACHULA = "Consulado de Guatemala en Tapachula"


def _find(page, nationality: str, town: str) -> None:
    page.select_option("#nationality", nationality)
    page.fill("#q", town)
    page.click("#finder-form button[type=submit]")
    page.wait_for_selector("#office-card")


def test_a_town_inside_a_district_finds_its_consulate_and_draws_the_district(
    server, local_only_page
):
    page = local_only_page.page
    errors = local_only_page.page_errors  # uncaught script errors, which skip the console
    page.goto(server.url + "/consulates/serving")
    _find(page, "GT", "Tapachula")
    assert GT_TAPACHULA in page.inner_text("#office-card h2")
    assert page.get_attribute("#serving-match", "data-match") == "district"
    # The demo districts are computed: the page must not present them as official.
    assert "its official district may differ" in page.inner_text("#serving-match")
    assert "Tapachula" in page.inner_text(".origin")
    page.wait_for_selector("#consulate-map[data-loaded=true]", state="attached")
    assert page.locator("path.district-area").count() >= 1
    assert page.locator(".office-marker").count() == 1
    assert page.locator(".origin-marker").count() == 1
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []
    assert errors == []


def test_use_my_location_finds_the_same_consulate(open_page, server):
    opened = open_page(geolocation=TAPACHULA)
    page = opened.page
    page.goto(server.url + "/consulates/serving")
    page.select_option("#nationality", "GT")
    page.click("#use-location")
    page.wait_for_selector("#office-card")
    assert GT_TAPACHULA in page.inner_text("#office-card h2")
    assert "From your location" in page.inner_text(".origin")
    assert page.get_attribute("#serving-match", "data-match") == "district"
    assert opened.blocked == []
    assert opened.console_errors == []


def test_a_country_without_a_consulate_of_that_nationality_gets_the_nearest(
    local_only_page, server
):
    page = local_only_page.page
    page.goto(server.url + "/consulates/serving")
    _find(page, "GT", "Necocli")  # Colombia: no Guatemalan office in the demo data
    assert page.get_attribute("#serving-match", "data-match") == "nearest"
    text = page.inner_text("#serving-match")
    assert "No consulate of Guatemala covers this place; this is the nearest." in text
    assert "(CO)" not in page.inner_text("#office-card .city")
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_the_finder_works_without_javascript(open_page, server):
    opened = open_page(javascript=False)
    page = opened.page
    page.goto(server.url + "/consulates/serving")
    assert page.locator("#use-location").is_hidden()
    _find(page, "GT", "Tapachula")
    assert GT_TAPACHULA in page.inner_text("#office-card h2")
    assert page.get_attribute("#serving-match", "data-match") == "district"
    assert opened.blocked == []


def test_staff_page_shows_the_partners_on_the_map_and_exports_them(server, local_only_page):
    page = local_only_page.page
    errors = local_only_page.page_errors
    page.goto(server.url + "/consulates/serving?nationality=GT&q=Tapachula")
    page.click(".staff-link a")
    page.wait_for_selector("#partners .partner")
    assert GT_TAPACHULA in page.inner_text("#office-name")
    distances = [
        float(element.get_attribute("data-distance-m"))
        for element in page.locator(".partner .distance").all()
    ]
    assert distances == sorted(distances)
    page.wait_for_selector("#consulate-map[data-loaded=true]", state="attached")
    assert page.locator(".partner-marker").count() == len(distances)
    assert page.locator("path.district-area").count() >= 1

    page.click(".partner-filters summary")
    page.check("input[name=kind][value=shelter]")
    page.click(".partner-filters button[type=submit]")
    page.wait_for_selector("#partners .partner")
    kinds = set(page.locator(".partner .kind").all_inner_texts())
    assert kinds == {"Shelter"}

    export = page.request.get(server.url + page.get_attribute("#export-csv", "href"))
    assert export.ok
    assert export.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(export.text())))
    assert len(rows) == page.locator("#partners .partner").count()
    assert {row["kind"] for row in rows} == {"shelter"}
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []
    assert errors == []
