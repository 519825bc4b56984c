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

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

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


# --- Evaluating hours at an instant -------------------------------------------------------
#
# The same rules are implemented in SQL (the ``is_open_at`` function created by migration
# 0003, used to filter searches before LIMIT); tests/test_open_now.py checks with hypothesis
# that both agree. Rules:
#   * a status other than "open" wins until ``status_until`` (forever when it has none);
#   * unknown hours (None) are never "open now": we cannot promise it;
#   * a range whose end is before its start runs past midnight into the next day;
#   * "24:00" as an end means midnight at the end of that day;
#   * hours the organization has not confirmed (typical hours from another source) never
#     make a place "open now": where they say open, the state is "probably_open" and
#     ``is_open`` is false. A filter is a promise, and a wrong "open now" sends a person to
#     a locked door at night; the page says "usually open at this time — call first".


@dataclass(frozen=True, slots=True)
class OpenState:
    """Whether a place is open at an instant and what changes next, in local time."""

    is_open: bool
    # "open", "always", "closed", "unknown", the status ("full", …), or "probably_open"
    # when unconfirmed hours say open (``always`` then tells whether they say 24/7).
    reason: str
    closes_at: str | None = None  # "18:00" when open and closing within the day
    opens_at: str | None = None  # "08:00" when closed and opening within the day
    until: dt.datetime | None = None  # end of a status like "full"
    confirmed: bool = True  # whether the organization confirmed the hours behind this
    always: bool = False  # the hours say 24/7


def _unconfirmed(state: OpenState) -> OpenState:
    """The same state read from typical hours: never "open now", at most "probably"."""
    if state.reason in ("open", "always"):
        return OpenState(
            False,
            "probably_open",
            closes_at=state.closes_at,
            confirmed=False,
            always=state.reason == "always",
        )
    if state.reason == "closed":
        return OpenState(False, "closed", opens_at=state.opens_at, confirmed=False)
    return state


def _ranges_covering(schedule: dict[str, Any], local: dt.datetime) -> list[str]:
    """End times of the ranges open at ``local`` (empty when closed)."""
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local.weekday() - 1) % 7]
    now = local.strftime("%H:%M")
    ends = []
    for start, end in schedule.get(today, []):
        if (end > start and start <= now < end) or (end < start and now >= start):
            ends.append(end)
    for start, end in schedule.get(yesterday, []):
        if end < start and now < end:
            ends.append(end)
    return ends


def _next_opening_today(schedule: dict[str, Any], local: dt.datetime) -> str | None:
    now = local.strftime("%H:%M")
    starts = [start for start, _ in schedule.get(DAYS[local.weekday()], []) if start > now]
    return min(starts, default=None)


def state_at(
    hours: dict[str, Any] | None,
    status: str,
    status_until: dt.datetime | None,
    timezone: str,
    at: dt.datetime,
    *,
    confirmed: bool = True,
) -> OpenState:
    """Evaluate a place's hours and status at the aware instant ``at``; hours that are not
    ``confirmed`` give at most "probably open"."""
    state = _state_from_hours(hours, status, status_until, timezone, at)
    return state if confirmed else _unconfirmed(state)


def _state_from_hours(
    hours: dict[str, Any] | None,
    status: str,
    status_until: dt.datetime | None,
    timezone: str,
    at: dt.datetime,
) -> OpenState:
    if status != "open" and (status_until is None or at < status_until):
        return OpenState(False, status, until=status_until)
    if hours is None:
        return OpenState(False, "unknown")
    if hours.get("always"):
        return OpenState(True, "always", always=True)
    local = at.astimezone(ZoneInfo(timezone))
    ends = _ranges_covering(hours, local)
    if ends:
        # The latest end among overlapping ranges; an end "before now" is tomorrow's.
        now = local.strftime("%H:%M")
        closes_at = max(ends, key=lambda end: (end <= now, end))
        return OpenState(True, "open", closes_at=closes_at)
    return OpenState(False, "closed", opens_at=_next_opening_today(hours, local))


def is_open(
    hours: dict[str, Any] | None,
    status: str,
    status_until: dt.datetime | None,
    timezone: str,
    at: dt.datetime,
) -> bool:
    return state_at(hours, status, status_until, timezone, at).is_open


@dataclass(frozen=True, slots=True)
class WeekLine:
    """Days ``first``..``last`` (keys of ``DAYS``) that share ``ranges``; no ranges: closed."""

    first: str
    last: str
    ranges: tuple[tuple[str, str], ...]


def week_lines(hours: dict[str, Any] | None) -> list[WeekLine]:
    """A weekly schedule as people read it: Monday first, and consecutive days with the same
    hours on one line ("Monday to Friday 08:00–14:00", "Saturday and Sunday closed").
    Empty for unknown hours and for 24/7 (the page says those in words)."""
    if not hours or hours.get("always"):
        return []
    lines: list[WeekLine] = []
    for day in DAYS:
        ranges = tuple((start, end) for start, end in hours.get(day, []))
        if lines and lines[-1].ranges == ranges:
            lines[-1] = WeekLine(lines[-1].first, day, ranges)
        else:
            lines.append(WeekLine(day, day, ranges))
    return lines
