"""Synthetic places for benchmarks (issue 14, point 1): clustered around towns, on land in
their country, with categories and a time zone; the same seed gives the same places;
``--clear`` removes exactly them."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import box
from sqlalchemy import func, select, text

from directory.gazetteer.models import Town, TownKind, TownSource
from directory.places.models import Location, Organization, ServiceCategory
from directory.places.synthetic import SOURCE, add_synthetic, clear_synthetic
from tests import factories


def _world(session):
    # Guatemala as a box, a town in it, and one of the demo's own kind of record beside.
    factories.country(session, "GT", (-92.3, 13.7, -88.2, 17.8))
    for name, lon, lat, population in (
        ("Ciudad", -90.51, 14.64, 994_938),
        ("Xela", -91.52, 14.83, 180_000),
    ):
        session.add(
            Town(
                source=TownSource.GEONAMES,
                source_id=name,
                name=name,
                country_code="GT",
                point=from_shape(box(lon, lat, lon, lat).centroid, srid=4326),
                population=population,
                kind=TownKind.CITY,
            )
        )
    kept = factories.location(session, factories.organization(session), -90.5, 14.6, "GT")
    session.flush()
    return kept


def _synthetic(session):
    return session.scalars(
        select(Location).where(Location.source == SOURCE).order_by(Location.id)
    ).all()


def test_places_are_clustered_on_land_with_categories_and_time_zones(db_session):
    _world(db_session)
    db_session.add_all(
        ServiceCategory(code=code, names={"en": code}, icon="x")
        for code in ("shelter", "food", "medical", "legal_aid", "information", "transport")
    )
    db_session.flush()
    report = add_synthetic(db_session, 600, seed=3)
    places = _synthetic(db_session)
    assert report.locations == 600
    assert len(places) == 600
    assert all(place.country_code == "GT" for place in places)
    outside = db_session.scalar(
        text(
            "SELECT count(*) FROM locations l JOIN countries c ON c.code = l.country_code "
            "WHERE l.source = :source AND NOT ST_Covers(c.boundary, l.point::geometry)"
        ),
        {"source": SOURCE},
    )
    assert outside == 0
    assert {place.timezone for place in places} == {"America/Guatemala"}
    near_city = db_session.scalar(
        select(func.count()).where(
            Location.source == SOURCE,
            func.ST_DWithin(Location.point, func.ST_GeogFromText("POINT(-90.51 14.64)"), 30_000),
        )
    )
    assert near_city > 300  # the bigger town draws most places
    organizations = db_session.scalar(
        select(func.count()).select_from(Organization).where(Organization.source == SOURCE)
    )
    assert organizations == 2_000
    per_place = db_session.execute(
        text(
            "SELECT min(n), max(n), count(*) FROM (SELECT count(*) n FROM location_categories lc "
            "JOIN locations l ON l.id = lc.location_id WHERE l.source = :source "
            "GROUP BY lc.location_id) t"
        ),
        {"source": SOURCE},
    ).one()
    assert per_place == (1, 5, 600)


def test_the_same_seed_gives_the_same_places_and_clear_removes_only_them(db_session):
    kept = _world(db_session)
    add_synthetic(db_session, 50, seed=9)
    first = [(place.city, place.point.data) for place in _synthetic(db_session)]
    clear_synthetic(db_session)
    db_session.expire_all()
    assert _synthetic(db_session) == []
    add_synthetic(db_session, 50, seed=9)
    again = [(place.city, place.point.data) for place in _synthetic(db_session)]
    assert [city for city, _ in again] == [city for city, _ in first]
    removed = clear_synthetic(db_session)
    assert removed.locations == 50
    assert db_session.get(Location, kept.id) is not None
