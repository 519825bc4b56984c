"""Consulate pages: "Find my consulate", the list of offices, and an office's partners.

The finder is for a migrant on a phone: an ordinary GET form (nationality, and a town or
"use my location") answered by the server; JavaScript only adds geolocation and the map.
The office page is for consular staff: the district's partner organizations, nearest to the
office first, with the filters of every search and CSV / GeoJSON exports of the same list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from directory.api.consulates import (
    NATIONALITY,
    PartnerFilterArgs,
    district_or_error,
    known_nationality,
    office_nationality,
    office_or_404,
    partner_feature,
    partner_filters,
)
from directory.api.locations import GEOJSON
from directory.consular.district_map import nationalities_with_offices
from directory.consular.models import ConsularDistrict
from directory.consular.services import (
    PARTNER_KINDS,
    Partner,
    PartnerQuery,
    ServingOffice,
    active_district,
    consular_office,
    district_geometry,
    offices_by_nationality,
    partners_in_district,
    serving_office,
)
from directory.db import OrganizationKind, Population, db
from directory.places.filters import LocationFilters
from directory.places.models import Country, Location, Network, ServiceCategory
from directory.public import public
from directory.public.origin import resolve_origin
from directory.web.args import parse_query
from directory.web.errors import ApiError

KIND_LABELS = {
    OrganizationKind.CONSULATE: "Consulate",
    OrganizationKind.EMBASSY: "Embassy (consular section)",
    OrganizationKind.SHELTER: "Shelter",
    OrganizationKind.CIVIL_SOCIETY: "Civil-society organization",
    OrganizationKind.INTERNATIONAL_ORG: "International organization",
    OrganizationKind.GOVERNMENT: "Government service",
}
# The staff page lists at most this many partners; the exports have them all.
PAGE_PARTNERS = 500
FILTER_PARAMETERS = ("nationality", "kind", "network", "category", "population")
CSV_COLUMNS = (
    "name", "organization", "kind", "networks", "categories", "populations", "city",
    "admin_area", "country_code", "lat", "lon", "distance_km", "phones", "whatsapp", "email",
    "website", "verified_at", "source",
)  # fmt: skip
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class FinderArgs(Schema):
    nationality = fields.String(load_default=None, validate=NATIONALITY)
    q = fields.String(load_default="", validate=validate.Length(max=100))
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-180, 180))


class ListArgs(Schema):
    nationality = fields.String(load_default=None, validate=NATIONALITY)


def _map_base() -> dict[str, Any]:
    return {
        "tiles": current_app.config["TILE_URL"] or None,
        "attribution": current_app.config["TILE_ATTRIBUTION"],
        "outlinesUrl": url_for("api.country_outlines"),
    }


def _office_marker(office: Location) -> dict[str, Any]:
    position = office.position
    return {
        "id": office.id,
        "name": office.display_name,
        "coordinates": [position.lon, position.lat],
        "url": url_for("public.consulate", location_id=office.id),
    }


def _country_names() -> dict[str, str]:
    return {country.code: country.name("en") for country in db.session.scalars(select(Country))}


def _no_store(response: Any) -> Any:
    """A search from one person's position: never kept by a shared cache."""
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@public.get("/consulates/serving")
def consulate_finder():
    context: dict[str, Any] = {
        "countries": nationalities_with_offices(db.session),
        "args": request.args,
        "nationality": None,
        "country_name": None,
        "origin": None,
        "alternatives": [],
        "problem": None,
        "error": None,
        "result": None,
        "state": None,
        "kind_labels": KIND_LABELS,
        "map_config": _map_base(),
    }
    try:
        args = parse_query(FinderArgs(), request.args)
        nationality = (
            known_nationality(db.session, args["nationality"]) if args["nationality"] else None
        )
    except ApiError as error:
        context["error"] = error.message
        return _no_store(current_app.make_response(_finder_page(context, 400)))
    lookup = resolve_origin(db.session, args)
    context.update(
        nationality=nationality, origin=lookup.origin, alternatives=lookup.alternatives,
        problem=lookup.problem,
    )  # fmt: skip
    if nationality:
        context["country_name"] = db.session.get(Country, nationality).name("en")
    if nationality and lookup.origin is not None:
        result = serving_office(db.session, lookup.origin.position, nationality)
        context["result"] = result
        if result is not None:
            office = result.location
            context["state"] = office.open_state(dt.datetime.now(dt.UTC))
        context["map_config"] = _finder_map(lookup.origin.position, result)
    return _no_store(current_app.make_response(_finder_page(context, 200)))


def _finder_page(context: dict[str, Any], status: int) -> tuple[str, int]:
    return render_template("consulate_finder.html", **context), status


def _finder_map(position, result: ServingOffice | None) -> dict[str, Any]:
    config = _map_base()
    config["origin"] = [position.lon, position.lat]
    if result is not None:
        config["office"] = _office_marker(result.location)
        config["district"] = (
            district_geometry(db.session, result.district.id) if result.district else None
        )
        config["match"] = result.match
    return config


@public.get("/consulates")
def consulates():
    try:
        args = parse_query(ListArgs(), request.args)
        nationality = (
            known_nationality(db.session, args["nationality"]) if args["nationality"] else None
        )
    except ApiError as error:
        return render_template(
            "consulates.html", groups=[], countries=nationalities_with_offices(db.session),
            names={}, nationality=None, error=error.message, kind_labels=KIND_LABELS,
        ), 400  # fmt: skip
    names = _country_names()
    groups = offices_by_nationality(db.session, nationality)
    return render_template(
        "consulates.html",
        groups=sorted(groups, key=lambda group: names.get(group.nationality, group.nationality)),
        countries=nationalities_with_offices(db.session),
        names=names,
        nationality=nationality,
        error=None,
        kind_labels=KIND_LABELS,
    )


