"""The GeoJSON both faces send: the API's responses and the pages' exports.

Every feature is a location with its public properties (``places.schemas``) plus what the
search computed (distance, rank, open state, position along a route).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from directory.consular.models import ConsularDistrict
from directory.consular.referrals import referral
from directory.consular.services import Partner, ServingOffice
from directory.corridors.services import CorridorLocation, CorridorQuery, CorridorResult
from directory.db import LocalizedText
from directory.i18n.selection import current_language
from directory.places.map_area import AreaContent
from directory.places.models import Location
from directory.places.nearest import NearbyPlace
from directory.places.opening_hours import OpenState
from directory.places.precision import rounded_distance_m
from directory.places.schemas import location_feature
from directory.web.cursor import Cursor


def nearby_place_feature(result: NearbyPlace) -> dict[str, Any]:
    """A nearest-search result as a feature: ``location_feature``'s shape (``LocationSchema``'s
    properties) plus what the search computed, the same to the byte, built straight from
    the row of public columns (``directory.places.records.public_columns``): no ORM object
    and no marshmallow on the API's hot path. ``tests/test_nearest_serializer.py`` holds it
    to the ORM path; a field added to ``LocationSchema`` must be added here too (that test
    fails until it is)."""
    place = result.place
    state = result.state
    status_until = place.status_until
    verified_at = place.verified_at
    return {
        "type": "Feature",
        "id": place.id,
        "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
        "properties": {
            "id": place.id,
            "name": place.name or place.organization,
            "organization": place.organization,
            "kind": place.kind,
            "networks": place.networks,
            "website": place.website,
            "address": place.address,
            "city": place.city,
            "admin_area": place.admin_area,
            "country_code": place.country_code,
            "position_precision": place.position_precision,
            "timezone": place.timezone,
            "categories": place.categories,
            "populations": place.populations,
            "languages": place.languages,
            "cost": place.cost,
            "opening_hours": place.opening_hours,
            "hours_confirmed": place.hours_confirmed,
            "intake_hours": place.intake_hours,
            "status": place.status,
            "status_until": None if status_until is None else status_until.isoformat(),
            "phones": place.phones,
            "whatsapp": place.whatsapp,
            "email": place.email,
            "verified_at": None if verified_at is None else verified_at.isoformat(),
            "source": place.source,
            "distance_m": rounded_distance_m(result.distance_m, place.position_precision),
            "rank": result.rank,
            "across_barrier": result.across,
            "open_now": state.is_open,
            "state": state.reason,
            "closes_at": state.closes_at,
            "opens_at": state.opens_at,
        },
    }


def area_collection(content: AreaContent) -> dict[str, Any]:
    """Points carry ``{"id", "name", "kind"}``; clusters ``{"cluster": true, "count"}``."""
    points = [
        {
            "type": "Feature",
            "id": point.id,
            "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
            "properties": {"id": point.id, "name": point.name, "kind": point.kind},
        }
        for point in content.points
    ]
    clusters = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [cluster.lon, cluster.lat]},
            "properties": {"cluster": True, "count": cluster.count},
        }
        for cluster in content.clusters
    ]
    return {"type": "FeatureCollection", "features": points + clusters}


def partner_feature(
    partner: Partner, at: dt.datetime | None = None, language: str | None = None
) -> dict[str, Any]:
    """A partner as a referral (issue 15): the place's public properties, plus how sure its
    hours are, its state at ``at`` (default now), who it admits and what to bring (in
    ``language``, default the reader's, else the language they were written in), its
    capacity, and its distances from the office and from where the national is (``null``
    when no place was given). A value the directory does not know is ``null``, never a
    made-up default."""
    item = referral(partner, at or dt.datetime.now(dt.UTC))
    language = language or current_language()
    location = item.location
    precision = location.position_precision
    office_m = rounded_distance_m(item.distance_office_m, precision)
    return location_feature(
        location,
        distance_m=office_m,
        distance_office_m=office_m,
        distance_from_m=(
            None
            if item.distance_from_m is None
            else rounded_distance_m(item.distance_from_m, precision)
        ),
        hours_certainty=item.hours_certainty,
        open_now=item.open_now,
        open_state=open_state(item.state),
        admission_rules=localized(item.admission_rules(language)),
        what_to_bring=localized(item.what_to_bring(language)),
        capacity=location.capacity,
    )


def open_state(state: OpenState) -> dict[str, Any]:
    """``reason`` ("open", "always", "probably_open", "closed", "unknown", or a status such
    as "full"), and the times that go with it: ``closes_at``/``opens_at`` ("18:00", the
    place's own time) and ``until`` (the end of a status, ISO 8601)."""
    return {
        "reason": state.reason,
        "closes_at": state.closes_at,
        "opens_at": state.opens_at,
        "until": None if state.until is None else state.until.isoformat(),
    }


def localized(text: LocalizedText) -> dict[str, Any] | None:
    """``{"text", "language", "is_fallback"}``, or ``None`` when there is no text."""
    if not text:
        return None
    return {"text": text.text, "language": text.language, "is_fallback": text.is_fallback}


def district_summary(district: ConsularDistrict | None) -> dict[str, Any] | None:
    if district is None:
        return None
    return {
        "nationality": district.nationality_code,
        "origin": district.origin.value,
        "source": district.source,
    }


def serving_feature(result: ServingOffice) -> dict[str, Any]:
    district = result.district
    return location_feature(
        result.location,
        match=result.match,
        distance_m=rounded_distance_m(result.distance_m, result.location.position_precision),
        nationality=result.nationality,
        district=(
            None
            if district is None
            else {"origin": district.origin.value, "source": district.source}
        ),
        protection_phone=result.location.protection_phone,
    )


def partners_collection(
    office: Location,
    district: ConsularDistrict,
    partners: list[Partner],
    office_url: str | None,
    *,
    at: dt.datetime | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """The partners of ``district`` as a FeatureCollection, with a summary of the office
    (its 24/7 protection line: ``null`` when the directory does not know it)."""
    at = at or dt.datetime.now(dt.UTC)
    office_summary: dict[str, Any] = {
        "id": office.id,
        "name": office.display_name,
        "protection_phone": office.protection_phone,
    }
    if office_url is not None:
        office_summary["url"] = office_url
    return {
        "type": "FeatureCollection",
        "office": office_summary,
        "district": district_summary(district),
        "features": [partner_feature(partner, at, language) for partner in partners],
    }


def corridor_feature(item: CorridorLocation) -> dict[str, Any]:
    return location_feature(
        item.location,
        along_km=round(item.along_m / 1000, 2),
        offset_km=round(item.offset_m / 1000, 2),
        rank=item.rank,
        open_now=item.state.is_open,
        state=item.state.reason,
    )


def corridor_collection(
    result: CorridorResult, query: CorridorQuery, route: dict[str, Any]
) -> dict[str, Any]:
    last = result.items[-1] if result.more and result.items else None
    start = result.start
    return {
        "type": "FeatureCollection",
        "features": [corridor_feature(item) for item in result.items],
        "route": {**route, "length_km": round(result.length_m / 1000, 2)},
        "buffer_km": query.buffer_km,
        "from": (
            {
                "along_km": round(start.along_m / 1000, 2),
                "offset_km": round(start.offset_m / 1000, 2),
            }
            if start
            else None
        ),
        "next_cursor": Cursor(*last.sort_key).encode() if last else None,
    }
