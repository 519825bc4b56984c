"""The emergency number of the country the person is in, on every search, route and place
page, and an honest sentence where the directory knows no single number."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def two_countries(db_session):
    mexico = factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    mexico.emergency_number = "911"
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 14.5))  # no number known
    route = factories.route(db_session, "emergency-route", [(-90.5, 14.0), (-92.26, 14.9)])
    route.country_codes = ["GT", "MX"]
    shelter = factories.location(db_session, factories.organization(db_session), -92.26, 14.9)
    db_session.flush()
    return shelter


def test_a_search_in_mexico_offers_its_number(client, two_countries):
    page = client.get("/near?lat=14.95&lon=-92.27").get_data(as_text=True)
    assert 'Emergency in Mexico: <a class="action action--emergency" href="tel:911">' in page


def test_a_search_where_no_number_is_known_says_so(client, two_countries):
    page = client.get("/near?lat=14.2&lon=-90.6").get_data(as_text=True)
    assert "Emergency in Guatemala: the directory has no single emergency number" in page
    assert 'href="tel:' not in page.split('id="emergency"')[1].split("</p>")[0]


def test_the_place_page_offers_the_number_of_its_country(client, two_countries):
    page = client.get(f"/places/{two_countries.id}").get_data(as_text=True)
    assert 'href="tel:911"' in page


def test_the_route_page_gives_every_country_or_the_persons(client, two_countries):
    listed = client.get("/routes/emergency-route").get_data(as_text=True)
    assert "Emergency numbers along this route:" in listed
    assert "(no single number known)" in listed
    assert 'href="tel:911"' in listed
    ahead = client.get("/routes/emergency-route?lat=14.95&lon=-92.27").get_data(as_text=True)
    assert "Emergency in Mexico" in ahead


def test_the_finder_offers_the_number_where_the_person_is(client, db_session, two_countries):
    factories.consular_office(db_session, "GT", -92.26, 14.9)
    response = client.get("/consulates/serving?nationality=GT&lat=14.95&lon=-92.27")
    assert response.status_code == 200
    assert "Emergency in Mexico" in response.get_data(as_text=True)


def test_a_typed_border_town_gets_its_own_countrys_number(demo_app, demo_session):
    """Ciudad Hidalgo's point falls just across the simplified Guatemalan line; the typed
    town's country decides."""
    page = demo_app.test_client().get("/near?q=Ciudad+Hidalgo").get_data(as_text=True)
    assert "Ciudad Hidalgo, Chiapas, MX" in page
    assert "Emergency in Mexico" in page
