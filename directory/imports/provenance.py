"""Where a record came from (issue 13, point 5): its source, its id in that source, and the
import that brought it or last changed it.

Two feeds that describe the same shelter give two records with different sources and
external ids; the history page shows this for each record, and the likely-duplicates report
(``directory.records.duplicates``) puts such pairs side by side for the secretariat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from directory.accounts.models import User
from directory.imports.models import ImportBatch


@dataclass(frozen=True, slots=True)
class Provenance:
    """``source`` and ``external_id`` as the record carries them (None: not recorded, e.g.
    an organization entered by hand); ``batch`` the import, ``imported_by`` who ran it."""

    source: str | None
    external_id: str | None
    batch: ImportBatch | None
    imported_by: str | None


def provenance(session: Session, record: Any) -> Provenance:
    """The provenance of a location, an organization or a contact person."""
    batch_id = getattr(record, "import_id", None)
    batch = session.get(ImportBatch, batch_id) if batch_id is not None else None
    who = None
    if batch is not None and batch.user_id is not None:
        user = session.get(User, batch.user_id)
        who = user.name if user is not None else None
    return Provenance(
        source=getattr(record, "source", None) or None,
        external_id=getattr(record, "external_id", None) or None,
        batch=batch,
        imported_by=who,
    )
