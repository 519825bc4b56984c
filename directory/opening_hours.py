"""Weekly opening hours: a small subset of OpenStreetMap's ``opening_hours`` syntax.

Seeds and imports write hours the way people already know them from OSM::

    24/7
    Mo-Fr 08:00-16:00; Sa 09:00-13:00
    Mo,We,Fr 09:00-12:00,14:00-17:00
    Fr-Sa 20:00-02:00          (past midnight: closes on the next day)

They are stored as JSON, in the place's local time: ``{"always": true}`` for 24/7, otherwise
``{"mo": [["08:00", "16:00"]], ...}`` with a key for each day that has hours.
"""

from __future__ import annotations

import re
from typing import Any

DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d|24:00"
_RANGE = re.compile(rf"^({_TIME})-({_TIME})$")


class OpeningHoursError(ValueError):
    """Hours that do not follow the supported syntax; the message says where."""


def parse(text: str) -> dict[str, Any] | None:
    """Parse OSM-style hours into the stored form; empty text means unknown (``None``)."""
    text = text.strip()
    if not text:
        return None
    if text == "24/7":
        return {"always": True}
    schedule: dict[str, list[list[str]]] = {}
    for rule in (part.strip() for part in text.split(";")):
        if not rule:
            continue
        days_part, _, times_part = rule.partition(" ")
        days = _parse_days(days_part)
        ranges = _parse_ranges(times_part.strip(), rule)
        for day in days:
            schedule.setdefault(day, []).extend(ranges)
    if not schedule:
        raise OpeningHoursError(f"no opening hours in {text!r}")
    return {day: sorted(schedule[day]) for day in DAYS if day in schedule}


def _parse_days(text: str) -> list[str]:
    days: list[str] = []
    for spec in text.split(","):
        first, _, last = spec.partition("-")
        start = _day_index(first, text)
        end = _day_index(last, text) if last else start
        span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
        days.extend(DAYS[index] for index in span)
    return days


def _day_index(name: str, context: str) -> int:
    key = name.strip().lower()
    if key not in DAYS:
        raise OpeningHoursError(f"unknown day {name!r} in {context!r} (use Mo Tu We Th Fr Sa Su)")
    return DAYS.index(key)


def _parse_ranges(text: str, rule: str) -> list[list[str]]:
    if not text:
        raise OpeningHoursError(f"no times in {rule!r} (expected e.g. 'Mo-Fr 08:00-16:00')")
    ranges = []
    for spec in text.split(","):
        match = _RANGE.match(spec.strip())
        if not match:
            raise OpeningHoursError(f"bad time range {spec!r} in {rule!r} (use HH:MM-HH:MM)")
        start, end = match.groups()
        if start == end:
            raise OpeningHoursError(f"empty time range {spec!r} in {rule!r}")
        ranges.append([start, end])
    return ranges
