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

    @property
    def ok(self) -> bool:
        """No problem found: the file may be applied."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """The counts an ``ImportBatch`` keeps."""
        return {
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.problems),
        }
