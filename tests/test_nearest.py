"""Nearest search against PostGIS: exact spheroid order, filters, the index, bad input."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Float, func, select, text

from directory.db import Cost, OrganizationKind
from directory.places.filters import LocationFilters
from directory.places.models import Location, Network, ServiceCategory
from directory.places.nearest import NearestQuery, find_nearest
from geo.coordinates import LonLat, point_geography
from tests import factories

NOON_UTC = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)  # a Monday, noon in Mexico City


@pytest.fixture
def scattered(db_session):
    """40 places spread over southern Mexico and Guatemala (a fixed pseudo-random set)."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session)
    rng = random.Random(7)
    for _ in range(40):
        factories.location(db_session, org, rng.uniform(-95, -88), rng.uniform(14.5, 19))
    # Statistics, as a real table has them: without, the planner may reach 40 places of one
    # organization through its index rather than by the nearest-neighbour walk.
    db_session.execute(text("ANALYZE locations, organizations"))
    return db_session


def _distances_by_brute_force(session, position: LonLat, limit: int) -> list[float]:
    distance = func.ST_Distance(Location.point, point_geography(position))
    return list(session.scalars(select(distance).order_by(distance).limit(limit)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lon=st.floats(min_value=-100, max_value=-83, allow_nan=False),
    lat=st.floats(min_value=10, max_value=24, allow_nan=False),
    limit=st.integers(min_value=1, max_value=45),
)
def test_order_equals_st_distance_over_all_rows(scattered, lon, lat, limit):
    position = LonLat(lon, lat)
    results = find_nearest(scattered, NearestQuery(position, limit=limit), at=NOON_UTC)
    expected = _distances_by_brute_force(scattered, position, limit)
    assert [r.distance_m for r in results] == pytest.approx(expected, rel=1e-9)
    assert [r.rank for r in results] == list(range(1, len(expected) + 1))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lon=st.floats(min_value=-180, max_value=180, allow_nan=False),
    lat=st.floats(min_value=-89.9, max_value=89.9, allow_nan=False),
    limit=st.integers(min_value=1, max_value=45),
)
def test_order_is_exact_at_sparse_points_far_from_any_data(scattered, lon, lat, limit):
    """Anywhere on Earth (mostly thousands of km from the 40 places): the one-walk fast path
    must give the brute-force order, or fall back to the exact search."""
    position = LonLat(lon, lat)
    results = find_nearest(scattered, NearestQuery(position, limit=limit), at=NOON_UTC)
    expected = _distances_by_brute_force(scattered, position, limit)
    assert [r.distance_m for r in results] == pytest.approx(expected, rel=1e-9)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lon=st.floats(min_value=-180, max_value=180, allow_nan=False),
    lat=st.floats(min_value=-89.9, max_value=89.9, allow_nan=False),
    dlon=st.floats(min_value=-40, max_value=40, allow_nan=False),
    dlat=st.floats(min_value=-30, max_value=30, allow_nan=False),
)
def test_the_sphere_gap_at_a_latitude_bounds_what_postgis_measures(
    db_session, lon, lat, dlon, dlat
):
    """``sphere_gap`` (the exactness proof's bound at the search's latitude) against
    PostGIS's own distances: the spheroid distance is never shorter than the sphere's by more
    than it says, for pairs near and far, across the equator and near the poles."""
    from geo.nearest import sphere_gap

    there = LonLat((lon + dlon + 180) % 360 - 180, max(-89.9, min(89.9, lat + dlat)))
    origin, other = point_geography(LonLat(lon, lat)), point_geography(there)
    spheroid, sphere = db_session.execute(
        select(func.ST_Distance(origin, other), origin.op("<->", return_type=Float)(other))
    ).one()
    assert spheroid >= sphere * (1 - sphere_gap(lat, spheroid)) - 1e-6


def test_the_sphere_gap_is_tighter_away_from_the_equator():
    from geo.nearest import SPHERE_GAP, sphere_gap

    assert sphere_gap(0.0, 100_000) <= SPHERE_GAP
    assert sphere_gap(30.0, 100_000) < sphere_gap(20.0, 100_000) < sphere_gap(0.0, 100_000)
    # A reach that spans the equator gets the equator's bound, whichever side.
    assert sphere_gap(5.0, 2_000_000) == sphere_gap(-5.0, 2_000_000) == sphere_gap(0.0, 1.0)


