"""An import that adds or moves a consular office recomputes the districts it takes part
in, in the same transaction (issue 13): the consulate finder serves the new place at once,
as it does after an edit in the workspace. A file that only touches shelters, or leaves
the offices where they are, recomputes nothing.

The countries are boxes (tests/factories.py), so which office serves a point is plain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.hsds import export
from directory.hsds.importer import import_hsds
from directory.imports.report import ImportReport
from directory.places.models import Location, Organization
from geo.coordinates import LonLat
from tests import factories
from tests.test_imports_locations import apply, csv_bytes
from tests.test_imports_locations import consulate as consulate
from tests.test_imports_locations import places as places

HEADER = "external_id,organization,city,country_code,lat,lon"
IN_GUATEMALA = (-90.5, 14.6)
IN_MEXICO = (-100.0, 20.0)


@pytest.fixture(autouse=True)
def _messages_in_english(db_session: Session) -> Iterator[None]:
    """Outside a request the default language (Spanish) applies; these tests read English."""
    with force_locale("en"):
        yield


@pytest.fixture
def countries(consulate: Session) -> Session:
    """GT, MX and HN as boxes, the shelter casa-gt and the consulate consulado-hn."""
    return consulate


def import_csv(session: Session, *rows: str) -> ImportReport:
    report = apply(session, csv_bytes(*rows, header=HEADER))
    assert report.applied, report.problems
    return report


def serving(session: Session, nationality: str, lon: float, lat: float) -> list[str]:
    """The external ids of the offices whose computed district covers the point."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    return list(
        session.scalars(
            select(Location.external_id)
            .join(ConsularDistrict, ConsularDistrict.location_id == Location.id)
            .where(
                ConsularDistrict.nationality_code == nationality,
                ConsularDistrict.origin == DistrictOrigin.COMPUTED,
                func.ST_Covers(ConsularDistrict.area, point),
            )
            .order_by(Location.external_id)
        )
    )


def test_a_csv_that_adds_then_moves_an_office_recomputes_its_groups(countries: Session) -> None:
    office_in_gt = "c:1,consulado-hn,Guatemala,GT,14.6,-90.5"
    shelter = "s:1,casa-gt,Guatemala,GT,14.61,-90.51"

    added = import_csv(countries, office_in_gt, shelter)
    assert added.districts == [("HN", "GT")]
    assert serving(countries, "HN", *IN_GUATEMALA) == ["c:1"]
    assert serving(countries, "HN", *IN_MEXICO) == []
    assert "HN in GT" in str(added.districts_text())

    # The same file again: nothing moved, nothing recomputed.
    assert import_csv(countries, office_in_gt, shelter).districts == []
    # A shelter that moves is no office.
    assert (
        import_csv(countries, office_in_gt, "s:1,casa-gt,Antigua,GT,14.56,-90.73").districts == []
    )

    moved = import_csv(countries, "c:1,consulado-hn,Ciudad de México,MX,19.43,-99.13")
    assert moved.districts == [("HN", "GT"), ("HN", "MX")]
    assert moved.districts_text() is not None
    assert serving(countries, "HN", *IN_MEXICO) == ["c:1"]
    assert serving(countries, "HN", *IN_GUATEMALA) == []


def test_offices_that_swap_places_within_a_country_swap_districts(countries: Session) -> None:
    import_csv(countries, "c:1,consulado-hn,Guatemala,GT,14.6,-90.5")
    import_csv(countries, "c:2,consulado-hn,Flores,GT,16.9,-89.9")
    south = (-91.0, 14.0)
    assert serving(countries, "HN", *south) == ["c:1"]

    report = import_csv(
        countries,
        "c:1,consulado-hn,Flores,GT,16.9,-89.9",
        "c:2,consulado-hn,Guatemala,GT,14.6,-90.5",
    )
    assert report.districts == [("HN", "GT")]  # one group, recomputed once
    assert serving(countries, "HN", *south) == ["c:2"]


def _write(tmp_path: Path, document: dict, name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_an_hsds_import_that_adds_or_moves_an_office_recomputes_its_groups(
    countries: Session, tmp_path: Path
) -> None:
    consulate = countries.scalars(
        select(Organization).where(Organization.slug == "consulado-hn")
    ).one()
    office = factories.location(countries, consulate, *IN_GUATEMALA, country_code="GT")
    exported = "".join(export.export_json(countries))
    north = (-89.9, 17.0)

    # A feed that names an office we do not hold (another external id) in Flores: added.
    document = json.loads(exported)
    (location,) = document["locations"]
    assert location["external_identifier"] == office.external_id
    location["external_identifier"] = "partner:flores"
    location["latitude"], location["longitude"] = 16.9, -89.9
    report = import_hsds(countries, _write(tmp_path, document, "added.json"), apply=True)
    assert report.problems == []
    assert report.added == 1
    assert report.districts == [("HN", "GT")]
    assert serving(countries, "HN", *north) == ["partner:flores"]
    assert serving(countries, "HN", *IN_GUATEMALA) == [office.external_id]

    # Our own office, moved to Mexico.
    document = json.loads(exported)
    (location,) = document["locations"]
    location["latitude"], location["longitude"] = 19.43, -99.13
    location["addresses"][0]["country"] = "MX"
    path = _write(tmp_path, document, "moved.json")
    report = import_hsds(countries, path, apply=True)
    assert report.problems == []
    assert report.districts == [("HN", "GT"), ("HN", "MX")]
    countries.expire_all()
    assert office.position == LonLat(-99.13, 19.43)
    assert serving(countries, "HN", *IN_MEXICO) == [office.external_id]
    assert serving(countries, "HN", *IN_GUATEMALA) == ["partner:flores"]

    # The same document again: nothing moves, nothing is recomputed.
    assert import_hsds(countries, path, apply=True).districts == []
