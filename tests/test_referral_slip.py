"""The referral slip (issue 15), server-rendered: in the national's language, with the
partner's phones and the consulate's protection line, "not known" where the directory does
not know, only for a partner the office's list would show, and nothing about the national."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from directory.db import OperationalStatus, OrganizationKind, PositionPrecision
from tests import factories

TAPACHULA = (-92.2589, 14.9054)


@pytest.fixture
def slip_directory(db_session):
    """Guatemala's consulate in Tapachula with a district; partners in and out of it."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    for code in ("GT", "HN", "SV"):
        factories.country(db_session, code, (-92.2, 13.0, -83.1, 14.4))
    office = factories.consular_office(
        db_session, "GT", *TAPACHULA, name="Consulado de Guatemala en Tapachula"
    )
    office.phones = ["+52 962 626 1252"]
    office.protection_phone = "+52 962 111 2233"
    factories.district(db_session, office, (-95.0, 14.5, -90.0, 18.0))

    shelter_org = factories.organization(
        db_session, OrganizationKind.SHELTER, name="Albergue Belén"
    )
    shelter = factories.location(db_session, shelter_org, -92.27, 14.91, city="Tapachula")
    shelter.address = "Calle 17 Oriente 1"
    shelter.admin_area = "Chiapas"
    shelter.phones = ["+52 962 555 0101", "+52 962 555 0102"]
    shelter.whatsapp = "+52 962 555 0199"
    shelter.opening_hours = {
        "mo": [["08:00", "18:00"]],
        "tu": [["08:00", "18:00"]],
        "we": [["08:00", "18:00"]],
        "th": [["08:00", "18:00"]],
        "fr": [["08:00", "18:00"]],
    }
    shelter.hours_confirmed = True
    shelter.what_to_bring = {"es": "Una identificación", "fr": "Une pièce d'identité"}
    shelter.what_to_bring_language = "es"
    shelter.admission_rules = {"es": "Solo familias"}
    shelter.admission_rules_language = "es"
    shelter.verified_at = dt.date(2026, 3, 3)

    civil_org = factories.organization(
        db_session, OrganizationKind.CIVIL_SOCIETY, name="Fray Matías de Córdova"
    )
    # A record as the demo data has them: the town only, typical hours, nothing else known.
    bare = factories.location(
        db_session,
        civil_org,
        -92.0,
        15.5,
        city="Huixtla",
        precision=PositionPrecision.CITY,
        hours_confirmed=False,
    )
    bare.opening_hours = {"mo": [["09:00", "15:00"]]}

    outside = factories.location(db_session, shelter_org, -99.0, 19.4, city="Ciudad de México")
    archived = factories.location(db_session, shelter_org, -92.1, 15.0, city="Tapachula")
    archived.archived_at = dt.datetime.now(dt.UTC)
    government = factories.location(
        db_session,
        factories.organization(db_session, OrganizationKind.GOVERNMENT, name="COMAR"),
        -92.2,
        14.95,
        city="Tapachula",
    )
    # A joint office (HN, also SV) with a district for SV only, covering the shelter.
    joint = factories.consular_office(
        db_session, "HN", -92.26, 14.9, also_serves=("SV",), name="Oficina conjunta HN-SV"
    )
    factories.district(db_session, joint, (-93.0, 14.5, -92.0, 15.2), nationality="SV")
    db_session.flush()
    return {
        "office": office,
        "shelter": shelter,
        "bare": bare,
        "outside": outside,
        "archived": archived,
        "government": government,
        "joint": joint,
    }


def _slip(client, office, partner, lang: str | None = None, suffix: str = "", **args):
    query = {**({"lang": lang} if lang else {}), **args}
    return client.get(
        f"/consulates/{office.id}/partners/{partner.id}/slip{suffix}", query_string=query
    )


def _today(language: str) -> str:
    today = dt.datetime.now(ZoneInfo("America/Mexico_City")).date()
    return format_date(today, "long", locale=language)


