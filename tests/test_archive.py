"""Archiving and restoring: nothing is deleted, each step is audited and version-checked,
and an archived place (or a place of an archived organization) leaves every public search
and page at once, then comes back on restore."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory.accounts.models import AuditEntry, User, UserRole
from directory.consular.services import (
    PartnerQuery,
    active_district,
    offices_by_nationality,
    partners_in_district,
    serving_office,
)
from directory.corridors.services import CorridorQuery, line_corridor, route_corridor
from directory.db import OrganizationKind
from directory.places.filters import LocationFilters
from directory.places.map_area import area_content
from directory.places.models import Location, Organization
from directory.places.nearest import NearestQuery, find_nearest
from directory.places.records import public_location
from directory.records import StaleEdit, apply_edit, archive, restore
from geo.area import BBox
from geo.coordinates import LonLat
from tests import factories

TAPACHULA = (-92.2589, 14.9054)
PATH = [(-92.26, 14.9), (-92.0, 15.5), (-91.5, 16.0)]
LINE = {"type": "LineString", "coordinates": [list(p) for p in PATH]}
AREA = "-93,14,-90,17"


@pytest.fixture
def places(db_session):
    """A Guatemalan consulate in Tapachula with its district, a route north from there, and
    two partner shelters of different organizations along it, inside the district."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.2, 13.7, -88.2, 14.5))
    office = factories.consular_office(db_session, "GT", *TAPACHULA, name="Consulado de Guatemala")
    factories.district(db_session, office, (-95.0, 14.5, -90.0, 18.0))
    route = factories.route(db_session, "test-route", PATH)
    belen = factories.organization(db_session, name="Albergue Belén")
    jesus = factories.organization(
        db_session, OrganizationKind.CIVIL_SOCIETY, name="Centro Jesús El Buen Pastor"
    )
    user = User(email="focal@example.org", name="Focal", role=UserRole.SECRETARIAT)
    db_session.add(user)
    db_session.flush()
    return {
        "office": office,
        "route": route,
        "shelter": factories.location(db_session, belen, -92.0, 15.52, city="Motozintla"),
        "centre": factories.location(db_session, jesus, -92.25, 14.95, city="Tapachula"),
        "user": user,
    }


def _ids(body) -> set[int]:
    return {feature["id"] for feature in body["features"] if "id" in feature}


def where_found(session, client, places, location: Location) -> dict[str, bool]:
    """Whether ``location`` is found by each public search and page."""
    office, route = places["office"], places["route"]
    name = location.organization.name
    district = active_district(session, office.id, "GT")
    found = {
        "nearest": {r.location.id for r in find_nearest(session, NearestQuery(LonLat(-92, 15.3)))},
        "nearest api": _ids(client.get("/api/v1/locations/nearest?lat=15.3&lon=-92").json),
        "route corridor": {
            item.location.id for item in route_corridor(session, route, CorridorQuery()).items
        },
        "line corridor": {
            item.location.id
            for item in line_corridor(session, [LonLat(*p) for p in PATH], CorridorQuery()).items
        },
        "route corridor api": _ids(client.get("/api/v1/routes/test-route/corridor").json),
        "line corridor api": _ids(client.post("/api/v1/corridor", json=LINE).json),
        "area": {
            point.id for point in area_content(session, BBox.parse(AREA), LocationFilters()).points
        },
        "area api": _ids(client.get(f"/api/v1/locations?bbox={AREA}").json),
        "partners": {
            partner.location.id
            for partner in partners_in_district(session, office, district, PartnerQuery())
        },
        "partners api": _ids(client.get(f"/api/v1/consulates/{office.id}/partners").json),
    }
    result = {search: location.id in ids for search, ids in found.items()}
    result["consulate page"] = name in client.get(f"/consulates/{office.id}").get_data(as_text=True)
    for page, url in {
        "near page": "/near?lat=15.3&lon=-92",
        "partners csv": f"/consulates/{office.id}/partners.csv",
    }.items():
        result[page] = name in client.get(url).get_data(as_text=True)
    result["place page"] = client.get(f"/places/{location.id}").status_code == 200
    assert result["place page"] == (public_location(session, location.id) is not None)
    return result


def everywhere(found: dict[str, bool]) -> bool:
    return all(found.values())


def nowhere(found: dict[str, bool]) -> bool:
    return not any(found.values())


