"""Template filters: numbers, dates and values as the pages show them, in the reader's
language (the locale rules themselves are in ``directory/i18n/formatting.py``)."""

from __future__ import annotations

import datetime as dt
import re

from babel import Locale
from babel.dates import get_timezone_location

from directory.db import PositionPrecision
from directory.i18n import formatting as locale_format
from directory.i18n.selection import current_language
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


def _kilometres(number: str) -> str:
    """A formatted number with the unit, after an ordinary space as the pages have always
    written it ("0.5 km"; ``directory.i18n.formatting.km`` uses a no-break space)."""
    return f"{number} km"


@public.app_template_filter("route_km")
def route_km(metres: float) -> str:
    """A distance for people: "0.4 km", "8.2 km", "120 km"; "0,4 km" in Spanish."""
    value = metres / 1000
    return _kilometres(locale_format.decimal(value, 1 if value < 10 else 0))


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
    """Kilometres as rounded already: "0.5 km", "15 km", "1,230 km"; "0,5 km" in Spanish."""
    return _kilometres(locale_format.decimal(value, 1 if value < 100 else 0))


@public.app_template_filter("number")
def number(value: float, digits: int = 0) -> str:
    """A number in the reader's way: "1,230" in English, "1.230" in Spanish."""
    return locale_format.decimal(value, digits)


@public.app_template_filter("long_date")
def long_date(value: dt.date) -> str:
    """A date spelled out: "March 3, 2026", "3 de marzo de 2026"."""
    return locale_format.long_date(value)


@public.app_template_filter("relative_age")
def relative_age(value: dt.date) -> str:
    """How long ago a date was, from today (UTC): "hace 3 meses", "2 years ago"."""
    return locale_format.relative_age(value, dt.datetime.now(dt.UTC).date())


@public.app_template_filter("time_of_day")
def time_of_day(value: dt.time | str) -> str:
    """An "HH:MM" of the place's own time as the reader writes times: "18:00", "6:00 PM"."""
    return locale_format.time_of_day(value)


@public.app_template_filter("week")
def week(hours: dict | None) -> list[WeekLine]:
    """Weekly hours Monday first, equal consecutive days on one line."""
    return week_lines(hours)


@public.app_template_filter("language_name")
def language_name(code: str, locale: str | None = None) -> str:
    """An ISO 639 code as a language's name in the reader's language ("ht" → "Haitian
    Creole", "criollo haitiano"); the code when the name is not known."""
    if locale is None:
        return locale_format.language_name(code)
    return Locale.parse(locale).languages.get(code, code)


@public.app_template_filter("timezone_city")
def timezone_city(timezone: str, locale: str | None = None) -> str:
    """An IANA zone as the city people know it by ("America/Mexico_City" → "Mexico City",
    "Ciudad de México")."""
    return get_timezone_location(timezone, locale=locale or current_language(), return_city=True)
