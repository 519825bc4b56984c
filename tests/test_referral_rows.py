"""Referral-ready partner rows (issue 15, points 1 and 3): the office page, its API, the
distance from where the national is, the office's 24/7 protection line, and privacy."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import url_for

from directory.cli import SEEDS_DIR
from directory.consular.services import PartnerQuery, active_district, partners_in_district
from directory.db import OperationalStatus, OrganizationKind, Population
from directory.gazetteer.services import load_gazetteer
from directory.places.filters import LocationFilters
from directory.places.models import Location, ServiceCategory
from directory.places.opening_hours import parse
from geo.coordinates import LonLat
from tests import factories
from tests.distances import haversine_m

TAPACHULA = (-92.2589, 14.9054)
HUIXTLA = (-92.4634, 15.1392)  # in seeds/places.csv
PROTECTION = "+52 962 100 2000"


@pytest.fixture
def referrals(db_session):
    """Guatemala's consulate in Tapachula with a district; a shelter that says everything
    about itself, a legal-aid organization that says nothing, and a clinic far north."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.2, 13.7, -88.2, 14.5))
    consulate = factories.consular_office(
        db_session, "GT", *TAPACHULA, name="Consulado de Guatemala en Tapachula"
    )
    factories.district(db_session, consulate, (-95.0, 14.5, -90.0, 18.0))

    shelter_org = factories.organization(
        db_session, OrganizationKind.SHELTER, name="Albergue Belén"
    )
    shelter = factories.location(db_session, shelter_org, -92.27, 14.91, city="Tapachula")
    shelter.phones = ["+52 962 000 0001", "+52 962 000 0002"]
    shelter.whatsapp = "+52 962 000 0003"
    shelter.email = "belen@example.org"
    shelter.address = "Calle 1 Norte 10"
    shelter.opening_hours = {"always": True}
    shelter.languages = ["es", "ht"]
    shelter.populations = [Population.WOMEN.value]
    shelter.admission_rules = {"es": "Solo familias y mujeres."}
    shelter.admission_rules_language = "es"
    shelter.what_to_bring = {"en": "An ID if you have one.", "es": "Una identificación."}
    shelter.what_to_bring_language = "es"
    shelter.capacity = 120
    shelter.categories = [ServiceCategory(code="shelter", names={"en": "Shelter"}, icon="bed")]
    shelter.verified_at = dt.date(2026, 3, 3)

    legal_org = factories.organization(
        db_session, OrganizationKind.CIVIL_SOCIETY, name="Fray Matías"
    )
    legal = factories.location(
        db_session, legal_org, -92.0, 15.5, city="Huixtla", hours_confirmed=False
    )

    clinic_org = factories.organization(
        db_session, OrganizationKind.INTERNATIONAL_ORG, name="Clínica OIM"
    )
    clinic = factories.location(db_session, clinic_org, -93.0, 16.5, city="Tuxtla")
    clinic.opening_hours = parse("Mo-Fr 08:00-16:00")
    clinic.languages = ["en"]
    clinic.status = OperationalStatus.FULL
    clinic.status_until = dt.datetime(2099, 5, 1, tzinfo=dt.UTC)
    db_session.flush()
    return {"consulate": consulate, "shelter": shelter, "legal": legal, "clinic": clinic}


def _partners(db_session, office: Location, **query) -> list:
    district = active_district(db_session, office.id, "GT")
    return partners_in_district(db_session, office, district, PartnerQuery(**query))


# --- the service ------------------------------------------------------------------------


def test_partners_carry_their_distance_from_the_nationals_place(db_session, referrals):
    office = referrals["consulate"]
    without = _partners(db_session, office)
    assert [p.distance_from_m for p in without] == [None, None, None]
    found = _partners(db_session, office, origin=LonLat(*HUIXTLA))
    # The order stays by distance from the office, then id.
    assert [p.location.id for p in found] == [p.location.id for p in without]
    assert next(p.location.id for p in found) == referrals["shelter"].id
    for partner in found:
        point = tuple(partner.location.position)
        assert partner.distance_from_m == pytest.approx(haversine_m(HUIXTLA, point), rel=0.005)
        assert partner.distance_m == pytest.approx(haversine_m(TAPACHULA, point), rel=0.005)


