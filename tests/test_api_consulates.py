"""The consulate API: which office serves a person, and the partners in an office's district."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from shapely.geometry import Point, box, shape
from sqlalchemy import delete, select

from directory.consular import partner_table
from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.consular.services import (
    PartnerQuery,
    active_district,
    district_geometry,
    partners_in_district,
)
from directory.db import OrganizationKind, Population
from directory.places.models import Network, ServiceCategory
from tests import factories
from tests.distances import haversine_m

TAPACHULA = (-92.2589, 14.9054)
MEXICO_CITY = (-99.1332, 19.4326)
CHICAGO = (-87.6298, 41.8781)


@pytest.fixture
def offices(db_session):
    """Guatemala's consulate in Tapachula and embassy in Mexico City, each with a district;
    Honduras' consulate in Tapachula, a joint office that also serves El Salvador."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "US", (-125.0, 32.8, -67.0, 49.0))
    for code, bounds in {
        "GT": (-92.2, 13.7, -88.2, 14.5),
        "HN": (-89.4, 13.0, -83.1, 14.4),
        "SV": (-90.1, 13.1, -87.7, 14.4),
        "NI": (-87.7, 10.7, -83.1, 13.0),
    }.items():
        factories.country(db_session, code, bounds)
    tapachula = factories.consular_office(
        db_session, "GT", *TAPACHULA, name="Consulado de Guatemala en Tapachula"
    )
    embassy = factories.consular_office(
        db_session,
        "GT",
        *MEXICO_CITY,
        kind=OrganizationKind.EMBASSY,
        name="Embajada de Guatemala en México",
    )
    factories.district(db_session, tapachula, (-95.0, 14.5, -90.0, 18.0))
    factories.district(db_session, embassy, (-118.0, 18.0, -86.5, 32.8))
    joint = factories.consular_office(
        db_session, "HN", *TAPACHULA, also_serves=("SV",), name="Consulado conjunto HN-SV"
    )
    factories.district(db_session, joint, (-95.0, 14.5, -90.0, 18.0))
    factories.district(db_session, joint, (-96.0, 14.5, -91.0, 17.0), nationality="SV")
    return {"tapachula": tapachula, "embassy": embassy, "joint": joint}


def _serving(client, lon: float, lat: float, nationality: str):
    return client.get(f"/api/v1/consulates/serving?lat={lat}&lon={lon}&nationality={nationality}")


def test_a_point_inside_a_district_finds_its_consulate(client, offices):
    response = _serving(client, -92.5, 15.3, "GT")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    feature = response.json
    assert feature["type"] == "Feature"
    assert feature["id"] == offices["tapachula"].id
    assert Point(feature["geometry"]["coordinates"]).equals(Point(TAPACHULA))
    properties = feature["properties"]
    assert properties["match"] == "district"
    assert properties["nationality"] == "GT"
    assert properties["district"] == {"origin": "computed", "source": "tests"}
    assert properties["name"] == "Consulado de Guatemala en Tapachula"
    expected = haversine_m((-92.5, 15.3), TAPACHULA)
    assert properties["distance_m"] == pytest.approx(expected, rel=0.005)


def test_the_embassys_consular_section_counts_as_a_consulate(client, offices):
    response = _serving(client, -103.35, 20.67, "gt")  # Guadalajara, lower case accepted
    assert response.status_code == 200
    assert response.json["id"] == offices["embassy"].id
    assert response.json["properties"]["match"] == "district"
    assert response.json["properties"]["kind"] == "embassy"


def test_a_point_in_a_country_without_a_consulate_finds_the_nearest(client, offices):
    response = _serving(client, *CHICAGO, "GT")
    assert response.status_code == 200
    properties = response.json["properties"]
    assert response.json["id"] == offices["embassy"].id  # Mexico City is nearer than Tapachula
    assert properties["match"] == "nearest"
    assert properties["distance_m"] == pytest.approx(haversine_m(CHICAGO, MEXICO_CITY), rel=0.005)
    # The office's own district is reported, though it does not cover the point.
    assert properties["district"] == {"origin": "computed", "source": "tests"}


def test_without_districts_the_nearest_office_is_found(client, db_session, offices):
    office = factories.consular_office(db_session, "NI", -92.0, 15.0, name="Consulado NI")
    response = _serving(client, -92.3, 15.1, "NI")
    assert response.json["id"] == office.id
    assert response.json["properties"]["match"] == "nearest"
    assert response.json["properties"]["district"] is None


