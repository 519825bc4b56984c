"""Editing a location (issue 12, point 3), without Flask: checking a point the way the loader
does, turning a week as a person fills it in into the stored ``opening_hours``, and saving
through ``records.apply_edit`` (version check, audit entry) with the consular districts
recomputed when a consular office moved.

Issue 15 adds what a referral needs: a consular office's 24/7 protection line (only a
consular office has one) and, per language, who a site admits and what to bring, each with
the language it was written in (the database keeps that language only with a text in it).
The CSV import checks the same rules with the same functions.

Problems are returned as ``Problem`` values (the workspace words them in the reader's
language), never as English sentences, so the same checks serve any face.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from directory.consular.districts import Group, recompute_groups
from directory.db import CONSULAR_KINDS, OrganizationKind
from directory.places.models import Location
from directory.places.opening_hours import DAYS
from directory.places.placement import PlacementError, check_placement, countries_near
from directory.records import apply_edit, archive, restore
from geo.coordinates import LonLat
from geo.timezones import timezone_at

# What an organization's own editor may change (issue 12: "status such as full until, hours,
# capacity, phones, and nothing else"); everything else needs the right to edit the record.
LIMITED_FIELDS = frozenset(
    {"status", "status_until", "opening_hours", "hours_confirmed", "capacity", "phones"}
)
# Every field the location form can change (the service refuses any other).
EDITABLE_FIELDS = LIMITED_FIELDS | frozenset(
    {
        "name",
        "address",
        "city",
        "admin_area",
        "country_code",
        "point",
        "position_precision",
        "whatsapp",
        "email",
        "cost",
        "languages",
        "populations",
        "categories",
        "protection_phone",
        "admission_rules",
        "admission_rules_language",
        "what_to_bring",
        "what_to_bring_language",
    }
)

# The texts kept per language with the language each was written in (issue 15), by field:
# the form and the import set both together, as the database checks them together.
LOCALIZED_TEXTS = {
    "admission_rules": "admission_rules_language",
    "what_to_bring": "what_to_bring_language",
}
# The longest such text (characters), as for the notes an import brings.
TEXT_LIMIT = 5000

# One phone number as people write it: digits, spaces, + - ( ) . (the form's phones too).
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().-]{3,30}$")

_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


class Problem(enum.StrEnum):
    """Something a person must put right before a location is saved."""

    POINT_OUTSIDE_COUNTRY = "point_outside_country"  # the point lies in another country
    POINT_AT_SEA = "point_at_sea"  # outside every country of the directory
    TIME_ZONE_UNKNOWN = "time_zone_unknown"
    TIME_INVALID = "time_invalid"
    TIME_MISSING = "time_missing"
    ENDS_BEFORE_START = "ends_before_start"
    RANGES_OVERLAP = "ranges_overlap"
    UNTIL_PAST = "until_past"
    PHONE_INVALID = "phone_invalid"
    NOT_CONSULAR = "not_consular"  # a protection line for a place that is no consular office
    ORIGINAL_MISSING = "original_missing"  # "written in" a language that has no text
    ORIGINAL_UNSAID = "original_unsaid"  # texts in several languages, the original not said


class ChangesRefused(ValueError):
    """The changes break a rule the caller should have checked first (``problems``: field →
    ``Problem``): nothing was written. The form and the import check before saving, so a
    person never meets this; it keeps another caller from reaching the database's CHECK."""

    def __init__(self, problems: Mapping[str, Problem]) -> None:
        self.problems = dict(problems)
        listed = ", ".join(f"{name}: {problem}" for name, problem in sorted(self.problems.items()))
        super().__init__(f"refused: {listed}")


