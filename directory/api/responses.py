"""What the API answers, as marshmallow schemas for the OpenAPI document.

The views build their answers as dicts (``directory.web.features``), or PostGIS builds them
(the map layers); these schemas only describe those answers, for ``directory.api.openapi``,
and never dump anything. The properties of a place reuse ``LocationSchema``, the schema that
does dump them, so a property added there shows up here; what it declares loosely (methods,
enum values kept as plain strings) is made precise.

Every schema is ``@exact``: each property is listed as always present (perhaps ``null``),
and marshmallow's default ``unknown = RAISE`` makes apispec write
``additionalProperties: false``. So schemathesis' response_schema_conformance
(``tests/test_api_schema.py``) fails on a view that sends a property not described here, or
leaves one out.

GeoJSON geometries are plain JSON Schema (``GEOMETRIES``): positions are arrays whose items
differ by index (longitude, latitude), which marshmallow fields cannot say.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, TypeVar

from marshmallow import Schema, fields, validate

from directory.consular.models import DistrictOrigin
from directory.db import Cost, OperationalStatus, OrganizationKind, PositionPrecision
from directory.gazetteer.models import TownKind
from directory.places.schemas import LocationSchema

S = TypeVar("S", bound=type[Schema])

# --- GeoJSON geometries (RFC 7946), as JSON Schema components ----------------------------

POSITION = {
    "type": "array",
    "description": "`[longitude, latitude]` in degrees (WGS84), longitude first; an "
    "altitude may follow.",
    "minItems": 2,
    "maxItems": 3,
    "prefixItems": [
        {"type": "number", "minimum": -180, "maximum": 180},
        {"type": "number", "minimum": -90, "maximum": 90},
    ],
    "items": {"type": "number"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _geometry(kind: str, coordinates: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["type", "coordinates"],
        "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates},
        "additionalProperties": False,
    }


def _array(items: dict[str, Any], **limits: int) -> dict[str, Any]:
    return {"type": "array", "items": items, **limits}


GEOMETRIES: dict[str, dict[str, Any]] = {
    "Position": POSITION,
    "Point": _geometry("Point", _ref("Position"), "A GeoJSON Point."),
    "LineString": _geometry(
        "LineString", _array(_ref("Position"), minItems=2), "A GeoJSON LineString."
    ),
    "MultiPolygon": _geometry(
        "MultiPolygon",
        _array(_array(_array(_ref("Position")))),
        "A GeoJSON MultiPolygon (simplified by PostGIS for drawing).",
    ),
}


def geometry(name: str, **kwargs: Any) -> fields.Raw:
    """A field whose JSON Schema is the geometry component ``name`` (see ``json_schema``)."""
    return json_schema(_ref(name), **kwargs)


def json_schema(schema: dict[str, Any], **kwargs: Any) -> fields.Raw:
    """A field documented by the JSON Schema ``schema`` as it is (``openapi.py`` reads the
    ``json_schema`` metadata): for what marshmallow cannot express, a union or a geometry."""
    metadata = {**kwargs.pop("metadata", {}), "json_schema": schema}
    return fields.Raw(metadata=metadata, **kwargs)


def exact(schema: S) -> S:
    """Mark every property of ``schema`` as always present, except those named in its
    ``sometimes_absent``, and describe those named in its ``descriptions`` (inherited
    fields, declared without one). Fields are copied first: inherited ones belong to the
    parent."""
    absent = set(getattr(schema, "sometimes_absent", ()))
    descriptions = getattr(schema, "descriptions", {})
    declared = {}
    for name, field in schema._declared_fields.items():
        field = copy.copy(field)
        field.required = name not in absent
        if name in descriptions:
            field.metadata = {**field.metadata, "description": descriptions[name]}
        declared[name] = field
    schema._declared_fields = declared
    return schema


def one_of(values: Any) -> validate.OneOf:
    return validate.OneOf([str(value) for value in values])


def constant(value: str) -> fields.String:
    return fields.String(validate=validate.Equal(value))


# --- A place of the directory ---------------------------------------------------------


@exact
class LocationProperties(LocationSchema):
    """What the directory says in public about a place (``LocationSchema``)."""

    descriptions: ClassVar[dict[str, str]] = {
        "id": "The place's id: its page is `/places/{id}`.",
        "name": "The place's own name, or its organization's.",
        "website": "The organization's website.",
        "city": "The town it is in.",
        "admin_area": "State, department or province.",
        "country_code": "ISO 3166 alpha-2.",
        "timezone": "IANA time zone of its opening hours.",
        "populations": "Groups it says it serves (`women`, `children`, …).",
        "languages": "Languages spoken there (ISO 639-1).",
        "cost": "What its services cost; `null` when unknown.",
        "status_until": "When `status` ends; `null`: until further notice.",
        "phones": "Phone numbers, international format.",
        "whatsapp": "A WhatsApp number.",
        "verified_at": "When somebody last checked these details; `null`: never.",
        "hours_confirmed": "Whether the organization itself gave or confirmed "
        "`opening_hours`; when false they are typical hours, which never make `open_now` "
        "true.",
        "source": "Where the record comes from.",
    }

    kind = fields.String(
        validate=one_of(OrganizationKind), metadata={"description": "The organization's kind."}
    )
    networks = fields.List(
        fields.String(), metadata={"description": "Codes of the networks it belongs to."}
    )
    categories = fields.List(
        fields.String(), metadata={"description": "Codes of the services it offers."}
    )
    cost = fields.String(allow_none=True, validate=one_of(Cost))
    status = fields.String(
        validate=one_of(OperationalStatus),
        metadata={"description": "`full` or `temporarily_closed` until `status_until`."},
    )
    position_precision = fields.String(
        validate=one_of(PositionPrecision),
        metadata={
            "description": "How exactly the point is known: `exact` (the door), `street`, "
            "or `city` (a point in the town's centre; distances to it are rounded to the "
            "kilometre)."
        },
    )
    intake_hours = fields.Dict(
        allow_none=True,
        metadata={
            "description": "When a shelter takes people in, in the form of `opening_hours`; "
            "`null` when unknown."
        },
    )
    opening_hours = fields.Dict(
        allow_none=True,
        metadata={
            "description": 'Weekly hours in local time: `{"always": true}` or '
            '`{"mo": [["08:00", "16:00"]], …}`; `null` when unknown.'
        },
    )


OPEN_STATE = {
    "open_now": fields.Boolean(
        metadata={
            "description": "Open at this moment, in the place's own time zone, by hours the "
            "organization confirmed. Typical hours never make it true (see `state`)."
        }
    ),
    "state": fields.String(
        metadata={
            "description": "`open`, `closed`, `always` (24/7), `unknown` (no hours known), "
            "`probably_open` (unconfirmed typical hours say open: call first), "
            "or its status (`full`, `temporarily_closed`)."
        }
    ),
}


def _point_feature(properties: type[Schema]) -> dict[str, fields.Field]:
    return {
        "type": constant("Feature"),
        "id": fields.Integer(metadata={"description": "The place's id (`/places/{id}`)."}),
        "geometry": geometry("Point"),
        "properties": fields.Nested(properties),
    }


def _collection(feature: type[Schema]) -> dict[str, fields.Field]:
    return {"type": constant("FeatureCollection"), "features": fields.List(fields.Nested(feature))}


# --- GET /locations/nearest ------------------------------------------------------------


NearbyProperties = exact(
    LocationProperties.from_dict(
        {
            "distance_m": fields.Float(
                metadata={
                    "description": "Metres from the point asked about, on the spheroid, in a "
                    "straight line, rounded to what `position_precision` allows (`street`: "
                    "500 m, `city`: 5 km)."
                }
            ),
            "rank": fields.Integer(validate=validate.Range(min=1)),
            "across_barrier": fields.String(
                allow_none=True,
                metadata={
                    "description": "The code of a barrier no road crosses (`darien-gap`) "
                    "between the point asked about and the place: near in a straight line, "
                    "days away on foot. Such places come after the help on the near side "
                    "within 150 km, when there is any."
                },
            ),
            **OPEN_STATE,
            "closes_at": fields.String(
                allow_none=True,
                metadata={"description": "`HH:MM` local time, when open and closing today."},
            ),
            "opens_at": fields.String(
                allow_none=True,
                metadata={"description": "`HH:MM` local time, when closed and opening today."},
            ),
        },
        name="NearbyProperties",
    )
)
NearbyFeature = exact(Schema.from_dict(_point_feature(NearbyProperties), name="NearbyFeature"))
NearbyCollection = exact(Schema.from_dict(_collection(NearbyFeature), name="NearbyCollection"))


# --- GET /locations?bbox= --------------------------------------------------------------


@exact
class AreaPointProperties(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(validate=one_of(OrganizationKind))


@exact
class AreaClusterProperties(Schema):
    cluster = fields.Boolean(validate=validate.Equal(True))
    count = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Places in the cluster."}
    )


AreaPointFeature = exact(
    Schema.from_dict(_point_feature(AreaPointProperties), name="AreaPointFeature")
)


@exact
class AreaClusterFeature(Schema):
    """Many places near each other, drawn as one marker (a grid cell's centroid)."""

    type = constant("Feature")
    geometry = geometry("Point")
    properties = fields.Nested(AreaClusterProperties)


@exact
class AreaCollection(Schema):
    type = constant("FeatureCollection")
    features = fields.List(
        json_schema({"oneOf": [_ref("AreaPointFeature"), _ref("AreaClusterFeature")]})
    )


# --- Search along a route ----------------------------------------------------------------


CorridorProperties = exact(
    LocationProperties.from_dict(
        {
            "along_km": fields.Float(
                metadata={"description": "Kilometres along the line (from `from`, if given)."}
            ),
            "offset_km": fields.Float(metadata={"description": "Kilometres off the line."}),
            "rank": fields.Integer(validate=validate.Range(min=1)),
            **OPEN_STATE,
        },
        name="CorridorProperties",
    )
)
CorridorFeature = exact(
    Schema.from_dict(_point_feature(CorridorProperties), name="CorridorFeature")
)


@exact
class RouteSummary(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    length_km = fields.Float(metadata={"description": "Length on the spheroid."})


@exact
class LineSummary(Schema):
    length_km = fields.Float(metadata={"description": "Length of the line on the spheroid."})


@exact
class CorridorStart(Schema):
    along_km = fields.Float(metadata={"description": "Where `from` meets the line."})
    offset_km = fields.Float(metadata={"description": "How far `from` is off the line."})


@exact
class RouteCorridorCollection(Schema):
    type = constant("FeatureCollection")
    features = fields.List(fields.Nested(CorridorFeature))
    route = fields.Nested(RouteSummary)
    buffer_km = fields.Float()
    start = fields.Nested(
        CorridorStart,
        data_key="from",
        allow_none=True,
        metadata={"description": "`null` unless the request gave `from`."},
    )
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Send as `cursor` for the next page."}
    )


@exact
class LineCorridorCollection(RouteCorridorCollection):
    route = fields.Nested(LineSummary)


# --- Consular offices -------------------------------------------------------------------


@exact
class ServingDistrict(Schema):
    origin = fields.String(validate=one_of(DistrictOrigin))
    source = fields.String()


def protection_phone() -> fields.String:
    return fields.String(
        allow_none=True,
        metadata={
            "description": "The office's 24/7 protection and consular-notification line (for "
            "the person, and for authorities notifying the consulate of a detained national: "
            "Vienna Convention, art. 36); `null` when the directory does not know it."
        },
    )


ServingProperties = exact(
    LocationProperties.from_dict(
        {
            "match": fields.String(
                validate=validate.OneOf(["district", "nearest"]),
                metadata={
                    "description": "`district`: its district covers the point; `nearest`: "
                    "none does, so the nearest office."
                },
            ),
            "distance_m": fields.Float(metadata={"description": "Metres from the point."}),
            "nationality": fields.String(),
            "district": fields.Nested(ServingDistrict, allow_none=True),
            "protection_phone": protection_phone(),
        },
        name="ServingProperties",
    )
)
ServingFeature = exact(Schema.from_dict(_point_feature(ServingProperties), name="ServingFeature"))


@exact
class PartnerOpenState(Schema):
    reason = fields.String(
        metadata={
            "description": "`open`, `always`, `probably_open` (typical hours say open: call "
            "first), `closed`, `unknown`, or a status such as `full`."
        }
    )
    closes_at = fields.String(
        allow_none=True, metadata={"description": "`HH:MM`, the place's own time."}
    )
    opens_at = fields.String(
        allow_none=True, metadata={"description": "`HH:MM`, the place's own time."}
    )
    until = fields.String(
        allow_none=True, metadata={"description": "End of a status (`full` until …), ISO 8601."}
    )


@exact
class PartnerText(Schema):
    text = fields.String()
    language = fields.String(metadata={"description": "The language the text is in."})
    is_fallback = fields.Boolean(
        metadata={"description": "Not in the language asked for: in the one it was written in."}
    )


PartnerProperties = exact(
    LocationProperties.from_dict(
        {
            "distance_m": fields.Float(metadata={"description": "Metres from the office."}),
            "distance_office_m": fields.Float(
                metadata={"description": "Metres from the office (as `distance_m`)."}
            ),
            "distance_from_m": fields.Float(
                allow_none=True,
                metadata={
                    "description": "Metres from `from` (where the national is); `null` without it."
                },
            ),
            "hours_certainty": fields.String(
                validate=validate.OneOf(["confirmed", "typical", "unknown"]),
                metadata={
                    "description": "`confirmed` by the organization, `typical` (call first), "
                    "or `unknown` (no hours)."
                },
            ),
            "open_now": fields.Boolean(
                metadata={"description": "Open now by confirmed hours (never typical ones)."}
            ),
            "open_state": fields.Nested(PartnerOpenState),
            "admission_rules": fields.Nested(
                PartnerText,
                allow_none=True,
                metadata={"description": "Who it admits; `null` when not known."},
            ),
            "what_to_bring": fields.Nested(
                PartnerText,
                allow_none=True,
                metadata={"description": "What a person should bring; `null` when not known."},
            ),
            "capacity": fields.Integer(
                allow_none=True, metadata={"description": "Places or beds; `null` when not known."}
            ),
        },
        name="PartnerProperties",
    )
)
PartnerFeature = exact(Schema.from_dict(_point_feature(PartnerProperties), name="PartnerFeature"))


@exact
class OfficeSummary(Schema):
    id = fields.Integer()
    name = fields.String()
    protection_phone = protection_phone()
    url = fields.String(metadata={"description": "The office's page for consular staff."})


@exact
class DistrictSummary(Schema):
    nationality = fields.String()
    origin = fields.String(validate=one_of(DistrictOrigin))
    source = fields.String()


@exact
class PartnersCollection(Schema):
    sometimes_absent = ("next_cursor",)

    type = constant("FeatureCollection")
    office = fields.Nested(OfficeSummary)
    district = fields.Nested(DistrictSummary)
    features = fields.List(fields.Nested(PartnerFeature))
    next_cursor = fields.String(
        metadata={"description": "Present when there is more: send as `cursor`."}
    )


# --- Towns --------------------------------------------------------------------------------


@exact
class Town(Schema):
    name = fields.String()
    admin_area = fields.String(
        allow_none=True,
        metadata={"description": "The state, department or province; `null` when unknown."},
    )
    country_code = fields.String()
    label = fields.String(
        metadata={
            "description": "Name, admin area (when known) and country code, as "
            "pages show it: `Ciudad Hidalgo, Chiapas, MX`. Sent back as `q`, it finds "
            "this town first."
        }
    )
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    kind = fields.String(validate=one_of(TownKind))
    in_region = fields.Boolean(
        metadata={
            "description": "In a member country of the Regional Conference on Migration "
            "or a country a route crosses: such towns rank first."
        }
    )
    route_distance_km = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0),
        metadata={
            "description": "Kilometres to the nearest migration route, on the spheroid; "
            "`null` when the directory has no route."
        },
    )
    far_from_routes = fields.Boolean(
        metadata={
            "description": "More than 200 km from every route (`route_distance_km`). "
            'Pages ask "Did you mean" when such a town is not one where the directory '
            "has places."
        }
    )


