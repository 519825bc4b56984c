"""Search along a route: the places within a corridor, in the order one meets them.

``GET /api/v1/routes/{id or code}/corridor`` searches along a route of the directory;
``POST /api/v1/corridor`` along a GeoJSON LineString sent in the body. Both take the same
query parameters and answer the same FeatureCollection.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from directory.api import api
from directory.corridors.services import CorridorQuery, line_corridor, route_corridor
from directory.db import db
from directory.i18n.selection import current_language
from directory.web import http
from directory.web.args import read_json_body, read_query
from directory.web.errors import invalid_parameter
from directory.web.features import corridor_collection
from directory.web.lookups import location_filters, route_or_404
from directory.web.messages import geo_message
from directory.web.schemas import CorridorArgs
from geo.corridor import read_line
from geo.geojson import GeometryError

# A 10,000-position line is about 400 kB of JSON; refuse bodies far beyond that early.
MAX_BODY_BYTES = 1_000_000


def corridor_query(args: dict[str, Any]) -> CorridorQuery:
    return CorridorQuery(
        buffer_km=args["buffer_km"],
        start=args["start"],
        filters=location_filters(db.session, args),
        limit=args["limit"],
        after=args["cursor"],
    )


@api.get("/routes/<key>/corridor")
# Public directory data, unless ``from`` says where somebody is.
@http.policy(http.public(300, private_if=("from",)))
def route_corridor_view(key: str) -> Response:
    """Places within ``buffer_km`` of a route (by id or code), in order along it."""
    route = route_or_404(db.session, key)
    query = corridor_query(read_query(CorridorArgs()))
    result = route_corridor(db.session, route, query)
    summary = {"id": route.id, "code": route.code, "name": route.name(current_language())}
    return http.geojson(corridor_collection(result, query, summary))


@api.post("/corridor")
@http.policy(http.SEARCH)  # a drawn line is where somebody goes
def line_corridor_view() -> Response:
    """Places within ``buffer_km`` of a GeoJSON LineString sent as the body."""
    query = corridor_query(read_query(CorridorArgs()))
    request.max_content_length = MAX_BODY_BYTES
    try:
        positions = read_line(read_json_body())
    except GeometryError as error:
        raise invalid_parameter(error.name, geo_message(error.message)) from None
    result = line_corridor(db.session, positions, query)
    return http.geojson(corridor_collection(result, query, {}))
