"""Every public page passes the axe audit (WCAG 2.0, 2.1 and 2.2, levels A and AA), in the
four languages, on a wide screen and on a 360 px phone, in headless Chromium.

axe-core (package.json devDependencies, installed by `npm ci` in the asset step) is run in
the page itself; no serious or critical violation is allowed. ``target-size`` is among the
rules: the markers and cluster icons of the maps are at least 24 px and do not hide each
other. The maps are audited drawn, with their markers (the live server has no tiles), and a
phone's map is audited after "Show on map".
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
RULE_SETS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
LANGUAGES = ["es", "en", "fr", "ht"]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 360, "height": 740}}
SHOW_MAP = "[data-map-toggle=map]:not(.map-toggle--floating)"

# axe-core is evaluated rather than added as a <script>: the pages' Content-Security-Policy
# allows no inline script, and page.evaluate is not subject to it. An audit is started in a
# tab and collected later (START, then RESULT), so the next page loads in another tab while
# axe works: the tabs' renderers run on the machine's cores side by side.
START = """(ruleSets) => {
  window.__audit = axe.run(document, {
    runOnly: {type: "tag", values: ruleSets},
    resultTypes: ["violations"],
  }).then((result) => result.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
    summary: violation.nodes[0].failureSummary,
  })));
}"""
RESULT = "() => window.__audit"
TABS = 3


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (the Makefile's asset step)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(server) -> list[tuple[str, str, bool]]:
    """(name, path, show the map on a phone) for every public page; the place and the
    consulate are the first the demo data lists."""

    def first_link(path: str, pattern: str) -> str:
        with urllib.request.urlopen(server.url + path) as response:
            html = response.read().decode()
        found = re.search(pattern, html)
        assert found, f"no link matching {pattern} on {path}"
        return found.group(0)

    place = first_link("/near?q=Tapachula", r"/places/\d+")
    consulate = first_link("/consulates", r"/consulates/\d+")
    # The Guatemalan consulate in Tapachula has partners in its district, so a slip.
    serving = first_link("/consulates/serving?nationality=GT&q=Tapachula", r"/consulates/\d+")
    slip = first_link(serving, r"/consulates/\d+/partners/\d+/slip")
    return [
        ("home", "/", False),
        ("near", "/near", False),
        ("near-search", "/near?q=Tapachula", False),
        ("near-search-map", "/near?q=Tapachula", True),
        ("place", place, False),
        ("suggest", place + "/suggest", False),
        ("routes", "/routes", False),
        ("route", "/routes/pacific", False),
        ("route-search", "/routes/pacific?q=Tapachula", False),
        ("consulates", "/consulates", False),
        ("consulate-finder", "/consulates/serving", False),
        ("consulate-finder-search", "/consulates/serving?nationality=GT&q=Tapachula", False),
        ("consulate", consulate, False),
        ("consulate-referrals", serving + "?q=Tapachula&open_now=true", False),
        ("referral-slip", slip, False),
        ("api-docs", "/api/v1/docs", False),
        ("not-found", "/no-such-page", False),
    ]


def _with_language(path: str, language: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={language}"


def _open(page, url: str, show_map: bool) -> None:
    """Load the page and wait until each map it shows is drawn with its markers: the map
    scripts set data-loaded on the map once its places have come (by fetch, after the
    page)."""
    page.goto(url, wait_until="load")
    if show_map:
        page.click(SHOW_MAP)
    for shown in page.locator(".map-panel .map:visible").all():
        shown.and_(page.locator("[data-loaded]")).wait_for(timeout=15_000)
    page.wait_for_timeout(50)  # the markers' icons are placed in the next frame


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_serious_or_critical_violation(open_page, server, pages, axe_source, language, viewport):
    opened = open_page(viewport=VIEWPORTS[viewport], locale=None)
    tabs = [opened.page] + [opened.context.new_page() for _ in range(TABS - 1)]
    running: dict[int, str] = {}  # tab → the page it audits
    problems: list[str] = []

    def collect(tab: int) -> None:
        where = running.pop(tab)
        for violation in tabs[tab].evaluate(RESULT):
            if violation["impact"] in FAILING_IMPACTS:
                targets = violation["targets"]
                problems.append(
                    f"{where}: {violation['id']} [{violation['impact']}] {violation['help']}: "
                    + ", ".join(targets[:8])
                    + (" …" if len(targets) > 8 else "")
                    + "\n    "
                    + violation["summary"].replace("\n", " ")
                )

    audited = [entry for entry in pages if viewport == "phone" or not entry[2]]
    for number, (name, path, show_map) in enumerate(audited):
        tab = number % TABS
        if tab in running:
            collect(tab)
        page = tabs[tab]
        _open(page, server.url + _with_language(path, language), show_map)
        assert page.evaluate("document.documentElement.lang") == language, path
        page.evaluate(axe_source)
        page.evaluate(START, RULE_SETS)
        running[tab] = f"{name} ({path}, {language}, {viewport})"
    for tab in list(running):
        collect(tab)
    assert problems == [], "\n".join(problems)
