"""Location searches: nearest to a point (and, with the map, what lies in an area)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy.orm import Session

from directory.api import api
from directory.db import OrganizationKind, db
from directory.places.filters import LocationFilters
from directory.places.map_area import area_content
from directory.places.models import Network, ServiceCategory
from directory.places.nearest import (
    NearbyLocation,
    NearestQuery,
    find_nearest,
    unknown_codes,
)
from directory.places.schemas import AreaArgs, NearestArgs, location_feature
from directory.web.args import invalid_parameter, parse_query
from geo.area import BBox
from geo.coordinates import CoordinateError, LonLat

GEOJSON = "application/geo+json"


def filters_from(session: Session, args: dict[str, Any]) -> LocationFilters:
    """Filters from parsed arguments; codes the directory does not know are a 400."""
    categories = tuple(args["category"])
    networks = tuple(args["network"])
    if unknown := unknown_codes(session, ServiceCategory.code, categories):
        raise invalid_parameter("category", f"unknown category {unknown[0]!r}")
    if unknown := unknown_codes(session, Network.code, networks):
        raise invalid_parameter("network", f"unknown network {unknown[0]!r}")
    return LocationFilters(
        categories=categories,
        populations=tuple(args["population"]),
        languages=tuple(args["language"]),
        kinds=tuple(OrganizationKind(kind) for kind in args["kind"]),
        networks=networks,
        open_now=args["open_now"],
        free=args["free"],
    )


def nearby_feature(result: NearbyLocation) -> dict[str, Any]:
    position = LonLat.from_element(result.location.point)
    state = result.state
    return location_feature(
        result.location,
        (position.lon, position.lat),
        distance_m=round(result.distance_m, 1),
        rank=result.rank,
        open_now=state.is_open,
        state=state.reason,
        closes_at=state.closes_at,
        opens_at=state.opens_at,
    )


@api.get("/locations/nearest")
def nearest_locations():
    """The nearest places to ``lat``/``lon``, nearest first, as GeoJSON."""
    args = parse_query(NearestArgs(), request.args)
    query = NearestQuery(
        position=LonLat(args["lon"], args["lat"]),
        limit=args["limit"],
        radius_km=args["radius_km"],
        filters=filters_from(db.session, args),
    )
    results = find_nearest(db.session, query)
    response = jsonify(
        {"type": "FeatureCollection", "features": [nearby_feature(r) for r in results]}
    )
    response.mimetype = GEOJSON
    # A search is about one person's position: never cache it on shared proxies.
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@api.get("/locations")
def locations_in_area():
    """Places inside ``bbox`` for the map: points, or grid clusters when there are many.

    Features carry ``{"id", "name", "kind"}``, or ``{"cluster": true, "count"}``.
    """
    args = parse_query(AreaArgs(), request.args)
    try:
        bbox = BBox.parse(args["bbox"])
    except CoordinateError as error:
        raise invalid_parameter("bbox", error.message) from None
    content = area_content(db.session, bbox, filters_from(db.session, args))
    features = [
        {
            "type": "Feature",
            "id": point.id,
            "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
            "properties": {"id": point.id, "name": point.name, "kind": point.kind},
        }
        for point in content.points
    ] + [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [cluster.lon, cluster.lat]},
            "properties": {"cluster": True, "count": cluster.count},
        }
        for cluster in content.clusters
    ]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = GEOJSON
    # The visible area hints at where the person is: the browser may reuse it, no proxy.
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response
