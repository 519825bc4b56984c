"""Template filters: numbers and values as the pages show them."""

from __future__ import annotations

import re

from babel import Locale
from babel.dates import get_timezone_location

from directory.db import PositionPrecision
from directory.places import precision as precision_rules
from directory.places.opening_hours import WeekLine, week_lines
from directory.places.precision import ShownDistance
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


@public.app_template_filter("shown_distance")
def shown_distance(distance_m: float, precision: PositionPrecision) -> ShownDistance:
    """A straight-line distance rounded to what the place's point allows."""
    return precision_rules.shown_distance(distance_m, precision)


@public.app_template_filter("rounded_distance")
def rounded_distance(distance_m: float, precision: PositionPrecision) -> float:
    """Metres as the API gives them: rounded to the place's precision."""
    return precision_rules.rounded_distance_m(distance_m, precision)


@public.app_template_filter("km")
def km(value: float) -> str:
    """Kilometres as rounded already: "0.5 km", "15 km", "1,230 km"."""
    return f"{value:g} km" if value < 100 else f"{value:,.0f} km"


@public.app_template_filter("week")
def week(hours: dict | None) -> list[WeekLine]:
    """Weekly hours Monday first, equal consecutive days on one line."""
    return week_lines(hours)


@public.app_template_filter("language_name")
def language_name(code: str, locale: str = "en") -> str:
    """An ISO 639 code as a language's name ("ht" → "Haitian Creole"); the code when the
    name is not known."""
    return Locale.parse(locale).languages.get(code, code)


@public.app_template_filter("timezone_city")
def timezone_city(timezone: str, locale: str = "en") -> str:
    """An IANA zone as the city people know it by ("America/Mexico_City" → "Mexico City")."""
    return get_timezone_location(timezone, locale=locale, return_city=True)
