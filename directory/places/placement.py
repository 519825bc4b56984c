"""Checking that a location lies in the country it claims to be in.

A swapped latitude/longitude or a typo puts a shelter in the ocean or in the wrong country,
and a migrant who walks there finds nothing. Boundaries are simplified (and border towns sit
within a kilometre of the line), so a point counts as inside a country when it lies within
``TOLERANCE_M`` of its boundary.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.places.models import Country
from geo.coordinates import LonLat, point_geometry

TOLERANCE_M = 15_000.0
# A cheap bounding-box prefilter (degrees) so only nearby boundaries are measured.
_PREFILTER_DEG = 0.5


class PlacementError(ValueError):
    """The point lies outside the country it was given for, or outside every country."""


def countries_near(session: Session, position: LonLat) -> list[tuple[str, float]]:
    """Country codes within the tolerance of ``position``, nearest first, with metres."""
    point = point_geometry(position)
    distance = func.ST_Distance(func.Geography(Country.boundary), func.Geography(point)).label(
        "distance"
    )
    rows = session.execute(
        select(Country.code, distance)
        .where(func.ST_DWithin(Country.boundary, point, _PREFILTER_DEG))
        .order_by(distance)
    ).all()
    return [(code, metres) for code, metres in rows if metres <= TOLERANCE_M]


def check_placement(session: Session, position: LonLat, country_code: str) -> None:
    """Raise ``PlacementError`` unless ``position`` lies in (or next to) ``country_code``.

    Most points lie inside the country they name: that is one point-in-polygon test on its
    boundary. Only the others pay for spheroid distances to every boundary nearby.
    """
    inside = session.scalar(
        select(func.ST_Covers(Country.boundary, point_geometry(position))).where(
            Country.code == country_code
        )
    )
    if inside:
        return
    near = countries_near(session, position)
    if any(code == country_code for code, _ in near):
        return
    where = f"lon={position.lon}, lat={position.lat}"
    if not near:
        raise PlacementError(f"the point ({where}) lies outside every country in the directory")
    raise PlacementError(
        f"the point ({where}) lies in {near[0][0]}, not in {country_code}; "
        "check the coordinates (longitude first?) and the country"
    )


def country_at(session: Session, position: LonLat) -> Country | None:
    """The country ``position`` lies in: the one whose boundary covers it, else the nearest
    within ``TOLERANCE_M`` (simplified coasts and borders), else ``None`` (at sea)."""
    inside = session.scalars(
        select(Country).where(func.ST_Covers(Country.boundary, point_geometry(position)))
    ).first()
    if inside is not None:
        return inside
    near = countries_near(session, position)
    return session.get(Country, near[0][0]) if near else None


def country_of(session: Session, position: LonLat, country_code: str | None) -> Country | None:
    """The country a search starts in: the one a typed town belongs to when known (border
    towns can fall across a simplified line), else the one the position lies in."""
    if country_code:
        known = session.get(Country, country_code)
        if known is not None:
            return known
    return country_at(session, position)