def test_ties_at_one_distance_come_by_id_whichever_the_path(db_session):
    """Twelve places at one point: equally distant, so ordered by id, in both paths."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session)
    ids = [factories.location(db_session, org, -92.0, 15.0).id for _ in range(12)]
    for limit in (1, 5, 12):
        found = find_nearest(db_session, NearestQuery(LonLat(-92.3, 15.2), limit=limit))
        assert [r.location.id for r in found] == sorted(ids)[:limit]


def test_the_fast_path_walks_the_index_once(scattered):
    from directory.places.filters import active_locations
    from geo.nearest import nearest_candidates

    statement = nearest_candidates(
        active_locations(),
        Location.point,
        LonLat(-92.27, 14.9),
        limit=10,
        candidates=30,
        tiebreak=Location.id,
    )
    compiled = statement.compile(scattered.get_bind(), compile_kwargs={"literal_binds": True})
    # As on a large table: no sequential scan, and no sorting of every place of an
    # organization (40 here, a million at scale) in place of the walk.
    scattered.execute(text("SET LOCAL enable_seqscan = off"))
    scattered.execute(text("SET LOCAL enable_sort = off"))
    plan = "\n".join(scattered.scalars(text(f"EXPLAIN {compiled}")))
    assert plan.count("idx_locations_point") == 1, plan  # the KNN walk, and no ST_DWithin box
    assert "Order By: (locations" in plan or "Order By: (point <->" in plan, plan


def test_candidates_are_enough_only_when_it_is_proven():
    from geo.nearest import SPHERE_GAP, candidates_are_enough

    def enough(distances, bound, count):
        return candidates_are_enough(distances, bound, count, limit=2, candidates=5)

    assert enough([], None, None)  # nothing matches
    assert enough([10.0, 20.0], 30.0, 4)  # every matching row was a candidate
    assert enough([10.0, 20.0], 20.0 / (1 - SPHERE_GAP) + 1, 5)
    assert not enough([10.0, 20.0], 20.0 / (1 - SPHERE_GAP) - 1, 5)  # one left out may be nearer
    assert not enough([10.0, 20.0], 20.0 / (1 - SPHERE_GAP), 5)  # or tie and win on its id


def test_radius_caps_the_distance(scattered):
    position = LonLat(-92.27, 14.9)
    results = find_nearest(scattered, NearestQuery(position, limit=100, radius_km=150))
    within = scattered.scalar(
        select(func.count()).where(
            func.ST_DWithin(Location.point, point_geography(position), 150_000)
        )
    )
    assert len(results) == within
    assert all(r.distance_m <= 150_000 for r in results)


def test_the_gist_index_is_used(scattered):
    from directory.places.filters import active_locations
    from geo.nearest import nearest

    statement = nearest(
        active_locations(), Location.point, LonLat(-92.27, 14.9), limit=10, tiebreak=Location.id
    )
    compiled = statement.compile(scattered.get_bind(), compile_kwargs={"literal_binds": True})
    # Force the planner's hand as it would be on a large table: no sequential scans, and no
    # sorting a whole other index's rows (on a tiny table that can look cheaper than the KNN walk).
    scattered.execute(text("SET LOCAL enable_seqscan = off"))
    scattered.execute(text("SET LOCAL enable_sort = off"))
    plan = "\n".join(scattered.scalars(text(f"EXPLAIN {compiled}")))
    assert plan.count("idx_locations_point") >= 2, plan  # the KNN step and the ST_DWithin step
    assert "Order By: (locations" in plan or "Order By: (point <->" in plan, plan


def _place(session, org, lon, lat, **fields):
    location = factories.location(session, org, lon, lat)
    for name, value in fields.items():
        setattr(location, name, value)
    session.flush()
    return location


@pytest.fixture
def vocabulary(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    food = ServiceCategory(code="food", names={"en": "Food"}, icon="utensils")
    shelter = ServiceCategory(code="shelter", names={"en": "Shelter"}, icon="bed")
    rncom = Network(code="RNCOM", names={"en": "RNCOM"})
    db_session.add_all([food, shelter, rncom])
    db_session.flush()
    return {"food": food, "shelter": shelter, "rncom": rncom}


def test_filters_combine(db_session, vocabulary):
    member = factories.organization(db_session, OrganizationKind.SHELTER)
    member.networks.append(vocabulary["rncom"])
    other = factories.organization(db_session, OrganizationKind.CIVIL_SOCIETY)
    both = _place(
        db_session, member, -92.27, 14.9,
        categories=[vocabulary["food"], vocabulary["shelter"]],
        populations=["women"], languages=["es", "en"], cost=Cost.FREE,
    )  # fmt: skip
    food_only = _place(
        db_session, other, -92.2, 14.95,
        categories=[vocabulary["food"]], populations=["children"], languages=["es"],
        cost=Cost.FEE,
    )  # fmt: skip
    _place(db_session, other, -92.1, 15.0)  # no categories, serves everyone

    def ids(**filters):
        query = NearestQuery(LonLat(-92.27, 14.9), limit=10, filters=LocationFilters(**filters))
        return {r.location.id for r in find_nearest(db_session, query, at=NOON_UTC)}

    assert ids(categories=("food",)) == {both.id, food_only.id}
    assert ids(categories=("food", "shelter")) == {both.id, food_only.id}  # any of
    assert ids(categories=("shelter",)) == {both.id}
    assert ids(categories=("food",), free=True) == {both.id}  # and
    assert ids(populations=("children",)) == {food_only.id}
    assert ids(populations=("children", "women")) == {both.id, food_only.id}
    assert ids(languages=("en",)) == {both.id}
    assert ids(kinds=(OrganizationKind.CIVIL_SOCIETY,)) == {food_only.id} | (
        ids() - {both.id, food_only.id}
    )
    assert ids(networks=("RNCOM",)) == {both.id}
    assert ids(networks=("RNCOM",), languages=("fr",)) == set()
    assert ids(networks=("RNCOM",), languages=("en",)) == {both.id}  # positive control


def test_archived_places_are_not_found(db_session, vocabulary):
    org = factories.organization(db_session)
    gone = _place(db_session, org, -92.27, 14.9, archived_at=NOON_UTC)
    kept = _place(db_session, org, -92.2, 14.9)
    found = find_nearest(db_session, NearestQuery(LonLat(-92.27, 14.9)), at=NOON_UTC)
    assert [r.location.id for r in found] == [kept.id]
    assert gone.id not in {r.location.id for r in found}
