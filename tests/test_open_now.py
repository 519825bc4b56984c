""" "Open now": the SQL function and the Python evaluation agree, across time zones,
midnight, 24-hour places and statuses with an expiry."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from directory.db import OperationalStatus
from directory.places.filters import LocationFilters
from directory.places.nearest import NearestQuery, find_nearest
from directory.places.opening_hours import DAYS, is_open, parse, state_at
from geo.coordinates import LonLat
from tests import factories

ZONES = [
    "America/Mexico_City",
    "America/Tijuana",
    "America/Bogota",
    "America/Port-au-Prince",
    "America/New_York",
    "America/Panama",
]
MX = "America/Mexico_City"


def _sql_is_open(session, hours, status, until, tz, at) -> bool:
    return session.scalar(
        text("SELECT is_open_at(CAST(:hours AS jsonb), :status, :until, :tz, :at)"),
        {
            "hours": None if hours is None else json.dumps(hours),
            "status": status,
            "until": until,
            "tz": tz,
            "at": at,
        },
    )


times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))
ranges = st.tuples(times, st.one_of(times, st.just("24:00"))).filter(lambda r: r[0] != r[1])
schedules = st.one_of(
    st.none(),
    st.just({"always": True}),
    st.dictionaries(
        st.sampled_from(DAYS), st.lists(ranges.map(list), min_size=1, max_size=3), min_size=1
    ),
)
instants = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),
    max_value=dt.datetime(2027, 12, 31),
    timezones=st.just(dt.UTC),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hours=schedules,
    status=st.sampled_from([s.value for s in OperationalStatus]),
    until_offset_h=st.one_of(st.none(), st.integers(-72, 72)),
    tz=st.sampled_from(ZONES),
    at=instants,
)
def test_sql_and_python_agree(db_session, hours, status, until_offset_h, tz, at):
    until = None if until_offset_h is None else at + dt.timedelta(hours=until_offset_h)
    python = is_open(hours, status, until, tz, at)
    assert _sql_is_open(db_session, hours, status, until, tz, at) is python


def _local(tz: str, *args: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo(tz))


# 2026-11-27 is a Friday.
@pytest.mark.parametrize(
    ("hours", "local", "expected"),
    [
        ("Fr 20:00-02:00", (2026, 11, 27, 19, 59), False),
        ("Fr 20:00-02:00", (2026, 11, 27, 23, 30), True),
        ("Fr 20:00-02:00", (2026, 11, 28, 1, 59), True),  # Saturday, past midnight
        ("Fr 20:00-02:00", (2026, 11, 28, 2, 0), False),
        ("Mo-Su 00:00-24:00", (2026, 11, 27, 23, 59), True),
        ("Mo-Su 00:00-24:00", (2026, 11, 28, 0, 0), True),
        ("24/7", (2026, 11, 29, 3, 0), True),
        ("Mo-Fr 08:00-16:00", (2026, 11, 28, 10, 0), False),  # Saturday
        ("Mo-Fr 08:00-16:00", (2026, 11, 27, 16, 0), False),  # closes at 16:00 sharp
        ("", (2026, 11, 27, 12, 0), False),  # unknown hours are never "open now"
    ],
)
def test_hours_around_midnight_and_all_day(db_session, hours, local, expected):
    at = _local(MX, *local)
    schedule = parse(hours)
    assert is_open(schedule, "open", None, MX, at) is expected
    assert _sql_is_open(db_session, schedule, "open", None, MX, at) is expected


def test_same_instant_in_different_time_zones(db_session):
    at = dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC)  # 10:30 in CDMX, 08:30 in Tijuana
    schedule = parse("Mo-Fr 09:00-17:00")
    assert is_open(schedule, "open", None, "America/Mexico_City", at)
    assert not is_open(schedule, "open", None, "America/Tijuana", at)
    assert _sql_is_open(db_session, schedule, "open", None, "America/Tijuana", at) is False


def test_full_until_a_date_is_closed_before_and_open_after(db_session):
    until = _local(MX, 2026, 12, 1, 0, 0)
    always = {"always": True}
    before, after = until - dt.timedelta(minutes=1), until + dt.timedelta(minutes=1)
    assert state_at(always, "full", until, MX, before).reason == "full"
    assert not is_open(always, "full", until, MX, before)
    assert is_open(always, "full", until, MX, after)
    assert not is_open(always, "temporarily_closed", None, MX, after)  # no expiry: closed
    assert _sql_is_open(db_session, always, "full", until, MX, before) is False
    assert _sql_is_open(db_session, always, "full", until, MX, after) is True


def test_closing_and_opening_times_are_reported():
    schedule = parse("Mo-Fr 08:00-13:00,15:00-18:00")
    assert state_at(schedule, "open", None, MX, _local(MX, 2026, 11, 27, 16, 0)).closes_at == (
        "18:00"
    )
    closed = state_at(schedule, "open", None, MX, _local(MX, 2026, 11, 27, 14, 0))
    assert (closed.is_open, closed.opens_at) == (False, "15:00")
    overnight = state_at(parse("Fr 20:00-02:00"), "open", None, MX, _local(MX, 2026, 11, 27, 23))
    assert overnight.closes_at == "02:00"


def test_open_now_filter_in_search(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session)
    day_only = factories.location(db_session, org, -92.27, 14.9)
    day_only.opening_hours = parse("Mo-Fr 08:00-16:00")
    always = factories.location(db_session, org, -92.2, 14.9)
    always.opening_hours = {"always": True}
    full = factories.location(db_session, org, -92.1, 14.9)
    full.opening_hours = {"always": True}
    full.status = OperationalStatus.FULL
    full.status_until = _local(MX, 2026, 12, 1, 0, 0)
    db_session.flush()

    def open_ids(at):
        query = NearestQuery(LonLat(-92.27, 14.9), filters=LocationFilters(open_now=True))
        return {r.location.id for r in find_nearest(db_session, query, at=at)}

    assert open_ids(_local(MX, 2026, 11, 27, 12, 0)) == {day_only.id, always.id}
    assert open_ids(_local(MX, 2026, 11, 27, 22, 0)) == {always.id}
    assert open_ids(_local(MX, 2026, 12, 2, 12, 0)) == {day_only.id, always.id, full.id}


# --- Hours the organization has not confirmed -------------------------------------------


def test_typical_hours_never_make_a_place_open_now():
    noon = _local(MX, 2026, 11, 27, 12, 0)
    day = parse("Mo-Fr 08:00-16:00")
    assert state_at(day, "open", None, MX, noon).is_open
    probably = state_at(day, "open", None, MX, noon, confirmed=False)
    assert (probably.is_open, probably.reason, probably.closes_at) == (
        False,
        "probably_open",
        "16:00",
    )
    always = state_at({"always": True}, "open", None, MX, noon, confirmed=False)
    assert (always.is_open, always.reason, always.always) == (False, "probably_open", True)
    night = state_at(day, "open", None, MX, _local(MX, 2026, 11, 27, 22, 0), confirmed=False)
    assert (night.is_open, night.reason, night.confirmed) == (False, "closed", False)
    # A status set for the place still wins, confirmed hours or not.
    full = state_at({"always": True}, "full", None, MX, noon, confirmed=False)
    assert full.reason == "full"


@pytest.fixture
def shelters_with_typical_and_confirmed_hours(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session, name="Albergue")
    typical = factories.location(db_session, org, -92.27, 14.9, hours_confirmed=False)
    typical.opening_hours = {"always": True}
    confirmed = factories.location(db_session, org, -92.2, 14.9)
    confirmed.opening_hours = {"always": True}
    db_session.flush()
    return typical, confirmed


def test_the_open_now_filter_keeps_only_confirmed_hours(
    db_session, shelters_with_typical_and_confirmed_hours
):
    typical, confirmed = shelters_with_typical_and_confirmed_hours
    query = NearestQuery(LonLat(-92.27, 14.9), filters=LocationFilters(open_now=True))
    at = _local(MX, 2026, 11, 28, 2, 0)  # 2 a.m.
    assert {r.location.id for r in find_nearest(db_session, query, at=at)} == {confirmed.id}
    everything = NearestQuery(LonLat(-92.27, 14.9))
    states = {r.location.id: r.state for r in find_nearest(db_session, everything, at=at)}
    assert states[typical.id].reason == "probably_open"
    assert states[confirmed.id].is_open


def test_pages_and_api_say_typical_hours_are_not_confirmed(
    client, shelters_with_typical_and_confirmed_hours
):
    typical, confirmed = shelters_with_typical_and_confirmed_hours
    page = client.get("/near?lat=14.9&lon=-92.27").get_data(as_text=True)
    assert "Usually open 24 hours · hours not confirmed, call first" in page
    assert page.count("Open 24 hours") == 1  # the confirmed one only
    features = client.get("/api/v1/locations/nearest?lat=14.9&lon=-92.27").json["features"]
    by_id = {feature["id"]: feature["properties"] for feature in features}
    assert by_id[typical.id]["open_now"] is False
    assert by_id[typical.id]["state"] == "probably_open"
    assert by_id[typical.id]["hours_confirmed"] is False
    assert by_id[confirmed.id]["open_now"] is True
    filtered = client.get("/api/v1/locations/nearest?lat=14.9&lon=-92.27&open_now=true").json
    assert [feature["id"] for feature in filtered["features"]] == [confirmed.id]
