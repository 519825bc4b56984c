"""Help near me in headless Chromium: location, town search, filters, clusters, no-JS."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TAPACHULA = {"latitude": 14.9057, "longitude": -92.2639}


def _names(page) -> list[str]:
    return page.locator(".result h2").all_inner_texts()


def test_use_my_location_returns_the_list(open_page, server):
    opened = open_page(geolocation=TAPACHULA)
    page = opened.page
    page.goto(server.url + "/near")
    page.click("#use-location")
    page.wait_for_selector(".result")
    assert "Near your location" in page.inner_text(".origin")
    distances = [
        float(element.get_attribute("data-distance-m"))
        for element in page.locator(".distance").all()
    ]
    assert distances == sorted(distances)
    assert distances[0] < 5000  # the demo data has many places in Tapachula
    # Its points are town centres: the page says the town, not a distance to the metre.
    assert "exact place not known" in page.inner_text(".result .distance >> nth=0")
    assert opened.blocked == []
    assert opened.console_errors == []


def test_typing_a_town_returns_the_list(local_only_page, server):
    page = local_only_page.page
    page.goto(server.url + "/near")
    page.fill("#q", "tecun uman")
    page.press("#q", "Enter")
    page.wait_for_selector(".result")
    assert "Tecún Umán" in page.inner_text(".origin")
    assert len(_names(page)) == 10
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_a_filter_narrows_the_list(local_only_page, server):
    page = local_only_page.page
    page.goto(server.url + "/near?q=Tapachula")
    page.wait_for_selector(".result")
    everything = _names(page)
    page.click(".filters summary")
    page.check("input[name=category][value=shelter]")
    with page.expect_navigation():  # else the old page's results may answer the wait
        page.click("button[type=submit]")
    page.wait_for_selector(".result")
    shelters = _names(page)
    assert shelters != everything
    for services in page.locator(".result .services").all_inner_texts():
        assert "Shelter" in services
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_markers_cluster_on_the_map(local_only_page, server):
    page = local_only_page.page
    page.goto(server.url + "/near?q=Tapachula")
    page.wait_for_selector("#near-map[data-loaded=true]", state="attached")
    assert page.locator(".marker-cluster").count() > 0
    # Every result is on the map once, places sharing a point on one marker that lists them.
    titles = [m.get_attribute("title") for m in page.locator(".result-marker").all()]
    assert sum(len(title.split("; ")) for title in titles) == 10
    assert page.locator(".origin-marker").count() == 1
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_places_sharing_a_town_centre_are_listed_on_one_marker(local_only_page, server):
    page = local_only_page.page
    page.goto(server.url + "/near?q=Tapachula")
    page.wait_for_selector("#near-map[data-loaded=true]", state="attached")
    shared = page.locator(".result-marker--shared").first
    names = shared.get_attribute("title").split("; ")
    assert len(names) > 1  # the demo's Tapachula places share the town's centre
    shared.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "share this point" in popup.inner_text()
    assert popup.locator("li a").count() == len(names)
    assert local_only_page.console_errors == []


def test_the_form_without_javascript_gives_the_same_first_result(open_page, server):
    with_js = open_page().page
    with_js.goto(server.url + "/near")
    with_js.fill("#q", "necocli")
    with_js.press("#q", "Enter")
    with_js.wait_for_selector(".result")
    first_with_js = _names(with_js)[0]
    with_js.context.close()

    no_js = open_page(javascript=False).page
    no_js.goto(server.url + "/near")
    assert no_js.locator("#use-location").is_hidden()  # needs JavaScript, so not offered
    no_js.fill("#q", "necocli")
    no_js.click("button[type=submit]")
    no_js.wait_for_selector(".result")
    assert _names(no_js)[0] == first_with_js
    assert "Necoclí" in no_js.inner_text(".origin")
