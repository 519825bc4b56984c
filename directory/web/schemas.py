"""The arguments of every page and API endpoint, declared once.

Pages and the API take the same names with the same rules: a page that lists what an API
endpoint returns reads its query string with the same schema (or one that adds the form's
own fields). ``Position`` is the one declaration of ``lat``/``lon``.

Messages are lazy (``_l``) and validators come from ``directory.web.messages``: a request
reads them in its own language.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from directory.corridors.services import DEFAULT_BUFFER_KM, MAX_BUFFER_KM
from directory.corridors.services import DEFAULT_LIMIT as CORRIDOR_LIMIT
from directory.corridors.services import MAX_LIMIT as MAX_CORRIDOR_LIMIT
from directory.db import OrganizationKind, Population
from directory.gazetteer.services import MAX_QUERY_LENGTH
from directory.places.countries import DEFAULT_OUTLINE_DETAIL, OUTLINE_DETAILS
from directory.places.nearest import MAX_LIMIT as MAX_NEAREST_LIMIT
from directory.web.args import Coordinate, LatLon, repeatable
from directory.web.cursor import CursorField
from directory.web.messages import Length, OneOf, Range
from geo.coordinates import LonLat

COUNTRY_CODE = validate.Regexp(r"^[A-Za-z]{2}$", error=_l("must be an ISO 3166 alpha-2 code"))
LANGUAGE_CODE = validate.Regexp(r"^[a-z]{2}$", error=_l("must be an ISO 639-1 code such as 'es'"))
IS_REQUIRED = _l("is required")
DEFAULT_PARTNER_LIMIT = 100
MAX_PARTNER_LIMIT = 500
MAX_TOWN_LIMIT = 50


def country_code(*, required: bool = False) -> fields.String:
    if required:
        return fields.String(
            required=True,
            error_messages={"required": _l("is required: the ISO 3166 alpha-2 code of a country")},
            validate=COUNTRY_CODE,
        )
    return fields.String(load_default=None, validate=COUNTRY_CODE)


def limit(default: int, maximum: int) -> fields.Integer:
    return fields.Integer(load_default=default, validate=Range(1, maximum))


def buffer_km() -> fields.Float:
    return fields.Float(
        load_default=DEFAULT_BUFFER_KM,
        allow_nan=False,
        validate=Range(min=0, min_inclusive=False, max=MAX_BUFFER_KM),
    )


class Position(Schema):
    """Where somebody is: ``lat`` and ``lon``, loaded as one ``position`` (``LonLat`` or
    ``None`` unless both are given). Subclasses set ``position_required``."""

    position_required: ClassVar[bool] = False

    lat = Coordinate("lat", load_default=None)
    lon = Coordinate("lon", load_default=None)

    @validates_schema
    def _required(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if self.position_required:
            missing = [name for name in ("lat", "lon") if data.get(name) is None]
            if missing:
                raise ValidationError({name: [str(IS_REQUIRED)] for name in missing})

    @post_load
    def _position(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        lat, lon = data.pop("lat", None), data.pop("lon", None)
        data["position"] = LonLat(lon, lat) if lat is not None and lon is not None else None
        return data


class RequiredPosition(Position):
    position_required = True


class Origin(Position):
    """Where a page's search starts: the person's position (preferred) or a town typed."""

    q = fields.String(load_default="", validate=Length(max=MAX_QUERY_LENGTH))


class LocationFilterArgs(Schema):
    """Filters accepted by every search over locations; repeat a parameter for "any of"."""

    category = repeatable(fields.String(validate=Length(1, 32)))
    population = repeatable(fields.String(validate=OneOf([p.value for p in Population])))
    language = repeatable(fields.String(validate=LANGUAGE_CODE))
    kind = repeatable(fields.String(validate=OneOf([k.value for k in OrganizationKind])))
    network = repeatable(fields.String(validate=Length(1, 32)))
    open_now = fields.Boolean(load_default=False)
    free = fields.Boolean(load_default=False)


class NearestArgs(RequiredPosition, LocationFilterArgs):
    limit = limit(10, MAX_NEAREST_LIMIT)
    radius_km = fields.Float(
        load_default=None,
        allow_nan=False,
        validate=Range(min=0, min_inclusive=False, max=20_000),
    )


class NearPageArgs(Origin, LocationFilterArgs):
    """The "Help near me" form."""

    limit = limit(10, 50)


class AreaArgs(LocationFilterArgs):
    bbox = fields.String(required=True, validate=Length(max=200))


class TownSearchArgs(Schema):
    q = fields.String(
        required=True,
        error_messages={"required": _l("is required: the name of a town")},
        validate=[
            validate.Regexp(r"\S", error=_l("must not be empty")),
            Length(max=MAX_QUERY_LENGTH),
        ],
    )
    limit = limit(10, MAX_TOWN_LIMIT)
    country = country_code()


class ServingArgs(RequiredPosition):
    nationality = country_code(required=True)


class FinderArgs(Origin):
    """The "Find my consulate" form."""

    nationality = country_code()


class ConsulateListArgs(Schema):
    nationality = country_code()


class DistrictLayerArgs(Schema):
    nationality = country_code(required=True)


class OutlineArgs(Schema):
    """The country outlines: how finely drawn (``coarse`` for the small zooms)."""

    detail = fields.String(
        load_default=DEFAULT_OUTLINE_DETAIL, validate=OneOf(list(OUTLINE_DETAILS))
    )


class PartnerFilterArgs(LocationFilterArgs):
    """The shared filters (``open_now`` and ``language`` among them), the nationality whose
    district is meant (joint offices), and where the national is (``from=lat,lon``): each
    partner then also carries its distance from there. The office page, the API and the
    exports read the same names."""

    nationality = country_code()
    start = LatLon(data_key="from", load_default=None)


class ConsulatePageArgs(PartnerFilterArgs):
    """The office page's form: the filters, and where the person is as the officer types
    it (a town, or "lat,lon"), in ``q`` as on every search page ("Did you mean" links
    search again with ``q``)."""

    q = fields.String(load_default="", validate=Length(max=MAX_QUERY_LENGTH))


class PartnerPageArgs(PartnerFilterArgs):
    limit = limit(DEFAULT_PARTNER_LIMIT, MAX_PARTNER_LIMIT)
    cursor = CursorField()


class CorridorArgs(LocationFilterArgs):
    buffer_km = buffer_km()
    start = LatLon(data_key="from", load_default=None)
    limit = limit(CORRIDOR_LIMIT, MAX_CORRIDOR_LIMIT)
    cursor = CursorField()


class RoutePageArgs(Origin, LocationFilterArgs):
    """The form of the route page: where you are (position or town), corridor width."""

    buffer_km = buffer_km()
    cursor = CursorField()
