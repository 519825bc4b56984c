"""The model layer against PostGIS: points, time zones, constraints, optimistic locking."""

from __future__ import annotations

import math

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from directory.db import OrganizationKind
from directory.places.models import Location, Organization
from directory.places.placement import PlacementError, check_placement, countries_near
from geo.coordinates import LonLat
from tests import factories

TAPACHULA = (-92.2667, 14.9)
TIJUANA = (-117.0382, 32.5149)


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = (map(math.radians, a), map(math.radians, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_point_is_saved_and_read_back_with_its_time_zone(db_session):
    factories.country(db_session)
    shelter = factories.organization(db_session)
    saved = factories.location(db_session, shelter, *TAPACHULA)
    db_session.expire_all()

    loaded = db_session.get(Location, saved.id)
    assert to_shape(loaded.point).equals_exact(Point(TAPACHULA), tolerance=1e-9)
    assert loaded.position == LonLat(*TAPACHULA)
    assert loaded.timezone == "America/Mexico_City"
    stored_type = db_session.scalar(
        text("SELECT GeometryType(point::geometry) || ST_SRID(point::geometry) FROM locations")
    )
    assert stored_type == "POINT4326"


def test_time_zone_follows_the_point_when_it_moves(db_session):
    factories.country(db_session)
    saved = factories.location(db_session, factories.organization(db_session), *TAPACHULA)
    saved.position = LonLat(*TIJUANA)
    db_session.flush()
    db_session.expire_all()

    assert db_session.get(Location, saved.id).timezone == "America/Tijuana"


def test_distance_is_in_metres_on_the_spheroid(db_session):
    factories.country(db_session)
    org = factories.organization(db_session)
    factories.location(db_session, org, *TAPACHULA)
    factories.location(db_session, org, *TIJUANA)
    metres = db_session.scalar(
        text(
            "SELECT ST_Distance(a.point, b.point) FROM locations a JOIN locations b ON a.id < b.id"
        )
    )
    # Metres, not degrees: within 0.5% of the great-circle distance on a sphere.
    assert metres == pytest.approx(_haversine_m(TAPACHULA, TIJUANA), rel=0.005)


def test_location_in_the_ocean_is_rejected(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    with pytest.raises(PlacementError, match="outside every country"):
        check_placement(db_session, LonLat(-100.0, 5.0), "MX")


def test_location_in_another_country_is_rejected_with_the_reason(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -92.0, 32.8))
    factories.country(db_session, "GT", (-92.0, 13.7, -88.2, 17.8))
    guatemala_city = LonLat(-90.5069, 14.6349)
    with pytest.raises(PlacementError, match="lies in GT, not in MX"):
        check_placement(db_session, guatemala_city, "MX")
    check_placement(db_session, guatemala_city, "GT")


def test_point_just_across_a_simplified_border_is_accepted(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -92.0, 32.8))
    factories.country(db_session, "GT", (-92.0, 13.7, -88.2, 17.8))
    # 2 km inside GT by the (simplified) boundary, like Ciudad Hidalgo on real data.
    near_border = LonLat(-91.98, 14.7)
    check_placement(db_session, near_border, "MX")
    assert [code for code, _ in countries_near(db_session, near_border)] == ["GT", "MX"]


def test_consulate_needs_the_nationality_it_serves(db_session):
    db_session.add(Organization(slug="c", name="Consulate", kind=OrganizationKind.CONSULATE))
    with pytest.raises(IntegrityError, match="consular_has_sending_country"):
        db_session.flush()


def test_database_rejects_a_kind_outside_the_vocabulary(db_session):
    with pytest.raises(IntegrityError, match="ck_organizations_organization_kind"):
        db_session.execute(
            text(
                "INSERT INTO organizations (slug, name, kind, descriptions, version) "
                "VALUES ('x', 'X', 'spaceport', '{}', 1)"
            )
        )


def test_a_stale_edit_fails_instead_of_overwriting(db_session):
    org = factories.organization(db_session, name="Casa del Migrante")
    assert org.version == 1
    # Someone else saves first: the row's version moves on.
    db_session.execute(
        text("UPDATE organizations SET version = version + 1 WHERE id = :id"), {"id": org.id}
    )
    org.name = "Casa del Migrante (renamed)"
    with pytest.raises(StaleDataError):
        db_session.flush()


def test_version_increases_on_each_save(db_session):
    org = factories.organization(db_session)
    org.name = "Renamed"
    db_session.flush()
    assert db_session.scalar(select(Organization.version).where(Organization.id == org.id)) == 2
