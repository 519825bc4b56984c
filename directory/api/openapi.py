"""The OpenAPI 3.1 document of the API, generated from its schemas and routes.

Why generated: the views parse their query strings with the schemas of
``directory.web.schemas``, and ``directory.api.responses`` describes what they send; a
document written by hand would drift from both. apispec's MarshmallowPlugin turns those
schemas into JSON Schema (names on the wire, ranges, patterns, enums, defaults); this module
adds what marshmallow cannot say: coordinate ranges, ``lat``/``lon`` being required together,
the GeoJSON body of ``POST /corridor``, the error responses, and a description for each
parameter.

Why every operation is declared here (``OPERATIONS``, by endpoint): a route is documented on
purpose, with its summary, its errors and an example. The paths come from ``app.url_map``, so
they cannot be misspelt; a route under /api/v1 with no entry here is left out of the document
and ``tests/test_openapi.py`` fails until it is described (``undocumented_endpoints``).

What comes from the routes' own declarations: the description (the view's docstring), and
the ``304 Not Modified`` answer and ``If-None-Match`` of the routes whose HTTP policy is
public (``directory.web.http``), since those carry a weak ETag.

The document is built once per app (``spec_for``) and served with ``http.public(3600)``:
it changes only with a deployment. The reference page (``/api/v1/docs``) is rendered on the
server from the same document (``directory.api.reference``).
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, current_app
from marshmallow import Schema, fields, validate

from directory.api import api, responses
from directory.web import http
from directory.web.args import Coordinate, LatLon
from directory.web.cursor import CursorField
from directory.web.schemas import (
    AreaArgs,
    CorridorArgs,
    DistrictLayerArgs,
    LocationFilterArgs,
    NearestArgs,
    OutlineArgs,
    PartnerPageArgs,
    ServingArgs,
    TownSearchArgs,
)
from geo.coordinates import RANGES
from geo.corridor import MAX_LINE_KM, MAX_POSITIONS

PREFIX = "/api/v1"
GEOJSON = http.GEOJSON
JSON = "application/json"
HTML = "text/html"
VERSION = "1.0.0"

DESCRIPTION = """\
The public data of the Protection Directory: consulates, shelters and partner
organizations along the migration routes, searched by position, by route or by town.

* Collections of places are GeoJSON FeatureCollections (`application/geo+json`);
  coordinates are `[longitude, latitude]` inside GeoJSON, while query parameters name
  them: `lat`, `lon`.
* Every error, 4xx or 5xx, has one shape (`Error`):
  `{"error": {"code", "message", "details"}}`; a bad parameter is a 400 whose message
  starts with its name, and `details.parameters` lists every problem by parameter.
* Filters are repeated parameters (`category=food&category=shelter` is "any of"); a blank
  value is the same as leaving it out; parameters an operation does not know are ignored.
* Pages of results: `limit` and the opaque `cursor` given back as `next_cursor`.
* Searches (a position, a line, a typed town) are answered `Cache-Control: private,
  no-store` and never logged; public data carries a weak `ETag` and answers 304 to
  `If-None-Match`.
