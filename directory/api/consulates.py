"""Consular offices: which one serves a person, and the partners in an office's district.

``GET /consulates/serving`` is about one person's position and nationality: it is never
cached by a shared proxy and never logged. The partner list is public directory data.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from directory.api import api
from directory.api.locations import GEOJSON, filters_from
from directory.consular.models import ConsularDistrict
from directory.consular.services import (
    PARTNER_KINDS,
    Partner,
    PartnerQuery,
    ServingOffice,
    active_district,
    consular_office,
    partners_in_district,
    serving_office,
)
from directory.db import db
from directory.places.filters import LocationFilters
from directory.places.models import Country, Location
from directory.places.schemas import LocationFilterArgs, location_feature
from directory.web.args import invalid_parameter, parse_query
from directory.web.cursor import Cursor
from directory.web.errors import ApiError
from geo.coordinates import LonLat

DEFAULT_PARTNER_LIMIT = 100
MAX_PARTNER_LIMIT = 500
# The partner list changes when somebody edits the directory: a few minutes is fine.
PARTNERS_MAX_AGE = 300

NATIONALITY = validate.Regexp(r"^[A-Za-z]{2}$", error="must be an ISO 3166 alpha-2 code")


class ServingArgs(Schema):
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    nationality = fields.String(
        required=True,
        error_messages={"required": "is required: the ISO 3166 alpha-2 code of a country"},
        validate=NATIONALITY,
    )


class PartnerFilterArgs(LocationFilterArgs):
    """The shared filters, and the nationality whose district is meant (joint offices)."""

    nationality = fields.String(load_default=None, validate=NATIONALITY)


class PartnerPageArgs(PartnerFilterArgs):
    limit = fields.Integer(
        load_default=DEFAULT_PARTNER_LIMIT, validate=validate.Range(1, MAX_PARTNER_LIMIT)
    )
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


def known_nationality(session: Session, value: str) -> str:
    """``value`` upper-cased, if it is a country of the directory; else a 400."""
    code = value.upper()
    if session.get(Country, code) is None:
        raise invalid_parameter("nationality", f"unknown country {code!r}")
    return code


def office_or_404(session: Session, location_id: int) -> Location:
    office = consular_office(session, location_id)
    if office is None:
        raise ApiError("not_found", f"No consular office with id {location_id}.", status=404)
    return office


def office_nationality(office: Location, value: str | None) -> str:
    """The nationality asked for (default: the office's own); one it does not serve is a 400."""
    served = office.organization.nationalities
    if value is None:
        return served[0]
    code = value.upper()
    if code not in served:
        raise invalid_parameter(
            "nationality", f"this office serves {', '.join(served)}, not {code!r}"
        )
    return code


def district_or_error(session: Session, office: Location, nationality: str) -> ConsularDistrict:
    district = active_district(session, office.id, nationality)
    if district is None:
        raise ApiError(
            "district_missing",
            f"Office {office.id} has no consular district for {nationality} yet; districts "
            "are computed with `flask districts compute` (or loaded with `flask districts load`).",
            status=404,
            details={"location_id": office.id, "nationality": nationality},
        )
    return district


def partner_filters(session: Session, args: dict[str, Any]) -> LocationFilters:
    """The shared filters; ``kind`` may only narrow within the partner kinds."""
    partner_kinds = {kind.value for kind in PARTNER_KINDS}
    for kind in args["kind"]:
        if kind not in partner_kinds:
            raise invalid_parameter(
                "kind", f"{kind!r} is not a partner kind ({', '.join(sorted(partner_kinds))})"
            )
    return filters_from(session, args)


def partner_feature(partner: Partner) -> dict[str, Any]:
    position = partner.location.position
    return location_feature(
        partner.location,
        (position.lon, position.lat),
        distance_m=round(partner.distance_m, 1),
    )


def district_summary(district: ConsularDistrict | None) -> dict[str, Any] | None:
    if district is None:
        return None
    return {
        "nationality": district.nationality_code,
        "origin": district.origin.value,
        "source": district.source,
    }


def serving_feature(result: ServingOffice) -> dict[str, Any]:
    position = result.location.position
    summary = district_summary(result.district)
    return location_feature(
        result.location,
        (position.lon, position.lat),
        match=result.match,
        distance_m=round(result.distance_m, 1),
        nationality=result.nationality,
        district=(
            None if summary is None else {"origin": summary["origin"], "source": summary["source"]}
        ),
    )


@api.get("/consulates/serving")
def consulate_serving() -> Response:
    """The consular office serving ``nationality`` at ``lat``/``lon``.

    ``match`` is ``district`` when the office's district covers the point, else
    ``nearest`` (the nearest office of that nationality); ``distance_m`` is from the point.
    """
    args = parse_query(ServingArgs(), request.args)
    nationality = known_nationality(db.session, args["nationality"])
    result = serving_office(db.session, LonLat(args["lon"], args["lat"]), nationality)
    if result is None:
        raise ApiError(
            "no_consulate",
            f"The directory has no consular office serving {nationality}.",
            status=404,
            details={"nationality": nationality},
        )
    response = jsonify(serving_feature(result))
    response.mimetype = GEOJSON
    # One person's position and nationality: never cached on shared proxies, never stored.
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@api.get("/consulates/<int:location_id>/partners")
def consulate_partners(location_id: int) -> Response:
    """Partner organizations inside the office's district, nearest to the office first.

    Filters as for every search (``kind`` within the partner kinds); ``nationality`` picks
    the district of a joint office; ``limit`` and ``cursor`` page (``next_cursor``).
    """
    office = office_or_404(db.session, location_id)
    args = parse_query(PartnerPageArgs(), request.args)
    nationality = office_nationality(office, args["nationality"])
    district = district_or_error(db.session, office, nationality)
    after = Cursor.decode(args["cursor"]) if args["cursor"] else None
    query = PartnerQuery(
        filters=partner_filters(db.session, args),
        limit=args["limit"] + 1,
        after=(after.value, after.id) if after else None,
    )
    partners = partners_in_district(db.session, office, district, query)
    page, more = partners[: args["limit"]], len(partners) > args["limit"]
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "office": {
            "id": office.id,
            "name": office.display_name,
            "url": url_for("public.consulate", location_id=office.id),
        },
        "district": district_summary(district),
        "features": [partner_feature(partner) for partner in page],
    }
    if more:
        last = page[-1]
        body["next_cursor"] = Cursor(last.distance_m, last.location.id).encode()
    response = jsonify(body)
    response.mimetype = GEOJSON
    response.cache_control.public = True
    response.cache_control.max_age = PARTNERS_MAX_AGE
    return response
