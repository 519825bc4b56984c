"""The cell checks both CSV imports share: each turns a cell into a value or a ``Problem``
worded for the reader (``lazy_gettext`` with ``%(name)s`` placeholders), so a file with a
thousand bad cells gets a thousand precise lines rather than one English traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.imports.csv_reading import message
from directory.imports.report import Problem
from directory.io.csv_files import FLAG_VALUES, split_list
from directory.places.models import Country, ServiceCategory

E = TypeVar("E", bound=enum.Enum)

REQUIRED = _l("This column must not be empty.")
TOO_LONG = _l("%(length)s characters: at most %(limit)s are allowed here.")
NOT_ONE_OF = _l("“%(value)s” is not one of: %(allowed)s.")
NOT_A_DATE = _l("“%(value)s” is not a date: write it as YYYY-MM-DD (2026-03-31).")
NOT_A_WHOLE_NUMBER = _l("“%(value)s” is not a whole number of 0 or more.")
NOT_A_FLAG = _l("“%(value)s” is not one of true, false, yes, no.")
NOT_AN_EMAIL = _l("“%(value)s” is not an e-mail address.")
NOT_A_LANGUAGE = _l("“%(value)s” is not a language code (two or three letters: es, en, fr, ht).")
NOT_A_COUNTRY_CODE = _l("“%(value)s” is not a country code (two letters: GT, MX).")
UNKNOWN_COUNTRY = _l("There is no country %(value)s in the directory.")
OTHER_COUNTRY = _l("This row is in %(value)s: you can import rows of %(country)s only.")
DUPLICATE_ID = _l("The external_id “%(value)s” is on line %(first)s too: each row needs its own.")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

NO_REFERENCE_DATA = _l(
    "The directory's reference data (its countries and service categories) is not loaded "
    "yet, so nothing in a file can be placed: load it first with “flask seed reference” "
    "(make seed does it too)."
)


def reference_data_problem(session: Session, *, categories: bool = True) -> Problem | None:
    """A file-level problem when the database lacks the countries (or the service
    categories) every record refers to, as a freshly migrated one does: without it, each
    row would get its own "no country" error, and an HSDS feed would import its
    organizations and silently leave every location out."""
    no_country = session.scalar(select(Country.code).limit(1)) is None
    no_category = categories and session.scalar(select(ServiceCategory.id).limit(1)) is None
    if no_country or no_category:
        return Problem(None, None, NO_REFERENCE_DATA)
    return None


class FirstLines:
    """The line each ``external_id`` was first seen on, so that a duplicate within a file is
    reported with both lines (the locations' and the contact persons' checks share it)."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}

    def duplicate(self, line: int, external_id: str) -> Problem | None:
        """The problem of ``external_id`` on ``line`` if an earlier line had it, else None
        (and the line is remembered). An empty id is another check's problem."""
        if not external_id:
            return None
        first = self._first.setdefault(external_id, line)
        if first == line:
            return None
        wording = message(DUPLICATE_ID, value=external_id[:80], first=first)
        return Problem(line, "external_id", wording)


class Cells:
    """One row's cells with the problems found so far: each reader returns the value, or
    None after adding a problem for the cell."""

    def __init__(self, line: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.line = line
        self.cells = cells
        self.problems = problems
        self.bad = False

    def has(self, column: str) -> bool:
        return column in self.cells

    def problem(self, column: str | None, text: Any) -> None:
        self.problems.append(Problem(self.line, column, text))
        self.bad = True

    def text(self, column: str, limit: int, *, required: bool = False) -> str | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.problem(column, REQUIRED)
            return None
        if len(value) > limit:
            self.problem(column, message(TOO_LONG, length=len(value), limit=limit))
            return None
        return value

    def choice(self, column: str, kind: type[E], default: E | None = None) -> E | None:
        value = self.cells.get(column, "")
        if not value:
            return default
        try:
            return kind(value.lower())
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            self.problem(column, message(NOT_ONE_OF, value=value[:80], allowed=allowed))
            return None

    def choices(self, column: str, allowed: set[str]) -> list[str]:
        values = [value.lower() for value in split_list(self.cells.get(column, ""))]
        wrong = [value for value in values if value not in allowed]
        for value in wrong:
            listed = ", ".join(sorted(allowed))
            self.problem(column, message(NOT_ONE_OF, value=value[:80], allowed=listed))
        return [value for value in values if value in allowed]

    def date(self, column: str) -> dt.date | None:
        value = self.cells.get(column, "")
        if not value:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            self.problem(column, message(NOT_A_DATE, value=value[:80]))
            return None

    def count(self, column: str) -> int | None:
        value = self.cells.get(column, "")
        if not value:
            return None
        if not value.isdigit() or len(value) > 9:
            self.problem(column, message(NOT_A_WHOLE_NUMBER, value=value[:80]))
            return None
        return int(value)

    def flag(self, column: str) -> bool:
        value = self.cells.get(column, "")
        try:
            return FLAG_VALUES[value.strip().lower()]
        except KeyError:
            self.problem(column, message(NOT_A_FLAG, value=value[:80]))
            return False

    def email(self, column: str) -> str | None:
        value = self.text(column, 254)
        if value is not None and not _EMAIL.match(value):
            self.problem(column, message(NOT_AN_EMAIL, value=value[:80]))
            return None
        return value

    def languages(self, column: str) -> list[str]:
        values = [value.lower() for value in split_list(self.cells.get(column, ""))]
        for value in values:
            if not _LANGUAGE.match(value):
                self.problem(column, message(NOT_A_LANGUAGE, value=value[:80]))
        return [value for value in values if _LANGUAGE.match(value)]

    def country_code(self, column: str) -> str | None:
        value = self.cells.get(column, "").upper()
        if not value:
            self.problem(column, REQUIRED)
            return None
        if not _COUNTRY.match(value):
            self.problem(column, message(NOT_A_COUNTRY_CODE, value=value[:80]))
            return None
        return value

    def listed(self, column: str, limit: int) -> list[str]:
        values = split_list(self.cells.get(column, ""))
        for value in values:
            if len(value) > limit:
                self.problem(column, message(TOO_LONG, length=len(value), limit=limit))
        return [value for value in values if len(value) <= limit]

    def parsed(self, column: str, parse: Callable[[str], Any], wording: Any) -> Any:
        """A cell read by ``parse``; a ``ValueError`` becomes ``wording`` with ``error``."""
        value = self.cells.get(column, "")
        try:
            return parse(value)
        except ValueError as error:
            self.problem(column, message(wording, value=value[:80], error=error))
            return None
