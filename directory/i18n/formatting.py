"""Numbers, distances, dates and times in the reader's language, from CLDR through Babel.

Where CLDR has no data for a language (Haitian Creole has no month names or relative-time
patterns there), the words come from our own catalogs instead of CLDR's placeholders
("2026 M03 3", "-3 d").
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal
from flask_babel import gettext, lazy_pgettext, ngettext

from directory.i18n.selection import current_language

NBSP = "\u00a0"

# Used only for a language whose CLDR data has no month names (see ``has_cldr_dates``).
MONTHS = (
    lazy_pgettext("month", "January"),
    lazy_pgettext("month", "February"),
    lazy_pgettext("month", "March"),
    lazy_pgettext("month", "April"),
    lazy_pgettext("month", "May"),
    lazy_pgettext("month", "June"),
    lazy_pgettext("month", "July"),
    lazy_pgettext("month", "August"),
    lazy_pgettext("month", "September"),
    lazy_pgettext("month", "October"),
    lazy_pgettext("month", "November"),
    lazy_pgettext("month", "December"),
)


@cache
def has_cldr_dates(language: str) -> bool:
    """CLDR names the months in ``language`` (not "M01")."""
    return Locale.parse(language).months["format"]["wide"][1] != "M01"


def decimal(value: float, digits: int = 1) -> str:
    """``1.2`` as "1,2" in Spanish, "1.2" in English; at most ``digits`` decimals."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current_language())


def km(value: float) -> str:
    """Kilometres as already rounded: "0,5 km", "15 km", "1.230 km"."""
    return decimal(value, 1 if value < 100 else 0) + NBSP + "km"


def long_date(value: dt.date) -> str:
    """ "3 de marzo de 2026", "March 3, 2026", "3 mars 2026", "3 mas 2026"."""
    language = current_language()
    if isinstance(value, dt.datetime):
        value = value.date()
    if has_cldr_dates(language):
        return format_date(value, "long", locale=language)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def time_of_day(value: dt.time | str) -> str:
    """A time of day as the reader writes it: "18:00", "6:00 PM". Opening hours are in the
    place's own time, so the value is shown as it is, never converted."""
    if isinstance(value, str):
        value = dt.time.fromisoformat(value)
    return format_time(value, "short", locale=current_language())


def relative_age(value: dt.date, today: dt.date) -> str:
    """How long ago, in the largest whole unit: "hace 3 meses", "2 years ago", "today".
    A date in the future (a clock ahead) reads "today": never "in 2 days" for the past."""
    if isinstance(value, dt.datetime):
        value = value.date()
    days = max((today - value).days, 0)
    language = current_language()
    if days == 0:
        return gettext("today")
    if has_cldr_dates(language):
        return format_timedelta(
            dt.timedelta(days=-days), granularity="day", add_direction=True, locale=language
        )
    if days < 31:
        return ngettext("%(num)d day ago", "%(num)d days ago", days)
    if days < 365:
        return ngettext("%(num)d month ago", "%(num)d months ago", round(days / 30.44))
    return ngettext("%(num)d year ago", "%(num)d years ago", round(days / 365.25))


# The languages of the directory, named by our catalogs where CLDR has no names in the
# reader's language (Haitian Creole).
LANGUAGE_NAMES = {
    "es": lazy_pgettext("language", "Spanish"),
    "en": lazy_pgettext("language", "English"),
    "fr": lazy_pgettext("language", "French"),
    "ht": lazy_pgettext("language", "Haitian Creole"),
}


def language_name(code: str) -> str:
    """An ISO 639 code as the reader calls the language ("ht" → "criollo haitiano"): CLDR's
    name, else our catalog's, else the French name for a Haitian Creole reader, else the
    code."""
    language = current_language()
    name = Locale.parse(language).languages.get(code)
    if name:
        return name
    if code in LANGUAGE_NAMES:
        return str(LANGUAGE_NAMES[code])
    if language == "ht":
        return Locale.parse("fr").languages.get(code) or code
    return code


def country_name(code: str, recorded: dict[str, str] | None = None) -> str:
    """A country's name in the reader's language: CLDR's where CLDR has one, else the name
    recorded with the country for that language, else CLDR's Spanish name."""
    language = current_language()
    names = Locale.parse(language).territories
    if code in names:
        return names[code]
    if recorded and recorded.get(language):
        return recorded[language]
    return Locale.parse("es").territories.get(code, code)
