"""Record content per language: descriptions and notes in the reader's language, else in the
language they were written in, marked as such; country names from CLDR."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from directory.cli import SEEDS_DIR
from directory.db import LocalizedText, localized_text
from directory.io.csv_files import original_language
from directory.places.models import Country, Location, Network
from directory.seeding import SeedError, load_demo
from tests import factories

DESCRIPTIONS = {
    "es": "Albergue para familias migrantes en Tapachula.",
    "en": "Shelter for migrant families in Tapachula.",
}
NOTE = "Toque el timbre de la puerta verde."


def _shelter(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session, name="Albergue Belén")
    org.descriptions = dict(DESCRIPTIONS)
    org.description_language = "es"
    shelter = factories.location(db_session, org, -92.2667, 14.9, city="Tapachula")
    shelter.notes = {"es": NOTE}
    shelter.notes_language = "es"
    db_session.flush()
    return shelter


def _paragraph(html: str, css_class: str) -> str:
    match = re.search(
        rf'<p class="{css_class}"[^>]*>.*?</p>(\s*<p class="written-in">.*?</p>)?', html, re.S
    )
    assert match, f"no {css_class} paragraph"
    return match.group(0)


def test_text_in_the_readers_language_is_not_marked():
    text = localized_text(DESCRIPTIONS, "en", "es")
    assert text == LocalizedText(DESCRIPTIONS["en"], "en", is_fallback=False)


def test_untranslated_text_falls_back_to_the_language_it_was_written_in():
    assert localized_text(DESCRIPTIONS, "fr", "es") == LocalizedText(
        DESCRIPTIONS["es"], "es", is_fallback=True
    )
    assert localized_text(DESCRIPTIONS, "ht", "en").language == "en"
    # Without a recorded original: Spanish, then English, then any.
    assert localized_text({"fr": "Texte"}, "ht", None) == LocalizedText("Texte", "fr", True)
    assert not localized_text({}, "es", None)


def test_a_french_reader_sees_the_spanish_original_marked(client, db_session):
    shelter = _shelter(db_session)
    html = client.get(f"/places/{shelter.id}?lang=fr").get_data(as_text=True)
    description = _paragraph(html, "description")
    assert 'lang="es"' in description
    assert DESCRIPTIONS["es"] in description
    assert 'class="written-in"' in description
    assert re.search(r"espagnol|Spanish", description)


def test_a_spanish_reader_sees_no_mark(client, db_session):
    shelter = _shelter(db_session)
    html = client.get(f"/places/{shelter.id}?lang=es").get_data(as_text=True)
    assert DESCRIPTIONS["es"] in html
    assert NOTE in html
    assert 'class="written-in"' not in html


def test_an_english_reader_sees_the_english_description_and_the_spanish_note_marked(
    client, db_session
):
    shelter = _shelter(db_session)
    html = client.get(f"/places/{shelter.id}").get_data(as_text=True)
    description = _paragraph(html, "description")
    assert DESCRIPTIONS["en"] in description
    assert 'lang="en"' in description
    assert "written-in" not in description
    notes = _paragraph(html, "notes")
    assert f'<p class="notes" lang="es">{NOTE}</p>' in notes
    assert '<p class="written-in">Written in Spanish</p>' in notes


def test_country_names_come_from_cldr_and_the_record_for_haitian_creole(db_session):
    mexico = factories.country(db_session, "MX")
    mexico.names = {"en": "Mexico", "es": "México", "ht": "Meksik"}
    assert mexico.name("es") == "México"
    assert mexico.name("en") == "Mexico"
    assert mexico.name("fr") == "Mexique"  # CLDR, although the record has no French name
    assert mexico.name("ht") == "Meksik"
    # No Haitian name recorded: CLDR's Spanish one.
    assert Country(code="GT", names={"en": "Guatemala"}).name("ht") == "Guatemala"


@pytest.mark.parametrize(
    ("row", "texts", "expected"),
    [
        ({}, {}, None),
        ({}, {"es": "Nota"}, "es"),
        ({"notes_language": "en"}, {"es": "Nota", "en": "Note"}, "en"),
    ],
)
def test_the_seeds_say_which_language_a_text_was_written_in(row, texts, expected):
    assert original_language(row, "notes_", texts) == expected


@pytest.mark.parametrize(
    ("row", "texts"),
    [
        ({}, {"es": "Nota", "en": "Note"}),  # two languages: which is the original?
        ({"notes_language": "fr"}, {"es": "Nota"}),  # not among the texts
        ({"notes_language": "es"}, {}),  # no text at all
    ],
)
def test_an_unclear_original_language_is_an_error(row, texts):
    with pytest.raises(ValueError, match="notes_language"):
        original_language(row, "notes_", texts)


def test_a_seed_row_with_two_languages_and_no_original_names_the_line(db_session, tmp_path):
    for path in SEEDS_DIR.iterdir():
        if path.is_file():
            (tmp_path / path.name).write_bytes(path.read_bytes())
    networks = (tmp_path / "networks.csv").read_text(encoding="utf-8").splitlines()
    networks[1] = networks[1].removesuffix(",es") + ","
    (tmp_path / "networks.csv").write_text("\n".join(networks) + "\n", encoding="utf-8")
    with pytest.raises(SeedError, match=r"networks.csv:2: .*description_language"):
        load_demo(db_session, tmp_path)


def test_demo_records_know_the_language_they_were_written_in(demo_session):
    network = demo_session.scalars(select(Network).where(Network.code == "RNCOM")).one()
    assert network.description_language == "es"
    assert network.name("ht") == "Rezo rejyonal òganizasyon sivil pou migrasyon"
    text = network.description_in("fr")
    assert text.is_fallback
    assert text.language == "es"
    haiti = demo_session.get(Country, "HT")
    assert haiti.name("ht") == "Ayiti"
    assert haiti.name("fr") == "Haïti"
    noted = demo_session.scalars(select(Location).where(Location.notes != {})).all()
    assert any(
        location.notes_language == "es" and list(location.notes) == ["es"] for location in noted
    )


def test_seeding_again_adds_the_languages_a_record_lacks(demo_session):
    network = demo_session.scalars(select(Network).where(Network.code == "RNCOM")).one()
    network.names = {key: name for key, name in network.names.items() if key != "ht"}
    network.names["es"] = "Nombre cambiado a mano"
    demo_session.flush()
    report = load_demo(demo_session, SEEDS_DIR)
    assert report.added["translations"] == 1
    assert network.names["ht"] == "Rezo rejyonal òganizasyon sivil pou migrasyon"
    assert network.names["es"] == "Nombre cambiado a mano"  # never overwritten