def test_a_joint_office_is_found_for_every_nationality_it_serves(client, offices):
    for nationality in ("HN", "SV"):
        response = _serving(client, -92.5, 15.3, nationality)
        assert response.status_code == 200
        assert response.json["id"] == offices["joint"].id
        assert response.json["properties"]["match"] == "district"
        assert response.json["properties"]["nationality"] == nationality
    # The SV district of the joint office reaches further west than its HN one.
    west = _serving(client, -95.5, 16.0, "SV")
    assert west.json["properties"]["match"] == "district"
    assert _serving(client, -95.5, 16.0, "HN").json["properties"]["match"] == "nearest"


def test_where_official_districts_overlap_the_nearest_office_wins(client, db_session, offices):
    near = factories.consular_office(db_session, "NI", -93.0, 16.0, name="Near")
    far = factories.consular_office(db_session, "NI", -97.0, 16.0, name="Far")
    factories.district(db_session, near, (-98.0, 15.0, -92.0, 17.0), origin=DistrictOrigin.OFFICIAL)
    factories.district(db_session, far, (-98.0, 15.0, -92.0, 17.0), origin=DistrictOrigin.OFFICIAL)
    response = _serving(client, -94.0, 16.0, "NI")
    assert response.json["id"] == near.id
    assert response.json["properties"]["district"]["origin"] == "official"
    assert _serving(client, -96.5, 16.0, "NI").json["id"] == far.id


def test_archived_districts_and_offices_are_ignored(client, db_session, offices):
    now = dt.datetime.now(dt.UTC)
    tapachula = offices["tapachula"]
    # Positive control: before anything is archived, the district is what matches.
    before = _serving(client, -92.5, 15.3, "GT")
    assert before.json["id"] == tapachula.id
    assert before.json["properties"]["match"] == "district"
    district = db_session.scalar(
        select(ConsularDistrict).where(ConsularDistrict.location_id == tapachula.id)
    )
    district.archived_at = now
    db_session.flush()
    response = _serving(client, -92.5, 15.3, "GT")
    assert response.json["id"] == tapachula.id
    assert response.json["properties"]["match"] == "nearest"
    assert response.json["properties"]["district"] is None

    tapachula.organization.archived_at = now
    db_session.flush()
    response = _serving(client, -92.5, 15.3, "GT")
    assert response.json["id"] == offices["embassy"].id
    assert response.json["properties"]["match"] == "nearest"


def test_a_nationality_without_any_office_is_a_404(client, offices):
    response = _serving(client, -92.5, 15.3, "US")
    assert response.status_code == 404
    error = response.json["error"]
    assert error["code"] == "no_consulate"
    assert "US" in error["message"]
    # Positive control: the same point for a nationality with offices finds one.
    assert _serving(client, -92.5, 15.3, "GT").status_code == 200


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lat=15&lon=-92&nationality=XX", "nationality"),
        ("lat=15&lon=-92&nationality=GTM", "nationality"),
        ("lat=15&lon=-92&nationality=1", "nationality"),
        ("lat=15&lon=-92", "nationality"),
        ("lat=15&lon=-92&nationality=", "nationality"),
        ("lon=-92&nationality=GT", "lat"),
        ("lat=95&lon=-92&nationality=GT", "lat"),
        ("lat=15&lon=nan&nationality=GT", "lon"),
    ],
)
def test_bad_serving_input_is_a_400_naming_the_parameter(client, offices, query, parameter):
    response = client.get(f"/api/v1/consulates/serving?{query}")
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{parameter}: ")


# --- partners ---------------------------------------------------------------------------


@pytest.fixture
def partners(db_session, offices):
    """Partners around Tapachula, some inside the consulate's district and some not."""
    rncom = Network(code="RNCOM", names={"en": "RNCOM"})
    cammina = Network(code="CAMMINA", names={"en": "CAMMINA"})
    shelter_category = ServiceCategory(code="shelter", names={"en": "Shelter"}, icon="bed")
    legal = ServiceCategory(code="legal_aid", names={"en": "Legal aid"}, icon="scale")
    db_session.add_all([rncom, cammina, shelter_category, legal])

    def place(kind, lon, lat, name, networks=(), categories=(), populations=()):
        org = factories.organization(db_session, kind, name=name)
        org.networks = list(networks)
        location = factories.location(db_session, org, lon, lat, city="Somewhere")
        location.categories = list(categories)
        location.populations = list(populations)
        return location

    made = {
        "shelter": place(
            OrganizationKind.SHELTER, -92.27, 14.91, "Albergue Belén",
            networks=[rncom], categories=[shelter_category],
            populations=[Population.WOMEN.value],
        ),
        "civil": place(
            OrganizationKind.CIVIL_SOCIETY, -92.0, 15.5, "Fray Matías",
            networks=[rncom, cammina], categories=[legal],
        ),
        "international": place(OrganizationKind.INTERNATIONAL_ORG, -93.0, 16.0, "OIM"),
        "government": place(OrganizationKind.GOVERNMENT, -92.3, 14.95, "COMAR"),
        "outside": place(OrganizationKind.SHELTER, -99.0, 19.4, "Casa CDMX"),
    }  # fmt: skip
    made["shelter"].phones = ["+52 962 000 0000"]
    db_session.flush()
    return made


