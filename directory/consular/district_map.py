"""Consular districts as a map layer: every active district of one nationality.

A nationality's districts partition each host country among its offices there, so the layer
is drawn one nationality at a time (all nationalities at once would stack dozens of
partitions on top of each other). The GeoJSON is built and simplified by PostGIS, and its
polygons are valid as written and oriented as RFC 7946 says (``geo.polygons.drawn``).
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.consular.models import ConsularDistrict
from directory.consular.services import serves
from directory.places.models import Country, Location, Organization
from geo.geojson import EMPTY_COLLECTION, feature_collection

# Degrees (about 1 km): plenty for a layer drawn at country scale, a fraction of the bytes.
LAYER_SIMPLIFY_DEG = 0.01


def districts_geojson(session: Session, nationality: str) -> str:
    """The active districts of ``nationality`` as GeoJSON text: ``location_id``, ``name``
    (the office), ``city``, ``host`` (country code), ``origin`` and ``source``."""
    rows = (
        select(
            func.ST_SimplifyPreserveTopology(ConsularDistrict.area, LAYER_SIMPLIFY_DEG).label(
                "geometry"
            ),
            Location.id.label("location_id"),
            func.coalesce(Location.name, Organization.name).label("name"),
            Location.city.label("city"),
            Location.country_code.label("host"),
            ConsularDistrict.origin.label("origin"),
            ConsularDistrict.source.label("source"),
        )
        .join(ConsularDistrict.location)
        .join(Location.organization)
        .where(
            ConsularDistrict.nationality_code == nationality,
            ConsularDistrict.archived_at.is_(None),
            Location.archived_at.is_(None),
            Organization.archived_at.is_(None),
        )
        .order_by(Location.id)
        .subquery()
    )
    query = feature_collection(
        rows,
        geometry="geometry",
        properties=["location_id", "name", "city", "host", "origin", "source"],
        max_decimal_digits=4,
        polygons=True,  # valid as written, RFC 7946 ring order
    )
    return session.scalar(query) or EMPTY_COLLECTION


def nationalities_with_offices(session: Session, language: str = "en") -> list[Country]:
    """Countries served by a consular office of the directory (joint offices included),
    by their name in ``language`` (accents ignored: "Émirats" among the E)."""
    has_office = (
        select(Organization.id)
        .where(Organization.archived_at.is_(None), serves(Country.code))
        .correlate(Country)
        .exists()
    )
    countries = session.scalars(select(Country).where(has_office)).all()
    return sorted(countries, key=lambda country: _sort_key(country.name(language)))


def _sort_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