def test_partners_filter_by_open_now_and_language(db_session, referrals):
    office = referrals["consulate"]
    everyone = {p.location.id for p in _partners(db_session, office)}
    assert everyone == {referrals[key].id for key in ("shelter", "legal", "clinic")}
    open_now = _partners(db_session, office, filters=LocationFilters(open_now=True))
    # Open 24/7 by confirmed hours; the clinic is full, the legal aid has no hours.
    assert [p.location.id for p in open_now] == [referrals["shelter"].id]
    creole = _partners(db_session, office, filters=LocationFilters(languages=("ht",)))
    assert [p.location.id for p in creole] == [referrals["shelter"].id]
    english = _partners(db_session, office, filters=LocationFilters(languages=("en", "ht")))
    assert [p.location.id for p in english] == [referrals["shelter"].id, referrals["clinic"].id]


# --- the office page --------------------------------------------------------------------


def _page(client, office: Location, query: str = "", **headers):
    return client.get(f"/consulates/{office.id}?{query}", headers=headers)


def _row(page: str, location: Location) -> str:
    # Up to the facts' end, then the row's own </li> (the weekly hours are a list too).
    pattern = rf'<li class="partner referral" data-id="{location.id}".*?</dl>.*?</li>'
    match = re.search(pattern, page, re.S)
    assert match, f"no row for {location.id}"
    return match.group(0)


def test_each_row_says_what_a_referral_needs(client, referrals):
    page = _page(client, referrals["consulate"], "lang=en").get_data(as_text=True)
    row = _row(page, referrals["shelter"])
    assert 'href="tel:+529620000001"' in row
    assert 'href="tel:+529620000002"' in row
    assert 'href="https://wa.me/529620000003"' in row
    assert 'href="mailto:belen@example.org"' in row
    assert "Calle 1 Norte 10, Tapachula (MX)" in row
    assert "The place itself" in row
    assert "Open 24 hours" in row  # the state now
    assert "24 hours, every day" in row
    assert "Confirmed by the organization." in row
    assert "Spanish, Haitian Creole" in row
    assert "Women" in row
    # Admission rules only in Spanish: shown in Spanish, and said so.
    assert '<p class="referral-text" lang="es">Solo familias y mujeres.</p>' in row
    assert "Written in Spanish" in row
    assert '<p class="referral-text" lang="en">An ID if you have one.</p>' in row
    assert "120" in row
    assert "Shelter" in row
    assert "March 3, 2026" in row
    assert "From the office:" in row
    assert "in a straight line" in row
    assert "Not known" not in row  # it says everything


def test_unknown_values_say_not_known_never_a_blank(client, referrals):
    page = _page(client, referrals["consulate"], "lang=en").get_data(as_text=True)
    row = _row(page, referrals["legal"])
    facts = re.findall(r'<dd class="(\w+)">(.*?)</dd>', row, re.S)
    assert [name for name, _ in facts] == [
        "phones", "whatsapp", "email", "where", "hours", "languages", "populations",
        "admission", "bring", "capacity", "services", "verified",
    ]  # fmt: skip
    for name, value in facts:
        assert value.strip(), name  # never a blank
        if name not in ("where", "verified"):
            assert '<span class="not-known">Not known</span>' in value, name
    assert "Never verified" in row
    assert "Hours not known" in row
    assert "tel:" not in row
    assert "mailto:" not in row
    # Full until a date, with typical-or-confirmed hours said.
    clinic = _row(page, referrals["clinic"])
    assert "Full until May 1, 2099" in clinic
    assert "Monday to Friday:" in clinic


def test_typical_hours_say_call_first(client, db_session, referrals):
    referrals["legal"].opening_hours = parse("Mo-Fr 08:00-16:00")
    db_session.flush()
    page = _page(client, referrals["consulate"], "lang=en").get_data(as_text=True)
    row = _row(page, referrals["legal"])
    assert "Typical hours, not confirmed by the organization: call before you go." in row
    assert "Open now" not in row


