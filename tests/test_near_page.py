"""The "Help near me" page and the page of one place, server-rendered."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape as html_unescape

from directory.cli import SEEDS_DIR
from directory.db import Cost, OperationalStatus
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
    # Dates spelled out in the reader's language (English here: conftest sends it).
    assert "Full until January 31, 2099" in html
    assert "Verified on October 1, 2026" in html
    assert "Not verified" not in html  # no badge that every record carries


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
    # Times of day as the reader writes them: "8:00 AM" in English, "8:00" in Spanish.
    assert "Monday to Friday:\n      8:00\u202fAM–4:00\u202fPM" in html
    assert "Saturday and Sunday:\n      closed" in html
    assert "Mexico City time" in html  # the zone as people know it
    assert "America/Mexico_City" not in html
    assert client.get("/places/999999").status_code == 404


def test_place_page_says_no_more_than_the_record(client, db_session):
    shelter, _ = _places(db_session)
    shelter.opening_hours = parse("Sa 09:00-13:00; Mo-Fr 08:00-16:00")
    shelter.hours_confirmed = False
    shelter.intake_hours = parse("Mo-Su 18:00-21:00")
    shelter.populations = []
    shelter.languages = ["es", "ht"]
    shelter.cost = Cost.LOW_COST
    db_session.flush()
    html = client.get(f"/places/{shelter.id}").get_data(as_text=True)
    days = [html.index(day) for day in ("Monday", "Saturday", "Sunday")]
    assert days == sorted(days)  # the week from Monday, whatever order the JSON keeps
    assert "Typical hours, not confirmed by the organization" in html
    assert "Takes people in" in html
    assert "6:00\u202fPM–9:00\u202fPM" in html
    assert "<dt>For</dt>" not in html  # unknown is not "everyone"
    assert "Spanish, Haitian Creole" in html
    assert "Low cost" in html
    assert "low_cost" not in html
    assert "nobody has verified this record yet" in html


def test_place_page_leads_back_to_the_search_it_came_from(client, db_session):
    shelter, _ = _places(db_session)
    search = client.get("/near?q=&lat=14.9&lon=-92.26").get_data(as_text=True)
    link = re.search(rf'href="(/places/{shelter.id}\?back=[^"]+)"', search).group(1)
    response = client.get(html_unescape(link))
    page = response.get_data(as_text=True)
    assert 'href="/near?' in page
    assert "Back to the results" in page
    assert response.headers["Cache-Control"] == "private, no-store"  # it holds the search
    elsewhere = client.get(f"/places/{shelter.id}?back=https://evil.example/")
    assert "evil.example" not in elsewhere.get_data(as_text=True)
    assert "Back to the results" not in elsewhere.get_data(as_text=True)
