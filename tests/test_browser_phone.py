"""The migrant's pages on a phone, in headless Chromium at 360×740 and 320×568.

After a search the first result (its name, and its call or directions button) is on the
first screen without scrolling, with JavaScript and without; every button is at least
44 px high; the map never covers the list: on a phone it is one tap away ("Show on map" /
"Show list") and is not even created until then; without JavaScript there is no map box at
all. The home page leads with the three ways in. On a wide screen the map stays beside the
list.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONES = {"360x740": {"width": 360, "height": 740}, "320x568": {"width": 320, "height": 568}}
DESKTOP = {"width": 1366, "height": 900}
MIN_TAP = 44
SHOW_MAP = "[data-map-toggle=map]:not(.map-toggle--floating)"  # the button, not its copy

# (url, the first result, the map's element) after a search by town or by position.
SEARCHES = {
    "near-town": ("/near?q=Tapachula", ".result", "#near-map"),
    "near-position": ("/near?lat=14.9&lon=-92.26", ".result", "#near-map"),
    "route-town": ("/routes/pacific?q=Tapachula", ".ahead-item", "#route-map"),
    "route-position": ("/routes/darien?lat=8.43&lon=-76.78", ".ahead-item", "#route-map"),
    "consulate": (
        "/consulates/serving?nationality=GT&q=Tapachula",
        "#office-card",
        "#consulate-map",
    ),
}
# Everything a thumb presses: buttons, action links, the menu and the filters.
TAPPABLE = (
    "button, .action, .change-search, .start-action, .site-menu > summary, .filters > summary"
)


def _on_first_screen(page, locator) -> bool:
    box = locator.bounding_box()
    screen = page.viewport_size
    return bool(
        box
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= screen["width"] + 0.5
        and box["y"] + box["height"] <= screen["height"] + 0.5
    )


def _too_small(page) -> list[str]:
    """Visible tap targets less than 44 px high, as "text (height)"."""
    return page.evaluate(
        """([selector, minimum]) => Array.from(document.querySelectorAll(selector))
            .filter((el) => el.getClientRects().length > 0)
            .map((el) => [el.textContent.trim().slice(0, 40), el.getBoundingClientRect().height])
            .filter(([, height]) => height < minimum)
            .map(([text, height]) => `${text} (${height.toFixed(1)})`)""",
        [TAPPABLE, MIN_TAP],
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("phone", list(PHONES))
@pytest.mark.parametrize("search", list(SEARCHES))
def test_the_first_result_is_on_the_first_screen_and_every_button_is_44px(
    open_page, server, search, phone, javascript
):
    url, first_result, map_selector = SEARCHES[search]
    opened = open_page(javascript=javascript, viewport=PHONES[phone])
    page = opened.page
    page.goto(server.url + url, wait_until="load")
    assert page.evaluate("window.scrollY") == 0
    first = page.locator(first_result).first
    name = first.locator("h2 a")
    button = first.locator(".action--call, .action--directions").first
    assert _on_first_screen(page, name), (search, name.bounding_box())
    assert _on_first_screen(page, button), (search, button.bounding_box())
    assert _too_small(page) == []
    # No map box stands in the list's way: none at all without JavaScript, and on a phone
    # the map waits behind "Show on map".
    assert page.locator(map_selector).is_hidden()
    assert page.locator(f"{map_selector}-panel").is_hidden()
    assert page.locator(".leaflet-container").count() == 0
    # A compact header: the name and a menu.
    assert page.locator(".site-header").bounding_box()["height"] <= 52
    assert page.locator(".site-nav").is_hidden()
    assert page.locator(".site-menu > summary").is_visible()
    toggle = page.locator(f"{SHOW_MAP}[aria-controls='{map_selector[1:]}-panel']")
    assert toggle.is_visible() is javascript  # "Show on map" only where a map can be drawn
    assert opened.blocked == []
    assert opened.console_errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_form_folds_away_after_a_search_and_change_search_opens_it(
    open_page, server, javascript
):
    opened = open_page(javascript=javascript, viewport=PHONES["360x740"])
    page = opened.page
    page.goto(server.url + "/near?q=Tapachula")
    assert page.locator("#q").is_hidden()
    page.click(".origin .change-search")
    assert page.locator("#q").is_visible()
    assert page.input_value("#q") == "Tapachula"
    page.fill("#q", "tecun uman")
    with page.expect_navigation():  # else the old page's results may answer the wait
        page.press("#q", "Enter")
    page.wait_for_selector(".result")
    assert "Tecún Umán" in page.inner_text(".origin")
    assert page.locator("#q").is_hidden()
    # Before any search the form is the page.
    page.goto(server.url + "/near")
    assert page.locator("#q").is_visible()
    assert opened.blocked == []


def test_show_on_map_and_show_list_on_a_phone(open_page, server):
    opened = open_page(viewport=PHONES["360x740"])
    page = opened.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(server.url + "/near?q=Tapachula", wait_until="load")
    # The map is not created, and nothing is fetched for it, until it is asked for.
    assert not any("/api/v1/" in url for url in asked), asked
    assert page.locator("#near-map.leaflet-container").count() == 0
    results_height = page.evaluate("document.documentElement.scrollHeight")
    assert results_height > PHONES["360x740"]["height"]  # the page itself scrolls
    assert page.locator(".map-toggle--floating").is_hidden()
    page.evaluate("window.scrollTo(0, 400)")
    # Down the list, "Show on map" floats at the foot of the screen.
    floating = page.locator(".map-toggle--floating")
    floating.wait_for()
    assert _on_first_screen(page, floating)

    floating.click()
    page.wait_for_selector("#near-map[data-loaded=true]", state="attached")
    frame = page.locator("#near-map").bounding_box()
    assert frame["width"] == pytest.approx(360, abs=1)
    assert frame["height"] > 500
    assert frame["y"] + frame["height"] <= 740 + 0.5  # the whole map on the screen
    assert page.locator("#results").is_hidden()  # the map takes the list's place, not over it
    assert page.locator("[data-map-toggle=list]").is_visible()
    assert page.locator(".result-marker").count() >= 1
    assert page.locator(".origin-marker").count() == 1
    assert page.url.endswith("#map")

    page.click("[data-map-toggle=list]")
    page.wait_for_function("!location.hash")
    assert page.locator("#results").is_visible()
    assert page.locator("#near-map").is_hidden()
    assert page.evaluate("window.scrollY") == pytest.approx(400, abs=2)  # where the list was

    # The phone's back button leaves the map for the list too.
    page.click(SHOW_MAP)
    assert page.locator("#near-map").is_visible()
    page.go_back()
    page.wait_for_function("!location.hash")
    assert page.locator("#results").is_visible()
    assert opened.blocked == []
    assert opened.console_errors == []


def test_a_map_shown_again_after_the_window_changed_takes_its_new_size(open_page, server):
    """Leaflet measures its element only when told: map-panel.js calls invalidateSize()
    each time the map is shown, so a map hidden while the phone turned is still drawn right."""
    opened = open_page(viewport={"width": 640, "height": 360})
    page = opened.page
    page.goto(server.url + "/near?q=Tapachula", wait_until="load")
    page.click(SHOW_MAP)
    page.wait_for_selector("#near-map[data-loaded=true]", state="attached")
    page.click("[data-map-toggle=list]")
    page.set_viewport_size(PHONES["360x740"])
    page.wait_for_timeout(300)  # Leaflet's own resize handler runs (on a hidden map)
    page.click(SHOW_MAP)
    frame = page.locator("#near-map").bounding_box()
    marker = page.locator(".origin-marker").bounding_box()
    centre_x = marker["x"] + marker["width"] / 2
    centre_y = marker["y"] + marker["height"] / 2
    # The search's origin was the centre of the map; it still is, at the new size.
    assert centre_x == pytest.approx(frame["x"] + frame["width"] / 2, abs=40)
    assert centre_y == pytest.approx(frame["y"] + frame["height"] / 2, abs=40)
    assert opened.console_errors == []


@pytest.mark.parametrize(
    ("url", "map_selector"),
    [
        ("/routes/pacific?q=Tapachula", "#route-map"),
        ("/consulates/serving?nationality=GT&q=Tapachula", "#consulate-map"),
        ("/routes", "#routes-map"),
    ],
)
def test_show_on_map_draws_the_other_maps_on_a_phone(open_page, server, url, map_selector):
    opened = open_page(viewport=PHONES["320x568"])
    page = opened.page
    page.goto(server.url + url, wait_until="load")
    assert page.locator(map_selector).is_hidden()
    page.click(SHOW_MAP)
    page.wait_for_selector(f"{map_selector}[data-loaded=true]", state="attached")
    frame = page.locator(map_selector).bounding_box()
    assert frame["width"] == pytest.approx(320, abs=1)
    assert frame["height"] > 350
    assert page.locator(".list-panel").is_hidden()
    page.click("[data-map-toggle=list]")
    assert page.locator(".list-panel").is_visible()
    assert opened.blocked == []
    assert opened.console_errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("phone", list(PHONES))
def test_the_home_page_leads_with_the_three_ways_in_on_a_phone(
    open_page, server, phone, javascript
):
    opened = open_page(javascript=javascript, viewport=PHONES[phone])
    page = opened.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(server.url + "/", wait_until="load")
    actions = page.locator(".start-action")
    titles = actions.locator("strong").all_inner_texts()
    assert titles == ["Help near me", "Find my consulate", "Along my route"]
    tops = []
    for index in range(3):
        assert _on_first_screen(page, actions.nth(index))
        tops.append(actions.nth(index).bounding_box()["y"])
    assert tops == sorted(tops)
    assert page.locator("#overview-map").is_hidden()
    assert not any("/api/v1/locations" in url for url in asked)  # no map loads unasked
    assert _too_small(page) == []
    if javascript:
        page.click(SHOW_MAP)
        page.wait_for_selector("#overview-map[data-loaded=true]", state="attached")
        assert page.locator("#overview-map").bounding_box()["height"] > 300
        assert page.locator(".district-picker").is_visible()
    else:
        # The menu is a <details>: it opens without a script.
        page.click(".site-menu > summary")
        assert page.get_by_role("link", name="Find my consulate").first.is_visible()
    assert opened.blocked == []
    assert opened.console_errors == []


def test_the_desktop_keeps_the_map_beside_the_list(open_page, server):
    opened = open_page(viewport=DESKTOP)
    page = opened.page
    page.goto(server.url + "/near?q=Tapachula")
    page.wait_for_selector("#near-map[data-loaded=true]", state="attached")
    panel = page.locator(".list-panel").bounding_box()
    frame = page.locator("#near-map").bounding_box()
    assert frame["x"] >= panel["x"] + panel["width"] - 1  # beside, not over
    assert frame["width"] > 600
    assert frame["height"] > 700
    assert page.locator("#q").is_visible()  # the form stays open on a wide screen
    assert page.locator("[data-map-toggle]").first.is_hidden()
    assert page.locator(".site-nav").is_visible()
    assert page.locator(".site-menu").is_hidden()
    assert _too_small(page) == []

    page.goto(server.url + "/")
    page.wait_for_selector("#overview-map[data-loaded=true]", state="attached")
    actions = page.locator(".start-actions").bounding_box()
    overview = page.locator("#overview-map").bounding_box()
    assert overview["y"] >= actions["y"] + actions["height"]  # the ways in, then the map
    assert overview["height"] > 500
    assert opened.blocked == []
    assert opened.console_errors == []


def test_without_javascript_a_wide_screen_shows_no_empty_map_box(open_page, server):
    page = open_page(javascript=False, viewport=DESKTOP).page
    page.goto(server.url + "/near?q=Tapachula")
    assert page.locator("#near-map-panel").is_hidden()
    assert page.locator(".result").first.is_visible()
    assert page.locator("#q").is_visible()
