"""An import as a batch: the dry run recorded, then applied or discarded (the command line
and the workspace's upload page both go through here).

``check`` runs the dry run of a file and records an ``ImportBatch`` (status ``checked``,
its counts and report, and the file itself when it is to be applied later, from another
request; the report page reads the kept report, ``kept_report``, without checking again);
``apply`` runs the check again on the same bytes and, when it is still clean, applies the
file in the caller's transaction, marks the batch ``applied`` and drops the content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.imports import contacts_csv, locations_csv
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.imports.report import ImportReport

Progress = Callable[[int], None]

CHECKS: dict[ImportKind, Callable[..., ImportReport]] = {
    ImportKind.LOCATIONS: locations_csv.check_locations,
    ImportKind.CONTACTS: contacts_csv.check_contacts,
}
APPLIES: dict[ImportKind, Callable[..., ImportReport]] = {
    ImportKind.LOCATIONS: locations_csv.apply_locations,
    ImportKind.CONTACTS: contacts_csv.apply_contacts,
}
KINDS = tuple(CHECKS)
MAX_SOURCE_LENGTH = 200


def record(
    session: Session,
    kind: ImportKind,
    content: bytes,
    *,
    source: str,
    filename: str,
    user_id: int | None,
    country_code: str | None,
    keep_content: bool,
    counts: dict[str, int] | None = None,
    report: ImportReport | None = None,
) -> ImportBatch:
    """A new batch for ``content`` (status ``checked``), flushed so it has an id."""
    batch = ImportBatch(
        kind=kind,
        status=ImportStatus.CHECKED,
        source=source,
        filename=filename[:300],
        sha256=hashlib.sha256(content).hexdigest(),
        user_id=user_id,
        country_code=country_code,
        counts=counts or {},
        report=report.to_json() if report is not None else {},
        content=content if keep_content else None,
    )
    session.add(batch)
    session.flush()
    return batch


def check(
    session: Session,
    kind: ImportKind,
    content: bytes,
    *,
    source: str,
    filename: str,
    user_id: int | None,
    country_code: str | None,
    keep_content: bool,
) -> tuple[ImportBatch, ImportReport]:
    """The dry run of ``content``, recorded as a batch (flushed, so it has an id)."""
    report = CHECKS[kind](session, content, source=source, country_code=country_code)
    batch = record(
        session,
        kind,
        content,
        source=source,
        filename=filename,
        user_id=user_id,
        country_code=country_code,
        keep_content=keep_content,
        counts=report.counts(),
        report=report,
    )
    return batch, report


def apply(
    session: Session,
    batch: ImportBatch,
    content: bytes,
    *,
    user_id: int | None,
    progress: Progress | None = None,
    checked: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Apply ``content`` as ``batch``: checked again first (``checked`` gets that report);
    with a problem nothing is written and the batch stays ``checked`` (with the new
    counts)."""
    report = APPLIES[batch.kind](
        session,
        content,
        batch=batch,
        user_id=user_id,
        country_code=batch.country_code,
        progress=progress,
        checked=checked,
    )
    batch = session.get(ImportBatch, batch.id) or batch  # expired by the bulk statements
    batch.counts = report.counts()
    batch.report = report.to_json()
    if report.applied:
        batch.status = ImportStatus.APPLIED
        batch.applied_at = utcnow()
        batch.content = None
    session.flush()
    return report


def discard(session: Session, batch: ImportBatch) -> None:
    """Forget a checked file: the batch stays (what was tried, by whom), its content goes."""
    batch.status = ImportStatus.DISCARDED
    batch.content = None
    session.flush()


def recent(session: Session, country_code: str | None, limit: int = 50) -> list[ImportBatch]:
    """The latest batches: a focal point's country's (``country_code``), or every batch."""
    query = select(ImportBatch).order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
    if country_code is not None:
        query = query.where(ImportBatch.country_code == country_code)
    return list(session.scalars(query.limit(limit)))


def kept_report(batch: ImportBatch) -> ImportReport:
    """The report of the batch's last check, as it kept it (nothing is checked again)."""
    return ImportReport.from_json(batch.counts or {}, batch.report or {})


def stored_content(session: Session, batch: ImportBatch) -> bytes | None:
    """The file a checked batch keeps (a deferred column: read only when applying)."""
    return session.scalar(select(ImportBatch.content).where(ImportBatch.id == batch.id))


def counts_text(counts: dict[str, Any]) -> dict[str, int]:
    return {
        key: int(counts.get(key, 0)) for key in ("rows", "added", "updated", "unchanged", "errors")
    }
