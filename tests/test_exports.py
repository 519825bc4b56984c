"""GeoJSON and CSV exports of the public directory (issue 13, point 4).

The GeoJSON is an RFC 7946 FeatureCollection of the public locations, longitude first; the
CSV opens in a spreadsheet as UTF-8 (a byte order mark) and cannot run a formula. Neither
holds a contact person. Both are streamed from a server-side cursor: the memory an export
takes stays flat when the directory grows tenfold.
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson
from directory.db import OrganizationKind, PositionPrecision, utcnow
from directory.exports.rows import hours_text
from directory.exports.writers import BOM, CSV_COLUMNS, csv_chunks, geojson_chunks
from directory.places import opening_hours
from directory.places.filters import active_locations
from directory.places.models import Location, Organization
from geo.coordinates import LonLat
from tests import factories


def _geojson(session: Session, **options: Any) -> dict[str, Any]:
    return json.loads("".join(geojson_chunks(session, **options)))


def _csv_text(session: Session) -> str:
    return "".join(csv_chunks(session))


def _public_positions(session: Session) -> dict[int, LonLat]:
    return {location.id: location.position for location in session.scalars(active_locations())}


def test_geojson_is_a_feature_collection_of_the_public_locations_lon_first(demo_session):
    document = _geojson(demo_session)
    assert document["type"] == "FeatureCollection"
    positions = _public_positions(demo_session)
    features = document["features"]
    assert len(features) == len(positions) > 100
    for feature in features:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        held = positions[feature["id"]]
        # RFC 7946: [longitude, latitude], WGS84, at most six decimals (about 10 cm).
        assert (lon, lat) == (round(held.lon, 6), round(held.lat, 6))
        properties = feature["properties"]
        assert set(properties) >= {
            "id",
            "name",
            "organization",
            "kind",
            "categories",
            "address",
            "city",
            "country",
            "phones",
            "hours",
            "status",
            "verified_at",
            "position_precision",
        }
    # The whole region lies west of Greenwich: a swapped pair would show as a positive lon.
    assert all(feature["geometry"]["coordinates"][0] < 0 for feature in features)


def test_geojson_leaves_archived_records_out(demo_session):
    location = demo_session.scalars(active_locations().order_by(Location.id)).first()
    location.archived_at = utcnow()
    demo_session.flush()
    ids = {feature["id"] for feature in _geojson(demo_session)["features"]}
    assert location.id not in ids
    assert len(ids) == len(_public_positions(demo_session))


def test_csv_starts_with_a_bom_and_reads_back(demo_session):
    text = _csv_text(demo_session)
    assert text.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert len(rows) == len(_public_positions(demo_session))
    assert tuple(rows[0]) == CSV_COLUMNS
    # Hours come out in the syntax the CSV import reads back.
    for row in rows:
        if row["hours"]:
            opening_hours.parse(row["hours"])


def test_a_formula_in_a_name_comes_out_neutralised(db_session):
    factories.country(db_session, "MX")
    organization = factories.organization(db_session, name="=cmd|' /C calc'!A0")
    location = factories.location(db_session, organization, -92.26, 14.9, city="+Tapachula")
    location.phones = ["-1"]
    db_session.flush()
    rows = list(csv.DictReader(io.StringIO(_csv_text(db_session).removeprefix(BOM))))
    assert len(rows) == 1
    assert rows[0]["organization"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["city"] == "'+Tapachula"
    assert rows[0]["phones"] == "'-1"
    assert (rows[0]["latitude"], rows[0]["longitude"]) == ("14.9", "-92.26")


def test_no_contact_person_is_in_any_export(demo_session):
    people = demo_session.scalars(select(ContactPerson)).all()
    assert len(people) > 10
    for text in ("".join(geojson_chunks(demo_session)), _csv_text(demo_session)):
        for person in people:
            for value in (person.name, person.email, person.phone):
                if value:
                    assert value not in text, f"contact person data in an export: {value!r}"


def test_hours_text_reads_back_as_the_same_hours():
    for hours in (
        {"always": True},
        {"mo": [["08:00", "16:00"]], "tu": [["08:00", "16:00"]], "sa": [["09:00", "13:00"]]},
        {"fr": [["20:00", "02:00"]], "sa": [["09:00", "12:00"], ["14:00", "17:00"]]},
    ):
        assert opening_hours.parse(hours_text(hours)) == hours
    assert hours_text(None) is None
    assert hours_text({"mo": [["08:00", "16:00"]]}) == "Mo 08:00-16:00"


# --- Downloads and commands -----------------------------------------------------------------


def test_the_public_downloads_are_streamed_and_cached(demo_app, demo_session):
    client = demo_app.test_client()
    count = len(_public_positions(demo_session))
    response = client.get("/downloads/directory.geojson")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/geo+json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Content-Disposition"] == 'attachment; filename="directory.geojson"'
    assert len(json.loads(response.get_data(as_text=True))["features"]) == count

    response = client.get("/downloads/directory.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    body = response.get_data()
    assert body.startswith(BOM.encode("utf-8"))
    assert len(list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))) == count


def test_the_commands_write_the_files(demo_runner, demo_session, tmp_path):
    out = tmp_path / "directory.geojson"
    result = demo_runner.invoke(args=["export", "geojson", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == _geojson(demo_session)
    out = tmp_path / "directory.csv"
    result = demo_runner.invoke(args=["export", "csv", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().decode("utf-8") == _csv_text(demo_session)
    assert "public locations written" in result.output
    assert not list(tmp_path.glob("*.partial"))


# --- Streaming ---------------------------------------------------------------------------------


def _add_locations(session: Session, organization: Organization, count: int, start: int) -> None:
    session.execute(
        insert(Location),
        [
            {
                "external_id": f"memory:{n}",
                "organization_id": organization.id,
                "name": f"Site {n}",
                "city": "Tapachula",
                "country_code": "MX",
                "point": LonLat(-92.26 + n / 100_000, 14.9).to_wkt_element(),
                "position_precision": PositionPrecision.CITY,
                "timezone": "America/Mexico_City",
                "phones": ["+52 962 000 0000", "+52 962 111 1111"],
                "languages": ["es", "en"],
                "opening_hours": {"mo": [["08:00", "16:00"]], "tu": [["08:00", "16:00"]]},
                "notes": {"es": "Nota de prueba " * 10},
                "notes_language": "es",
                "status": "open",
                "source": "tests",
            }
            for n in range(start, start + count)
        ],
    )
    session.flush()


def _peak(session: Session, writer: Any) -> tuple[int, int]:
    """(peak traced bytes, characters written) while an export is consumed chunk by chunk."""
    written = 0
    tracemalloc.start()
    try:
        for chunk in writer(session, batch_size=100):
            written += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, written


def test_the_exports_stream_in_bounded_memory(db_session):
    factories.country(db_session, "MX")
    organization = factories.organization(db_session, OrganizationKind.SHELTER)
    _add_locations(db_session, organization, 300, 0)
    writers = (geojson_chunks, csv_chunks)
    for writer in writers:
        _peak(db_session, writer)  # warm-up: compiled statements, caches
    small = [_peak(db_session, writer) for writer in writers]
    _add_locations(db_session, organization, 2_700, 300)
    large = [_peak(db_session, writer) for writer in writers]
    for writer, (small_peak, small_size), (large_peak, large_size) in zip(
        writers, small, large, strict=True
    ):
        assert large_size > 8 * small_size, writer.__name__  # ten times the rows…
        assert large_peak < 2 * small_peak, (
            writer.__name__,
            small_peak,
            large_peak,
        )  # …same memory
