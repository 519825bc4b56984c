"""What the directory says about a location in public: the shape every face sends."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from directory.places.models import Location


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
    position_precision = fields.String()
    timezone = fields.String()
    categories = fields.Method("_categories")
    populations = fields.List(fields.String())
    languages = fields.List(fields.String())
    cost = fields.String(allow_none=True)
    opening_hours = fields.Dict(allow_none=True)
    hours_confirmed = fields.Boolean()
    intake_hours = fields.Dict(allow_none=True)
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


def location_feature(location: Location, **extra: Any) -> dict[str, Any]:
    """A GeoJSON Feature for a location; ``extra`` adds properties."""
    position = location.position
    return {
        "type": "Feature",
        "id": location.id,
        "geometry": {"type": "Point", "coordinates": [position.lon, position.lat]},
        "properties": {**location_schema.dump(location), **extra},
    }
