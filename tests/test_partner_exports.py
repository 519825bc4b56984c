"""The partner exports of a consular office (issue 15, point 4): a CSV Excel opens right, an
XLSX with the same rows, and a GeoJSON that holds the district it was filtered by."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from shapely.geometry import Point, Polygon, box, shape

from directory.consular.partner_table import COLUMNS, partner_values
from directory.consular.referrals import referral
from directory.consular.services import PartnerQuery, active_district, partners_in_district
from directory.db import OperationalStatus, OrganizationKind, PositionPrecision
from directory.places.models import Network, ServiceCategory
from tests import factories
from tests.gdal import gdal_faults

TAPACHULA = (-92.2589, 14.9054)
DISTRICT = (-95.0, 14.5, -90.0, 18.0)
BOM = b"\xef\xbb\xbf"

# What issue 15 point 1 asks every partner row to say.
POINT_ONE = {
    "phones", "whatsapp", "email", "address", "hours", "hours_certainty", "open_now",
    "languages", "populations", "admission_rules", "status", "status_until", "capacity",
    "verified_at", "distance_office_km", "distance_from_km",
}  # fmt: skip


@pytest.fixture
def office(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.2, 13.7, -88.2, 14.5))
    office = factories.consular_office(
        db_session, "GT", *TAPACHULA, name="Consulado de Guatemala en Tapachula"
    )
    # Stored clockwise, as an uploaded official polygon may be: the export must turn it.
    clockwise = Polygon(list(box(*DISTRICT).exterior.coords)[::-1])
    assert not clockwise.exterior.is_ccw
    factories.district(db_session, office, clockwise)
    return office


@pytest.fixture
def partners(db_session, office):
    """A partner with every field known, one with nothing but its name and place, one open
    around the clock, and one outside the district."""
    rncom = Network(code="RNCOM", names={"en": "RNCOM"})
    shelter = ServiceCategory(code="shelter", names={"en": "Shelter", "es": "Albergue"}, icon="bed")
    legal = ServiceCategory(code="legal_aid", names={"en": "Legal aid"}, icon="scale")
    db_session.add_all([rncom, shelter, legal])

    def place(kind, lon, lat, name, **fields):
        organization = factories.organization(db_session, kind, name=name)
        return factories.location(db_session, organization, lon, lat, city="Tapachula", **fields)

    full = place(OrganizationKind.SHELTER, -92.27, 14.91, "SJR México – Tapachula")
    full.organization.networks = [rncom]
    full.organization.website = "https://sjr.example.org"
    full.categories = [shelter]
    full.address = "Calle 1 #2"
    full.admin_area = "Chiapas"
    full.phones = ["+52 962 000 0000", "962 111 1111"]
    full.whatsapp = "+52 962 222 2222"
    full.email = "albergue@example.org"
    full.opening_hours = {day: [["08:00", "16:00"]] for day in ("mo", "tu", "we", "th", "fr")}
    full.languages = ["es", "en"]
    full.populations = ["women", "children"]
    full.admission_rules = {"en": "Women and children only", "es": "Solo mujeres y niños"}
    full.admission_rules_language = "es"
    full.what_to_bring = {"es": "Identificación"}
    full.what_to_bring_language = "es"
    full.status = OperationalStatus.FULL
    full.status_until = dt.datetime(2099, 3, 3, 18, tzinfo=dt.UTC)
    full.capacity = 40
    full.verified_at = dt.date(2026, 1, 15)

    bare = place(
        OrganizationKind.CIVIL_SOCIETY,
        -92.0,
        15.5,
        "Fray Matías",
        precision=PositionPrecision.CITY,
        hours_confirmed=False,
    )
    bare.categories = [legal]

    always = place(OrganizationKind.INTERNATIONAL_ORG, -93.0, 16.0, "OIM")
    always.opening_hours = {"always": True}
    always.languages = ["fr"]
    always.categories = [legal]

    outside = place(OrganizationKind.SHELTER, -99.0, 19.4, "Casa CDMX")
    db_session.flush()
    return {"full": full, "bare": bare, "always": always, "outside": outside}


def _csv(client, url: str) -> tuple[bytes, list[dict[str, str]], list[str]]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    raw = response.get_data()
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    return raw, rows, list(reader.fieldnames or [])


def _xlsx(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, load_workbook(io.BytesIO(response.get_data())).active


def _same_cell(xlsx_value, csv_value: str) -> bool:
    """An XLSX cell says what the CSV's does: the same text, number or date."""
    if xlsx_value is None:
        return csv_value == ""
    if isinstance(xlsx_value, dt.datetime):  # a date cell reads back as a midnight datetime
        return xlsx_value.date().isoformat() == csv_value
    if isinstance(xlsx_value, int | float):
        return xlsx_value == float(csv_value)  # Excel keeps -92.0 as -92
    return xlsx_value == csv_value


