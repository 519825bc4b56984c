"""Search along a route: the places within a corridor, in the order one meets them.

``GET /api/v1/routes/{id or code}/corridor`` searches along a route of the directory;
``POST /api/v1/corridor`` along a GeoJSON LineString sent in the body. Both take the same
query parameters and answer the same FeatureCollection.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from marshmallow import ValidationError, fields, validate

from directory.api import api
from directory.api.locations import GEOJSON, filters_from
from directory.corridors.models import Route
from directory.corridors.services import (
    DEFAULT_BUFFER_KM,
    DEFAULT_LIMIT,
    MAX_BUFFER_KM,
    MAX_LIMIT,
    CorridorLocation,
    CorridorQuery,
    CorridorResult,
    find_route,
    line_corridor,
    route_corridor,
)
from directory.db import db
from directory.places.schemas import LocationFilterArgs, location_feature
from directory.web.args import invalid_parameter, parse_query
from directory.web.cursor import Cursor
from directory.web.errors import ApiError
from geo.coordinates import CoordinateError, LonLat
from geo.corridor import read_line
from geo.geojson import GeometryError

# A 10,000-position line is about 400 kB of JSON; refuse bodies far beyond that early.
MAX_BODY_BYTES = 1_000_000


class LatLon(fields.Field):
    """``"lat,lon"``: two finite numbers in range, latitude first as people write them."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> LonLat:
        parts = str(value).split(",")
        if len(parts) != 2:
            raise ValidationError("must be 'lat,lon', e.g. '14.9,-92.26'")
        try:
            return LonLat.parse(parts[1].strip(), parts[0].strip())
        except CoordinateError as error:
            raise ValidationError(f"{error.name} {error.message}") from None


class CorridorArgs(LocationFilterArgs):
    buffer_km = fields.Float(
        load_default=DEFAULT_BUFFER_KM,
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=MAX_BUFFER_KM),
    )
    start = LatLon(data_key="from", load_default=None)
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


def corridor_query(args: dict[str, Any]) -> CorridorQuery:
    after = Cursor.decode(args["cursor"]) if args["cursor"] else None
    return CorridorQuery(
        buffer_km=args["buffer_km"],
        start=args["start"],
        filters=filters_from(db.session, args),
        limit=args["limit"],
        after=(after.value, after.id) if after else None,
    )


def corridor_feature(item: CorridorLocation) -> dict[str, Any]:
    position = LonLat.from_element(item.location.point)
    return location_feature(
        item.location,
        (position.lon, position.lat),
        along_km=round(item.along_m / 1000, 2),
        offset_km=round(item.offset_m / 1000, 2),
        rank=item.rank,
        open_now=item.state.is_open,
        state=item.state.reason,
    )


def corridor_response(
    result: CorridorResult, query: CorridorQuery, route: dict[str, Any], *, private: bool
) -> Response:
    last = result.items[-1] if result.more and result.items else None
    body = {
        "type": "FeatureCollection",
        "features": [corridor_feature(item) for item in result.items],
        "route": {**route, "length_km": round(result.length_m / 1000, 2)},
        "buffer_km": query.buffer_km,
        "from": (
            {
                "along_km": round(result.start.along_m / 1000, 2),
                "offset_km": round(result.start.offset_m / 1000, 2),
            }
            if result.start
            else None
        ),
        "next_cursor": Cursor(*last.sort_key).encode() if last else None,
    }
    response = jsonify(body)
    response.mimetype = GEOJSON
    if private:
        # A starting point is where somebody is; a drawn line is where somebody goes.
        response.cache_control.private = True
        response.cache_control.no_store = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = 300
    return response


@api.get("/routes/<key>/corridor")
def route_corridor_view(key: str) -> Response:
    """Places within ``buffer_km`` of a route (by id or code), in order along it."""
    route = find_route(db.session, key)
    if route is None:
        raise ApiError("not_found", f"route {key!r} does not exist", status=404)
    query = corridor_query(parse_query(CorridorArgs(), request.args))
    result = route_corridor(db.session, route, query)
    return corridor_response(result, query, _route_summary(route), private=query.start is not None)


@api.post("/corridor")
def line_corridor_view() -> Response:
    """Places within ``buffer_km`` of a GeoJSON LineString sent as the body."""
    query = corridor_query(parse_query(CorridorArgs(), request.args))
    request.max_content_length = MAX_BODY_BYTES
    data = request.get_json(force=True, silent=True)
    try:
        positions = read_line(data)
    except GeometryError as error:
        raise invalid_parameter(error.name, error.message) from None
    result = line_corridor(db.session, positions, query)
    return corridor_response(result, query, {}, private=True)


def _route_summary(route: Route) -> dict[str, Any]:
    return {"id": route.id, "code": route.code, "name": route.name("en")}
