"""Consular offices: which one serves a place, and the partner organizations in its district.

Every office is a ``Location`` of a consulate or embassy (an embassy's consular section
counts as a consulate). An office serves its sending country's nationals and, when it is a
joint office (TRICAMEX-style), the nationalities in ``also_serves``: it is found for each.

"Which consulate serves me?" looks first for the office whose district (for that
nationality) covers the point; only where no district does (a country without an office of
that nationality, or districts not computed yet) does it fall back to the nearest office.
Both answers carry the spheroid distance from the point, so a person can judge the trip.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    case,
    exists,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session, selectinload

from directory.consular.models import ConsularDistrict
from directory.db import CONSULAR_KINDS, OrganizationKind, keyset_after
from directory.places.filters import LocationFilters, active_locations, apply_filters
from directory.places.models import Location, Organization, organization_nationalities
from directory.places.records import public_details
from geo.coordinates import LonLat, point_geography, point_geometry
from geo.geojson import polygons_geojson

# The kinds of organization a consulate works with in its district.
PARTNER_KINDS = (
    OrganizationKind.CIVIL_SOCIETY,
    OrganizationKind.SHELTER,
    OrganizationKind.INTERNATIONAL_ORG,
)

# Districts drawn on a page are simplified (degrees, about 100 m) once they have many
# vertices: a computed district follows a country border and can weigh hundreds of kB.
DRAW_SIMPLIFY_DEG = 0.001
DRAW_SIMPLIFY_ABOVE_POINTS = 2000

Match = Literal["district", "nearest"]


@dataclass(frozen=True, slots=True)
class ServingOffice:
    """The office that serves a nationality at a point, and how it was found."""

    location: Location
    match: Match
    distance_m: float
    nationality: str
    district: ConsularDistrict | None  # the office's active district for the nationality


@dataclass(frozen=True, slots=True)
class Partner:
    location: Location
    distance_m: float  # from the consular office
    # From the place the officer typed (the national's location), when one was typed.
    distance_from_m: float | None = None


@dataclass(frozen=True, slots=True)
class PartnerQuery:
    """Partners of one district; ``after`` is the ``(distance_m, id)`` of the last row seen.

    ``origin`` is where the national is (typed by the officer, or ``from=`` in the API):
    each partner then also carries its distance from there. It only measures; the order
    stays by distance from the office, so pages and cursors do not depend on it.
    """

    filters: LocationFilters = field(default_factory=LocationFilters)
    limit: int | None = None
    after: tuple[float, int] | None = None
    origin: LonLat | None = None


def serves(nationality: str | ColumnElement[str]) -> ColumnElement[bool]:
    """SQL: the organization (joined) is a consular office serving ``nationality`` (a code,
    or a column such as ``Country.code``): its sending country's, or one it also serves."""
    joint = (
        exists()
        .where(
            organization_nationalities.c.organization_id == Organization.id,
            organization_nationalities.c.country_code == nationality,
        )
        .correlate_except(organization_nationalities)
    )
    return and_(
        Organization.kind.in_(CONSULAR_KINDS),
        or_(Organization.sending_country_code == nationality, joint),
    )


def offices_serving(nationality: str) -> Select:
    """Active offices (locations) of active consular organizations serving ``nationality``."""
    return active_locations().where(serves(nationality))


def _serving_organizations(nationality: str) -> ColumnElement[Any]:
    """SQL ``ARRAY(SELECT id …)``: the active consular organizations serving
    ``nationality``, computed once per statement.

    Their places are then found by ``locations.organization_id`` (its index). Joined
    instead, the planner cannot know that such an organization has a place or two, not the
    hundreds an average one has, and sorts every place by distance (seconds).
    """
    organizations = (
        select(Organization.id)
        .where(Organization.archived_at.is_(None), serves(nationality))
        .correlate(None)
        .scalar_subquery()
    )
    return func.array(organizations)


def active_district(
    session: Session, location_id: int, nationality: str
) -> ConsularDistrict | None:
    return session.scalar(
        select(ConsularDistrict).where(
            ConsularDistrict.location_id == location_id,
            ConsularDistrict.nationality_code == nationality,
            ConsularDistrict.archived_at.is_(None),
        )
    )