def _geojson(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data())


def _partner_names(body: dict) -> list[str]:
    return [
        f["properties"]["name"] for f in body["features"] if f["properties"]["role"] == "partner"
    ]


def test_the_table_has_every_column_of_point_one(db_session, office, partners):
    assert set(COLUMNS) >= POINT_ONE
    district = active_district(db_session, office.id, "GT")
    found = partners_in_district(db_session, office, district, PartnerQuery())
    values = partner_values(referral(found[0], dt.datetime.now(dt.UTC)), "en")
    assert tuple(values) == COLUMNS


def test_the_csv_starts_with_a_byte_order_mark_and_has_the_columns_of_point_one(
    client, office, partners
):
    raw, rows, header = _csv(client, f"/consulates/{office.id}/partners.csv?lang=en")
    assert raw.startswith(BOM)
    # Excel on Windows then reads UTF-8, not "SJR MÃ©xico â€“ Tapachula".
    assert "SJR México – Tapachula".encode() in raw
    assert header == list(COLUMNS)
    assert [row["organization"] for row in rows] == ["SJR México – Tapachula", "Fray Matías", "OIM"]


def test_a_row_with_every_field_known(client, office, partners):
    _, rows, _ = _csv(client, f"/consulates/{office.id}/partners.csv?lang=en")
    full = rows[0]
    assert full["name"] == "SJR México – Tapachula"
    assert full["kind"] == "shelter"
    assert full["networks"] == "RNCOM"
    assert full["categories"] == "Shelter"
    assert full["address"] == "Calle 1 #2"
    assert (full["city"], full["admin_area"], full["country_code"]) == (
        "Tapachula",
        "Chiapas",
        "MX",
    )
    assert (float(full["lat"]), float(full["lon"])) == (14.91, -92.27)
    assert full["position_precision"] == "exact"
    # A phone starting with "+" is a formula to a spreadsheet: defused.
    assert full["phones"] == "'+52 962 000 0000; 962 111 1111"
    assert full["whatsapp"] == "'+52 962 222 2222"
    assert full["email"] == "albergue@example.org"
    assert full["website"] == "https://sjr.example.org"
    assert full["hours"] == (
        "Monday to Friday: 8:00\u202fAM–4:00\u202fPM; "  # Babel's narrow no-break spaces
        "Saturday and Sunday: closed (Mexico City time)"
    )
    assert full["hours_certainty"] == "confirmed"
    assert full["open_now"] == "false"  # full: never open now
    assert full["open_state"] == "Full until March 3, 2099"
    assert full["languages"] == "Spanish; English"
    assert full["populations"] == "Women; Children"
    assert full["admission_rules"] == "Women and children only"
    # Not translated into English: said in Spanish, and said so.
    assert full["what_to_bring"] == "Identificación (Written in Spanish)"
    assert full["status"] == "Full until March 3, 2099"
    assert full["status_until"] == "2099-03-03T12:00-06:00"  # the place's own time
    assert full["capacity"] == "40"
    assert full["verified_at"] == "2026-01-15"
    assert 0 < float(full["distance_office_km"]) < 2
    assert full["distance_from_km"] == ""  # no place was typed
    assert full["source"] == "tests"