def test_an_archived_location_leaves_every_search_and_comes_back_on_restore(
    db_session, client, places
):
    shelter, centre, user = places["shelter"], places["centre"], places["user"]
    assert everywhere(where_found(db_session, client, places, shelter))

    archive(db_session, shelter, expected_version=1, user_id=user.id)
    assert shelter.archived_at is not None
    assert shelter.version == 2
    assert nowhere(where_found(db_session, client, places, shelter)), where_found(
        db_session, client, places, shelter
    )
    assert everywhere(where_found(db_session, client, places, centre))  # only that place
    assert client.get(f"/places/{shelter.id}").status_code == 404

    restore(db_session, shelter, expected_version=2, user_id=user.id)
    assert shelter.archived_at is None
    assert shelter.version == 3
    assert everywhere(where_found(db_session, client, places, shelter))


def test_an_archived_organization_takes_its_places_out_and_back(db_session, client, places):
    shelter, centre, user = places["shelter"], places["centre"], places["user"]
    organization = shelter.organization
    archive(db_session, organization, expected_version=1, user_id=user.id)
    assert nowhere(where_found(db_session, client, places, shelter))
    assert everywhere(where_found(db_session, client, places, centre))
    assert shelter.archived_at is None  # the location itself is untouched
    restore(db_session, organization, expected_version=2, user_id=user.id)
    assert everywhere(where_found(db_session, client, places, shelter))


def test_an_archived_consulate_leaves_the_consular_searches(db_session, client, places):
    office, user = places["office"], places["user"]
    position = LonLat(-92.5, 15.3)
    assert serving_office(db_session, position, "GT").location.id == office.id
    archive(db_session, office.organization, expected_version=1, user_id=user.id)
    assert serving_office(db_session, position, "GT") is None
    assert offices_by_nationality(db_session, "GT") == []
    assert client.get(f"/consulates/{office.id}").status_code == 404
    assert client.get(f"/api/v1/consulates/{office.id}/partners").status_code == 404
    assert "Consulado de Guatemala" not in client.get("/consulates").get_data(as_text=True)
    restore(db_session, office.organization, expected_version=2, user_id=user.id)
    assert serving_office(db_session, position, "GT").location.id == office.id
    assert client.get(f"/consulates/{office.id}").status_code == 200
    assert "Consulado de Guatemala" in client.get("/consulates").get_data(as_text=True)


def test_archive_and_restore_are_audited_and_nothing_is_deleted(db_session, places):
    shelter, user = places["shelter"], places["user"]
    archive(db_session, shelter, expected_version=1, user_id=user.id)
    restore(db_session, shelter, expected_version=2, user_id=user.id)
    entries = db_session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "locations", AuditEntry.entity_id == str(shelter.id))
        .order_by(AuditEntry.id)
    ).all()
    assert [(entry.action, entry.user_id) for entry in entries] == [
        ("archive", user.id),
        ("restore", user.id),
    ]
    archived, restored = entries
    assert archived.before == {"version": 1, "archived_at": None}
    assert archived.after["version"] == 2
    assert archived.after["archived_at"].startswith(str(shelter.created_at.year))
    assert restored.before == {"version": 2, "archived_at": archived.after["archived_at"]}
    assert restored.after == {"version": 3, "archived_at": None}
    assert db_session.scalar(select(func.count()).select_from(Location)) == 3


def test_archiving_twice_changes_nothing_and_a_stale_archive_is_refused(db_session, places):
    shelter, user = places["shelter"], places["user"]
    archive(db_session, shelter, expected_version=1, user_id=user.id)
    archive(db_session, shelter, expected_version=2, user_id=user.id)  # already archived
    assert shelter.version == 2
    restore(db_session, shelter, expected_version=2, user_id=user.id)
    restore(db_session, shelter, expected_version=3, user_id=user.id)  # already back
    assert shelter.version == 3
    with pytest.raises(StaleEdit):
        archive(db_session, shelter, expected_version=1, user_id=user.id)
    assert shelter.archived_at is None
    organization = db_session.get(Organization, shelter.organization_id)
    apply_edit(db_session, organization, {"name": "Renamed"}, expected_version=1, user_id=None)
    with pytest.raises(StaleEdit):
        restore(db_session, organization, expected_version=1, user_id=None)
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["archive", "restore", "update"]
