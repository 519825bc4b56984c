"""IANA time zones from coordinates, offline.

A location's opening hours are in its own local time, so "open now" needs the location's
time zone. It is derived from the point (never typed by hand, which goes stale or wrong)
with timezonefinder, whose boundary data ships inside the package: no network at run time.
"""

from __future__ import annotations

from functools import cache

from timezonefinder import TimezoneFinder


@cache
def _finder() -> TimezoneFinder:
    # Loading the boundary data takes a moment; do it once per process, on first use.
    return TimezoneFinder()


def timezone_at(lon: float, lat: float) -> str:
    """The IANA time zone name at a point, e.g. ``America/Mexico_City``.

    Points at sea get the nautical zone (``Etc/GMT+6``) that timezonefinder reports, so the
    answer is never empty.
    """
    name = _finder().timezone_at(lng=lon, lat=lat)
    if name is None:  # pragma: no cover - timezonefinder covers the whole globe
        raise ValueError(f"no time zone known at lon={lon}, lat={lat}")
    return name
