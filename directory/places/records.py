"""Single records as the public pages show them, and the columns a public feature shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from directory.places.filters import active_locations
from directory.places.models import (
    Location,
    Network,
    Organization,
    ServiceCategory,
    location_categories,
    organization_networks,
)


def public_details(entity: type[Location] | Any = Location) -> tuple[Any, ...]:
    """Loader options for what a location's public feature shows (its categories, its
    organization's networks), in two extra queries for a whole list instead of one per row."""
    return (
        selectinload(entity.categories),
        selectinload(entity.organization).selectinload(Organization.networks),
    )


def public_location(session: Session, location_id: int) -> Location | None:
    """An active location (of an active organization) with what its page shows, or None."""
    return session.scalar(
        active_locations().where(Location.id == location_id).options(*public_details())
    )


def _codes(select_codes: Any) -> ColumnElement:
    """SQL ``ARRAY(SELECT code …)``: ``[]`` when nothing is linked (``array_agg`` would
    give NULL)."""
    return func.array(select_codes.scalar_subquery())


def _category_codes() -> ColumnElement:
    """The location's category codes by id: the order ``selectinload`` read them in
    (through the link table's primary key)."""
    link = location_categories.c
    return _codes(
        select(ServiceCategory.code)
        .join(location_categories, link.category_id == ServiceCategory.id)
        .where(link.location_id == Location.id)
        .order_by(ServiceCategory.id)
    )


def _network_codes() -> ColumnElement:
    """The organization's network codes by id (as ``selectinload`` read them)."""
    link = organization_networks.c
    return _codes(
        select(Network.code)
        .join(organization_networks, link.network_id == Network.id)
        .where(link.organization_id == Organization.id)
        .order_by(Network.id)
    )


def public_columns() -> tuple[ColumnElement, ...]:
    """The columns of a public feature (``directory.places.schemas.LocationSchema``'s
    fields, the point as ``lon``/``lat`` and the place's own ``name``) for a select over
    locations joined to their organization: one statement instead of an ORM entity, its
    point parsed by shapely and three ``selectinload`` queries (the nearest-help API, where
    those were most of a request's time at a million places).

    Closed vocabularies come back as their text (``type_coerce``: no enum per row).
    """
    text = String()
    return (
        Location.id,
        Location.name,
        Organization.name.label("organization"),
        type_coerce(Organization.kind, text).label("kind"),
        _network_codes().label("networks"),
        Organization.website.label("website"),
        Location.address,
        Location.city,
        Location.admin_area,
        Location.country_code,
        type_coerce(Location.position_precision, text).label("position_precision"),
        Location.timezone,
        _category_codes().label("categories"),
        Location.populations,
        Location.languages,
        type_coerce(Location.cost, text).label("cost"),
        Location.opening_hours,
        Location.hours_confirmed,
        Location.intake_hours,
        type_coerce(Location.status, text).label("status"),
        Location.status_until,
        Location.phones,
        Location.whatsapp,
        Location.email,
        Location.verified_at,
        Location.source,
        func.ST_X(func.geometry(Location.point)).label("lon"),
        func.ST_Y(func.geometry(Location.point)).label("lat"),
    )