@public.get("/consulates/<int:location_id>")
def consulate(location_id: int):
    office = consular_office(db.session, location_id)
    if office is None:
        abort(404)
    context: dict[str, Any] = {
        "office": office,
        "args": request.args,
        "names": _country_names(),
        "nationality": office.organization.nationalities[0],
        "district": None,
        "partners": [],
        "more": False,
        "error": None,
        "networks": db.session.scalars(select(Network).order_by(Network.code)).all(),
        "categories": db.session.scalars(
            select(ServiceCategory).order_by(ServiceCategory.position)
        ).all(),
        "populations": [population.value for population in Population],
        "partner_kinds": [kind.value for kind in PARTNER_KINDS],
        "kind_labels": KIND_LABELS,
        "links": {},
        "map_config": {**_map_base(), "office": _office_marker(office), "partners": []},
    }
    try:
        args = parse_query(PartnerFilterArgs(), request.args)
        nationality = office_nationality(office, args["nationality"])
        filters = partner_filters(db.session, args)
    except ApiError as error:
        context["error"] = error.message
        return render_template("consulate.html", **context), 400
    context["nationality"] = nationality
    district = active_district(db.session, office.id, nationality)
    if district is not None:
        query = PartnerQuery(filters=filters, limit=PAGE_PARTNERS + 1)
        partners = partners_in_district(db.session, office, district, query)
        context.update(
            district=district,
            partners=partners[:PAGE_PARTNERS],
            more=len(partners) > PAGE_PARTNERS,
            links=_export_links(office.id),
        )
        context["map_config"].update(
            district=district_geometry(db.session, district.id),
            partners=[_partner_marker(partner) for partner in partners[:PAGE_PARTNERS]],
        )
    return render_template("consulate.html", **context)


def _filter_args() -> dict[str, list[str]]:
    """The filters of this request, to carry over into the export links."""
    return {
        name: [value for value in request.args.getlist(name) if value.strip()]
        for name in FILTER_PARAMETERS
        if any(value.strip() for value in request.args.getlist(name))
    }


def _export_links(location_id: int) -> dict[str, str]:
    kept = _filter_args()
    return {
        "csv": url_for("public.consulate_partners_csv", location_id=location_id, **kept),
        "geojson": url_for("public.consulate_partners_geojson", location_id=location_id, **kept),
        "api": url_for("api.consulate_partners", location_id=location_id, **kept),
    }


def _partner_marker(partner: Partner) -> dict[str, Any]:
    position = partner.location.position
    return {
        "id": partner.location.id,
        "name": partner.location.display_name,
        "kind": partner.location.organization.kind.value,
        "coordinates": [position.lon, position.lat],
        "url": url_for("public.place", location_id=partner.location.id),
    }


def _all_partners(location_id: int) -> tuple[Location, ConsularDistrict, list[Partner]]:
    """Every partner matching the request's filters (exports: no pagination)."""
    office = office_or_404(db.session, location_id)
    args = parse_query(PartnerFilterArgs(), request.args)
    nationality = office_nationality(office, args["nationality"])
    district = district_or_error(db.session, office, nationality)
    filters: LocationFilters = partner_filters(db.session, args)
    partners = partners_in_district(db.session, office, district, PartnerQuery(filters=filters))
    return office, district, partners


def _attachment(office: Location, district: ConsularDistrict, extension: str) -> str:
    slug = office.organization.slug
    return f'attachment; filename="partners-{slug}-{district.nationality_code}.{extension}"'


@public.get("/consulates/<int:location_id>/partners.csv")
def consulate_partners_csv(location_id: int):
    office, district, partners = _all_partners(location_id)
    response = current_app.response_class(
        partners_csv(partners), mimetype="text/csv", content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = _attachment(office, district, "csv")
    return response


@public.get("/consulates/<int:location_id>/partners.geojson")
def consulate_partners_geojson(location_id: int):
    office, district, partners = _all_partners(location_id)
    body = {
        "type": "FeatureCollection",
        "office": {"id": office.id, "name": office.display_name},
        "district": {
            "nationality": district.nationality_code,
            "origin": district.origin.value,
            "source": district.source,
        },
        "features": [partner_feature(partner) for partner in partners],
    }
    response = current_app.response_class(json.dumps(body, default=str), mimetype=GEOJSON)
    response.headers["Content-Disposition"] = _attachment(office, district, "geojson")
    return response


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (prefixed with ``'``)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def partners_csv(partners: Iterable[Partner]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for partner in partners:
        location = partner.location
        organization = location.organization
        position = location.position
        row = [
            location.display_name,
            organization.name,
            organization.kind.value,
            ";".join(network.code for network in organization.networks),
            ";".join(category.code for category in location.categories),
            ";".join(location.populations),
            location.city,
            location.admin_area or "",
            location.country_code,
            round(position.lat, 6),
            round(position.lon, 6),
            round(partner.distance_m / 1000, 2),
            "; ".join(location.phones),
            location.whatsapp or "",
            location.email or "",
            organization.website or "",
            location.verified_at.isoformat() if location.verified_at else "",
            location.source,
        ]
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
