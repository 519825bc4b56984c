"""The downloadable district map: one HTML file that opens offline, with Leaflet inlined and
no host but the configured tile server."""

from __future__ import annotations

import re

import pytest

from directory.assets import VENDOR_DIR, offline_assets
from directory.db import OrganizationKind
from tests import factories

URL = re.compile(r"https?://[^\s\"'<>)\\]+")
TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"


@pytest.fixture
def office(db_session):
    """A Guatemalan consulate in Tapachula whose district holds two partners; a shelter
    outside the district; a joint office without a district for its second nationality."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "SV", (-90.2, 13.1, -87.6, 14.5))
    consulate = factories.consular_office(
        db_session, "GT", -92.26, 14.9, name="Consulado de Guatemala en Tapachula",
        also_serves=("SV",),
    )  # fmt: skip
    factories.district(db_session, consulate, (-94.0, 14.5, -91.0, 17.0))
    shelter = factories.organization(db_session, name="Albergue Belén {{ 7*7 }}")
    factories.location(db_session, shelter, -92.27, 14.91, city="Tapachula")
    ngo = factories.organization(
        db_session, OrganizationKind.CIVIL_SOCIETY, name="Colectivo <b>Frontera</b>"
    )
    factories.location(db_session, ngo, -92.1, 15.2, city="Huixtla")
    far = factories.organization(db_session, name="Albergue del Norte")
    factories.location(db_session, far, -106.4, 31.7, city="Ciudad Juárez")
    db_session.flush()
    return consulate


def _leaflet() -> tuple[str, str]:
    return (
        (VENDOR_DIR / "leaflet" / "leaflet.js").read_text(encoding="utf-8"),
        (VENDOR_DIR / "leaflet" / "leaflet.css").read_text(encoding="utf-8"),
    )


def _ours(html: str) -> str:
    """The file without the inlined Leaflet, whose own text names a few sites (its credit,
    bug trackers in comments, the SVG namespace) that nothing fetches."""
    for text in offline_assets().values():
        if text:
            html = html.replace(text, "")
    return html


def test_the_district_map_is_an_attachment_with_the_district_and_its_partners(client, office):
    response = client.get(f"/consulates/{office.id}/district-map.html")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith('-GT.html"')
    html = response.get_data(as_text=True)
    assert "Consulado de Guatemala en Tapachula" in html
    assert "Consular district of Consulado de Guatemala en Tapachula" in html
    assert "For nationals of Guatemala." in html
    assert "Computed district" in html
    assert "Albergue Bel\\u00e9n {{ 7*7 }}" in html  # JSON data, never run as a template
    assert "Colectivo \\u003cb\\u003eFrontera" in html  # data, never markup
    assert "<b>Frontera" not in html
    assert "Albergue del Norte" not in html  # outside the district
    assert "2 partner organizations; 0 of them verified." in html
    assert "district-area" in html


def test_leaflet_is_inlined_and_no_host_is_contacted_without_tiles(client, office):
    html = client.get(f"/consulates/{office.id}/district-map.html").get_data(as_text=True)

    leaflet_js, leaflet_css = _leaflet()
    assert leaflet_js in html
    assert leaflet_css.split("url(images/")[0] in html
    assert "url(images/" not in html  # the style sheet's images travel as data: URIs
    assert not re.search(r"<(?:script|link|img)\b[^>]*(?:src|href)=", html)
    assert URL.findall(_ours(html)) == []


def test_our_own_tile_endpoint_is_the_only_host(app, client, office, monkeypatch):
    """The file asks our server for tiles, which fetches them from ``TILE_URL``: the staff
    member's browser never contacts the tile server (``directory/tiles``)."""
    monkeypatch.setitem(app.config, "TILE_URL", TILE_URL)
    monkeypatch.setitem(app.config, "TILE_ATTRIBUTION", "© Example tiles")

    html = client.get(f"/consulates/{office.id}/district-map.html").get_data(as_text=True)

    hosts = {re.match(r"https?://([^/]+)", url).group(1) for url in URL.findall(_ours(html))}
    assert hosts == {"localhost"}  # the test client's host: ours
    assert "tiles.example.org" not in html
    assert "Example tiles" in html  # the attribution


def test_the_district_map_of_a_nationality_without_district_or_not_served(client, office):
    assert (
        client.get(f"/consulates/{office.id}/district-map.html?nationality=SV").status_code == 404
    )
    assert (
        client.get(f"/consulates/{office.id}/district-map.html?nationality=HN").status_code == 400
    )
    assert client.get("/consulates/987654321/district-map.html").status_code == 404


def test_the_staff_page_links_the_offline_map(client, office):
    html = client.get(f"/consulates/{office.id}").get_data(as_text=True)
    assert f'href="/consulates/{office.id}/district-map.html" id="export-map"' in html
