"""The consulate pages, server-rendered: finder, list of offices, an office's partners."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from shapely.geometry import box, shape

from directory.consular.models import DistrictOrigin
from directory.db import OrganizationKind
from directory.places.models import Network
from tests import factories

TAPACHULA = (-92.2589, 14.9054)


@pytest.fixture
def directory(db_session):
    """Guatemala's consulate in Tapachula (with a district), a joint HN/SV office, partners."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "US", (-125.0, 32.8, -67.0, 49.0))
    for code in ("GT", "HN", "SV"):
        factories.country(db_session, code, (-92.2, 13.0, -83.1, 14.4))
    consulate = factories.consular_office(
        db_session, "GT", *TAPACHULA, name="Consulado de Guatemala en Tapachula"
    )
    consulate.phones = ["+52 962 626 1252"]
    factories.district(db_session, consulate, (-95.0, 14.5, -90.0, 18.0))
    joint = factories.consular_office(
        db_session, "HN", -99.13, 19.43, also_serves=("SV",), name="Oficina conjunta HN-SV"
    )
    rncom = Network(code="RNCOM", names={"en": "RNCOM"})
    db_session.add(rncom)
    shelter_org = factories.organization(
        db_session, OrganizationKind.SHELTER, name="Albergue Belén"
    )
    shelter_org.networks = [rncom]
    shelter = factories.location(db_session, shelter_org, -92.27, 14.91, city="Tapachula")
    civil_org = factories.organization(
        db_session, OrganizationKind.CIVIL_SOCIETY, name="Fray Matías de Córdova"
    )
    civil = factories.location(db_session, civil_org, -92.0, 15.5, city="Huixtla")
    outside = factories.location(db_session, shelter_org, -99.0, 19.4, city="Ciudad de México")
    db_session.flush()
    return {
        "consulate": consulate,
        "joint": joint,
        "shelter": shelter,
        "civil": civil,
        "outside": outside,
    }


def _map_config(page: str) -> dict:
    match = re.search(r"id=\"consulate-map\" data-config='([^']*)'", page)
    assert match, "the page hands its map data over in data-config"
    return json.loads(html_lib.unescape(match.group(1)))


def test_the_empty_finder_invites_a_search_and_offers_nationalities_with_offices(client, directory):
    response = client.get("/consulates/serving")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Find my consulate" in page
    assert "Choose your nationality and type the town" in page
    assert 'id="finder-form" data-locate>' in page
    assert "data-locate-button" in page
    options = re.findall(r'<option value="([A-Z]{2})"', page)
    # Sorted by CLDR name (El Salvador, Guatemala, Honduras); US has no office.
    assert options == ["SV", "GT", "HN"]
    assert "We do not log or keep your location" in page


def test_the_finder_answers_with_the_office_whose_district_covers_the_place(client, directory):
    consulate = directory["consulate"]
    response = client.get("/consulates/serving?nationality=gt&lat=15.3&lon=-92.5")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    # The fixture's district is computed: the page must not call it the official one.
    assert "Its official consular district covers this place" not in page
    assert "its official district may differ — call to confirm" in page
    assert 'data-match="district"' in page
    assert "Consulado de Guatemala en Tapachula" in page
    assert 'href="tel:+529626261252"' in page
    assert "Not verified" not in page  # no badge that every record carries
    assert f'href="/consulates/{consulate.id}"' in page
    config = _map_config(page)
    assert config["origin"] == [-92.5, 15.3]
    assert config["office"]["id"] == consulate.id
    assert shape(config["district"]).equals(box(-95.0, 14.5, -90.0, 18.0))
    assert config["tiles"] is None  # the tests set TILE_URL=""


def test_the_finder_says_when_only_the_nearest_office_is_found(client, directory):
    page = client.get("/consulates/serving?nationality=GT&lat=41.88&lon=-87.63").get_data(
        as_text=True
    )
    assert 'data-match="nearest"' in page
    assert "No consulate of Guatemala covers this place; this is the nearest." in page
    assert re.search(r"[\d,.]+ km in a straight line", page)
    assert "Consulado de Guatemala en Tapachula" in page


def test_only_an_official_district_says_it_covers_the_place(client, db_session):
    factories.country(db_session, "MX")
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.9))
    office = factories.consular_office(db_session, "GT", -92.26, 14.9)
    factories.district(
        db_session, office, (-95.0, 14.5, -90.0, 18.0), origin=DistrictOrigin.OFFICIAL
    )
    page = client.get("/consulates/serving?nationality=GT&lat=15.3&lon=-92.5").get_data(
        as_text=True
    )
    assert "Its official consular district covers this place." in page
    assert "may differ" not in page


def test_the_finder_finds_a_joint_office_for_each_nationality(client, directory):
    for code in ("HN", "SV"):
        page = client.get(f"/consulates/serving?nationality={code}&lat=19&lon=-99").get_data(
            as_text=True
        )
        assert "Oficina conjunta HN-SV" in page


