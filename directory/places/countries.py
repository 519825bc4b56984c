"""Countries: boundaries for the map."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.db import localized
from directory.places.models import Country
from geo.geojson import EMPTY_COLLECTION, feature_collection


@dataclass(frozen=True)
class OutlineDetail:
    """How finely the outlines are drawn: a simplification tolerance and the decimals kept."""

    tolerance_deg: float  # ST_SimplifyPreserveTopology's tolerance, in degrees
    decimal_digits: int  # decimals of the coordinates sent (finer than the tolerance)


# The levels of detail of the outlines, by the name the API takes (``detail=``). A degree is
# 256·2^z / 360 screen pixels at zoom z: 0.1° is about 1 px at zoom 4 and 2 px at zoom 5,
# 0.03° about 1.4 px at zoom 6. The maps load ``coarse`` first and ``fine`` once they are at
# zoom 6 or more (static/js/map-base.js). Measured on the demo data, as sent (Brotli level 5,
# tests/test_outlines.py): coarse 36.6 kB (163 kB raw), fine 137.4 kB (513 kB raw), made
# valid on their grids (``outlines_geojson``; before, 43.7 and 137.6 kB); tried and left:
# 0.05°/2 dp 100 kB, 0.2°/1 dp 32 kB, 0.3°/1 dp 28 kB.
OUTLINE_DETAILS: dict[str, OutlineDetail] = {
    "coarse": OutlineDetail(tolerance_deg=0.1, decimal_digits=1),  # zoom ≤ 5
    "fine": OutlineDetail(tolerance_deg=0.03, decimal_digits=2),  # zoom ≥ 6
}
DEFAULT_OUTLINE_DETAIL = "fine"  # what clients that send no ``detail`` have always had


def outlines_geojson(session: Session, detail: str = DEFAULT_OUTLINE_DETAIL) -> str:
    """Every country's simplified outline as GeoJSON text, built by PostGIS, at ``detail``
    (a key of ``OUTLINE_DETAILS``).

    Simplified, then made valid on the grid of the decimals sent and oriented
    (``geo.geojson.feature_collection`` with ``polygons``). Only simplified and rounded,
    16 of the 56 demo outlines were invalid at ``fine`` (Brazil, Greenland and the United
    States among them) and 36 at ``coarse``, where islets collapsed to lines; on the grid,
    what has no area is dropped instead. An islet with no area at all at ``coarse`` (Aruba,
    at one decimal) is sent with more decimals, so every country is drawn."""
    level = OUTLINE_DETAILS[detail]
    rows = select(
        func.ST_SimplifyPreserveTopology(Country.boundary, level.tolerance_deg).label("geometry"),
        Country.code,
        Country.names["en"].astext.label("name"),
    ).subquery()
    query = feature_collection(
        rows,
        geometry="geometry",
        properties=["code", "name"],
        max_decimal_digits=level.decimal_digits,
        polygons=True,  # valid at 1 or 2 decimals, RFC 7946 ring order
    )
    return session.scalar(query) or EMPTY_COLLECTION


def country_names(session: Session, locale: str = "en") -> dict[str, str]:
    """Every country's name by code (the names only: no boundary is read)."""
    rows = session.execute(select(Country.code, Country.names))
    return {code: localized(names, locale) or code for code, names in rows}
