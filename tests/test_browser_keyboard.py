"""A nearest search by town with the keyboard alone, in headless Chromium, in each language.

From the top of "Help near me" the first Tab reaches the skip link, shown on the screen;
Enter moves to the page's content; Tab reaches the town field; typing a town and Enter
searches; Tab reaches the first result's link. Every stop on the way shows where the focus
is (an outline or a shadow), and the page says how many places it found in a live region
(role=status), which a screen reader reads out.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
MAX_STOPS = 60  # Tab presses before we give up looking for an element

# What has the focus, and whether it can be seen (an outline or a box shadow).
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    classes: element.className && element.className.baseVal === undefined
      ? element.className : "",
    text: (element.textContent || element.value || "").trim().slice(0, 60),
    visible: outlined || style.boxShadow !== "none",
    firstResult: element === document.querySelector(".result h2 a"),
  };
}"""


def _tab_to(page, wanted) -> list[dict]:
    """Press Tab until ``wanted(focused)`` holds; return every stop on the way."""
    stops = []
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        stops.append(focused)
        if wanted(focused):
            return stops
    raise AssertionError(f"never reached after {MAX_STOPS} Tabs: {stops}")


def _skip_to_content(page) -> None:
    """The first Tab from the top reaches the skip link, on the screen; Enter moves the
    focus to the page's content."""
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert "skip-link" in focused["classes"], focused
    assert focused["visible"], focused
    box = page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["y"] >= 0, box
    assert box["x"] >= 0, box
    assert box["y"] + box["height"] <= DESKTOP["height"], box
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("language", ["es", "en", "fr", "ht"])
def test_a_nearest_search_by_town_with_the_keyboard_alone(open_page, server, language):
    opened = open_page(viewport=DESKTOP, locale=None)
    page = opened.page
    page.goto(f"{server.url}/near?lang={language}", wait_until="load")

    _skip_to_content(page)
    stops = _tab_to(page, lambda focused: focused["id"] == "q")
    assert [stop for stop in stops if not stop["visible"]] == [], stops
    page.keyboard.type("Tapachula")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector(".result")
    assert page.evaluate("document.documentElement.lang") == language

    # The results are announced: a live region says how many places were found.
    count = page.locator(".result").count()
    assert count > 0
    status = page.locator("main [role=status], main [aria-live=polite], main [aria-live=assertive]")
    assert status.count() >= 1
    announced = " ".join(status.all_text_contents())
    assert re.search(rf"\b{count}\b", announced), (count, announced)

    # From the top again: skip link, then Tab to the first result's link, every stop visible.
    _skip_to_content(page)
    stops = _tab_to(page, lambda focused: focused["firstResult"])
    assert [stop for stop in stops if not stop["visible"]] == [], stops
    assert opened.console_errors == []
    assert opened.blocked == []