def test_the_slip_has_the_partners_details_and_the_protection_line(client, slip_directory):
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    response = _slip(client, office, shelter, "en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<h1 id="slip-partner">Albergue Belén</h1>' in page
    assert "Calle 17 Oriente 1, Tapachula, Chiapas" in page
    assert 'href="tel:+529625550101"' in page
    assert 'href="tel:+529625550102"' in page
    assert 'href="https://wa.me/529625550199"' in page
    assert "Monday to Friday: 8:00\u202fAM–6:00\u202fPM" in page
    assert "Confirmed by the organization." in page
    assert "Open now" not in page
    assert "Closed now" not in page
    # Written in Spanish only: shown in Spanish, marked as such.
    assert '<span lang="es">Solo familias</span>' in page
    assert '<span lang="es">Una identificación</span>' in page
    assert "(Written in Spanish)" in page
    assert (
        'href="https://www.openstreetmap.org/directions?to=14.91000,-92.27000"' in page
    )  # exact point: a directions link, written out for paper
    assert ">https://www.openstreetmap.org/directions?to=14.91000,-92.27000</a>" in page
    assert "March 3, 2026" in page  # last verified
    assert _today("en") in page
    # The consulate and its 24/7 line.
    assert "Consulado de Guatemala en Tapachula" in page
    assert 'id="slip-protection"><a href="tel:+529621112233">+52 962 111 2233</a>' in page
    assert 'href="tel:+529626261252"' in page
    assert "Vienna Convention on Consular Relations, article 36" in page
    # The officer's tools: the language picker, the text to copy, the plain-text link.
    assert '<select name="lang" id="slip-lang">' in page
    assert '<option value="en" lang="en" selected>' in page
    assert '<textarea id="slip-text" readonly' in page
    assert f'href="/consulates/{office.id}/partners/{shelter.id}/slip.txt?lang=en"' in page
    assert f'href="/consulates/{office.id}?lang=en" id="slip-back"' in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", ["Dónde", "Teléfono", "Horario", "lunes a viernes", "Una identificación"]),
        ("en", ["Where", "Phone", "Hours", "Monday to Friday", "Una identificación"]),
        ("fr", ["Lieu", "Téléphone", "Horaires", "lundi au vendredi", "Une pièce d'identité"]),
        ("ht", ["Kote", "Telefòn", "Lè yo louvri", "Lendi", "Una identificación"]),
    ],
)
def test_the_slip_is_in_the_chosen_language(client, slip_directory, language, expected):
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    page = _slip(client, office, shelter, language).get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert f'<option value="{language}" lang="{language}" selected>' in page
    for text in expected:
        assert text in page.replace("&#39;", "'"), (language, text)
    if language != "ht":  # CLDR has no Haitian Creole month names (directory.i18n)
        assert _today(language) in page
    text = _slip(client, office, shelter, language, ".txt").get_data(as_text=True)
    assert all(word in text for word in expected[:3])


def test_the_officers_language_leads_back_to_the_office_page(client, slip_directory):
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    page = _slip(client, office, shelter, "ht", back_lang="es").get_data(as_text=True)
    assert '<html lang="ht">' in page
    assert f'href="/consulates/{office.id}?lang=es" id="slip-back"' in page
    assert '<input type="hidden" name="back_lang" value="es">' in page
    # A language we do not have is ignored, as everywhere: the page's own language (the
    # one remembered from the last choice, then the browser's).
    client.delete_cookie("lang")
    page = _slip(client, office, shelter, "xx", back_lang="zz").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert f'href="/consulates/{office.id}?lang=en" id="slip-back"' in page


def test_what_the_directory_does_not_know_is_said(client, slip_directory):
    office, bare = slip_directory["office"], slip_directory["bare"]
    office.protection_phone = None
    office.phones = []
    page = _slip(client, office, bare, "en").get_data(as_text=True)
    assert '<dd id="slip-phones">Not known</dd>' in page
    assert '<dd id="slip-admission">Not known — ask when you call.</dd>' in page
    assert '<dd id="slip-bring">Not known — ask when you call.</dd>' in page
    assert "Typical hours, not confirmed by the organization: call before you go." in page
    assert '<dd id="slip-protection">not known to this directory — call the office.</dd>' in page
    assert '<dd id="slip-office-phones">Not known</dd>' in page
    # Only the town: no directions link that would lead to the town square.
    assert "openstreetmap.org" not in page
    assert "no link: the directory knows only the town, Huixtla." in page
    assert "wa.me" not in page
    text = _slip(client, office, bare, "en", ".txt").get_data(as_text=True)
    assert "Phone: Not known" in text
    assert "What to bring: Not known — ask when you call." in text
    assert "24/7 protection line: not known to this directory — call the office." in text


