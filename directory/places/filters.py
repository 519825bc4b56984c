"""Filters shared by every search over locations (nearest, map area, route corridor).

Values repeated within one filter are alternatives (``category=food&category=shelter``:
either); different filters must all hold. A place that names no population serves everyone,
but a population filter keeps only places that say they serve that group in particular
(a general shelter may not take unaccompanied minors).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, literal, select

from directory.db import Cost, OrganizationKind
from directory.places.models import (
    Location,
    Network,
    Organization,
    ServiceCategory,
    location_categories,
    organization_networks,
)


@dataclass(frozen=True, slots=True)
class LocationFilters:
    categories: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[OrganizationKind, ...] = ()
    networks: tuple[str, ...] = ()
    open_now: bool = False
    free: bool = False


def active_locations() -> Select:
    """Locations not archived, of organizations not archived."""
    return (
        select(Location)
        .join(Location.organization)
        .where(Location.archived_at.is_(None), Organization.archived_at.is_(None))
    )


def apply_filters(rows: Select, filters: LocationFilters, at: dt.datetime) -> Select:
    """Narrow a select over ``Location`` (joined to its organization) by ``filters``."""
    if filters.categories:
        rows = rows.where(
            exists()
            .where(location_categories.c.location_id == Location.id)
            .where(location_categories.c.category_id == ServiceCategory.id)
            .where(ServiceCategory.code.in_(filters.categories))
        )
    if filters.populations:
        rows = rows.where(_overlaps(Location.populations, filters.populations))
    if filters.languages:
        rows = rows.where(_overlaps(Location.languages, filters.languages))
    if filters.kinds:
        rows = rows.where(Organization.kind.in_(filters.kinds))
    if filters.networks:
        rows = rows.where(
            exists()
            .where(organization_networks.c.organization_id == Organization.id)
            .where(organization_networks.c.network_id == Network.id)
            .where(Network.code.in_(filters.networks))
        )
    if filters.free:
        rows = rows.where(Location.cost == Cost.FREE)
    if filters.open_now:
        # Only hours the organization confirmed can promise "open now" (opening_hours.py).
        rows = rows.where(Location.hours_confirmed.is_(True)).where(
            func.is_open_at(
                Location.opening_hours,
                Location.status,
                Location.status_until,
                Location.timezone,
                literal(at),
            )
        )
    return rows


def _overlaps(column, values: tuple[str, ...]):
    """``column && ARRAY[...]`` with the array typed like the column (text[] vs varchar[])."""
    return column.overlap(literal(list(values), column.type))
