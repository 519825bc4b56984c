"""Coordinates: validation and conversion to PostGIS values.

Longitude comes first everywhere inside the code and in GeoJSON (``[lon, lat]``). Ranges are
checked here, before any value reaches SQL, so that a swapped pair or a NaN becomes a clear
error instead of a point in the wrong hemisphere.
"""

from __future__ import annotations

import math
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


def _finite(name: str, value: float | str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CoordinateError(name, "must be a number") from None
    if not math.isfinite(number):
        raise CoordinateError(name, "must be a finite number")
    return number


@dataclass(frozen=True, slots=True)
class LonLat:
    """A WGS84 position, longitude first."""

    lon: float
    lat: float

    @classmethod
    def parse(cls, lon: float | str, lat: float | str) -> LonLat:
        """Validate a longitude and a latitude (numbers or strings) and build a position."""
        lon_value = _finite("lon", lon)
        lat_value = _finite("lat", lat)
        if not -180.0 <= lon_value <= 180.0:
            raise CoordinateError("lon", "must be between -180 and 180")
        if not -90.0 <= lat_value <= 90.0:
            raise CoordinateError("lat", "must be between -90 and 90")
        return cls(lon_value, lat_value)

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
