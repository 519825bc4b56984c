"""Template filters: numbers and values as the pages show them."""

from __future__ import annotations

import re

from directory.public import public
from geo.coordinates import LonLat


@public.app_template_filter("dial")
def dial(phone: str) -> str:
    """A phone number as a dialable ``tel:`` target: digits and a leading +."""
    return re.sub(r"[^\d+]", "", phone)


@public.app_template_filter("lonlat")
def lonlat(point) -> tuple[float, float]:
    """A stored point as ``(lon, lat)``."""
    return tuple(LonLat.from_element(point))


@public.app_template_filter("route_km")
def route_km(metres: float) -> str:
    """A distance for people: "0.4 km", "8.2 km", "120 km"."""
    value = metres / 1000
    return f"{value:.1f} km" if value < 10 else f"{value:,.0f} km"