* Requests per client are limited (429 with `Retry-After` past the limit).
"""

# --- Parameters ------------------------------------------------------------------------

PARAMETER_DOCS: dict[str, str] = {
    "lat": "Latitude in degrees (WGS84), −90 to 90.",
    "lon": "Longitude in degrees (WGS84), −180 to 180.",
    "limit": "How many results at most.",
    "radius_km": "Only places within this many kilometres (on the spheroid).",
    "category": "A service category code (`shelter`, `food`, `medical`, `legal_aid`, "
    "`consular`, …); repeat for any of several. A code the directory does not know is a 400.",
    "population": "Places that say they serve this group; repeat for any of several.",
    "language": "A language spoken there (ISO 639-1, `es`); repeat for any of several.",
    "kind": "The organization's kind; repeat for any of several.",
    "network": "A network code (`RNCOM`, `CAMMINA`, `LONCP`, `TRICAMEX`); repeat for any of "
    "several. A code the directory does not know is a 400.",
    "open_now": "Only places open now, in their own time zone (unknown hours never are; "
    "`full` or `temporarily_closed` until their expiry are not).",
    "free": "Only places whose services are free.",
    "bbox": "The map area, `minLon,minLat,maxLon,maxLat` (west, south, east, north) in "
    "degrees, edges included; minLat below maxLat. A minLon greater than maxLon crosses the "
    "antimeridian, as RFC 7946 section 5.2 allows: `170,-20,-170,-10` is the 20° of longitude "
    "around ±180 and returns the places on both sides of it. Longitudes outside -180..180 are "
    "wrapped, and a box 360° wide or wider covers every longitude.",
    "q": "A town's name as typed (accents, case, a prefix and small typos are forgiven).",
    "country": "Only towns of this country (ISO 3166 alpha-2).",
    "nationality": "A nationality: ISO 3166 alpha-2 of a country in the directory, any case.",
    "buffer_km": "How far from the line to look, in kilometres on the spheroid.",
    "from": "`lat,lon` of where the person is: measure from the point of the line nearest "
    "to it and keep what lies ahead (or less than 1 km behind, as 0 km). Makes the answer "
    "private.",
    "cursor": "The `next_cursor` of the previous page; anything else is a 400.",
}

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "location_id": {
        "description": "The location id of an active consular office (a consulate, or an "
        "embassy's consular section).",
        "schema": {"type": "integer"},
        "example": 81,
    },
    "key": {
        "description": "A route of the directory: its numeric id or its code.",
        "schema": {"type": "string", "minLength": 1},
        "example": "darien",
    },
}

IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "The `ETag` of an earlier answer: 304 without a body if it still holds.",
    "schema": {"type": "string"},
}

# --- Responses ------------------------------------------------------------------------


def _ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_parameter": (400, "a query parameter, the path or the body is not valid"),
    "not_found": (404, "no such route, office or path"),
    "no_consulate": (404, "no consular office serves that nationality"),
    "district_missing": (404, "the office has no consular district for that nationality"),
    "request_entity_too_large": (413, "the body is larger than the operation takes"),
    "too_many_requests": (429, "past the client's rate limit: wait `Retry-After` seconds"),
    "unavailable": (503, "the database cannot answer now: try again after `Retry-After`"),
    "internal_error": (500, "a bug on our side"),
}


def _error_response(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"description": "Seconds to wait.", "schema": {"type": "integer"}}

RESPONSES: dict[str, dict[str, Any]] = {
    "NotModified": {
        "description": "Not Modified: the `ETag` sent in `If-None-Match` still holds.",
        "headers": {"ETag": {"description": "Weak validator.", "schema": {"type": "string"}}},
    },
    "BadRequest": _error_response(
        "`invalid_parameter`: the message starts with the parameter at fault; "
        "`details.parameters` lists every problem by parameter."
    ),
    "NotFound": _error_response("Nothing by that id, code or name."),
    "PayloadTooLarge": _error_response("`request_entity_too_large`: the body is too large."),
    "TooManyRequests": _error_response(
        "`too_many_requests`: the client's rate limit is reached.", **{"Retry-After": RETRY_AFTER}
    ),
    "Unavailable": _error_response(
        "`unavailable`: the database cannot answer now (down, restarting, or the query ran "
        "out of time).",
        **{"Retry-After": RETRY_AFTER},
    ),
}


# --- Operations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What the document says about one route beyond what the route itself declares."""

    summary: str
    tag: str
    response: str  # component name of the 200 body
    media_type: str = GEOJSON
    query: type[Schema] | None = None
    # Descriptions of parameters that mean something particular here.
    notes: dict[str, str] = field(default_factory=dict)
    not_found: str | None = None  # when it answers 404, and why
    body: dict[str, Any] | None = None  # the request body, for POST
    database: bool = True  # answers 503 when the database cannot
    deprecated: bool = False
    example: dict[str, Any] = field(default_factory=dict)  # query of the curl example


# Tapachula to Mexico City.
LINE_BODY_EXAMPLE = {"type": "LineString", "coordinates": [[-92.26, 14.9], [-99.13, 19.43]]}
LINE_BODY = {
    "required": True,
    "description": f"A GeoJSON LineString (or a Feature holding one) of 2 to {MAX_POSITIONS:,} "
    "`[lon, lat]` positions, not all at one place, at most "
    f"{MAX_LINE_KM:,.0f} km long, with no edge between nearly opposite points of the globe. "
    "Read as JSON whatever the Content-Type; at most 1 MB.",
    "content": {
        media_type: {"schema": _ref("LineBody"), "example": LINE_BODY_EXAMPLE}
        for media_type in (GEOJSON, JSON)
    },
}