@exact
class TownList(Schema):
    towns = fields.List(fields.Nested(Town), metadata={"description": "Best match first."})


@exact
class PlaceList(Schema):
    places = fields.List(fields.Nested(Town), metadata={"description": "Best match first."})


# --- Map layers (built by PostGIS: no feature id) ------------------------------------------


@exact
class RouteProperties(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    length_km = fields.Float(metadata={"description": "Length on the spheroid."})


@exact
class RouteFeature(Schema):
    type = constant("Feature")
    geometry = geometry("LineString")
    properties = fields.Nested(RouteProperties)


@exact
class OutlineProperties(Schema):
    code = fields.String(metadata={"description": "ISO 3166 alpha-2."})
    name = fields.String(allow_none=True)


@exact
class OutlineFeature(Schema):
    type = constant("Feature")
    geometry = geometry("MultiPolygon")
    properties = fields.Nested(OutlineProperties)


@exact
class DistrictProperties(Schema):
    location_id = fields.Integer(metadata={"description": "The consular office."})
    name = fields.String(metadata={"description": "The office's name."})
    city = fields.String()
    host = fields.String(metadata={"description": "The host country (ISO 3166 alpha-2)."})
    origin = fields.String(validate=one_of(DistrictOrigin))
    source = fields.String()


@exact
class DistrictFeature(Schema):
    type = constant("Feature")
    geometry = geometry("MultiPolygon")
    properties = fields.Nested(DistrictProperties)


RouteCollection = exact(Schema.from_dict(_collection(RouteFeature), name="RouteCollection"))
OutlineCollection = exact(Schema.from_dict(_collection(OutlineFeature), name="OutlineCollection"))
DistrictCollection = exact(
    Schema.from_dict(_collection(DistrictFeature), name="DistrictCollection")
)


# --- The one error shape ---------------------------------------------------------------


@exact
class ErrorBody(Schema):
    code = fields.String(metadata={"description": "Machine-readable: `invalid_parameter`, …"})
    message = fields.String(
        metadata={"description": "For people; for a bad parameter it starts with its name."}
    )
    details = fields.Dict(
        metadata={
            "description": "More about it; `parameters` maps each bad parameter to its messages."
        }
    )


@exact
class Error(Schema):
    """Every 4xx and 5xx answer of the API."""

    error = fields.Nested(ErrorBody)


# Component name → schema, in the order the document lists them.
SCHEMAS: dict[str, type[Schema]] = {
    schema.__name__: schema
    for schema in (
        Error,
        ErrorBody,
        LocationProperties,
        NearbyCollection,
        NearbyFeature,
        NearbyProperties,
        AreaCollection,
        AreaPointFeature,
        AreaPointProperties,
        AreaClusterFeature,
        AreaClusterProperties,
        RouteCorridorCollection,
        LineCorridorCollection,
        CorridorFeature,
        CorridorProperties,
        RouteSummary,
        LineSummary,
        CorridorStart,
        ServingFeature,
        ServingProperties,
        ServingDistrict,
        PartnersCollection,
        PartnerFeature,
        PartnerProperties,
        PartnerOpenState,
        PartnerText,
        OfficeSummary,
        DistrictSummary,
        TownList,
        PlaceList,
        Town,
        RouteCollection,
        RouteFeature,
        RouteProperties,
        OutlineCollection,
        OutlineFeature,
        OutlineProperties,
        DistrictCollection,
        DistrictFeature,
        DistrictProperties,
    )
}
