"""Map layers: country outlines, migration routes, consular districts (GeoJSON by PostGIS)."""

from __future__ import annotations

from flask import Response

from directory.api import api
from directory.consular.district_map import districts_geojson
from directory.corridors.services import routes_geojson
from directory.db import db
from directory.i18n.selection import current_language
from directory.places.countries import outlines_geojson
from directory.web import http
from directory.web.args import read_query
from directory.web.lookups import known_nationality
from directory.web.schemas import DistrictLayerArgs, OutlineArgs


@api.get("/countries/outlines")
@http.policy(http.public(24 * 3600))  # boundaries change a few times a decade
def country_outlines() -> Response:
    """Country outlines for the map's base layer (shown even when no tile server answers).

    ``detail=coarse`` is drawn for the small zooms (up to 5) at about a third of the bytes;
    ``fine``, the default, for zoom 6 and more."""
    detail = read_query(OutlineArgs())["detail"]
    return http.geojson(outlines_geojson(db.session, detail))


@api.get("/routes")
@http.policy(http.public(3600))
def routes() -> Response:
    """The migration routes as GeoJSON lines (``id``, ``code``, ``name``, ``length_km``)."""
    return http.geojson(routes_geojson(db.session, current_language()))


@api.get("/districts")
@http.policy(http.public(3600))  # districts change when an office opens or one is loaded
def consular_districts() -> Response:
    """The consular districts of one nationality (``nationality=GT``) as GeoJSON polygons."""
    nationality = known_nationality(db.session, read_query(DistrictLayerArgs())["nationality"])
    return http.geojson(districts_geojson(db.session, nationality))
