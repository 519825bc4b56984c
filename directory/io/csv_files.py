"""CSV in and out: rows with their line numbers, list cells, per-locale columns, and cells a
spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for each data row, cells stripped (line 2 is the first row)."""
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            yield line, {key: (value or "").strip() for key, value in row.items()}


def split_list(value: str) -> list[str]:
    """A list cell: ``"food; shelter"`` → ``["food", "shelter"]``."""
    return [part.strip() for part in value.split(";") if part.strip()]


FLAG_VALUES = {"true": True, "yes": True, "false": False, "no": False, "": False}


def read_flag(value: str) -> bool:
    """``true``/``yes`` or ``false``/``no``/blank (blank claims nothing, so false)."""
    try:
        return FLAG_VALUES[value.strip().lower()]
    except KeyError:
        raise ValueError(f"{value!r} is not one of true, false, yes, no") from None


def locale_columns(row: dict[str, Any], prefix: str) -> dict[str, str]:
    """``{"name_en": "Shelter", "name_es": "Albergue"}`` → ``{"en": "Shelter", "es": …}``.

    ``{prefix}language`` is not a text: it names the language the texts were written in
    (see ``original_language``)."""
    return {
        key.removeprefix(prefix): value
        for key, value in row.items()
        if key.startswith(prefix) and key != prefix + "language" and value
    }


def original_language(row: dict[str, Any], prefix: str, texts: dict[str, str]) -> str | None:
    """The language the ``{prefix}*`` texts were written in: the ``{prefix}language`` cell,
    or the only language there is. None when there is no text; ``ValueError`` when there are
    several and the cell does not say which is the original, or names one that is absent."""
    stated = (row.get(prefix + "language") or "").strip()
    if not texts:
        if stated:
            raise ValueError(f"{prefix}language is {stated!r} but there is no {prefix}* text")
        return None
    if not stated:
        if len(texts) == 1:
            return next(iter(texts))
        raise ValueError(
            f"{prefix}* is in {', '.join(sorted(texts))}: say in {prefix}language "
            "which one it was written in"
        )
    if stated not in texts:
        raise ValueError(f"{prefix}language is {stated!r} but there is no {prefix}{stated}")
    return stated


def slugify(text: str) -> str:
    """ASCII, lower case, dashes: ``"Tecún Umán"`` → ``"tecun-uman"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (prefixed with ``'``)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document: the header, then each row with its cells made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
