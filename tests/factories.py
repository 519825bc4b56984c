"""Test data builders, separate from the demo seeds: each returns a flushed record.

Geometries are small boxes and points with known coordinates, so tests can reason about
what lies inside what.
"""

from __future__ import annotations

import itertools
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from sqlalchemy.orm import Session

from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.corridors.models import Route
from directory.db import OrganizationKind, PositionPrecision
from directory.places.models import Country, Location, Organization
from geo.coordinates import LonLat

_sequence = itertools.count(1)


def country(
    session: Session,
    code: str = "MX",
    bounds: tuple[float, float, float, float] = (-118.0, 14.5, -86.5, 32.8),
) -> Country:
    """A country whose boundary is the box ``(min_lon, min_lat, max_lon, max_lat)``."""
    record = Country(
        code=code,
        names={"en": f"Country {code}", "es": f"País {code}"},
        boundary=from_shape(MultiPolygon([box(*bounds)]), srid=4326),
    )
    session.add(record)
    session.flush()
    return record


def organization(
    session: Session,
    kind: OrganizationKind = OrganizationKind.SHELTER,
    sending_country_code: str | None = None,
    name: str | None = None,
) -> Organization:
    number = next(_sequence)
    record = Organization(
        slug=f"test-org-{number}",
        name=name or f"Test organization {number}",
        kind=kind,
        sending_country_code=sending_country_code,
    )
    session.add(record)
    session.flush()
    return record


def location(
    session: Session,
    organization: Organization,
    lon: float,
    lat: float,
    country_code: str = "MX",
    city: str = "Test city",
    *,
    precision: PositionPrecision = PositionPrecision.EXACT,
    hours_confirmed: bool = True,
) -> Location:
    """A location as an organization described it: an exact point and confirmed hours,
    unless a test says otherwise (the demo seeds are city-level and unconfirmed)."""
    number = next(_sequence)
    record = Location(
        external_id=f"test:{number}",
        organization=organization,
        city=city,
        country_code=country_code,
        point=LonLat(lon, lat).to_wkt_element(),
        position_precision=precision,
        hours_confirmed=hours_confirmed,
        source="tests",
    )
    session.add(record)
    session.flush()
    return record


def route(session: Session, code: str, coordinates: list[tuple[float, float]]) -> Route:
    record = Route(
        code=code,
        names={"en": f"Route {code}"},
        path=from_shape(LineString(coordinates), srid=4326),
        country_codes=["MX"],
    )
    session.add(record)
    session.flush()
    return record


def consular_office(
    session: Session,
    nationality: str,
    lon: float,
    lat: float,
    host: str = "MX",
    *,
    kind: OrganizationKind = OrganizationKind.CONSULATE,
    also_serves: tuple[str, ...] = (),
    name: str | None = None,
) -> Location:
    """A consulate (or embassy) of ``nationality`` at a point of the ``host`` country.

    ``also_serves`` makes it a joint office; the countries it names must exist already.
    """
    office = organization(
        session, kind, sending_country_code=nationality, name=name or f"Consulate of {nationality}"
    )
    office.also_serves = [session.get(Country, code) for code in also_serves]
    return location(session, office, lon, lat, country_code=host)


def district(
    session: Session,
    office: Location,
    area: Polygon | MultiPolygon | tuple[float, float, float, float],
    nationality: str | None = None,
    origin: DistrictOrigin = DistrictOrigin.COMPUTED,
) -> ConsularDistrict:
    """A district of ``office`` (a polygon, or a box ``(min_lon, min_lat, max_lon, max_lat)``)
    for ``nationality`` (default: the office's own)."""
    shape = box(*area) if isinstance(area, tuple) else area
    record = ConsularDistrict(
        location=office,
        nationality_code=nationality or office.organization.sending_country_code,
        origin=origin,
        area=from_shape(shape if isinstance(shape, MultiPolygon) else MultiPolygon([shape]), 4326),
        source="tests",
    )
    session.add(record)
    session.flush()
    return record


def geonames_city(
    geonameid: int, name: str, country: str, lon: float, lat: float, population: int
) -> dict[str, Any]:
    """A GeoNames city row as ``load_gazetteer(cities=...)`` takes it."""
    return {
        "source": "geonames",
        "source_id": str(geonameid),
        "name": name,
        "alt_names": [],
        "admin_area": None,
        "country_code": country,
        "lon": lon,
        "lat": lat,
        "population": population,
        "kind": "city",
    }
