"""Switching language in headless Chromium (issue 11): the title, a service category in
the filters, a status in a result and a string made by our JavaScript are in the chosen
language, and the choice survives following a link and a reload.

What the page must say comes from the compiled catalogs (and the seeds' category names),
never typed here, and must differ from what the page said before the switch.
"""

from __future__ import annotations

import csv
import re

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from directory.cli import SEEDS_DIR
from directory.i18n import LANGUAGES, catalogs
from directory.io.csv_files import locale_columns

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}  # the map is beside the list


def _category_names(code: str) -> dict[str, str]:
    with (SEEDS_DIR / "service_categories.csv").open(encoding="utf-8") as handle:
        row = next(row for row in csv.DictReader(handle) if row["code"] == code)
    return locale_columns(row, "name_")


def _translations(language: str) -> Translations:
    return Translations.load(str(catalogs.TRANSLATIONS), [language])


def _template_messages() -> list[str]:
    with catalogs.TEMPLATE.open("rb") as handle:
        return [m.id for m in read_po(handle) if m.id and isinstance(m.id, str)]


def _pattern(message: str) -> re.Pattern[str]:
    """A message with its placeholders as wildcards."""
    parts = re.split(r"%\(\w+\)[sdif]", message)
    return re.compile(".+?".join(re.escape(part) for part in parts))


def _message_of(shown: str, translations: Translations) -> str:
    """The catalog message a text on the page was rendered from, in that page's language."""
    found = [
        message
        for message in _template_messages()
        if _pattern(translations.gettext(message)).fullmatch(shown)
    ]
    assert found, f"no message renders {shown!r}"
    return max(found, key=len)  # the most specific


def _text(page, selector: str) -> str:
    return " ".join(page.inner_text(selector).split())


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_switching_language_translates_the_page_and_sticks(open_page, server, language):
    # From English to each other language, and from Spanish to English.
    before = "es" if language == "en" else "en"
    translations, before_translations = _translations(language), _translations(before)
    first = open_page(viewport=DESKTOP, locale=before).page
    first.goto(server.url + "/near?q=Tapachula")
    before_status = _text(first, ".result .status >> nth=0")

    opened = open_page(locale=before, viewport=DESKTOP)
    page = opened.page
    page.goto(server.url + "/near?q=Tapachula")
    assert page.get_attribute("html", "lang") == before
    with page.expect_navigation():
        page.click(f'.language-switch a[lang="{language}"]')
    assert page.get_attribute("html", "lang") == language

    # The page title.
    title = translations.gettext("Help near me")
    assert title != before_translations.gettext("Help near me")
    assert page.title().startswith(title)
    # A service category in the filters, named in the language. (From the seeds the live
    # server's database was loaded from: a test session here would share the server
    # thread's scoped session.)
    shelter = _category_names("shelter")
    assert shelter[language] != shelter[before]
    page.click(".filters summary")
    assert shelter[language] in _text(page, ".filters fieldset")
    # A status in a result: the same message as before the switch, translated.
    message = _message_of(before_status, before_translations)
    translated = translations.gettext(message)
    assert translated != before_translations.gettext(message)
    assert _pattern(translated).fullmatch(_text(page, ".result .status >> nth=0"))
    # A string our JavaScript wrote: the map's zoom button, titled by map-base.js.
    zoom_in = page.locator(".leaflet-control-zoom-in")
    zoom_in.wait_for()
    assert zoom_in.get_attribute("title") == translations.gettext("Zoom in")
    assert translations.gettext("Zoom in") != before_translations.gettext("Zoom in")

    # Follow a link, then reload: still the chosen language, whatever the browser prefers.
    with page.expect_navigation():
        page.click('.site-nav a[href^="/routes"], .site-menu a[href^="/routes"] >> visible=true')
    assert page.get_attribute("html", "lang") == language
    page.reload()
    assert page.get_attribute("html", "lang") == language
    assert opened.console_errors == []