def test_a_typed_town_adds_distances_from_it_and_makes_the_page_private(
    client, db_session, referrals
):
    load_gazetteer(db_session, SEEDS_DIR, cities=[])
    office = referrals["consulate"]
    plain = _page(client, office, "lang=en")
    assert plain.headers["Cache-Control"].startswith("public")
    assert "distance-from" not in plain.get_data(as_text=True)

    response = _page(client, office, "lang=en&q=Huixtla")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert 'id="national-place"' in page
    assert "Huixtla" in page
    row = _row(page, referrals["legal"])
    shown = float(re.search(r'data-distance-from-m="(\d+)"', row).group(1))
    assert shown == pytest.approx(haversine_m(HUIXTLA, (-92.0, 15.5)), rel=0.01)
    assert "From Huixtla" in row
    # The API and export links carry the position (they take no town).
    assert f"/api/v1/consulates/{office.id}/partners?from=15.13920,-92.46340" in page
    assert f"/consulates/{office.id}/partners.csv?from=15.13920,-92.46340" in page
    assert '"origin": [-92.4634, 15.1392]' in page.replace("&#34;", '"')


def test_typed_coordinates_work_as_a_place(client, referrals):
    page = _page(client, referrals["consulate"], "lang=en&q=15.1392, -92.4634")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "15.1392, -92.4634" in html
    assert "From the person&#39;s location:" in html or "From the person's location:" in html
    assert html.count("data-distance-from-m=") == 3


def test_a_bad_typed_place_is_a_message_not_a_500(client, db_session, referrals):
    load_gazetteer(db_session, SEEDS_DIR, cities=[])
    office = referrals["consulate"]
    unknown = _page(client, office, "lang=en&q=Qwxzvbnm")
    assert unknown.status_code == 200
    html = unknown.get_data(as_text=True)
    assert "We found no town called “Qwxzvbnm”" in html
    assert "Albergue Belén" in html  # the list is still there, without distances from it
    assert "data-distance-from-m" not in html
    out_of_range = _page(client, office, "lang=en&q=95,-92")
    assert out_of_range.status_code == 400
    assert "Please check the filters: q: lat" in out_of_range.get_data(as_text=True)
    assert out_of_range.headers["Cache-Control"] == "private, no-store"


def test_a_namesake_offers_did_you_mean_with_the_filters_kept(client, db_session, referrals):
    michoacan = factories.geonames_city(9001, "Ciudad Hidalgo", "MX", -100.55, 19.69, 60000)
    load_gazetteer(db_session, SEEDS_DIR, cities=[michoacan])
    office = referrals["consulate"]
    html = _page(client, office, "lang=en&q=Ciudad Hidalgo&kind=shelter").get_data(as_text=True)
    assert 'id="national-place"' in html
    links = re.search(r'<p class="alternatives" id="did-you-mean">.*?</p>', html, re.S)
    assert links, "the finder's 'Did you mean' is offered"
    assert "There is more than one Ciudad Hidalgo." in links.group(0)
    hrefs = re.findall(r'href="([^"]+)"', links.group(0))
    assert hrefs
    assert all(href.startswith(f"/consulates/{office.id}?") for href in hrefs)
    assert all("kind=shelter" in href for href in hrefs)


def test_the_page_filters_open_now_and_language(client, referrals):
    office = referrals["consulate"]
    html = _page(client, office, "lang=en&open_now=true").get_data(as_text=True)
    assert re.findall(r'data-id="(\d+)" data-hours', html) == [str(referrals["shelter"].id)]
    assert 'name="open_now" value="true" checked' in html
    html = _page(client, office, "lang=en&language=en").get_data(as_text=True)
    assert re.findall(r'data-id="(\d+)" data-hours', html) == [str(referrals["clinic"].id)]
    assert 'name="language" value="en" checked' in html
    assert f"/consulates/{office.id}/partners.csv?language=en" in html
    assert client.get(f"/consulates/{office.id}?language=spanish").status_code == 400


def test_rows_link_to_the_referral_slip_once_it_exists(app, client, referrals):
    office, shelter = referrals["consulate"], referrals["shelter"]
    html = _page(client, office, "lang=en").get_data(as_text=True)
    if "public.referral_slip" in app.view_functions:
        with app.test_request_context():
            slip = url_for("public.referral_slip", location_id=office.id, partner_id=shelter.id)
        assert f'href="{slip}?lang=en"' in _row(html, shelter)
    else:  # until the slip exists, the rows link to nothing rather than fail
        assert 'class="referral-slip"' not in html


# --- the protection line -----------------------------------------------------------------


