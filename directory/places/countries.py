"""Countries: boundaries for the map."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.db import localized
from directory.places.models import Country
from geo.geojson import EMPTY_COLLECTION, feature_collection

# Degrees: enough detail at the zoom levels where outlines matter, a fraction of the bytes.
OUTLINE_SIMPLIFY_DEG = 0.03
# Two decimals (about 1 km) are finer than the simplification: the same lines, and 140 KB
# gzipped instead of 185 KB for the demo countries (the desktop's first load of /near must
# stay under 250 KB: tests/test_page_weight.py).
OUTLINE_DECIMAL_DIGITS = 2


def outlines_geojson(session: Session) -> str:
    """Every country's simplified outline as GeoJSON text, built by PostGIS."""
    rows = select(
        func.ST_Multi(
            func.ST_SimplifyPreserveTopology(Country.boundary, OUTLINE_SIMPLIFY_DEG)
        ).label("geometry"),
        Country.code,
        Country.names["en"].astext.label("name"),
    ).subquery()
    query = feature_collection(
        rows,
        geometry="geometry",
        properties=["code", "name"],
        max_decimal_digits=OUTLINE_DECIMAL_DIGITS,
    )
    return session.scalar(query) or EMPTY_COLLECTION


def country_names(session: Session, locale: str = "en") -> dict[str, str]:
    """Every country's name by code (the names only: no boundary is read)."""
    rows = session.execute(select(Country.code, Country.names))
    return {code: localized(names, locale) or code for code, names in rows}