def serving_office(session: Session, position: LonLat, nationality: str) -> ServingOffice | None:
    """The office of ``nationality`` whose district covers ``position``, else the nearest one.

    Where official polygons overlap, several districts cover the point: the nearest of their
    offices wins. ``None`` when the directory has no office serving ``nationality`` at all.
    """
    origin = point_geography(position)
    distance = func.ST_Distance(Location.point, origin).label("distance_m")
    point = point_geometry(position)
    covering = (
        offices_serving(nationality)
        .join(
            ConsularDistrict,
            and_(
                ConsularDistrict.location_id == Location.id,
                ConsularDistrict.nationality_code == nationality,
                ConsularDistrict.archived_at.is_(None),
            ),
        )
        .where(func.ST_Covers(ConsularDistrict.area, point))  # the districts' GiST index
        .add_columns(ConsularDistrict, distance)
        .order_by(distance, Location.id)
        .limit(1)
        .options(*public_details())
    )
    row = session.execute(covering).first()
    if row is not None:
        location, district, metres = row
        return ServingOffice(location, "district", metres, nationality, district)
    # No district covers the point: the nearest office, among the few serving the
    # nationality (a few dozen at most), all measured. Not a walk of the nearest-neighbour
    # index: its filter is on the organization, and the walk passed tens of thousands of
    # other places before the first office (382 ms at a million places, or a timeout).
    nearest_office = (
        active_locations()
        .where(Location.organization_id == any_(_serving_organizations(nationality)))
        .add_columns(distance)
        .order_by(distance, Location.id)
        .limit(1)
        .options(*public_details())
    )
    row = session.execute(nearest_office).first()
    if row is None:
        return None
    location, metres = row
    district = active_district(session, location.id, nationality)
    return ServingOffice(location, "nearest", metres, nationality, district)


def consular_office(session: Session, location_id: int) -> Location | None:
    """The active consular office with this location id, or ``None`` for any other id."""
    return session.scalar(
        active_locations()
        .where(Location.id == location_id, Organization.kind.in_(CONSULAR_KINDS))
        .options(
            selectinload(Location.categories),
            selectinload(Location.organization).selectinload(Organization.networks),
            selectinload(Location.organization).selectinload(Organization.also_serves),
        )
    )


def partners_in_district(
    session: Session,
    office: Location,
    district: ConsularDistrict,
    query: PartnerQuery,
    at: dt.datetime | None = None,
) -> list[Partner]:
    """Partner locations inside ``district``, nearest to ``office`` first (then by id).

    Only civil-society organizations, shelters and international organizations are
    partners; ``query.filters`` narrows further. With ``query.limit`` at most that many rows.
    With ``query.origin``, each partner's ``distance_from_m`` is its spheroid distance from
    there (else ``None``).
    """
    at = at or dt.datetime.now(dt.UTC)
    distance = func.ST_Distance(Location.point, point_geography(office.position))
    distance_from: ColumnElement[Any] = (
        func.ST_Distance(Location.point, point_geography(query.origin))
        if query.origin is not None
        else null()
    )
    rows = (
        apply_filters(active_locations(), query.filters, at)
        .where(Organization.kind.in_(PARTNER_KINDS))
        .join(ConsularDistrict, _same_district(district))
        .where(func.ST_Covers(ConsularDistrict.area, func.geometry(Location.point)))
        .add_columns(distance.label("distance_m"), distance_from.label("distance_from_m"))
        .order_by(distance, Location.id)
        .options(*public_details())
    )
    if query.after is not None:
        rows = rows.where(keyset_after(distance, Location.id, query.after))
    if query.limit is not None:
        rows = rows.limit(query.limit)
    return [
        Partner(location, metres, from_m)
        for location, metres, from_m in session.execute(rows).all()
    ]


def _same_district(district: ConsularDistrict) -> ColumnElement[bool]:
    """SQL: the active district of ``district``'s office and nationality, by what it is and
    not by its id: ``flask districts compute`` replaces computed districts (new ids) in one
    transaction, and a request that read the old id must not then find nothing."""
    return and_(
        ConsularDistrict.location_id == district.location_id,
        ConsularDistrict.nationality_code == district.nationality_code,
        ConsularDistrict.archived_at.is_(None),
    )


def district_geometry(session: Session, district: ConsularDistrict) -> dict[str, Any] | None:
    """A district's area as a GeoJSON MultiPolygon for drawing (simplified when large),
    valid with its 5 decimals and oriented as RFC 7946 says (``polygons_geojson``): the
    office pages, their exports and the offline map all draw it from here."""
    area = ConsularDistrict.area
    simplified = case(
        (
            func.ST_NPoints(area) > DRAW_SIMPLIFY_ABOVE_POINTS,
            func.ST_SimplifyPreserveTopology(area, DRAW_SIMPLIFY_DEG),
        ),
        else_=area,
    )
    text = session.scalar(select(polygons_geojson(simplified, 5)).where(_same_district(district)))
    return json.loads(text) if text else None


@dataclass(frozen=True, slots=True)
class OfficeGroup:
    """The offices serving one nationality, for the list of consulates."""

    nationality: str
    offices: list[Location]


def offices_by_nationality(session: Session, nationality: str | None = None) -> list[OfficeGroup]:
    """Active consular offices grouped by each nationality they serve (a joint office is
    listed under each), groups by nationality code, offices by host country and city."""
    locations = session.scalars(
        active_locations()
        .where(Organization.kind.in_(CONSULAR_KINDS))
        .options(
            selectinload(Location.organization).selectinload(Organization.also_serves),
        )
        .order_by(Location.country_code, Location.city, Location.id)
    ).all()
    groups: dict[str, list[Location]] = {}
    for location in locations:
        for code in location.organization.nationalities:
            if nationality is None or code == nationality:
                groups.setdefault(code, []).append(location)
    return [OfficeGroup(code, groups[code]) for code in sorted(groups)]
