"""The "Help near me" page and the page of one place, server-rendered."""

from __future__ import annotations

import datetime as dt

from directory.cli import SEEDS_DIR
from directory.db import OperationalStatus
from directory.gazetteer.services import load_gazetteer
from directory.places.models import ServiceCategory
from directory.places.opening_hours import parse
from tests import factories


def _places(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    db_session.add(ServiceCategory(code="shelter", names={"en": "Shelter"}, icon="bed"))
    org = factories.organization(db_session, name="Albergue Belén")
    shelter = factories.location(db_session, org, -92.2667, 14.9, city="Tapachula")
    shelter.phones = ["+52 962 000 0000"]
    shelter.whatsapp = "+52 962 000 0001"
    shelter.opening_hours = {"always": True}
    full = factories.location(db_session, org, -92.3, 14.95, city="Tapachula")
    full.name = "Anexo Belén"
    full.status = OperationalStatus.FULL
    full.status_until = dt.datetime(2099, 1, 31, tzinfo=dt.UTC)
    full.verified_at = dt.date(2026, 10, 1)
    db_session.flush()
    return shelter, full


def test_empty_form_invites_a_search(client, db_session):
    html = client.get("/near").get_data(as_text=True)
    assert "Type the town where you are" in html
    assert "We do not log or keep your location" in html


def test_position_gives_a_ranked_list_with_links_and_status(client, db_session):
    _places(db_session)
    html = client.get("/near?lat=14.9&lon=-92.2667").get_data(as_text=True)
    assert html.index("Albergue Belén") < html.index("Anexo Belén")
    assert 'href="tel:+529620000000"' in html
    assert 'href="https://wa.me/529620000001"' in html
    assert 'href="geo:14.9,-92.2667' in html
    assert "Open 24 hours" in html
    assert "Full until 31 Jan 2099" in html
    assert "Verified 2026-10-01" in html
    assert "Not verified" in html


def test_bad_form_input_says_what_to_fix(client, db_session):
    response = client.get("/near?lat=abc&lon=-92")
    assert response.status_code == 400
    assert "Please check the form: lat:" in response.get_data(as_text=True)


def test_unknown_town_says_so(client, db_session):
    _places(db_session)
    load_gazetteer(db_session, SEEDS_DIR, cities=[])  # places.csv and the places' cities
    html = client.get("/near?q=Qwxzvbnm").get_data(as_text=True)
    assert "We found no town called" in html
    # Positive control: the same search for a town the gazetteer holds finds the places.
    found = client.get("/near?q=Tapachula").get_data(as_text=True)
    assert "We found no town called" not in found
    assert "Albergue Belén" in found


def test_place_page_shows_everything_known(client, db_session):
    shelter, _ = _places(db_session)
    shelter.opening_hours = parse("Mo-Fr 08:00-16:00")
    db_session.flush()
    html = client.get(f"/places/{shelter.id}").get_data(as_text=True)
    assert "Albergue Belén" in html
    assert "Mo 08:00–16:00" in html
    assert "America/Mexico_City" in html
    assert client.get("/places/999999").status_code == 404
