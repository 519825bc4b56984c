"""Consular districts as a map layer (one nationality at a time)."""

from __future__ import annotations

from flask import Response, request
from marshmallow import Schema, fields, validate

from directory.api import api
from directory.consular.district_map import districts_geojson
from directory.db import db
from directory.places.models import Country
from directory.web.args import invalid_parameter, parse_query

# Districts change when an office opens or an official polygon is loaded: an hour is fine.
DISTRICTS_MAX_AGE = 3600


class DistrictLayerArgs(Schema):
    nationality = fields.String(
        required=True,
        error_messages={"required": "is required: the ISO 3166 alpha-2 code of a country"},
        validate=validate.Regexp(r"^[A-Za-z]{2}$", error="must be an ISO 3166 alpha-2 code"),
    )


district_layer_args = DistrictLayerArgs()


@api.get("/districts")
def consular_districts() -> Response:
    """The consular districts of one nationality (``nationality=GT``) as GeoJSON polygons."""
    nationality = parse_query(district_layer_args, request.args)["nationality"].upper()
    if db.session.get(Country, nationality) is None:
        raise invalid_parameter("nationality", f"unknown country {nationality!r}")
    response = Response(districts_geojson(db.session, nationality), mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = DISTRICTS_MAX_AGE
    return response
