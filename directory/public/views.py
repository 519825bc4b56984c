"""Views of the public pages."""

from __future__ import annotations

import re

from flask import current_app, render_template, url_for

from directory.assets import folium_asset_urls
from directory.consular.district_map import nationalities_with_offices
from directory.db import db
from directory.places.overview_map import KIND_STYLES, build_overview_map
from directory.public import public
from geo.coordinates import LonLat
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
    return render_template(
        "home.html",
        map=fragments,
        kinds=KIND_STYLES.values(),
        nationalities=nationalities_with_offices(db.session),
    )


@public.app_template_filter("dial")
def dial(phone: str) -> str:
    """A phone number as a dialable ``tel:`` target: digits and a leading +."""
    return re.sub(r"[^\d+]", "", phone)


@public.app_template_filter("lonlat")
def lonlat(point) -> tuple[float, float]:
    """A stored point as ``(lon, lat)``."""
    position = LonLat.from_element(point)
    return position.lon, position.lat
