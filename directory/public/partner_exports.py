"""The exports of a consulate's partner list: CSV and GeoJSON of every partner matching the
office page's filters (no pagination), for consular staff to work from offline."""

from __future__ import annotations

from typing import Any

from flask import current_app

from directory.consular.models import ConsularDistrict
from directory.consular.services import Partner, PartnerQuery, partners_in_district
from directory.db import db
from directory.io.csv_files import csv_text
from directory.places.models import Location
from directory.public import public
from directory.web import http
from directory.web.args import read_query
from directory.web.features import partners_collection
from directory.web.lookups import (
    district_or_404,
    office_nationality,
    office_or_404,
    partner_filters,
)
from directory.web.schemas import PartnerFilterArgs

CSV_COLUMNS = (
    "name", "organization", "kind", "networks", "categories", "populations", "city",
    "admin_area", "country_code", "lat", "lon", "distance_km", "phones", "whatsapp", "email",
    "website", "verified_at", "source",
)  # fmt: skip


def _all_partners(location_id: int) -> tuple[Location, ConsularDistrict, list[Partner]]:
    """Every partner matching the request's filters (exports: no pagination)."""
    office = office_or_404(db.session, location_id)
    args = read_query(PartnerFilterArgs())
    district = district_or_404(db.session, office, office_nationality(office, args["nationality"]))
    query = PartnerQuery(filters=partner_filters(db.session, args))
    return office, district, partners_in_district(db.session, office, district, query)


def _attachment(body: str, mimetype: str, office: Location, district: ConsularDistrict):
    extension = "csv" if mimetype.startswith("text/csv") else "geojson"
    slug = office.organization.slug
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="partners-{slug}-{district.nationality_code}.{extension}"'
    )
    return response


@public.get("/consulates/<int:location_id>/partners.csv")
@http.policy(http.public(300))
def consulate_partners_csv(location_id: int):
    office, district, partners = _all_partners(location_id)
    body = csv_text(CSV_COLUMNS, (_csv_row(partner) for partner in partners))
    return _attachment(body, "text/csv; charset=utf-8", office, district)


@public.get("/consulates/<int:location_id>/partners.geojson")
@http.policy(http.public(300))
def consulate_partners_geojson(location_id: int):
    office, district, partners = _all_partners(location_id)
    body = current_app.json.dumps(partners_collection(office, district, partners, None))
    return _attachment(body, http.GEOJSON, office, district)


def _csv_row(partner: Partner) -> list[Any]:
    location = partner.location
    organization = location.organization
    lon, lat = location.position
    return [
        location.display_name,
        organization.name,
        organization.kind.value,
        ";".join(network.code for network in organization.networks),
        ";".join(category.code for category in location.categories),
        ";".join(location.populations),
        location.city,
        location.admin_area or "",
        location.country_code,
        round(lat, 6),
        round(lon, 6),
        round(partner.distance_m / 1000, 2),
        "; ".join(location.phones),
        location.whatsapp or "",
        location.email or "",
        organization.website or "",
        location.verified_at.isoformat() if location.verified_at else "",
        location.source,
    ]
