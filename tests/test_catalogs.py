"""The four catalogs are complete and current: `make test` fails otherwise (issue 11).

The checks themselves are in ``directory/i18n/catalogs.py`` (also ``make i18n-check``);
these tests prove them on broken copies too, so a check that can never fail is caught.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from directory.i18n import LANGUAGES, catalogs


def test_every_catalog_is_complete_and_the_template_current():
    problems = catalogs.problems()
    assert not problems, "\n".join(problems[:40])


@pytest.fixture
def scratch_translations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the translations whose catalogs a test may break."""
    copy = tmp_path / "translations"
    shutil.copytree(catalogs.TRANSLATIONS, copy)
    monkeypatch.setattr(catalogs, "TRANSLATIONS", copy)
    monkeypatch.setattr(catalogs, "TEMPLATE", copy / "messages.pot")
    monkeypatch.setattr(catalogs, "ROOT", tmp_path)
    return copy


def _rewrite(path: Path, change) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    change(catalog)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0)


def _first(catalog):
    return next(message for message in catalog if message.id)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda catalog: setattr(_first(catalog), "string", ""), "untranslated"),
        (lambda catalog: _first(catalog).flags.add("fuzzy"), "fuzzy"),
        (lambda catalog: catalog.delete(_first(catalog).id, _first(catalog).context), "missing"),
    ],
    ids=["untranslated", "fuzzy", "missing"],
)
def test_a_broken_catalog_is_reported(scratch_translations: Path, change, expected):
    path = scratch_translations / "fr" / "LC_MESSAGES" / "messages.po"
    _rewrite(path, change)
    problems = list(catalogs.catalog_problems("fr"))
    assert any(expected in problem for problem in problems), problems


def test_a_placeholder_the_translation_lost_is_reported(scratch_translations: Path):
    def lose_placeholder(catalog):
        message = next(m for m in catalog if m.id and "%(" in str(m.id) and not m.pluralizable)
        message.string = "sin marcador"

    _rewrite(scratch_translations / "es" / "LC_MESSAGES" / "messages.po", lose_placeholder)
    assert list(catalogs.catalog_problems("es"))


def test_a_message_of_the_code_missing_from_the_template_is_reported(scratch_translations):
    _rewrite(
        scratch_translations / "messages.pot", lambda c: c.delete(_first(c).id, _first(c).context)
    )
    assert any("out of date" in problem for problem in catalogs.template_problems())


def test_the_four_languages_have_catalogs():
    assert set(LANGUAGES) == {"es", "en", "fr", "ht"}
    for language in LANGUAGES:
        assert catalogs.catalog_path(language).exists()
