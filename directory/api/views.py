"""API views: parse the request, call a service, serialize."""

from __future__ import annotations

from flask import Response

from directory.api import api
from directory.db import db
from directory.places.countries import outlines_geojson
from directory.places.overview_map import routes_geojson

# Boundaries change a few times a decade; let browsers and proxies keep them a day.
OUTLINES_MAX_AGE = 24 * 3600


@api.get("/countries/outlines")
def country_outlines() -> Response:
    """Country outlines for the map's base layer (shown even when no tile server answers)."""
    response = Response(outlines_geojson(db.session), mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = OUTLINES_MAX_AGE
    return response


@api.get("/routes")
def routes() -> Response:
    """The migration routes as GeoJSON lines (``id``, ``code``, ``name``, ``length_km``)."""
    response = Response(routes_geojson(db.session), mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
