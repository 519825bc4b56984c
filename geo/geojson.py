"""GeoJSON built inside PostGIS.

For collections that can be large (country outlines, routes, many locations) the
FeatureCollection is assembled by the database with ``ST_AsGeoJSON`` and ``json_agg`` and
handed over as one text value: Python never parses geometries it only passes through.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, Text, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.sql import FromClause


def feature_collection(
    rows: FromClause,
    *,
    geometry: str,
    properties: Sequence[str],
    max_decimal_digits: int = 5,
) -> Select[tuple[str]]:
    """A query returning one row: the FeatureCollection of ``rows`` as JSON text.

    ``rows`` is a subquery (or table) with a geometry/geography column named ``geometry``
    and the columns named in ``properties``, which become each feature's properties.
    An empty input gives ``{"type": "FeatureCollection", "features": []}``.
    """
    columns = rows.c
    feature = func.json_build_object(
        "type",
        "Feature",
        "geometry",
        func.ST_AsGeoJSON(columns[geometry], max_decimal_digits).cast(JSON),
        "properties",
        func.json_build_object(*[part for name in properties for part in (name, columns[name])]),
    )
    collection = func.json_build_object(
        "type",
        "FeatureCollection",
        "features",
        func.coalesce(func.json_agg(feature), literal_column("'[]'::json")),
    )
    return select(collection.cast(Text)).select_from(rows)