def _partners(client, office_id: int, query: str = ""):
    return client.get(f"/api/v1/consulates/{office_id}/partners?{query}")


def _ids(response) -> list[int]:
    return [feature["id"] for feature in response.json["features"]]


def test_partners_are_inside_the_district_nearest_to_the_consulate_first(client, offices, partners):
    response = _partners(client, offices["tapachula"].id)
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.json
    assert body["type"] == "FeatureCollection"
    assert body["office"]["id"] == offices["tapachula"].id
    assert body["district"] == {"nationality": "GT", "origin": "computed", "source": "tests"}
    assert _ids(response) == [
        partners["shelter"].id,
        partners["civil"].id,
        partners["international"].id,
    ]  # no government service, no other consulate, nothing outside the district
    distances = [feature["properties"]["distance_m"] for feature in body["features"]]
    assert distances == sorted(distances)
    expected = haversine_m(TAPACHULA, (-92.0, 15.5))
    assert distances[1] == pytest.approx(expected, rel=0.005)
    district = box(-95.0, 14.5, -90.0, 18.0)
    for feature in body["features"]:
        assert district.covers(shape(feature["geometry"]))
    assert "next_cursor" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=shelter", ["shelter"]),
        ("kind=shelter&kind=international_org", ["shelter", "international"]),
        ("network=CAMMINA", ["civil"]),
        ("network=RNCOM", ["shelter", "civil"]),
        ("category=legal_aid", ["civil"]),
        ("population=women", ["shelter"]),
        ("network=RNCOM&category=shelter", ["shelter"]),
        ("population=children", []),
    ],
)
def test_partner_filters_narrow_the_list(client, offices, partners, query, expected):
    response = _partners(client, offices["tapachula"].id, query)
    assert response.status_code == 200
    assert _ids(response) == [partners[key].id for key in expected]


def test_partners_page_with_an_opaque_cursor(client, offices, partners):
    office_id = offices["tapachula"].id
    seen: list[int] = []
    query = "limit=1"
    for _ in range(5):
        response = _partners(client, office_id, query)
        assert response.status_code == 200
        seen += _ids(response)
        cursor = response.json.get("next_cursor")
        if cursor is None:
            break
        query = f"limit=1&cursor={cursor}"
    assert seen == [partners["shelter"].id, partners["civil"].id, partners["international"].id]
    two = _partners(client, office_id, "limit=2")
    assert len(two.json["features"]) == 2
    assert "next_cursor" in two.json


def test_a_joint_office_lists_the_partners_of_each_of_its_districts(client, offices, partners):
    joint = offices["joint"].id
    own = _ids(_partners(client, joint))
    assert partners["international"].id in own
    sv = _partners(client, joint, "nationality=sv")
    assert sv.status_code == 200
    assert sv.json["district"]["nationality"] == "SV"
    assert partners["international"].id in _ids(sv)
    refused = _partners(client, joint, "nationality=GT")
    assert refused.status_code == 400
    assert refused.json["error"]["message"].startswith("nationality: ")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=consulate", "kind"),
        ("kind=government", "kind"),
        ("kind=spaceport", "kind"),
        ("network=NOPE", "network"),
        ("category=unicorns", "category"),
        ("population=aliens", "population"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("nationality=GTM", "nationality"),
        ("open_now=maybe", "open_now"),
    ],
)
def test_bad_partner_input_is_a_400_naming_the_parameter(
    client, offices, partners, query, parameter
):
    response = _partners(client, offices["tapachula"].id, query)
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{parameter}: ")


def test_an_id_that_is_not_a_consular_office_is_a_404(client, offices, partners):
    for location_id in (partners["shelter"].id, 987654321):
        response = _partners(client, location_id)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
        assert set(response.json["error"]) == {"code", "message", "details"}
    # Positive control: a consular office's id gets its partners.
    found = _partners(client, offices["tapachula"].id)
    assert found.status_code == 200
    assert found.json["features"]


