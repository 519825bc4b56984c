"""marshmallow schemas: the API's query parameters and the shape of what it returns."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from directory.db import OrganizationKind, Population
from directory.places.models import Location

LANGUAGE_CODE = validate.Regexp(r"^[a-z]{2}$", error="must be an ISO 639-1 code such as 'es'")


def _repeatable(inner: fields.Field) -> fields.List:
    return fields.List(inner, load_default=list)


class LocationFilterArgs(Schema):
    """Filters accepted by every search over locations; repeat a parameter for "any of"."""

    category = _repeatable(fields.String(validate=validate.Length(1, 32)))
    population = _repeatable(fields.String(validate=validate.OneOf([p.value for p in Population])))
    language = _repeatable(fields.String(validate=LANGUAGE_CODE))
    kind = _repeatable(fields.String(validate=validate.OneOf([k.value for k in OrganizationKind])))
    network = _repeatable(fields.String(validate=validate.Length(1, 32)))
    open_now = fields.Boolean(load_default=False)
    free = fields.Boolean(load_default=False)


class NearestArgs(LocationFilterArgs):
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    radius_km = fields.Float(
        load_default=None,
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=20_000),
    )


class NearPageArgs(LocationFilterArgs):
    """The "Help near me" form: a position (from the phone or a map tap) or a town name."""

    q = fields.String(load_default="", validate=validate.Length(max=100))
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-180, 180))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class AreaArgs(LocationFilterArgs):
    bbox = fields.String(required=True, validate=validate.Length(max=200))


class LocationSchema(Schema):
    """What the API says about a location (public data only)."""

    id = fields.Integer()
    name = fields.String(attribute="display_name")
    organization = fields.String(attribute="organization.name")
    kind = fields.String(attribute="organization.kind")
    networks = fields.Method("_networks")
    website = fields.String(attribute="organization.website", allow_none=True)
    address = fields.String(allow_none=True)
    city = fields.String()
    admin_area = fields.String(allow_none=True)
    country_code = fields.String()
    timezone = fields.String()
    categories = fields.Method("_categories")
    populations = fields.List(fields.String())
    languages = fields.List(fields.String())
    cost = fields.String(allow_none=True)
    opening_hours = fields.Dict(allow_none=True)
    status = fields.String()
    status_until = fields.AwareDateTime(allow_none=True)
    phones = fields.List(fields.String())
    whatsapp = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    verified_at = fields.Date(allow_none=True)
    source = fields.String()

    def _categories(self, location: Location) -> list[str]:
        return [category.code for category in location.categories]

    def _networks(self, location: Location) -> list[str]:
        return [network.code for network in location.organization.networks]


location_schema = LocationSchema()


def location_feature(location: Location, point: tuple[float, float], **extra: Any) -> dict:
    """A GeoJSON Feature for a location; ``point`` is (lon, lat), ``extra`` adds properties."""
    return {
        "type": "Feature",
        "id": location.id,
        "geometry": {"type": "Point", "coordinates": list(point)},
        "properties": {**location_schema.dump(location), **extra},
    }
