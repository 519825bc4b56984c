"""Location searches: nearest to a point, and what lies in a map's visible area."""

from __future__ import annotations

from flask import Response

from directory.api import api
from directory.db import db
from directory.places.map_area import area_content
from directory.places.nearest import NearestQuery, find_nearest
from directory.web import http
from directory.web.args import read_query
from directory.web.features import area_collection, nearby_feature
from directory.web.lookups import area, location_filters
from directory.web.schemas import AreaArgs, NearestArgs


@api.get("/locations/nearest")
@http.policy(http.SEARCH)
def nearest_locations() -> Response:
    """The nearest places to ``lat``/``lon``, nearest first, as GeoJSON."""
    args = read_query(NearestArgs())
    query = NearestQuery(
        position=args["position"],
        limit=args["limit"],
        radius_km=args["radius_km"],
        filters=location_filters(db.session, args),
    )
    results = find_nearest(db.session, query)
    return http.geojson(
        {"type": "FeatureCollection", "features": [nearby_feature(r) for r in results]}
    )


@api.get("/locations")
@http.policy(http.private(300))  # the visible area hints at where the person is
def locations_in_area() -> Response:
    """Places inside ``bbox`` for the map: points, or grid clusters when there are many."""
    args = read_query(AreaArgs())
    content = area_content(db.session, area(args), location_filters(db.session, args))
    return http.geojson(area_collection(content))
