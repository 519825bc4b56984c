"""GeoJSON: built inside PostGIS on the way out, checked in Python on the way in.

For collections that can be large (country outlines, routes, many locations) the
FeatureCollection is assembled by the database with ``ST_AsGeoJSON`` and ``json_agg`` and
handed over as one text value: Python never parses geometries it only passes through.
Polygons go out as RFC 7946 wants them (``geo.polygons``): valid as written, exterior rings
counter-clockwise, holes clockwise, at most 6 decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, case, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.sql import FromClause

from geo.coordinates import CoordinateError, LonLat
from geo.polygons import MAX_DECIMAL_DIGITS, drawn, grid_size

EMPTY_COLLECTION = '{"type": "FeatureCollection", "features": []}'


def feature_collection(
    rows: FromClause,
    *,
    geometry: str,
    properties: Sequence[str],
    max_decimal_digits: int = 5,
    polygons: bool = False,
) -> Select[tuple[str]]:
    """A query returning one row: the FeatureCollection of ``rows`` as JSON text.

    ``rows`` is a subquery (or table) with a geometry column named ``geometry`` and the
    columns named in ``properties``, which become each feature's properties. An empty
    input gives ``{"type": "FeatureCollection", "features": []}``.

    Polygons leave oriented as RFC 7946 says (exterior rings counter-clockwise, holes
    clockwise) whatever ``polygons`` says. With ``polygons`` (a layer of areas: country
    outlines, districts) each geometry is also made valid on the grid of
    ``max_decimal_digits`` (``geo.polygons.drawn``) and sent as a MultiPolygon; one with no
    area on that grid (an islet at one decimal) is sent with ``MAX_DECIMAL_DIGITS``
    decimals instead, so every feature keeps a shape that is valid as written.
    """
    grid_size(max_decimal_digits)  # at most MAX_DECIMAL_DIGITS (RFC 7946, section 11.2)
    if polygons:
        on_grid = drawn(rows.c[geometry], max_decimal_digits).label("drawn_area")
        rows = select(*rows.c, on_grid).subquery("drawn_rows")
        shape = case(
            (
                func.ST_IsEmpty(rows.c.drawn_area),
                func.ST_AsGeoJSON(drawn(rows.c[geometry], MAX_DECIMAL_DIGITS), MAX_DECIMAL_DIGITS),
            ),
            else_=func.ST_AsGeoJSON(rows.c.drawn_area, max_decimal_digits),
        )
    else:
        oriented = func.ST_ForcePolygonCCW(rows.c[geometry])
        shape = func.ST_AsGeoJSON(oriented, max_decimal_digits)
    columns = rows.c
    feature = func.json_build_object(
        "type",
        "Feature",
        "geometry",
        shape.cast(JSON),
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


def polygons_geojson(area: ColumnElement, decimal_digits: int) -> ColumnElement[str]:
    """SQL: GeoJSON text of one area for drawing (a district, a corridor), valid with
    ``decimal_digits`` decimals and oriented as RFC 7946 says (``geo.polygons.drawn``)."""
    return func.ST_AsGeoJSON(drawn(area, decimal_digits), decimal_digits, type_=Text())


# --- reading GeoJSON geometries that people send -----------------------------------------


class GeometryError(ValueError):
    """A GeoJSON geometry that cannot be used; ``name`` is the part at fault (``body`` for
    the object itself, ``coordinates`` for what it holds)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def read_position(value: Any, where: str) -> LonLat:
    """``[lon, lat]`` (an altitude may follow) as a checked position; ``where`` names it."""
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise GeometryError("coordinates", f"{where} is not [lon, lat]")
    if any(isinstance(number, bool) or not isinstance(number, int | float) for number in value):
        raise GeometryError("coordinates", f"{where} must hold numbers")
    try:
        return LonLat.parse(value[0], value[1])
    except CoordinateError as error:
        raise GeometryError("coordinates", f"{where}: {error.name} {error.message}") from None


def _positions(value: Any, what: str, minimum: int, maximum: int | None) -> list[LonLat]:
    if not isinstance(value, list):
        raise GeometryError("coordinates", f"{what} must be a list of [lon, lat] positions")
    if len(value) < minimum:
        raise GeometryError("coordinates", f"{what} needs at least {minimum} positions")
    if maximum is not None and len(value) > maximum:
        raise GeometryError("coordinates", f"at most {maximum} positions are accepted")
    return [read_position(position, f"position {index}") for index, position in enumerate(value)]


def _line_string(coordinates: Any, max_positions: int | None) -> None:
    positions = _positions(coordinates, "a line", 2, max_positions)
    if len(set(positions)) < 2:
        raise GeometryError("coordinates", "the positions must not all be the same point")


def _polygon(coordinates: Any, max_positions: int | None) -> None:
    if not isinstance(coordinates, list) or not coordinates:
        raise GeometryError("coordinates", "a polygon must be a non-empty list of rings")
    for ring in coordinates:
        positions = _positions(ring, "a ring", 4, max_positions)
        if positions[0] != positions[-1]:
            raise GeometryError("coordinates", "a ring must end where it starts")


def _multi_polygon(coordinates: Any, max_positions: int | None) -> None:
    if not isinstance(coordinates, list) or not coordinates:
        raise GeometryError("coordinates", "a MultiPolygon must be a non-empty list of polygons")
    for polygon in coordinates:
        _polygon(polygon, max_positions)


_CHECKS = {"LineString": _line_string, "Polygon": _polygon, "MultiPolygon": _multi_polygon}


def read_geometry(
    data: Any, types: Sequence[str], *, max_positions: int | None = None
) -> dict[str, Any]:
    """A GeoJSON geometry of one of ``types`` (or a Feature holding one), checked.

    The one validator for geometries from outside (a line posted to the corridor search, an
    official district in a file): positions are ``[lon, lat]`` numbers in range, lines have
    two distinct positions, rings close. Returns ``{"type", "coordinates"}``; anything else
    raises ``GeometryError``.
    """
    wanted = " or ".join(types)
    if not isinstance(data, dict):
        raise GeometryError("body", f"must be a GeoJSON {wanted} or a Feature holding one")
    if data.get("type") == "Feature":
        data = data.get("geometry")
        if not isinstance(data, dict):
            raise GeometryError("body", "the Feature has no geometry")
    kind = data.get("type")
    if kind not in types:
        raise GeometryError("body", f"the geometry must be a {wanted}, not {kind}")
    _CHECKS[kind](data.get("coordinates"), max_positions)
    return {"type": kind, "coordinates": data["coordinates"]}