def test_unknown_hours_say_so(client, slip_directory):
    office, bare = slip_directory["office"], slip_directory["bare"]
    bare.opening_hours = None
    page = _slip(client, office, bare, "en").get_data(as_text=True)
    assert '<dd id="slip-hours">Not known' in page
    assert "Call before you go." in page


def test_a_full_shelter_says_until_when_as_of_the_slips_date(client, slip_directory):
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    shelter.status = OperationalStatus.FULL
    shelter.status_until = dt.datetime(2099, 5, 1, 12, tzinfo=dt.UTC)
    page = _slip(client, office, shelter, "en").get_data(as_text=True)
    assert f"Status on {_today('en')}: Full until May 1, 2099" in page


def test_the_plain_text_slip(client, slip_directory):
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    response = _slip(client, office, shelter, "fr", ".txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="referral-{shelter.id}-fr.txt"'
    )
    text = response.get_data(as_text=True)
    assert "<" not in text
    assert "&#" not in text
    assert text.splitlines()[2] == "Albergue Belén"
    assert "+52 962 555 0101, +52 962 555 0102" in text
    assert "Une pièce d'identité\n" in text  # written in French: no note
    assert "Solo familias (Écrit en espagnol)" in text
    assert "+52 962 111 2233" in text
    assert "https://www.openstreetmap.org/directions?to=14.91000,-92.27000" in text
    # The page's text box holds the same text.
    page = _slip(client, office, shelter, "fr").get_data(as_text=True)
    box = re.search(r'<textarea id="slip-text" readonly rows="14">(.*?)</textarea>', page, re.S)
    assert box is not None
    assert html.unescape(box.group(1)) == text


@pytest.mark.parametrize("which", ["outside", "archived", "government"])
def test_only_a_partner_of_the_offices_district_gets_a_slip(client, slip_directory, which):
    office = slip_directory["office"]
    for suffix in ("", ".txt"):
        assert _slip(client, office, slip_directory[which], "en", suffix).status_code == 404


def test_no_slip_from_an_office_that_is_not_consular(client, slip_directory):
    shelter = slip_directory["shelter"]
    response = _slip(client, shelter, shelter, "en")
    assert response.status_code == 404
    assert client.get(f"/consulates/999999/partners/{shelter.id}/slip").status_code == 404


def test_a_joint_office_refers_to_the_partners_of_each_district(client, slip_directory):
    joint = slip_directory["joint"]
    assert _slip(client, joint, slip_directory["shelter"], "en").status_code == 200
    assert _slip(client, joint, slip_directory["bare"], "en").status_code == 404


def test_the_slip_holds_nothing_about_the_national(client, slip_directory):
    """Whatever the URL carries (a place typed on the office page, a name), the slip is
    made of public records only: the same text, none of it echoed."""
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    plain = _slip(client, office, shelter, "en", ".txt").get_data(as_text=True)
    stray = {"from": "14.9,-92.26", "place": "Qwertyville", "q": "Qwertyville", "name": "Ana"}
    with_stray = _slip(client, office, shelter, "en", ".txt", **stray)
    assert with_stray.get_data(as_text=True) == plain
    page = _slip(client, office, shelter, "en", **stray).get_data(as_text=True)
    for secret in ("14.9,-92.26", "Qwertyville", "Ana"):
        assert secret not in page
    assert "<input" not in page.replace(
        '<input type="hidden" name="back_lang" value="en">', ""
    )  # no field for anything about the person


def test_the_slip_is_public_but_not_indexed_and_sends_no_referrer(client, slip_directory):
    office, shelter = slip_directory["office"], slip_directory["shelter"]
    for suffix in ("", ".txt"):
        response = _slip(client, office, shelter, None, suffix)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=300"
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    page = _slip(client, office, shelter).get_data(as_text=True)
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert '<html lang="en">' in page  # no lang: the page's language (the reader's)
