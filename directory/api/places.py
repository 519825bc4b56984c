"""Place search: towns by name from the offline gazetteer (no online geocoder).

What the searcher typed is neither logged nor stored; the response is marked ``no-store`` so
no shared cache keeps it either.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from marshmallow import Schema, fields, validate

from directory.api import api
from directory.db import db
from directory.gazetteer.services import MAX_QUERY_LENGTH, search_towns
from directory.web.args import parse_query

MAX_LIMIT = 50


class PlaceSearchArgs(Schema):
    q = fields.String(
        required=True,
        error_messages={"required": "is required: the name of a town"},
        validate=[
            validate.Regexp(r"\S", error="must not be empty"),
            validate.Length(max=MAX_QUERY_LENGTH),
        ],
    )
    limit = fields.Integer(load_default=10, validate=validate.Range(1, MAX_LIMIT))
    country = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[A-Za-z]{2}$", error="must be an ISO 3166 alpha-2 code"),
    )


place_search_args = PlaceSearchArgs()


@api.get("/places")
def places() -> Response:
    """Towns whose name matches ``q`` (accents, case and small typos forgiven), best first.

    ``limit`` (1-50, default 10); ``country`` (ISO alpha-2) keeps one country's places.
    """
    args = parse_query(place_search_args, request.args)
    matches = search_towns(db.session, args["q"], limit=args["limit"], country=args["country"])
    response = jsonify({"places": [match.as_dict() for match in matches]})
    response.cache_control.no_store = True
    return response
