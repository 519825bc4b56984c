"""The map builder serves every asset locally and refuses unknown ones."""

import re

import pytest
from folium.plugins import MarkerCluster

from geo.maps import (
    Marker,
    MarkerLayer,
    RemoteGeoJsonLayer,
    TileSource,
    UnknownAssetError,
    add_marker_layers,
    base_map,
    render_fragments,
)

LOCAL_ASSETS = {
    "leaflet": "/static/leaflet.js",
    "leaflet_css": "/static/leaflet.css",
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}
URL = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def _rendered_urls(fragments) -> set[str]:
    return set(URL.findall(fragments.head + fragments.body + fragments.script))


def test_every_asset_comes_from_our_server():
    fmap = base_map(center=(-90, 15), zoom=5, tiles=None)
    layer = MarkerLayer(
        "shelter", "Shelters", "#c00", [Marker(-92.27, 14.9, "Belén", ("Tapachula",))]
    )
    add_marker_layers(fmap, [layer])
    RemoteGeoJsonLayer("/outlines", "Outlines", {}, class_name="outline").add_to(fmap)
    fragments = render_fragments(fmap, LOCAL_ASSETS)
    assert _rendered_urls(fragments) == {"/static/leaflet.js", "/static/leaflet.css"}
    assert "https://" not in fragments.head + fragments.script


def test_tile_server_is_the_only_other_host():
    tiles = TileSource("https://tiles.example.org/{z}/{x}/{y}.png", "© example")
    fragments = render_fragments(base_map(center=(-90, 15), zoom=5, tiles=tiles), LOCAL_ASSETS)
    hosts = set(re.findall(r"https?://([^/\"']+)", fragments.head + fragments.script))
    assert hosts == {"tiles.example.org"}


def test_an_asset_without_a_local_copy_stops_the_build():
    fmap = base_map(center=(-90, 15), zoom=5, tiles=None)
    MarkerCluster().add_to(fmap)  # its scripts are not in LOCAL_ASSETS
    with pytest.raises(UnknownAssetError, match="markerclusterjs"):
        render_fragments(fmap, LOCAL_ASSETS)