OPERATIONS: dict[str, Operation] = {
    "api.nearest_locations": Operation(
        summary="Nearest places to a point",
        tag="Places",
        query=NearestArgs,
        response="NearbyCollection",
        example={"lat": 14.9, "lon": -92.26, "limit": 5},
    ),
    "api.locations_in_area": Operation(
        summary="Places in a map area (or clusters of them)",
        tag="Places",
        query=AreaArgs,
        response="AreaCollection",
        example={"bbox": "-93,14,-91,16"},
    ),
    "api.consulate_serving": Operation(
        summary="The consular office serving a nationality at a point",
        tag="Consulates",
        query=ServingArgs,
        response="ServingFeature",
        notes={
            "nationality": "The person's nationality: ISO 3166 alpha-2 of a country in the "
            "directory, any case; a code it does not know is a 400."
        },
        not_found="`no_consulate`: no office of the directory serves that nationality.",
        example={"lat": 14.9, "lon": -92.26, "nationality": "GT"},
    ),
    "api.consulate_partners": Operation(
        summary="Partner organizations in a consular office's district",
        tag="Consulates",
        query=PartnerPageArgs,
        response="PartnersCollection",
        notes={
            "nationality": "For a joint office: which of its nationalities' districts (default "
            "its own); one it does not serve is a 400.",
            "kind": "Only within the partner kinds (`shelter`, `civil_society`, "
            "`international_org`); another kind is a 400.",
            "from": "`lat,lon` of where the national is: each partner gets its "
            "`distance_from_m` from there; the order stays by distance from the office. "
            "Never logged or kept; makes the answer private.",
        },
        not_found="`not_found`: no active consular office has that id; `district_missing`: "
        "it has no district for that nationality yet.",
        example={"limit": 20},
    ),
    "api.route_corridor_view": Operation(
        summary="Places along a route of the directory, in order",
        tag="Routes",
        query=CorridorArgs,
        response="RouteCorridorCollection",
        not_found="`not_found`: no active route has that id or code.",
        example={"buffer_km": 10, "from": "14.9,-92.26"},
    ),
    "api.line_corridor_view": Operation(
        summary="Places along a line you send, in order",
        tag="Routes",
        query=CorridorArgs,
        response="LineCorridorCollection",
        body=LINE_BODY,
        notes={"buffer_km": "How far from the line to look, in kilometres on the spheroid."},
        example={"buffer_km": 10},
    ),
    "api.routes": Operation(
        summary="The migration routes", tag="Map layers", response="RouteCollection"
    ),
    "api.country_outlines": Operation(
        summary="Simplified country outlines",
        tag="Map layers",
        query=OutlineArgs,
        response="OutlineCollection",
        notes={
            "detail": "How finely drawn: `coarse` (0.1° tolerance, 1 decimal) for maps at "
            "zoom 5 or less, about a third of the bytes of `fine` (0.03°, 2 decimals)."
        },
        example={"detail": "coarse"},
    ),
    "api.consular_districts": Operation(
        summary="The consular districts of one nationality",
        tag="Map layers",
        query=DistrictLayerArgs,
        response="DistrictCollection",
        notes={
            "nationality": "Whose districts: ISO 3166 alpha-2 of a country in the "
            "directory, any case; a code it does not know is a 400."
        },
        example={"nationality": "GT"},
    ),
    "api.towns": Operation(
        summary="Towns by name (offline gazetteer)",
        tag="Towns",
        query=TownSearchArgs,
        response="TownList",
        media_type=JSON,
        example={"q": "Tapachula", "limit": 3},
    ),
    "api.places_search_alias": Operation(
        summary="Towns by name, under their old name (use /towns)",
        tag="Towns",
        query=TownSearchArgs,
        response="PlaceList",
        media_type=JSON,
        deprecated=True,
        example={"q": "Tapachula"},
    ),
    "api.openapi_document": Operation(
        summary="This document (OpenAPI 3.1)",
        tag="Documentation",
        response="OpenApiDocument",
        media_type=JSON,
        database=False,
    ),
    "api.reference": Operation(
        summary="This reference, as an HTML page",
        tag="Documentation",
        response="HtmlPage",
        media_type=HTML,
        database=False,
    ),
}