def test_the_protection_line_is_on_the_office_page_and_the_finder(client, db_session, referrals):
    office = referrals["consulate"]
    page = _page(client, office, "lang=en").get_data(as_text=True)
    assert 'id="protection-line"' in page
    assert "24/7 protection line:" in page
    assert "not known to this directory — call the office." in page
    finder = client.get("/consulates/serving?lang=en&nationality=GT&lat=15.3&lon=-92.5")
    assert "not known to this directory — call the office." in finder.get_data(as_text=True)

    office.protection_phone = PROTECTION
    db_session.flush()
    page = _page(client, office, "lang=en").get_data(as_text=True)
    line = re.search(r'<p class="protection-line" id="protection-line">.*?</p>', page, re.S)
    assert line
    assert 'href="tel:+529621002000"' in line.group(0)
    assert "Vienna Convention, art. 36" in line.group(0)
    assert "not known to this directory" not in page
    finder = client.get("/consulates/serving?lang=en&nationality=GT&lat=15.3&lon=-92.5")
    card = re.search(
        r'<article class="office-card".*?</article>', finder.get_data(as_text=True), re.S
    )
    assert 'href="tel:+529621002000"' in card.group(0)


# --- the API -----------------------------------------------------------------------------


def test_the_partner_api_carries_the_referral_fields(client, db_session, referrals):
    office = referrals["consulate"]
    response = client.get(f"/api/v1/consulates/{office.id}/partners?lang=en")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    body = response.json
    assert body["office"]["protection_phone"] is None
    features = {feature["id"]: feature["properties"] for feature in body["features"]}
    shelter = features[referrals["shelter"].id]
    assert shelter["hours_certainty"] == "confirmed"
    assert shelter["open_now"] is True
    assert shelter["open_state"] == {
        "reason": "always", "closes_at": None, "opens_at": None, "until": None,
    }  # fmt: skip
    assert shelter["admission_rules"] == {
        "text": "Solo familias y mujeres.", "language": "es", "is_fallback": True,
    }  # fmt: skip
    assert shelter["what_to_bring"] == {
        "text": "An ID if you have one.", "language": "en", "is_fallback": False,
    }  # fmt: skip
    assert shelter["capacity"] == 120
    assert shelter["distance_from_m"] is None
    assert shelter["distance_office_m"] == shelter["distance_m"]
    legal = features[referrals["legal"].id]
    assert legal["hours_certainty"] == "unknown"
    assert legal["open_now"] is False
    assert legal["open_state"]["reason"] == "unknown"
    assert legal["admission_rules"] is None
    assert legal["what_to_bring"] is None
    assert legal["capacity"] is None
    clinic = features[referrals["clinic"].id]
    assert clinic["open_state"]["reason"] == "full"
    assert clinic["open_state"]["until"].startswith("2099-05-01")

    office.protection_phone = PROTECTION
    db_session.flush()
    lat, lon = HUIXTLA[1], HUIXTLA[0]
    response = client.get(f"/api/v1/consulates/{office.id}/partners?from={lat},{lon}")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.json["office"]["protection_phone"] == PROTECTION
    for feature in response.json["features"]:
        point = tuple(feature["geometry"]["coordinates"])
        assert feature["properties"]["distance_from_m"] == pytest.approx(
            haversine_m(HUIXTLA, point), rel=0.005
        )
    serving = client.get("/api/v1/consulates/serving?lat=15.3&lon=-92.5&nationality=GT")
    assert serving.json["properties"]["protection_phone"] == PROTECTION


@pytest.mark.parametrize("value", ["15.1", "95,-92", "a,b", "15,-92,3"])
def test_a_bad_from_is_a_400_naming_it(client, referrals, value):
    response = client.get(f"/api/v1/consulates/{referrals['consulate'].id}/partners?from={value}")
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("from: ")


def test_the_api_filters_open_now_and_language(client, referrals):
    office = referrals["consulate"]
    ids = [
        feature["id"]
        for feature in client.get(f"/api/v1/consulates/{office.id}/partners?open_now=true").json[
            "features"
        ]
    ]
    assert ids == [referrals["shelter"].id]
    ids = [
        feature["id"]
        for feature in client.get(f"/api/v1/consulates/{office.id}/partners?language=ht").json[
            "features"
        ]
    ]
    assert ids == [referrals["shelter"].id]
