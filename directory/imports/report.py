"""What a dry run found, and what an apply did: the one report every import returns.

A report lists every bad row, not only the first (a partner fixing a file of 3,000 rows
wants the whole list at once), each with its line in the file, the column, and a reason in
the reader's language (``lazy_gettext`` messages, rendered when shown). The counts say how
many rows would be (or were) added, updated (matched by ``external_id``) or left as they
are. A report with problems is never applied; ``notes`` say what an import leaves out
without refusing the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

# The most problems (and notes) a batch keeps for its report page; the count is kept whole.
KEPT_PROBLEMS = 2_000


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a row (or the whole file) cannot be imported.

    ``line`` is the line in the file as a text editor numbers it (the header is line 1 of a
    CSV; None for a problem with the file as a whole or a JSON document without lines);
    ``column`` the column or field name (None when the row as a whole is wrong);
    ``message`` a translatable text (str() renders it in the current language).
    """

    line: int | None
    column: str | None
    message: Any

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(self.column)
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"

    def to_json(self) -> dict[str, Any]:
        """The problem as JSON that keeps its message translatable: the message's msgid
        and values (a ``lazy_gettext`` text), or the text itself."""
        message = self.message
        if isinstance(message, LazyString) and message._func.__name__ == "gettext":
            text = {"msgid": message._args[0], "values": _plain(message._kwargs)}
        else:
            text = {"text": str(message)}
        return {"line": self.line, "column": self.column, **text}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Problem:
        if "msgid" in value:
            message: Any = lazy_gettext(value["msgid"], **value.get("values", {}))
        else:
            message = value.get("text", "")
        return cls(value.get("line"), value.get("column"), message)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Message values as JSON (a value that is itself a lazy text is kept as its text)."""
    return {
        key: value if isinstance(value, int | float | bool) or value is None else str(value)
        for key, value in values.items()
    }


@dataclass(slots=True)
class ImportReport:
    """The outcome of a dry run (``applied`` False) or of an apply (``applied`` True)."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    # What is left out or changed without blocking the import (an HSDS location without
    # usable coordinates is not placed on the map): said, never silent.
    notes: list[Problem] = field(default_factory=list)
    applied: bool = False
    # (nationality, host country) of the consular districts the apply recomputed, because
    # it added or moved a consular office: the consulate finder serves the new place at once.
    districts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found: the file may be applied."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """What a batch keeps of its dry run: its counts, and its problems and notes up to
        ``KEPT_PROBLEMS`` each, so the report page shows them without checking the file
        again (which takes seconds for 100,000 rows)."""
        return {
            "problems": [problem.to_json() for problem in self.problems[:KEPT_PROBLEMS]],
            "notes": [note.to_json() for note in self.notes[:KEPT_PROBLEMS]],
            "notes_count": len(self.notes),
        }

    @classmethod
    def from_json(cls, counts: dict[str, Any], kept: dict[str, Any]) -> ImportReport:
        """The report a batch kept: its counts, and the problems and notes it kept."""
        report = cls(
            rows=int(counts.get("rows", 0)),
            added=int(counts.get("added", 0)),
            updated=int(counts.get("updated", 0)),
            unchanged=int(counts.get("unchanged", 0)),
            problems=[Problem.from_json(item) for item in kept.get("problems", [])],
            notes=[Problem.from_json(item) for item in kept.get("notes", [])],
        )
        return report

    def districts_text(self) -> str | None:
        """What the apply did to the consular districts, to show beside its counts."""
        if not self.districts:
            return None
        groups = ", ".join(
            str(lazy_gettext("%(nationality)s in %(host)s", nationality=nationality, host=host))
            for nationality, host in self.districts
        )
        return str(
            lazy_gettext(
                "Consular districts recomputed for the offices added or moved (nationality "
                "in host country): %(groups)s.",
                groups=groups,
            )
        )

    def counts(self) -> dict[str, int]:
        """The counts an ``ImportBatch`` keeps."""
        return {
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.problems),
        }