def test_a_row_with_nothing_known_says_so_where_people_read_and_leaves_numbers_empty(
    client, office, partners
):
    _, rows, _ = _csv(client, f"/consulates/{office.id}/partners.csv?lang=en")
    bare = rows[1]
    for column in ("address", "phones", "whatsapp", "email", "website", "hours", "languages",
                   "populations", "admission_rules", "what_to_bring"):  # fmt: skip
        assert bare[column] == "Not known", column
    for column in ("capacity", "status_until", "verified_at", "distance_from_km", "networks",
                   "admin_area"):  # fmt: skip
        assert bare[column] == "", column
    assert bare["hours_certainty"] == "unknown"
    assert bare["open_now"] == "false"
    assert bare["open_state"] == "Hours not known"
    assert bare["status"] == "Not reported full or closed"
    assert bare["position_precision"] == "city"
    # A town-centre point: the distance in steps of 5 km, as the API rounds it.
    assert float(bare["distance_office_km"]) % 5 == 0
    always = rows[2]
    assert always["hours"] == "24 hours, every day"
    assert always["open_now"] == "true"
    assert always["open_state"] == "Open 24 hours"


def test_the_csv_speaks_the_readers_language(app, client, office, partners):
    _, rows, header = _csv(client, f"/consulates/{office.id}/partners.csv?lang=es")
    assert header == list(COLUMNS)  # machine names, the same in every language
    with app.test_request_context(), force_locale("es"):
        not_known = gettext("Not known")
        monday = gettext("Monday")
    assert rows[1]["hours"] == not_known
    assert monday in rows[0]["hours"]
    assert rows[0]["admission_rules"] == "Solo mujeres y niños"
    assert rows[0]["categories"] == "Albergue"


def test_a_typed_place_adds_the_distance_from_it_and_keeps_the_export_private(
    client, office, partners
):
    url = f"/consulates/{office.id}/partners.csv?lang=en&from=15.5,-92.0"
    response = client.get(url)
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    by_name = {row["name"]: row for row in rows}
    assert float(by_name["Fray Matías"]["distance_from_km"]) < 10
    assert float(by_name["SJR México – Tapachula"]["distance_from_km"]) > 50
    # Positive control: without it, the export is public directory data.
    plain = client.get(f"/consulates/{office.id}/partners.csv?lang=en")
    assert plain.headers["Cache-Control"].startswith("public")


def test_the_xlsx_holds_the_same_rows_with_a_frozen_bold_header(client, office, partners):
    _, csv_rows, _ = _csv(client, f"/consulates/{office.id}/partners.csv?lang=en")
    response, sheet = _xlsx(client, f"/consulates/{office.id}/partners.xlsx?lang=en")
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="partners-')
    assert disposition.endswith('-GT.xlsx"')
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(COLUMNS)
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    widths = {name: sheet.column_dimensions[cell.column_letter].width for name, cell in
              zip(COLUMNS, sheet[1], strict=True)}  # fmt: skip
    assert all(6 <= width <= 60 for width in widths.values())
    assert widths["hours"] > widths["kind"]  # as wide as the content
    assert len(rows) - 1 == len(csv_rows) == 3
    for xlsx_row, csv_row in zip(rows[1:], csv_rows, strict=True):
        for name, value in zip(COLUMNS, xlsx_row, strict=True):
            assert _same_cell(value, csv_row[name]), (name, value, csv_row[name])
    # Numbers are numbers and dates dates, to sort and sum.
    full = dict(zip(COLUMNS, rows[1], strict=True))
    assert full["capacity"] == 40
    assert isinstance(full["lat"], float)
    assert full["verified_at"] == dt.datetime(2026, 1, 15)


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(1,1)"]
)
def test_formula_injection_is_defused_in_both_spreadsheets(
    client, db_session, office, partners, name
):
    partners["bare"].name = name
    db_session.flush()
    _, csv_rows, _ = _csv(client, f"/consulates/{office.id}/partners.csv?lang=en")
    assert csv_rows[1]["name"] == "'" + name
    _, sheet = _xlsx(client, f"/consulates/{office.id}/partners.xlsx?lang=en")
    cell = sheet.cell(row=3, column=COLUMNS.index("name") + 1)
    assert cell.data_type == "s"  # a string, not a formula
    assert cell.value == "'" + name


