"""The routes pages in headless Chromium on the demo data, network limited to 127.0.0.1."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _alongs(page) -> list[float]:
    items = page.locator(".ahead-item")
    return [float(items.nth(i).get_attribute("data-along-m")) for i in range(items.count())]


def test_typing_a_town_shows_the_help_ahead_in_order_on_the_map(server, local_only_page):
    page = local_only_page.page
    page.goto(server.url + "/routes/darien")
    page.fill("#q", "tecun uman")
    page.press("#q", "Enter")
    page.wait_for_selector(".ahead-item")
    page.wait_for_selector("#route-map[data-loaded=true]", state="attached")
    assert "Tecún Umán" in page.inner_text(".origin")
    alongs = _alongs(page)
    assert len(alongs) >= 5
    assert alongs == sorted(alongs)
    ranks = page.locator(".ahead-item .rank").all_inner_texts()
    assert ranks == [f"{rank}." for rank in range(1, len(alongs) + 1)]
    # Tapachula, the end of the route, lies ahead of Tecún Umán.
    assert "Tapachula" in page.locator(".ahead-item").last.inner_text()
    assert page.locator("path.route-line").count() == 1
    assert page.locator("path.corridor-area").count() >= 1
    titles = [m.get_attribute("title") for m in page.locator(".ahead-marker").all()]
    assert sum(len(title.split("; ")) for title in titles) == len(alongs)
    assert page.locator(".origin-marker").count() == 1
    page.wait_for_selector("path.country-outline", state="attached")
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_a_wider_corridor_finds_at_least_as_much(server, local_only_page):
    page = local_only_page.page
    page.goto(server.url + "/routes/darien?q=tecun+uman&buffer_km=5")
    page.wait_for_selector(".ahead-item")
    narrow = page.locator(".ahead-item").count()
    page.select_option("#buffer_km", "50")
    page.click("#route-form button[type=submit]")
    page.wait_for_selector("#buffer_km option[value='50'][selected]", state="attached")
    assert page.locator(".ahead-item").count() >= narrow
    assert _alongs(page) == sorted(_alongs(page))
    assert local_only_page.blocked == []


def test_the_routes_list_links_to_each_route(server, local_only_page):
    page = local_only_page.page
    page.goto(server.url + "/routes")
    page.wait_for_selector("#routes-map[data-loaded=true]", state="attached")
    rows = page.locator(".route-row").count()
    assert rows >= 6
    assert page.locator("path.route-line").count() == rows
    page.click(".route-row[data-code=darien] a")
    page.wait_for_selector(".ahead-item")
    assert "From the start of the route" in page.inner_text(".origin")
    assert "Necoclí" in page.locator(".ahead-item").first.inner_text()
    assert local_only_page.blocked == []
    assert local_only_page.console_errors == []


def test_the_route_page_works_without_javascript(open_page, server):
    opened = open_page(javascript=False)
    page = opened.page
    page.goto(server.url + "/routes/darien")
    assert page.locator("#use-location").is_hidden()
    page.fill("#q", "Managua")
    page.click("#route-form button[type=submit]")
    page.wait_for_selector(".ahead-item")
    assert "Managua" in page.inner_text(".origin")
    assert _alongs(page) == sorted(_alongs(page))
    assert opened.blocked == []
