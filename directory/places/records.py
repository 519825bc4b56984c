"""Single records as the public pages show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, selectinload

from directory.places.filters import active_locations
from directory.places.models import Location, Organization


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
