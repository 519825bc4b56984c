"""Location searches: nearest to a point (and, with the map, what lies in an area)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy.orm import Session

from directory.api import api
from directory.api.params import invalid_parameter, parse_query
from directory.models import OrganizationKind, db
from directory.schemas import NearestArgs, location_feature
from directory.services.location_filters import LocationFilters
from directory.services.nearest import (
    NearbyLocation,
    NearestQuery,
    find_nearest,
    unknown_categories,
    unknown_networks,
)
from geo.coordinates import LonLat

GEOJSON = "application/geo+json"


def filters_from(session: Session, args: dict[str, Any]) -> LocationFilters:
    """Filters from parsed arguments; codes the directory does not know are a 400."""
    categories = tuple(args["category"])
    networks = tuple(args["network"])
    if unknown := unknown_categories(session, categories):
        raise invalid_parameter("category", f"unknown category {unknown[0]!r}")
    if unknown := unknown_networks(session, networks):
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