def test_the_finder_guides_an_incomplete_search(client, directory):
    no_place = client.get("/consulates/serving?nationality=GT").get_data(as_text=True)
    assert "Type the town where you are, or use your location" in no_place
    no_nationality = client.get("/consulates/serving?lat=15&lon=-92").get_data(as_text=True)
    assert "Choose your nationality to find the consulate" in no_nationality
    no_office = client.get("/consulates/serving?nationality=US&lat=15&lon=-92")
    assert no_office.status_code == 200
    assert "has no consulate or embassy of United States yet" in no_office.get_data(as_text=True)
    # Positive control: the same place for a nationality with an office finds it.
    found = client.get("/consulates/serving?nationality=GT&lat=15&lon=-92").get_data(as_text=True)
    assert "Consulado de Guatemala en Tapachula" in found
    assert "has no consulate or embassy" not in found


@pytest.mark.parametrize(
    "query", ["nationality=XX&lat=15&lon=-92", "nationality=GT&lat=95&lon=-92", "lon=abc"]
)
def test_bad_finder_input_is_a_400_page_that_says_what_to_fix(client, directory, query):
    response = client.get(f"/consulates/serving?{query}")
    assert response.status_code == 400
    assert "Please check the form" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_the_list_groups_offices_by_nationality(client, directory):
    page = client.get("/consulates").get_data(as_text=True)
    # Sorted by CLDR name: El Salvador, Guatemala, Honduras.
    assert re.findall(r'data-nationality="([A-Z]{2})"', page) == ["SV", "GT", "HN"]
    joint = directory["joint"].id
    assert f'href="/consulates/{joint}"' in page  # under HN, its own nationality
    assert f'href="/consulates/{joint}?nationality=SV"' in page  # under SV
    only_sv = client.get("/consulates?nationality=sv").get_data(as_text=True)
    assert re.findall(r'data-nationality="([A-Z]{2})"', only_sv) == ["SV"]
    assert "Consulado de Guatemala" not in only_sv
    assert "Consulado de Guatemala" in page  # positive control: the whole list has it
    assert client.get("/consulates?nationality=QQ").status_code == 400


def test_the_office_page_lists_its_district_partners_nearest_first(client, directory):
    consulate = directory["consulate"]
    response = client.get(f"/consulates/{consulate.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Consulado de Guatemala en Tapachula" in page
    assert page.index("Albergue Belén") < page.index("Fray Matías de Córdova")
    assert f'href="/places/{directory["shelter"].id}?back=' in page
    assert f'href="/places/{directory["outside"].id}?' not in page
    assert "RNCOM" in page
    assert f'href="/consulates/{consulate.id}/partners.csv"' in page
    assert f'href="/consulates/{consulate.id}/partners.geojson"' in page
    assert f'href="/api/v1/consulates/{consulate.id}/partners"' in page
    config = _map_config(page)
    assert [p["id"] for p in config["partners"]] == [
        directory["shelter"].id,
        directory["civil"].id,
    ]
    assert shape(config["district"]).equals(box(-95.0, 14.5, -90.0, 18.0))


def test_the_office_page_filters_and_keeps_the_filters_in_its_export_links(client, directory):
    consulate = directory["consulate"]
    page = client.get(f"/consulates/{consulate.id}?network=RNCOM&kind=shelter").get_data(
        as_text=True
    )
    assert "Albergue Belén" in page
    assert "Fray Matías de Córdova" not in page
    # Positive control: without the filters, the same page lists it.
    unfiltered = client.get(f"/consulates/{consulate.id}").get_data(as_text=True)
    assert "Fray Matías de Córdova" in unfiltered
    assert f"/consulates/{consulate.id}/partners.csv?kind=shelter&amp;network=RNCOM" in page
    assert f"/api/v1/consulates/{consulate.id}/partners?kind=shelter&amp;network=RNCOM" in page
    bad = client.get(f"/consulates/{consulate.id}?kind=embassy")
    assert bad.status_code == 400
    assert "Please check the filters: kind:" in bad.get_data(as_text=True)


def test_an_office_without_a_district_explains_how_to_compute_it(client, directory):
    joint = directory["joint"]
    page = client.get(f"/consulates/{joint.id}?nationality=SV").get_data(as_text=True)
    assert 'id="district-missing"' in page
    assert "flask districts compute" in page
    assert "Joint office: serves Honduras, El Salvador." in page


def test_an_id_that_is_not_a_consular_office_is_a_404_page(client, directory):
    for location_id in (directory["shelter"].id, 987654321):
        response = client.get(f"/consulates/{location_id}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
    # Positive control: a consular office's id gets its page.
    assert client.get(f"/consulates/{directory['consulate'].id}").status_code == 200


def test_consulate_pages_load_their_assets_only_from_our_server(client, directory):
    consulate = directory["consulate"]
    for path in (
        "/consulates/serving?nationality=GT&lat=15&lon=-92",
        "/consulates",
        f"/consulates/{consulate.id}",
    ):
        page = client.get(path).get_data(as_text=True)
        sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert sources, path
        assert all(source.startswith("/static/") for source in sources), sources
