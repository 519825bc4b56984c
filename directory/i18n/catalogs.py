"""Checks on the translation catalogs, and the English catalog kept as a copy.

``python -m directory.i18n.catalogs check`` (``make i18n-check``, and ``make test`` through
``tests/test_catalogs.py``) fails when:

- the template ``messages.pot`` is out of date with the code (a fresh extraction differs);
- a language's catalog misses a message of the template, or has one the template lost;
- a message is untranslated (any plural form empty) or fuzzy;
- a translation drops or misnames a placeholder (``%(name)s``) that the code fills;
- the compiled catalog (``.mo``) is missing or older than its ``.po``.

``fill-source en`` copies each English message into its own translation: English is the
language the messages are written in, and its catalog lets an English editor reword them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from directory.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "directory" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
EXTRACT = ROOT / "scripts" / "i18n.sh"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def catalog_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _keys(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(_msgid(message), message.context) for message in catalog if message.id}


def _msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _untranslated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return not strings or any(not text for text in strings)


def _lost_placeholders(message: Message) -> set[str]:
    """Named placeholders of the English text that the translation dropped. A plural's
    singular may leave out the count ("un jour"); its last form must keep every one."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    wanted = set().union(*(PLACEHOLDER.findall(text) for text in ids))
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if not strings or not strings[-1]:
        return set()
    return wanted - set(PLACEHOLDER.findall(strings[-1]))


def template_problems() -> Iterator[str]:
    """The committed template against a fresh extraction of the code."""
    if not TEMPLATE.exists():
        yield f"{TEMPLATE.relative_to(ROOT)} is missing: run `make i18n-extract`"
        return
    with tempfile.TemporaryDirectory() as scratch:
        fresh_path = Path(scratch) / "messages.pot"
        subprocess.run([str(EXTRACT), "extract", str(fresh_path)], check=True)
        fresh = _keys(_read(fresh_path))
    committed = _keys(_read(TEMPLATE))
    for msgid, _context in sorted(fresh - committed, key=str):
        yield f"messages.pot is out of date: it lacks {msgid!r} (run `make i18n-extract`)"
    for msgid, _context in sorted(committed - fresh, key=str):
        yield f"messages.pot is out of date: the code no longer has {msgid!r}"


def catalog_problems(language: str) -> Iterator[str]:
    """One language's catalog against the template."""
    path = catalog_path(language)
    where = path.relative_to(ROOT)
    if not path.exists():
        yield f"{where} is missing: run `scripts/i18n.sh init {language}`"
        return
    catalog = _read(path, language)
    template_keys = _keys(_read(TEMPLATE)) if TEMPLATE.exists() else set()
    keys = _keys(catalog)
    for msgid, _context in sorted(template_keys - keys, key=str):
        yield f"{where}: missing {msgid!r} (run `make i18n-update`)"
    for msgid, _context in sorted(keys - template_keys, key=str):
        yield f"{where}: {msgid!r} is no longer in the template (run `make i18n-update`)"
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            yield f"{where}:{message.lineno}: fuzzy {_msgid(message)!r}"
        elif _untranslated(message):
            yield f"{where}:{message.lineno}: untranslated {_msgid(message)!r}"
        elif lost := _lost_placeholders(message):
            names = ", ".join(sorted(lost))
            yield f"{where}:{message.lineno}: {_msgid(message)!r} lost the placeholder {names}"
    for message, errors in catalog.check():
        for error in errors:
            yield f"{where}:{message.lineno}: {_msgid(message)!r}: {error}"
    compiled = path.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < path.stat().st_mtime:
        yield f"{compiled.relative_to(ROOT)} is missing or stale: run `make i18n-compile`"


def problems() -> list[str]:
    found = list(template_problems())
    for language in LANGUAGES:
        found.extend(catalog_problems(language))
    return found


def fill_source(language: str) -> int:
    """Give every untranslated or fuzzy message of ``language``'s catalog its own text (an
    English rewording kept in the English catalog stays)."""
    path = catalog_path(language)
    catalog = _read(path, language)
    filled = 0
    for message in catalog:
        # New messages arrive empty, changed ones fuzzy with the old text as a guess.
        if message.id and (_untranslated(message) or message.fuzzy):
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0)
    return filled


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "check":
        found = problems()
        for problem in found:
            print(problem)
        print(f"{len(found)} problem(s) in the catalogs" if found else "catalogs complete")
        return 1 if found else 0
    if command == "fill-source" and len(argv) == 3:
        print(f"{fill_source(argv[2])} message(s) copied into the {argv[2]} catalog")
        return 0
    print("usage: python -m directory.i18n.catalogs check | fill-source LANG")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
