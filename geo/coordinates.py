"""Coordinates: validation and conversion to PostGIS values.

Longitude comes first everywhere inside the code and in GeoJSON (``[lon, lat]``). Ranges are
checked here, before any value reaches SQL, so that a swapped pair or a NaN becomes a clear
error instead of a point in the wrong hemisphere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from geoalchemy2 import Geography, Geometry
from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import ColumnElement, cast, func

SRID = 4326


class CoordinateError(ValueError):
    """A coordinate that is not a finite number within its range."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


RANGES = {"lon": 180.0, "lat": 90.0}
AXIS_NAMES = {"lon": "longitude", "lat": "latitude"}


def coordinate(name: str, value: float | str) -> float:
    """``value`` as a longitude (``name="lon"``) or latitude (``"lat"``): a finite number in
    range, else ``CoordinateError`` naming it. The one check every coordinate goes through:
    query parameters, GeoJSON positions, seed files."""
    if isinstance(value, bool):
        raise CoordinateError(name, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CoordinateError(name, "must be a number") from None
    except OverflowError:  # an integer too large for a float: 10**400
        raise CoordinateError(name, "must be finite (not NaN or infinity)") from None
    if not math.isfinite(number):
        raise CoordinateError(name, "must be finite (not NaN or infinity)")
    limit = RANGES[name]
    if not -limit <= number <= limit:
        raise CoordinateError(
            name,
            f"{AXIS_NAMES[name]} {number} is not between {-limit:g} and {limit:g} "
            "(longitude first?)",
        )
    return number


@dataclass(frozen=True, slots=True)
class LonLat:
    """A WGS84 position, longitude first."""

    lon: float
    lat: float

    def __iter__(self) -> Iterator[float]:
        """``lon, lat = position``: longitude first, as everywhere."""
        yield self.lon
        yield self.lat

    @classmethod
    def parse(cls, lon: float | str, lat: float | str) -> LonLat:
        """Validate a longitude and a latitude (numbers or strings) and build a position."""
        return cls(coordinate("lon", lon), coordinate("lat", lat))

    def to_wkt_element(self) -> WKTElement:
        """The point as a value for a ``geography(Point,4326)`` or ``geometry`` column."""
        return WKTElement(f"POINT({self.lon!r} {self.lat!r})", srid=SRID)

    @classmethod
    def from_element(cls, element: WKBElement | WKTElement) -> LonLat:
        """Read a point back from what GeoAlchemy2 returns for a point column."""
        point = to_shape(element)
        if not isinstance(point, Point):
            raise TypeError(f"expected a point, got {point.geom_type}")
        return cls(point.x, point.y)


def point_geometry(position: LonLat) -> ColumnElement:
    """SQL ``ST_SetSRID(ST_MakePoint(lon, lat), 4326)`` with bound parameters: the one place
    a query builds a point from a position."""
    return func.ST_SetSRID(func.ST_MakePoint(position.lon, position.lat), SRID, type_=Geometry)


def point_geography(position: LonLat) -> ColumnElement:
    """The same point as ``geography``: distances in metres on the spheroid. A constant
    expression, so the GiST index serves KNN and ``ST_DWithin`` against it."""
    return cast(point_geometry(position), Geography)