def test_a_control_character_in_a_record_does_not_break_the_xlsx(
    client, db_session, office, partners
):
    partners["bare"].name = "Fray\x0bMatías"
    db_session.flush()
    _, sheet = _xlsx(client, f"/consulates/{office.id}/partners.xlsx?lang=en")
    assert sheet.cell(row=3, column=COLUMNS.index("name") + 1).value == "FrayMatías"


def test_the_geojson_holds_the_district_the_office_and_the_partners(client, office, partners):
    body = _geojson(client, f"/consulates/{office.id}/partners.geojson?lang=en")
    districts = [f for f in body["features"] if f["properties"].get("kind") == "consular_district"]
    assert len(districts) == 1
    district = districts[0]
    assert district["properties"] == {
        "kind": "consular_district",
        "role": "district",
        "nationality": "GT",
        "origin": "computed",
        "source": "tests",
        "office_id": office.id,
    }
    area = shape(district["geometry"])
    assert area.is_valid
    assert area.equals(box(*DISTRICT))  # the whole area, not a simplified drawing
    assert all(polygon.exterior.is_ccw for polygon in area.geoms)  # RFC 7946: CCW
    offices = [f for f in body["features"] if f["properties"]["role"] == "office"]
    assert [f["id"] for f in offices] == [office.id]
    assert _partner_names(body) == ["SJR México – Tapachula", "Fray Matías", "OIM"]
    for feature in body["features"]:
        if feature["properties"]["role"] == "partner":
            assert area.contains(Point(feature["geometry"]["coordinates"]))
    full = body["features"][2]["properties"]
    assert full["capacity"] == 40
    assert full["hours_certainty"] == "confirmed"
    assert full["open_now"] is False
    assert full["admission_rules"]["text"] == "Women and children only"
    assert full["distance_from_m"] is None
    bare = body["features"][3]["properties"]
    assert bare["opening_hours"] is None  # not known: null, never a made-up default
    assert bare["capacity"] is None


def test_gdal_reads_every_feature_of_the_geojson(client, office, partners, tmp_path):
    body = _geojson(client, f"/consulates/{office.id}/partners.geojson?lang=en")
    path = tmp_path / "partners.geojson"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert gdal_faults(path, len(body["features"])) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["SJR México – Tapachula", "Fray Matías", "OIM"]),
        ("category=legal_aid", ["Fray Matías", "OIM"]),
        ("open_now=true", ["OIM"]),
        ("language=en", ["SJR México – Tapachula"]),
        ("category=legal_aid&language=fr", ["OIM"]),
    ],
)
def test_the_filters_apply_to_every_format_alike(client, office, partners, query, expected):
    base = f"/consulates/{office.id}/partners"
    _, csv_rows, _ = _csv(client, f"{base}.csv?lang=en&{query}")
    _, sheet = _xlsx(client, f"{base}.xlsx?lang=en&{query}")
    body = _geojson(client, f"{base}.geojson?lang=en&{query}")
    assert [row["name"] for row in csv_rows] == expected
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == expected
    assert _partner_names(body) == expected
    # The district is in the file whatever the filters keep.
    assert sum(f["properties"]["role"] == "district" for f in body["features"]) == 1


@pytest.mark.parametrize("extension", ["csv", "xlsx", "geojson"])
def test_bad_requests_are_json_errors(client, office, partners, extension):
    missing = client.get(f"/consulates/987654321/partners.{extension}")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    bad = client.get(f"/consulates/{office.id}/partners.{extension}?kind=embassy")
    assert bad.status_code == 400
    assert bad.json["error"]["message"].startswith("kind: ")
    far = client.get(f"/consulates/{office.id}/partners.{extension}?from=95,0")
    assert far.status_code == 400
    # Positive control: the same office with good parameters.
    assert client.get(f"/consulates/{office.id}/partners.{extension}").status_code == 200