TAGS = [
    {"name": "Places", "description": "Searches over every place of the directory."},
    {"name": "Consulates", "description": "Which office serves a person; partners nearby."},
    {"name": "Routes", "description": "What lies along a migration route or a drawn line."},
    {"name": "Towns", "description": "Where a search starts, from a town's name."},
    {"name": "Map layers", "description": "GeoJSON layers of the maps, built by PostGIS."},
    {"name": "Documentation", "description": "This document and its reference page."},
]

EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {
    "LineBody": {
        "description": "A GeoJSON LineString, or a Feature whose geometry is one.",
        "oneOf": [
            _ref("LineString"),
            {
                "title": "Feature with a LineString geometry",
                "type": "object",
                "required": ["type", "geometry"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": _ref("LineString"),
                    "properties": {"type": ["object", "null"]},
                },
            },
        ],
    },
    "OpenApiDocument": {
        "type": "object",
        "required": ["openapi", "info", "paths"],
        "properties": {"openapi": {"type": "string", "enum": ["3.1.0"]}},
    },
    "HtmlPage": {"type": "string"},
}


# --- From marshmallow fields to JSON Schema: what apispec does not know ------------------


def _field_properties(self: Any, field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    """An apispec attribute function for our own fields and validators."""
    extra: dict[str, Any] = {}
    if isinstance(field, Coordinate):
        extra.update(minimum=-RANGES[field.axis], maximum=RANGES[field.axis])
    elif isinstance(field, LatLon):
        ret.pop("type", None)
        extra.update(type="string", pattern=r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$")
    elif isinstance(field, CursorField):
        extra.update(maxLength=200)
    for validator in field.validators:
        # apispec writes every Range as inclusive: say which ends are not (JSON Schema 2020-12).
        if isinstance(validator, validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                ret.pop("minimum", None)
                extra["exclusiveMinimum"] = validator.min
            if validator.max is not None and not validator.max_inclusive:
                ret.pop("maximum", None)
                extra["exclusiveMaximum"] = validator.max
    if "json_schema" in field.metadata:  # responses.json_schema: the schema as it is
        description = ret.get("description")
        ret.clear()
        extra = dict(field.metadata["json_schema"])
        if description:
            extra["description"] = description
    return extra


def _query_parameter(self: Any, field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    """An apispec parameter function: a query string has no ``null`` (absent is what
    ``load_default=None`` means)."""
    schema = ret.get("schema", {})
    if isinstance(schema.get("type"), list):
        types = [kind for kind in schema["type"] if kind != "null"]
        schema["type"] = types[0] if len(types) == 1 else types
    if schema.get("default", 0) is None:
        del schema["default"]
    return {}


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__


# --- Building the document -------------------------------------------------------------

_RULE_ARGUMENT = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """``/consulates/<int:location_id>/partners`` → ``/consulates/{location_id}/partners``."""
    return _RULE_ARGUMENT.sub(r"{\2}", rule)


def api_rules(app: Flask) -> list[Any]:
    """The rules of the API blueprint, by path."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    return sorted(rules, key=lambda rule: rule.rule)


def undocumented_endpoints(app: Flask) -> list[str]:
    """Routes of the API with no entry in ``OPERATIONS`` (the tests want none)."""
    return [rule.endpoint for rule in api_rules(app) if rule.endpoint not in OPERATIONS]


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route of ``app`` under /api/v1."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="Protection Directory API",
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION, "license": {"name": "Public data"}},
        tags=TAGS,
    )
    plugin.converter.add_attribute_function(_field_properties)
    plugin.converter.add_parameter_attribute_function(_query_parameter)
    for name, schema in responses.GEOMETRIES.items():
        spec.components.schema(name, schema)
    for name, marshmallow_schema in responses.SCHEMAS.items():
        if name not in spec.components.schemas:  # nested ones are added with their parent
            spec.components.schema(name, schema=marshmallow_schema)
    for name, schema in EXTRA_SCHEMAS.items():
        spec.components.schema(name, schema)
    for name, response in RESPONSES.items():
        spec.components.response(name, response)

    for rule in api_rules(app):
        operation = OPERATIONS.get(rule.endpoint)
        if operation is None:
            continue
        operations = {}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = _operation(app, rule, operation, plugin)
        spec.path(path=openapi_path(rule.rule), operations=operations)
    return spec.to_dict()


def _operation(app: Flask, rule: Any, operation: Operation, plugin: MarshmallowPlugin) -> dict:
    view = app.view_functions[rule.endpoint]
    policy = http.declared_policy_of(app, rule.endpoint) or http.SEARCH
    public = policy.header.startswith("public")
    parameters = [
        {"in": "path", "name": name, "required": True, **_path_parameter(converter, name)}
        for converter, name in _RULE_ARGUMENT.findall(rule.rule)
    ]
    if operation.query is not None:
        for parameter in plugin.converter.schema2parameters(operation.query, location="query"):
            name = parameter["name"]
            # Required together, by a schema-level check (``Position.position_required``).
            if name in ("lat", "lon") and getattr(operation.query, "position_required", False):
                parameter["required"] = True
            # (An undescribed parameter fails tests/test_openapi.py, not the document.)
            parameter["description"] = operation.notes.get(name) or PARAMETER_DOCS.get(name, "")
            if name in operation.example:
                parameter["example"] = operation.example[name]
            parameters.append(parameter)
    # What the operation is about first, the filters every search shares last.
    shared = set(LocationFilterArgs._declared_fields)
    parameters.sort(key=lambda p: (p["in"] != "path", not p["required"], p["name"] in shared))
    if public and "GET" in rule.methods:
        parameters.append(IF_NONE_MATCH)

    cache_note = f"`Cache-Control: {policy.header}`" + (" with a weak `ETag`" if public else "")
    if policy.private_if:
        names = "`, `".join(policy.private_if)
        cache_note += f"; `{http.SEARCH.header}` when `{names}` is given"
    ok: dict[str, Any] = {
        "description": f"OK. {cache_note}.",
        "content": {operation.media_type: {"schema": _ref(operation.response)}},
        "headers": {
            "Cache-Control": {"schema": {"type": "string", "enum": _cache_headers(policy)}}
        },
    }
    if public:
        ok["headers"]["ETag"] = {"description": "Weak validator.", "schema": {"type": "string"}}
    answers: dict[str, Any] = {"200": ok}
    if public:
        answers["304"] = _ref("NotModified", "responses")
    answers["400"] = _ref("BadRequest", "responses")
    if operation.not_found or rule.arguments:
        not_found = dict(RESPONSES["NotFound"])
        not_found["description"] = operation.not_found or RESPONSES["NotFound"]["description"]
        answers["404"] = not_found
    if operation.body is not None:
        answers["413"] = _ref("PayloadTooLarge", "responses")
    answers["429"] = _ref("TooManyRequests", "responses")
    if operation.database:
        answers["503"] = _ref("Unavailable", "responses")

    result: dict[str, Any] = {
        "operationId": rule.endpoint.removeprefix("api."),
        "summary": operation.summary,
        "description": inspect.getdoc(view) or "",
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": answers,
    }
    if operation.body is not None:
        result["requestBody"] = operation.body
    if operation.deprecated:
        result["deprecated"] = True
    return result


def _path_parameter(converter: str, name: str) -> dict[str, Any]:
    if name in PATH_PARAMETERS:
        return PATH_PARAMETERS[name]
    return {"schema": {"type": "integer" if converter == "int" else "string"}}


def _cache_headers(policy: http.CachePolicy) -> list[str]:
    return [policy.header, http.SEARCH.header] if policy.private_if else [policy.header]


SPEC_KEY = "directory.openapi"


def spec_for(app: Flask) -> dict[str, Any]:
    """The app's document, built on first use (the routes are all registered by then)."""
    if SPEC_KEY not in app.extensions:
        spec = build_spec(app)
        app.extensions[SPEC_KEY] = (spec, json.dumps(spec, ensure_ascii=False))
    return app.extensions[SPEC_KEY][0]


def document_text(app: Flask) -> str:
    """The app's document as JSON text, serialized once."""
    spec_for(app)
    return app.extensions[SPEC_KEY][1]


def resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """``item`` itself, or what its ``$ref`` names in ``spec``."""
    while "$ref" in item:
        *_, kind, name = item["$ref"].split("/")
        item = spec["components"][kind][name]
    return item


# --- Routes --------------------------------------------------------------------------


@api.get("/openapi.json")
@http.policy(http.public(3600))  # changes with a deployment only
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of the API, generated from its schemas and routes."""
    return current_app.response_class(document_text(current_app), mimetype=JSON)