def test_an_office_without_a_district_says_how_districts_are_made(client, db_session, offices):
    office = factories.consular_office(db_session, "NI", -92.0, 15.0)
    response = _partners(client, office.id)
    assert response.status_code == 404
    error = response.json["error"]
    assert error["code"] == "district_missing"
    assert "flask districts compute" in error["message"]
    # Positive control: once the office has a district, the same request answers.
    factories.district(db_session, office, (-93.0, 14.5, -91.0, 16.0))
    assert _partners(client, office.id).status_code == 200


# --- exports ----------------------------------------------------------------------------


def test_csv_export_lists_every_partner_with_a_file_name(client, db_session, offices, partners):
    partners["civil"].name = '=HYPERLINK("http://evil")'
    db_session.flush()
    response = client.get(f"/consulates/{offices['tapachula'].id}/partners.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith('-GT.csv"')
    # UTF-8 with a byte order mark, for Excel; the columns are tests/test_partner_exports.py's.
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert list(rows[0]) == list(partner_table.COLUMNS)
    assert [row["organization"] for row in rows] == ["Albergue Belén", "Fray Matías", "OIM"]
    first, second, _ = rows
    assert first["networks"] == "RNCOM"
    assert first["categories"] == "Shelter"
    assert first["populations"] == "Women"
    assert float(first["lat"]) == pytest.approx(14.91)
    assert float(first["lon"]) == pytest.approx(-92.27)  # a number, not guarded
    expected_km = haversine_m(TAPACHULA, (-92.27, 14.91)) / 1000
    assert float(first["distance_office_km"]) == pytest.approx(expected_km, abs=0.01)
    # Cells a spreadsheet would run as formulas are defused.
    assert first["phones"] == "'+52 962 000 0000"
    assert second["name"] == '\'=HYPERLINK("http://evil")'
    assert set(second["networks"].split("; ")) == {"RNCOM", "CAMMINA"}


def test_exports_keep_the_filters(client, offices, partners):
    office_id = offices["tapachula"].id
    response = client.get(f"/consulates/{office_id}/partners.csv?kind=shelter")
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row["organization"] for row in rows] == ["Albergue Belén"]
    geojson = client.get(f"/consulates/{office_id}/partners.geojson?network=RNCOM")
    assert geojson.status_code == 200
    assert geojson.mimetype == "application/geo+json"
    assert geojson.headers["Content-Disposition"].endswith('-GT.geojson"')
    body = geojson.get_json(force=True)
    # The district and the office come first (tests/test_partner_exports.py), then partners.
    found = [f for f in body["features"] if f["properties"]["role"] == "partner"]
    assert [f["id"] for f in found] == [partners["shelter"].id, partners["civil"].id]
    assert found[0]["properties"]["distance_m"] > 0


def test_exports_of_unknown_offices_and_bad_filters_are_json_errors(client, offices, partners):
    missing = client.get("/consulates/987654321/partners.csv")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    # Positive control: a known office's export, and the filter with a partner's kind.
    assert client.get(f"/consulates/{offices['tapachula'].id}/partners.csv").status_code == 200
    good = client.get(f"/consulates/{offices['tapachula'].id}/partners.geojson?kind=shelter")
    assert good.status_code == 200
    bad = client.get(f"/consulates/{offices['tapachula'].id}/partners.geojson?kind=embassy")
    assert bad.status_code == 400
    assert bad.json["error"]["message"].startswith("kind: ")


def test_a_recomputed_district_keeps_answering_for_a_request_that_read_it_before(
    db_session, offices, partners
):
    # `flask districts compute` replaces a computed district by a new row (a new id) in one
    # transaction; a request that looked the district up just before must still find the
    # partners and the area, not an empty list that a cache would then keep.
    office = offices["tapachula"]
    before = active_district(db_session, office.id, "GT")
    found_before = partners_in_district(db_session, office, before, PartnerQuery())
    replacement = ConsularDistrict(
        location_id=office.id,
        nationality_code="GT",
        origin=before.origin,
        area=db_session.scalar(
            select(ConsularDistrict.area).where(ConsularDistrict.id == before.id)
        ),
        source=before.source,
    )
    db_session.execute(delete(ConsularDistrict).where(ConsularDistrict.id == before.id))
    db_session.add(replacement)
    db_session.flush()
    assert replacement.id != before.id
    found_after = partners_in_district(db_session, office, before, PartnerQuery())
    assert [p.location.id for p in found_after] == [p.location.id for p in found_before]
    assert found_after  # the positive control: there are partners to find
    assert district_geometry(db_session, before) is not None