class FieldsNotAllowed(PermissionError):
    """The edit touches fields the acting user may not change (an organization's editor
    changing a location's name, say): nothing was written."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = sorted(fields)
        super().__init__(f"not allowed to change: {', '.join(self.fields)}")


# --- the point ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PointCheck:
    """The point's problem (None: fine), the country it lies in (when it lies in one) and
    the IANA time zone derived from it, as the loader derives them."""

    problem: Problem | None
    found_country: str | None
    timezone: str | None


def check_point(session: Session, position: LonLat, country_code: str) -> PointCheck:
    """Whether ``position`` lies in (or within the loader's tolerance of) ``country_code``,
    and the time zone the record will get. The same rule as the seed loader
    (``placement.check_placement``)."""
    zone = timezone_at(position.lon, position.lat)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return PointCheck(Problem.TIME_ZONE_UNKNOWN, None, zone)
    try:
        check_placement(session, position, country_code)
    except PlacementError:
        near = countries_near(session, position)
        if not near:
            return PointCheck(Problem.POINT_AT_SEA, None, zone)
        return PointCheck(Problem.POINT_OUTSIDE_COUNTRY, near[0][0], zone)
    return PointCheck(None, country_code, zone)


# --- opening hours ------------------------------------------------------------------------


class HoursMode(enum.StrEnum):
    UNKNOWN = "unknown"  # stored as None
    ALWAYS = "always"  # 24/7
    WEEKLY = "weekly"  # day by day


class DayState(enum.StrEnum):
    CLOSED = "closed"
    ALL_DAY = "all_day"  # open 24 hours that day
    HOURS = "hours"  # one or two time ranges
    SAME_AS_MONDAY = "same_as_monday"


@dataclass
class DayInput:
    """One day as filled in: its state and up to two ranges (start, end) as "HH:MM"."""

    state: DayState = DayState.CLOSED
    ranges: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class WeekInput:
    mode: HoursMode = HoursMode.UNKNOWN
    days: dict[str, DayInput] = field(default_factory=dict)


ALL_DAY = ("00:00", "24:00")


def week_from_hours(hours: Mapping[str, Any] | None) -> WeekInput:
    """The stored hours as the form shows them. A range past midnight (22:00–02:00) is shown
    as two: until 24:00 that day, and from 00:00 the next."""
    if hours is None:
        return WeekInput(HoursMode.UNKNOWN, {day: DayInput() for day in DAYS})
    if hours.get("always"):
        return WeekInput(HoursMode.ALWAYS, {day: DayInput() for day in DAYS})
    per_day: dict[str, list[tuple[str, str]]] = {day: [] for day in DAYS}
    for index, day in enumerate(DAYS):
        for start, end in hours.get(day, []):
            if end < start and end != "00:00":
                per_day[day].append((start, "24:00"))
                per_day[DAYS[(index + 1) % 7]].append(("00:00", end))
            else:
                per_day[day].append((start, "24:00" if end == "00:00" else end))
    days = {}
    for day in DAYS:
        ranges = sorted(per_day[day])
        if not ranges:
            days[day] = DayInput(DayState.CLOSED)
        elif ranges == [ALL_DAY]:
            days[day] = DayInput(DayState.ALL_DAY)
        else:
            days[day] = DayInput(DayState.HOURS, ranges)
    return WeekInput(HoursMode.WEEKLY, days)


def hours_from_week(week: WeekInput) -> tuple[dict[str, Any] | None, dict[str, list[Problem]]]:
    """The week as stored (``{"mo": [["08:00", "16:00"]], …}``, ``{"always": true}``, or
    None for unknown hours) and the problems by day key; the hours mean nothing when there
    are problems."""
    if week.mode == HoursMode.UNKNOWN:
        return None, {}
    if week.mode == HoursMode.ALWAYS:
        return {"always": True}, {}
    problems: dict[str, list[Problem]] = {}
    schedule: dict[str, list[list[str]]] = {}
    for day in DAYS:
        entry = week.days.get(day, DayInput())
        if entry.state == DayState.SAME_AS_MONDAY and day != "mo":
            entry = week.days.get("mo", DayInput())
        ranges, found = _day_ranges(entry)
        if found:
            problems[day] = found
        elif ranges:
            schedule[day] = ranges
    return schedule, problems


def _day_ranges(entry: DayInput) -> tuple[list[list[str]], list[Problem]]:
    if entry.state == DayState.CLOSED:
        return [], []
    if entry.state == DayState.ALL_DAY:
        return [list(ALL_DAY)], []
    filled = [(start.strip(), end.strip()) for start, end in entry.ranges]
    filled = [(start, end) for start, end in filled if start or end]
    if not filled:
        return [], [Problem.TIME_MISSING]
    problems: list[Problem] = []
    for start, end in filled:
        if not start or not end:
            problems.append(Problem.TIME_MISSING)
        elif not _TIME.match(start) or not _TIME.match(end) or start == "24:00":
            problems.append(Problem.TIME_INVALID)
        elif end <= start:
            problems.append(Problem.ENDS_BEFORE_START)
    if problems:
        return [], sorted(set(problems), key=list(Problem).index)
    ordered = sorted(filled)
    for (_, first_end), (second_start, _) in itertools.pairwise(ordered):
        if second_start < first_end:
            return [], [Problem.RANGES_OVERLAP]
    return [[start, end] for start, end in ordered], []


# --- what a referral needs (issue 15) -------------------------------------------------------


def check_protection_phone(kind: OrganizationKind, number: str | None) -> Problem | None:
    """A 24/7 protection line belongs to a consular office (Vienna Convention, art. 36: the
    authorities notify the consulate of a detained national), and is one phone number.
    None (no line) is always fine: the pages then say it is not known."""
    if not number:
        return None
    if kind not in CONSULAR_KINDS:
        return Problem.NOT_CONSULAR
    if not PHONE_PATTERN.match(number):
        return Problem.PHONE_INVALID
    return None


def original_language(
    texts: Mapping[str, str], stated: str | None
) -> tuple[str | None, Problem | None]:
    """The language a per-language text was written in, as the database will keep it: the
    one ``stated``, or the only language there is when none is stated; None when there is
    no text at all (a language with nothing written in it means nothing). A stated language
    without a text, or several texts and none stated, is a problem."""
    if not texts:
        return None, None
    if stated:
        return (stated, None) if stated in texts else (None, Problem.ORIGINAL_MISSING)
    if len(texts) == 1:
        return next(iter(texts)), None
    return None, Problem.ORIGINAL_UNSAID


def referral_problems(location: Location, changes: Mapping[str, Any]) -> dict[str, Problem]:
    """What is wrong with the issue-15 fields of ``changes`` for ``location`` (field name →
    problem); the fields ``changes`` leaves out are taken as the record has them."""
    problems: dict[str, Problem] = {}
    if "protection_phone" in changes:
        problem = check_protection_phone(location.organization.kind, changes["protection_phone"])
        if problem is not None:
            problems["protection_phone"] = problem
    for texts_field, language_field in LOCALIZED_TEXTS.items():
        if texts_field not in changes and language_field not in changes:
            continue
        texts = changes.get(texts_field, getattr(location, texts_field)) or {}
        language = changes.get(language_field, getattr(location, language_field))
        if language is not None and language not in texts:
            problems[language_field] = Problem.ORIGINAL_MISSING
        elif language is None and len(texts) > 1:
            problems[language_field] = Problem.ORIGINAL_UNSAID
    return problems


# --- status ------------------------------------------------------------------------------


def status_end(day: dt.date, at: dt.time | None, timezone: str) -> dt.datetime:
    """When a status "until ``day``" ends, in the place's own time: at ``at`` that day, or
    at the end of the day (midnight after it) when no time is given."""
    zone = ZoneInfo(timezone)
    if at is None:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
    return dt.datetime.combine(day, at, tzinfo=zone)


def check_until(until: dt.datetime | None, now: dt.datetime) -> Problem | None:
    return Problem.UNTIL_PAST if until is not None and until <= now else None


# --- saving -------------------------------------------------------------------------------


@dataclass
class SaveResult:
    """What a save did: the location, and the consular districts it recomputed (groups
    as (nationality, host country), and how long that took)."""

    location: Location
    recomputed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def is_consular_office(location: Location) -> bool:
    return location.organization.kind in CONSULAR_KINDS


def save_location(
    session: Session,
    location: Location,
    changes: Mapping[str, Any],
    *,
    expected_version: int,
    user_id: int | None,
    allowed: frozenset[str] = EDITABLE_FIELDS,
) -> SaveResult:
    """Apply ``changes`` (checked by the caller) if the location is still at
    ``expected_version`` (else ``StaleEdit``); refuse fields outside ``allowed``
    (``FieldsNotAllowed``, nothing written), and a protection line or a "written in" the
    rules refuse (``ChangesRefused``, nothing written). A consular office that moved (or
    changed country) gets its districts recomputed in the same transaction. The caller
    commits."""
    refused = set(changes) - (allowed & EDITABLE_FIELDS)
    if refused:
        raise FieldsNotAllowed(refused)
    problems = referral_problems(location, changes)
    if problems:
        raise ChangesRefused(problems)
    old_host = location.country_code
    old_point = LonLat.from_element(location.point)
    apply_edit(session, location, changes, expected_version=expected_version, user_id=user_id)
    moved = LonLat.from_element(location.point) != old_point or location.country_code != old_host
    result = SaveResult(location)
    if moved and is_consular_office(location) and location.archived_at is None:
        result.recomputed, result.seconds = recompute_for(session, location, {old_host})
    return result


def recompute_for(
    session: Session, location: Location, other_hosts: Iterable[str] = ()
) -> tuple[list[tuple[str, str]], float]:
    """Recompute the computed districts of every nationality the office serves, in its host
    country (and in ``other_hosts``, where it was before a move); with the seconds taken."""
    started = time.perf_counter()
    hosts = {location.country_code, *other_hosts}
    groups = [
        (nationality, host) for nationality in location.organization.nationalities for host in hosts
    ]
    recompute_groups(session, [Group(nationality, host) for nationality, host in groups])
    return sorted(groups), time.perf_counter() - started


def archive_location(
    session: Session, location: Location, expected_version: int, user_id: int | None
) -> SaveResult:
    """Archive the location (it leaves every public search); a consular office's group
    is recomputed without it."""
    archive(session, location, expected_version, user_id)
    result = SaveResult(location)
    if is_consular_office(location):
        result.recomputed, result.seconds = recompute_for(session, location)
    return result


def restore_location(
    session: Session, location: Location, expected_version: int, user_id: int | None
) -> SaveResult:
    restore(session, location, expected_version, user_id)
    result = SaveResult(location)
    if is_consular_office(location):
        result.recomputed, result.seconds = recompute_for(session, location)
    return result
