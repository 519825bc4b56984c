"""The home page: the overview map."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, url_for

from directory.consular.district_map import nationalities_with_offices
from directory.db import db
from directory.i18n.selection import current_language
from directory.public import public
from directory.public.pages import TILE_MAX_ZOOM, map_base, tile_template
from directory.web import http
from geo.maps import TileSource

# Centred on the isthmus, zoomed out to show Colombia to the US border.
OVERVIEW_CENTER = (-88.0, 17.0)
OVERVIEW_ZOOM = 4


def configured_tiles() -> TileSource | None:
    """The tiles of a map handed over as a file (the offline district map): our own tile
    endpoint, by its full address since the file is opened from a disk, so the reader's
    browser asks us, never the upstream tile server. ``None`` without a base map."""
    url = tile_template(external=True)
    if url is None:
        return None
    return TileSource(url, current_app.config["TILE_ATTRIBUTION"], max_zoom=TILE_MAX_ZOOM)


@public.get("/")
@http.policy(http.public(300))
def home():
    """The overview map. The page carries no place: its script loads them for the visible
    area from the API (clustered by the server when many), so the page weighs the same at
    500 places as at 500,000 and holds no inline script."""
    return render_template(
        "home.html",
        map_config=_overview_config(),
        nationalities=nationalities_with_offices(db.session, current_language()),
    )


def _overview_config() -> dict[str, Any]:
    """What overview.js needs, handed over as JSON in a data attribute."""
    return map_base(
        areaUrl=url_for("api.locations_in_area"),
        routesUrl=url_for("api.routes"),
        center=list(OVERVIEW_CENTER),
        zoom=OVERVIEW_ZOOM,
    )
