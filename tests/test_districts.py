"""Consular districts: computed by Voronoi per (nationality, host country), official ones win,
and the all-or-nothing loader of official polygons."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.ops import unary_union
from sqlalchemy import func, select

from directory.consular.districts import (
    DistrictError,
    compute_districts,
    load_official_districts,
    recompute_group,
)
from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.db import CONSULAR_KINDS, OrganizationKind
from directory.places.models import Country, Location, Organization
from tests import factories

HOST = (-100.0, 30.0, -90.0, 40.0)  # "US": a 10° x 10° box
# Relative tolerances: the districts are computed in a projection and projected back, so
# shared edges agree to rounding, not bit for bit.
OVERLAP_TOLERANCE = 1e-9
COVER_TOLERANCE = 1e-7


@pytest.fixture
def countries(db_session):
    factories.country(db_session, "US", HOST)
    factories.country(db_session, "GT", (-92.0, 14.0, -88.5, 17.5))
    factories.country(db_session, "SV", (-90.0, 13.0, -87.8, 14.4))
    factories.country(db_session, "HN", (-89.0, 13.0, -83.2, 16.0))
    return db_session


def districts(session, nationality: str | None = None) -> dict[tuple[int, str], MultiPolygon]:
    """The active districts, keyed by (location id, nationality)."""
    query = select(ConsularDistrict).where(ConsularDistrict.archived_at.is_(None))
    if nationality:
        query = query.where(ConsularDistrict.nationality_code == nationality)
    return {
        (row.location_id, row.nationality_code): to_shape(row.area)
        for row in session.scalars(query)
    }


def host_shape(session, code: str = "US"):
    return to_shape(session.get(Country, code).boundary)


def assert_partition(areas, host) -> None:
    """No two areas overlap, and together they cover ``host``."""
    areas = list(areas)
    for i, first in enumerate(areas):
        for second in areas[i + 1 :]:
            assert first.intersection(second).area <= OVERLAP_TOLERANCE * host.area
    union = unary_union(areas)
    assert union.symmetric_difference(host).area <= COVER_TOLERANCE * host.area


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_offices_of_one_nationality_partition_the_host_country_by_nearness(countries):
    session = countries
    offices = [
        factories.consular_office(session, "GT", -97.0, 32.0, host="US"),
        factories.consular_office(session, "GT", -93.0, 33.0, host="US"),
        factories.consular_office(session, "GT", -95.0, 38.5, host="US"),
    ]
    report = compute_districts(session)

    areas = districts(session, "GT")
    assert set(areas) == {(office.id, "GT") for office in offices}
    assert report.computed == 3
    assert report.without_district == []
    assert_partition(areas.values(), host_shape(session))
    for office in offices:
        assert areas[(office.id, "GT")].contains(Point(office.position.lon, office.position.lat))

    # Sample a grid: each point lies in the district of the office nearest on the sphere,
    # unless it is almost equally near to two (the bisector is drawn in a projection).
    checked = 0
    for i in range(21):
        for j in range(21):
            lon, lat = HOST[0] + 0.25 + i * 0.475, HOST[1] + 0.25 + j * 0.475
            ranked = sorted(
                (haversine_km(lon, lat, o.position.lon, o.position.lat), o.id) for o in offices
            )
            (first, nearest), (second, _) = ranked[0], ranked[1]
            if second - first < 0.01 * first:
                continue
            assert areas[(nearest, "GT")].covers(Point(lon, lat)), (lon, lat)
            checked += 1
    assert checked > 400


def test_a_sole_office_gets_the_whole_country(countries):
    session = countries
    office = factories.consular_office(session, "SV", -95.0, 35.0, host="US")
    compute_districts(session)
    area = districts(session)[(office.id, "SV")]
    assert area.symmetric_difference(host_shape(session)).area < COVER_TOLERANCE * 100


def test_offices_of_another_nationality_do_not_change_a_district(countries):
    session = countries
    alone = factories.consular_office(session, "SV", -95.0, 35.0, host="US")
    factories.consular_office(session, "GT", -97.0, 32.0, host="US")
    factories.consular_office(session, "GT", -93.0, 33.0, host="US")
    factories.consular_office(session, "GT", -94.9, 35.1, host="US")  # right next to it
    compute_districts(session)
    area = districts(session)[(alone.id, "SV")]
    assert area.symmetric_difference(host_shape(session)).area < COVER_TOLERANCE * 100
    assert_partition(districts(session, "GT").values(), host_shape(session))


def test_a_joint_office_gets_a_district_per_nationality(countries):
    session = countries
    joint = factories.consular_office(session, "GT", -95.0, 35.0, host="US", also_serves=("HN",))
    guatemalan = factories.consular_office(session, "GT", -92.0, 35.0, host="US")
    honduran = factories.consular_office(session, "HN", -98.0, 35.0, host="US")
    compute_districts(session)

    gt, hn = districts(session, "GT"), districts(session, "HN")
    assert set(gt) == {(joint.id, "GT"), (guatemalan.id, "GT")}
    assert set(hn) == {(joint.id, "HN"), (honduran.id, "HN")}
    host = host_shape(session)
    assert_partition(gt.values(), host)
    assert_partition(hn.values(), host)
    # Each partition is drawn with that nationality's offices: for Guatemalans the joint
    # office serves the west (the other GT office is east of it), for Hondurans the east.
    assert gt[(joint.id, "GT")].covers(Point(-97.0, 35.0))  # no other GT office to the west
    assert hn[(joint.id, "HN")].covers(Point(-92.0, 35.0))  # no other HN office to the east
    assert not gt[(joint.id, "GT")].covers(Point(-91.0, 35.0))
    assert not hn[(joint.id, "HN")].covers(Point(-99.0, 35.0))


def test_archived_locations_and_organizations_get_no_district(countries):
    session = countries
    kept = factories.consular_office(session, "GT", -97.0, 32.0, host="US")
    closed_site = factories.consular_office(session, "GT", -93.0, 33.0, host="US")
    closed_org = factories.consular_office(session, "GT", -95.0, 38.5, host="US")
    compute_districts(session)
    assert len(districts(session, "GT")) == 3

    closed_site.archived_at = func.now()
    closed_org.organization.archived_at = func.now()
    session.flush()
    compute_districts(session)
    areas = districts(session, "GT")
    assert set(areas) == {(kept.id, "GT")}
    assert areas[(kept.id, "GT")].symmetric_difference(host_shape(session)).area < 1e-5


def test_co_located_offices_give_the_cell_to_the_consulate_then_the_lowest_id(countries):
    session = countries
    embassy = factories.consular_office(
        session, "GT", -95.0, 35.0, host="US", kind=OrganizationKind.EMBASSY
    )
    consulate = factories.consular_office(session, "GT", -95.0, 35.0, host="US")
    later = factories.consular_office(session, "GT", -95.0, 35.0, host="US")
    other = factories.consular_office(session, "GT", -92.0, 31.0, host="US")
    report = compute_districts(session)

    areas = districts(session, "GT")
    assert set(areas) == {(consulate.id, "GT"), (other.id, "GT")}
    assert sorted(report.without_district) == sorted([(embassy.id, "GT"), (later.id, "GT")])
    assert_partition(areas.values(), host_shape(session))


def test_co_located_sole_offices_still_get_the_whole_country(countries):
    session = countries
    first = factories.consular_office(session, "GT", -95.0, 35.0, host="US")
    factories.consular_office(session, "GT", -95.0, 35.0, host="US")
    compute_districts(session)
    areas = districts(session, "GT")
    assert list(areas) == [(first.id, "GT")]
    assert areas[(first.id, "GT")].symmetric_difference(host_shape(session)).area < 1e-5


def test_an_official_district_wins_and_the_others_share_the_rest(countries):
    session = countries
    official_office = factories.consular_office(session, "GT", -97.0, 32.0, host="US")
    others = [
        factories.consular_office(session, "GT", -93.0, 33.0, host="US"),
        factories.consular_office(session, "GT", -95.0, 38.5, host="US"),
    ]
    official_area = box(-100.0, 30.0, -91.0, 35.0)  # far beyond its Voronoi cell
    factories.district(session, official_office, official_area, origin=DistrictOrigin.OFFICIAL)
    report = compute_districts(session)

    areas = districts(session, "GT")
    assert areas[(official_office.id, "GT")].equals(MultiPolygon([official_area]))
    assert report.official_kept == 1
    assert report.computed == 2
    assert_partition(areas.values(), host_shape(session))
    # The office at (-93, 33) lies inside the official area: it keeps only what the
    # official area leaves near it.
    assert areas[(others[0].id, "GT")].intersection(official_area).area < 1e-9


def test_an_official_district_covering_the_country_leaves_the_others_without(countries):
    session = countries
    official_office = factories.consular_office(session, "GT", -97.0, 32.0, host="US")
    other = factories.consular_office(session, "GT", -93.0, 33.0, host="US")
    factories.district(session, official_office, HOST, origin=DistrictOrigin.OFFICIAL)
    report = recompute_group(session, "GT", "US")
    assert report.computed == 0
    assert report.without_district == [(other.id, "GT")]
    assert set(districts(session, "GT")) == {(official_office.id, "GT")}


def test_recomputing_is_idempotent(countries):
    session = countries
    for lon, lat in [(-97.0, 32.0), (-93.0, 33.0), (-95.0, 38.5)]:
        factories.consular_office(session, "GT", lon, lat, host="US")
    compute_districts(session)
    first = districts(session)
    report = compute_districts(session)
    second = districts(session)
    assert set(first) == set(second)
    for key, area in first.items():
        assert area.symmetric_difference(second[key]).area < 1e-12
    count = session.scalar(select(func.count()).select_from(ConsularDistrict))
    assert count == len(second) == report.computed


def test_every_demo_consulate_gets_a_district_and_mexicans_in_the_us_a_partition(
    demo_database, demo_session, tmp_path
):
    # The demo database ran compute_districts on the demo data once for the whole run.
    session = demo_session
    report = demo_database.districts
    elapsed = demo_database.districts_seconds
    print(f"compute_districts on the demo data: {report.summary()} in {elapsed:.1f} s")
    assert report.computed > 0

    consular = session.scalars(
        select(Location).join(Location.organization).where(Organization.kind.in_(CONSULAR_KINDS))
    ).all()
    have = districts(session)
    assert len(consular) >= 52  # positive control: the check below looks at every office
    missing = [
        (location.id, nationality)
        for location in consular
        for nationality in location.organization.nationalities
        if (location.id, nationality) not in have
    ]
    assert missing == []
    assert report.without_district == []

    mexican_in_us = [
        area
        for (location_id, nationality), area in have.items()
        if nationality == "MX" and session.get(Location, location_id).country_code == "US"
    ]
    assert len(mexican_in_us) == 52
    us = host_shape(session, "US")
    union = unary_union(mexican_in_us)
    assert sum(a.area for a in mexican_in_us) - union.area < OVERLAP_TOLERANCE * us.area
    assert union.symmetric_difference(us).area < COVER_TOLERANCE * us.area

    # The README's example: an official district for the Guatemalan consulate in Houston.
    houston = session.scalar(
        select(Location).where(Location.external_id == "demo:gt-consulate-houston:houston")
    )
    official = box(-100.0, 26.0, -93.5, 33.0)
    path = _write(
        tmp_path,
        _feature({"external_id": houston.external_id}, [list(official.exterior.coords)]),
    )
    load_official_districts(session, path)
    guatemalan = districts(session, "GT")
    in_us = [a for (i, _), a in guatemalan.items() if session.get(Location, i).country_code == "US"]
    assert guatemalan[(houston.id, "GT")].equals(MultiPolygon([official]))
    assert_partition(in_us, official.union(us))


# --- loading official districts ---------------------------------------------------------


def _square(lon: float, lat: float, size: float = 1.0) -> list[list[list[float]]]:
    return [
        [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    ]


def _feature(properties: dict, coordinates=None, kind: str = "Polygon") -> dict:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": kind, "coordinates": coordinates or _square(-97.0, 31.0)},
    }


def _write(tmp_path: Path, *features: dict, name: str = "districts.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


@pytest.fixture
def three_offices(countries):
    session = countries
    offices = [
        factories.consular_office(session, "GT", -97.0, 32.0, host="US", also_serves=("HN",)),
        factories.consular_office(session, "GT", -93.0, 33.0, host="US"),
        factories.consular_office(session, "GT", -95.0, 38.5, host="US"),
    ]
    compute_districts(session)
    return offices


def _counts(session) -> tuple[int, int, int]:
    rows = session.scalars(select(ConsularDistrict)).all()
    return (
        len(rows),
        sum(row.origin == DistrictOrigin.OFFICIAL for row in rows),
        sum(row.archived_at is not None for row in rows),
    )


def test_loading_an_official_district_wins_and_the_group_is_recomputed(
    db_session, three_offices, tmp_path
):
    first, second, _ = three_offices
    path = _write(
        tmp_path,
        _feature({"location_id": first.id}, _square(-100.0, 30.0, 3.0)),
        _feature({"external_id": second.external_id, "source": "Consular gazette 2024"},
                 _square(-92.0, 32.0, 2.0)),
    )  # fmt: skip
    report = load_official_districts(db_session, path)
    assert report.loaded == 2
    assert report.groups == 1  # GT in US

    rows = {
        row.location_id: row
        for row in db_session.scalars(
            select(ConsularDistrict).where(
                ConsularDistrict.nationality_code == "GT", ConsularDistrict.archived_at.is_(None)
            )
        )
    }
    assert rows[first.id].origin == DistrictOrigin.OFFICIAL
    assert rows[first.id].source == "official: districts.geojson"
    assert to_shape(rows[first.id].area).equals(Polygon(_square(-100.0, 30.0, 3.0)[0]))
    assert rows[second.id].source == "Consular gazette 2024"
    assert_partition(districts(db_session, "GT").values(), host_shape(db_session))
    # The joint office's Honduran district is untouched by a Guatemalan official one.
    assert (first.id, "HN") in districts(db_session, "HN")


def test_loading_again_archives_the_previous_official_district(db_session, three_offices, tmp_path):
    office = three_offices[0]
    load_official_districts(
        db_session, _write(tmp_path, _feature({"location_id": office.id}, _square(-100, 30, 3)))
    )
    report = load_official_districts(
        db_session, _write(tmp_path, _feature({"location_id": office.id}, _square(-99, 31, 2)))
    )
    assert report.replaced == 1
    rows = db_session.scalars(
        select(ConsularDistrict).where(
            ConsularDistrict.location_id == office.id, ConsularDistrict.nationality_code == "GT"
        )
    ).all()
    assert sorted((row.origin, row.archived_at is None) for row in rows) == [
        (DistrictOrigin.OFFICIAL, False),
        (DistrictOrigin.OFFICIAL, True),
    ]
    assert_partition(districts(db_session, "GT").values(), host_shape(db_session))


def test_an_official_district_for_a_joint_office_other_nationality(
    db_session, three_offices, tmp_path
):
    office = three_offices[0]
    path = _write(tmp_path, _feature({"location_id": office.id, "nationality": "HN"}))
    load_official_districts(db_session, path)
    row = db_session.scalar(
        select(ConsularDistrict).where(
            ConsularDistrict.location_id == office.id,
            ConsularDistrict.nationality_code == "HN",
            ConsularDistrict.archived_at.is_(None),
        )
    )
    assert row.origin == DistrictOrigin.OFFICIAL
    gt = districts(db_session, "GT")[(office.id, "GT")]
    assert gt.area > 10  # its computed Guatemalan district is still there


def test_a_self_intersecting_bowtie_is_made_valid(db_session, three_offices, tmp_path):
    office = three_offices[0]
    bowtie = [[[-99.0, 31.0], [-97.0, 33.0], [-97.0, 31.0], [-99.0, 33.0], [-99.0, 31.0]]]
    load_official_districts(
        db_session, _write(tmp_path, _feature({"location_id": office.id}, bowtie))
    )
    area = districts(db_session, "GT")[(office.id, "GT")]
    assert area.is_valid
    assert len(area.geoms) == 2
    assert area.area == pytest.approx(2.0)  # two triangles of 1 square degree each
    assert_partition(districts(db_session, "GT").values(), host_shape(db_session))


def test_positions_with_an_altitude_are_loaded_in_2d(db_session, three_offices, tmp_path):
    office = three_offices[0]
    square = [[[*position, 120.0] for position in _square(-99.0, 31.0)[0]]]
    load_official_districts(
        db_session, _write(tmp_path, _feature({"location_id": office.id}, square))
    )
    area = districts(db_session, "GT")[(office.id, "GT")]
    assert not area.has_z
    assert area.equals(Polygon(_square(-99.0, 31.0)[0]))


BAD_FEATURES = {
    "collinear": (
        lambda office: _feature(
            {"location_id": office.id}, [[[-99, 31], [-98, 32], [-97, 33], [-99, 31]]]
        ),
        "has no area once made valid",
    ),
    "out of range": (
        lambda office: _feature({"location_id": office.id}, _square(33.0, -190.0)),
        "latitude -190.0 is not between -90 and 90",
    ),
    "not finite": (
        lambda office: _feature({"location_id": office.id}, _square(1e400, 31.0)),
        "must be finite",
    ),
    "line string": (
        lambda office: _feature(
            {"location_id": office.id}, [[-99, 31], [-97, 33]], kind="LineString"
        ),
        "must be a Polygon or MultiPolygon, not LineString",
    ),
    "unknown location": (
        lambda office: _feature({"location_id": 987654321}),
        "no location with id 987654321",
    ),
    "unknown external id": (
        lambda office: _feature({"external_id": "nowhere"}),
        "no location with external_id 'nowhere'",
    ),
    "no office named": (lambda office: _feature({}), "give the office's location_id"),
    "nationality not served": (
        lambda office: _feature({"location_id": office.id, "nationality": "SV"}),
        "serves GT, HN, not nationality SV",
    ),
    "outside the host": (
        lambda office: _feature({"location_id": office.id}, _square(10.0, 10.0)),
        "lies outside US",
    ),
    "open ring": (
        lambda office: _feature(
            {"location_id": office.id}, [[[-99, 31], [-98, 31], [-98, 32], [-99, 32]]]
        ),
        "must end where it starts",
    ),
}


@pytest.mark.parametrize("case", BAD_FEATURES)
def test_a_bad_feature_names_itself_and_nothing_is_written(
    db_session, three_offices, tmp_path, case
):
    office, other, _ = three_offices
    build, message = BAD_FEATURES[case]
    good = _feature({"location_id": other.id}, _square(-93.5, 32.5))
    path = _write(tmp_path, good, build(office))
    before = _counts(db_session)
    with pytest.raises(DistrictError) as raised:
        load_official_districts(db_session, path)
    assert str(raised.value).startswith("feature 2")
    assert message in str(raised.value)
    assert _counts(db_session) == before


def test_collinear_polygon_reports_postgis_reason(db_session, three_offices, tmp_path):
    office = three_offices[0]
    path = _write(
        tmp_path,
        _feature({"location_id": office.id}, [[[-99, 31], [-98, 32], [-97, 33], [-99, 31]]]),
    )
    with pytest.raises(
        DistrictError,
        match=rf"feature 1 \(location {office.id}\): the polygon has no area once made valid "
        r"\(Self-intersection\[-98 32\]\)",
    ):
        load_official_districts(db_session, path)


def test_a_non_consular_location_is_refused(db_session, three_offices, tmp_path):
    shelter = factories.location(
        db_session, factories.organization(db_session), -95.0, 35.0, country_code="US"
    )
    path = _write(tmp_path, _feature({"location_id": shelter.id}))
    with pytest.raises(DistrictError, match=rf"feature 1 \(location {shelter.id}\): is a shelter"):
        load_official_districts(db_session, path)


def test_the_same_office_twice_in_one_file_is_refused(db_session, three_offices, tmp_path):
    office = three_offices[0]
    feature = _feature({"location_id": office.id})
    path = _write(tmp_path, feature, feature)
    with pytest.raises(DistrictError, match="same office and nationality as feature 1"):
        load_official_districts(db_session, path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a readable JSON file"),
        ('{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "has no features"),
    ],
)
def test_a_malformed_file_is_refused(db_session, three_offices, tmp_path, text, message):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    before = _counts(db_session)
    with pytest.raises(DistrictError, match=message):
        load_official_districts(db_session, path)
    assert _counts(db_session) == before


# --- command line -----------------------------------------------------------------------


def test_cli_compute_prints_a_summary(runner, countries):
    for lon, lat in [(-97.0, 32.0), (-93.0, 33.0)]:
        factories.consular_office(countries, "GT", lon, lat, host="US")
    factories.consular_office(countries, "SV", -95.0, 35.0, host="US")
    result = runner.invoke(args=["districts", "compute"])
    assert result.exit_code == 0, result.output
    assert "Districts: 2 groups, 3 districts computed" in result.output
    assert "0 offices without district" in result.output
    assert len(districts(countries)) == 3


def test_cli_load_loads_and_recomputes(runner, db_session, three_offices, tmp_path):
    office = three_offices[0]
    path = _write(tmp_path, _feature({"location_id": office.id}, _square(-100, 30, 3)))
    result = runner.invoke(args=["districts", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "Official districts: 1 official district loaded (0 replaced), 1 group," in (
        result.output
    )
    assert_partition(districts(db_session, "GT").values(), host_shape(db_session))


def test_cli_load_refuses_a_bad_file_and_loads_nothing(runner, db_session, three_offices, tmp_path):
    office = three_offices[0]
    path = _write(
        tmp_path,
        _feature({"location_id": office.id}),
        _feature({"location_id": office.id, "nationality": "SV"}),
    )
    db_session.commit()  # the command's rollback must not undo the offices
    before = _counts(db_session)
    result = runner.invoke(args=["districts", "load", str(path)])
    assert result.exit_code == 1
    assert f"nothing was loaded: feature 2 (location {office.id})" in result.output
    assert _counts(db_session) == before


def test_cli_load_needs_an_existing_file(runner, tmp_path):
    result = runner.invoke(args=["districts", "load", str(tmp_path / "missing.geojson")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_official_districts_of_one_group_must_not_overlap(db_session, three_offices, tmp_path):
    first, second, third = three_offices
    load_official_districts(
        db_session, _write(tmp_path, _feature({"location_id": first.id}, _square(-100, 30, 3)))
    )
    before = _counts(db_session)
    overlapping = _write(tmp_path, _feature({"location_id": second.id}, _square(-98, 31, 2)))
    with pytest.raises(
        DistrictError,
        match=rf"feature 1 \(location {second.id}\): overlaps the official district of "
        rf"location {first.id} for nationality GT",
    ):
        load_official_districts(db_session, overlapping)
    within_file = _write(
        tmp_path,
        _feature({"location_id": second.id}, _square(-94, 31, 2)),
        _feature({"location_id": third.id}, _square(-93, 32, 2)),
    )
    with pytest.raises(DistrictError, match=r"feature 2 \(location \d+\): overlaps feature 1"):
        load_official_districts(db_session, within_file)
    assert _counts(db_session) == before

    # Moving a shared boundary in one file: the replaced district no longer counts, and
    # neighbours that only touch are fine.
    moved = _write(
        tmp_path,
        _feature({"location_id": first.id}, _square(-100, 30, 2)),
        _feature(
            {"location_id": second.id}, [[[-98, 30], [-96, 30], [-96, 32], [-98, 32], [-98, 30]]]
        ),
    )
    load_official_districts(db_session, moved)
    assert_partition(districts(db_session, "GT").values(), host_shape(db_session))
