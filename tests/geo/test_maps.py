"""The standalone map builder inlines every asset, refuses unknown ones, and never
evaluates data as a template."""

import re

import pytest
from folium.plugins import MarkerCluster

from geo.maps import (
    InfoPanel,
    LegendEntry,
    Marker,
    MarkerLayer,
    TileSource,
    UnknownAssetError,
    add_area,
    add_marker_layers,
    base_map,
    render_standalone,
)

LEAFLET_JS = "/* leaflet */ window.L = window.L || {};"
LEAFLET_CSS = ".leaflet-container { background: #ddd; }"
ASSETS = {
    "leaflet": LEAFLET_JS,
    "leaflet_css": LEAFLET_CSS,
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}
LINK = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)=""")


def _shelters(*names: str) -> MarkerLayer:
    return MarkerLayer(
        "shelter",
        "Shelters",
        "#c00",
        [Marker(-92.27, 14.9, name, ("Tapachula",)) for name in names],
    )


def test_every_asset_is_inline_and_nothing_is_linked():
    fmap = base_map(center=(-90, 15), zoom=5, tiles=None)
    add_marker_layers(fmap, [_shelters("Belén")])
    triangle = {"type": "Polygon", "coordinates": [[[-92, 14], [-91, 14], [-91, 15], [-92, 14]]]}
    add_area(fmap, triangle, name="District", style={"color": "#7c3aed"})
    html = render_standalone(fmap, ASSETS, title="A district")
    assert f"<script>\n{LEAFLET_JS}\n</script>" in html
    assert f"<style>\n{LEAFLET_CSS}\n</style>" in html
    assert not LINK.search(html)
    assert "http://" not in html
    assert "https://" not in html
    assert "<title>A district</title>" in html


def test_the_tile_server_is_the_only_other_host():
    tiles = TileSource("https://tiles.example.org/{z}/{x}/{y}.png", "© example")
    html = render_standalone(base_map(center=(-90, 15), zoom=5, tiles=tiles), ASSETS, title="t")
    assert set(re.findall(r"https?://([^/\"']+)", html)) == {"tiles.example.org"}


def test_an_asset_without_an_inline_copy_stops_the_build():
    fmap = base_map(center=(-90, 15), zoom=5, tiles=None)
    MarkerCluster().add_to(fmap)  # its scripts are not in ASSETS
    with pytest.raises(UnknownAssetError, match="markerclusterjs"):
        render_standalone(fmap, ASSETS, title="t")


def test_names_are_data_never_markup_nor_template():
    fmap = base_map(center=(-90, 15), zoom=5, tiles=None)
    add_marker_layers(fmap, [_shelters("Albergue {{ 7*7 }}", "</script><b>x</b>", "{% raw %}")])
    InfoPanel("Office {{ 6*7 }}", ["{# a line #}"], [LegendEntry("<i>kind</i>", "#000")]).add_to(
        fmap
    )
    html = render_standalone(fmap, ASSETS, title="<Office> {{ 1+1 }}")
    assert "Albergue {{ 7*7 }}" in html
    assert "Office {{ 6*7 }}" in html
    assert "{# a line #}" in html
    assert "Albergue 49" not in html
    assert "Office 42" not in html
    assert "</script><b>" not in html
    assert "\\u003c/script\\u003e\\u003cb\\u003ex" in html
    assert "<title>&lt;Office&gt; {{ 1+1 }}</title>" in html
