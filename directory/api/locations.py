"""Location searches: nearest to a point, and what lies in a map's visible area."""

from __future__ import annotations

from flask import Response, request
from flask_babel import get_locale

from directory.api import api
from directory.db import db
from directory.places.map_area import area_content
from directory.places.nearest import NearestQuery, find_nearby_places
from directory.web import http
from directory.web.args import parser, read_query
from directory.web.features import area_collection, nearby_place_feature
from directory.web.lookups import area, location_filters
from directory.web.messages import translate_fields
from directory.web.schemas import AreaArgs, NearestArgs

# One NearestArgs per language, its messages translated once: building a schema and
# translating its ~80 messages took more of a request's time than its SQL statement.
_NEAREST_ARGS: dict[str, NearestArgs] = {}


def _nearest_args() -> NearestArgs:
    """The schema for the reader's language (``read_query`` translates a fresh one)."""
    locale = str(get_locale())
    schema = _NEAREST_ARGS.get(locale)
    if schema is None:
        schema = _NEAREST_ARGS.setdefault(locale, translate_fields(NearestArgs()))
    return schema


@api.get("/locations/nearest")
@http.policy(http.SEARCH)
def nearest_locations() -> Response:
    """The nearest places to ``lat``/``lon``, nearest first, as GeoJSON."""
    args = parser.parse(_nearest_args(), request, location="query")
    query = NearestQuery(
        position=args["position"],
        limit=args["limit"],
        radius_km=args["radius_km"],
        filters=location_filters(db.session, args),
    )
    results = find_nearby_places(db.session, query)
    return http.geojson(
        {"type": "FeatureCollection", "features": [nearby_place_feature(r) for r in results]}
    )


@api.get("/locations")
@http.policy(http.private(300))  # the visible area hints at where the person is
def locations_in_area() -> Response:
    """Places inside ``bbox`` for the map: points, or grid clusters when there are many."""
    args = read_query(AreaArgs())
    content = area_content(db.session, area(args), location_filters(db.session, args))
    return http.geojson(area_collection(content))
