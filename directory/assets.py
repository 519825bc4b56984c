"""Where the pages find their scripts and style sheets: always on our own server.

``FOLIUM_ASSETS`` maps each asset folium asks for to a file under ``static/vendor/``
(copied from npm by ``make``), or to ``None`` when our pages do not need it (jQuery,
Bootstrap, Font Awesome: we use none of them).
"""

from __future__ import annotations

from flask import url_for

FOLIUM_ASSETS: dict[str, str | None] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}


def folium_asset_urls() -> dict[str, str | None]:
    """The local URL of every folium asset (needs an app or request context)."""
    return {
        name: url_for("static", filename=path) if path else None
        for name, path in FOLIUM_ASSETS.items()
    }
