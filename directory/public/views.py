"""Views of the public pages."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from directory.assets import folium_asset_urls
from directory.models import db
from directory.public import public
from directory.services.overview_map import KIND_STYLES, build_overview_map
from geo.maps import TileSource


def configured_tiles() -> TileSource | None:
    url = current_app.config["TILE_URL"]
    return TileSource(url, current_app.config["TILE_ATTRIBUTION"]) if url else None


@public.get("/")
def home():
    fragments = build_overview_map(
        db.session,
        tiles=configured_tiles(),
        outlines_url=url_for("api.country_outlines"),
        asset_urls=folium_asset_urls(),
    )
    return render_template("home.html", map=fragments, kinds=KIND_STYLES.values())
