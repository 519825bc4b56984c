"""The GeoJSON both faces send: the API's responses and the pages' exports.

Every feature is a location with its public properties (``places.schemas``) plus what the
search computed (distance, rank, open state, position along a route).
"""

from __future__ import annotations

from typing import Any

from directory.consular.models import ConsularDistrict
from directory.consular.services import Partner, ServingOffice
from directory.corridors.services import CorridorLocation, CorridorQuery, CorridorResult
from directory.places.map_area import AreaContent
from directory.places.models import Location
from directory.places.nearest import NearbyPlace
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


def partner_feature(partner: Partner) -> dict[str, Any]:
    location = partner.location
    return location_feature(
        location, distance_m=rounded_distance_m(partner.distance_m, location.position_precision)
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
    )


def partners_collection(
    office: Location, district: ConsularDistrict, partners: list[Partner], office_url: str | None
) -> dict[str, Any]:
    office_summary = {"id": office.id, "name": office.display_name}
    if office_url is not None:
        office_summary["url"] = office_url
    return {
        "type": "FeatureCollection",
        "office": office_summary,
        "district": district_summary(district),
        "features": [partner_feature(partner) for partner in partners],
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
