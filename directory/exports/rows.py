"""The rows every public export writes: one per public location, read in batches.

Plain column tuples, not ORM objects: nothing enters the session's identity map, and the
categories come aggregated by the database, so one round trip per batch serves a row
completely. ``yield_per`` makes psycopg2 read through a server-side cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Select, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.orm import Session

from directory.places.models import (
    Location,
    Organization,
    ServiceCategory,
    location_categories,
)
from directory.places.opening_hours import DAYS

# Rows per fetch from the server-side cursor: large enough to keep round trips few, small
# enough that a batch weighs a few megabytes at most.
BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class PublicLocation:
    """What an export says about one public location (no contact person, by construction)."""

    id: int
    external_id: str
    name: str
    organization: str
    kind: str
    categories: list[str]
    address: str | None
    city: str
    admin_area: str | None
    country: str
    lon: float
    lat: float
    phones: list[str]
    whatsapp: str | None
    email: str | None
    website: str | None
    hours: str | None
    hours_confirmed: bool
    status: str
    verified_at: dt.date | None
    position_precision: str


def public_rows_query() -> Select[Any]:
    """Every public location with its organization and category codes, in id order."""
    geometry = cast(Location.point, Geometry)
    categories = (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(ServiceCategory.code, ServiceCategory.position)),
                array([], type_=ServiceCategory.code.type),
            )
        )
        .select_from(location_categories)
        .join(ServiceCategory, ServiceCategory.id == location_categories.c.category_id)
        .where(location_categories.c.location_id == Location.id)
        .scalar_subquery()
    )
    return (
        select(
            Location.id,
            Location.external_id,
            func.coalesce(Location.name, Organization.name),
            Organization.name,
            Organization.kind,
            categories,
            Location.address,
            Location.city,
            Location.admin_area,
            Location.country_code,
            func.ST_X(geometry),
            func.ST_Y(geometry),
            Location.phones,
            Location.whatsapp,
            Location.email,
            Organization.website,
            Location.opening_hours,
            Location.hours_confirmed,
            Location.status,
            Location.verified_at,
            Location.position_precision,
        )
        .join(Location.organization)
        .where(Location.archived_at.is_(None), Organization.archived_at.is_(None))
        .order_by(Location.id)
    )


def count_public_locations(session: Session) -> int:
    """How many rows an export will write (for a progress bar)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Location)
            .join(Location.organization)
            .where(Location.archived_at.is_(None), Organization.archived_at.is_(None))
        )
        or 0
    )


def public_rows(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[PublicLocation]:
    """The public locations one by one, fetched ``batch_size`` at a time."""
    result = session.execute(public_rows_query().execution_options(yield_per=batch_size))
    for row in result:
        (
            location_id,
            external_id,
            name,
            organization,
            kind,
            categories,
            address,
            city,
            admin_area,
            country,
            lon,
            lat,
            phones,
            whatsapp,
            email,
            website,
            opening_hours,
            hours_confirmed,
            status,
            verified_at,
            precision,
        ) = row
        yield PublicLocation(
            id=location_id,
            external_id=external_id,
            name=name,
            organization=organization,
            kind=kind.value,
            categories=list(categories or []),
            address=address,
            city=city,
            admin_area=admin_area,
            country=country,
            lon=round(lon, 6),
            lat=round(lat, 6),
            phones=list(phones or []),
            whatsapp=whatsapp,
            email=email,
            website=website,
            hours=hours_text(opening_hours),
            hours_confirmed=bool(hours_confirmed),
            status=status.value,
            verified_at=verified_at,
            position_precision=precision.value,
        )


def hours_text(hours: dict[str, Any] | None) -> str | None:
    """Stored hours in the OpenStreetMap-style syntax the CSV import reads back
    (``"Mo-Fr 08:00-16:00; Sa 09:00-13:00"``, ``"24/7"``); None when unknown.

    Consecutive days with the same ranges share one rule, so a file reads the way people
    write hours (and ``opening_hours.parse`` gives the same schedule back)."""
    if not hours:
        return None
    if hours.get("always"):
        return "24/7"
    rules: list[str] = []
    run: list[str] = []
    ranges: tuple[tuple[str, str], ...] = ()

    def close_run() -> None:
        if run and ranges:
            days = run[0].title() if len(run) == 1 else f"{run[0].title()}-{run[-1].title()}"
            rules.append(f"{days} " + ",".join(f"{start}-{end}" for start, end in ranges))

    for day in DAYS:
        day_ranges = tuple((start, end) for start, end in hours.get(day, []))
        if run and day_ranges == ranges:
            run.append(day)
            continue
        close_run()
        run, ranges = [day], day_ranges
    close_run()
    return "; ".join(rules) or None
