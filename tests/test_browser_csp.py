"""Every map page works under the Content-Security-Policy, in headless Chromium.

The policy allows scripts and styles from our own origin only; a page that needed an inline
script or style would log a violation to the console and leave its map undrawn.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

MAP_PAGES = [
    ("/", "#overview-map"),
    ("/near?q=Tapachula", "#near-map"),
    ("/consulates/serving?nationality=GT&q=Tapachula", "#consulate-map"),
    ("/routes", "#routes-map"),
    ("/routes/pacific?q=Tapachula", "#route-map"),
]


@pytest.mark.parametrize(("url", "map_selector"), MAP_PAGES)
def test_the_map_pages_work_under_the_policy(server, local_only_page, url, map_selector):
    page = local_only_page.page
    response = page.goto(server.url + url, wait_until="load")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page.wait_for_selector(f"{map_selector}.leaflet-container", timeout=15_000)
    page.wait_for_selector("path.country-outline", state="attached", timeout=15_000)
    page.wait_for_timeout(300)  # late violations (styles set by scripts) reach the console
    assert local_only_page.console_errors == []
    assert local_only_page.blocked == []
