"""Editing a record: the version check across requests, the change, and its audit entry.

The mapper's ``version_id_col`` (``Versioned``) only stops a stale write inside one
session: a form submitted after someone else's save is loaded fresh, at the new version,
and would commit silently. So the version the editor started from travels with the form,
and ``apply_edit`` compares it with the row as the database has it now, read with
``SELECT … FOR UPDATE`` (not the identity map) and locked until the caller's transaction
ends, so no other edit can slip in between the check and the write.

Every function flushes and never commits: the change and its audit entry commit together
or not at all. On ``StaleEdit`` nothing has been written; the caller rolls back (which
also releases the lock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry
from directory.db import Base, Versioned, utcnow
from directory.records.audit import (
    JsonValue,
    comparable,
    entity_key,
    entity_name,
    snapshot,
    tracked_fields,
    write_entry,
)

R = TypeVar("R", bound=Base)

# Fields an edit never sets directly: the version is the mapper's, archiving has its own
# functions (and audit action), and the bookkeeping timestamps are set here.
NOT_EDITABLE = frozenset({"version", "archived_at", "created_at", "updated_at"})


class NotVersioned(TypeError):
    """The record has no ``version`` column, so an edit cannot be checked (``Network``
    today): it needs the ``Versioned`` columns before it can be edited."""


class StaleEdit(Exception):
    """The record changed since the editor loaded it: the edit was refused, nothing written.

    ``current`` holds the record's values now (a snapshot) and ``version`` its version;
    ``changed`` the fields changed by others since ``expected_version``, with their values
    now (from the audit log), so a form can say "someone else changed X to Y"."""

    def __init__(
        self,
        *,
        entity: str,
        entity_id: str,
        expected_version: int,
        version: int,
        current: dict[str, JsonValue],
        changed: dict[str, JsonValue],
    ) -> None:
        super().__init__(
            f"{entity} {entity_id} is at version {version}, not {expected_version}: "
            "someone else saved it meanwhile"
        )
        self.entity = entity
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.version = version
        self.current = current
        self.changed = changed


@dataclass(frozen=True, slots=True)
class StaleField:
    """A field someone else changed while you were editing: ``current`` is their value,
    ``submitted`` yours."""

    field: str
    current: JsonValue
    submitted: JsonValue


def create_record(session: Session, record: R, user_id: int | None) -> R:
    """Add a new record, with a "create" audit entry whose ``after`` is its snapshot."""
    session.add(record)
    session.flush()
    write_entry(session, action="create", record=record, user_id=user_id, after=snapshot(record))
    return record


def apply_edit(
    session: Session,
    record: R,
    changes: Mapping[str, Any],
    *,
    expected_version: int,
    user_id: int | None,
) -> R:
    """Apply ``changes`` (attribute name → new value; a many-to-many collection as a list
    of records) if the record is still at ``expected_version``, else raise ``StaleEdit``.

    The record is re-read first (anything set on it outside ``changes`` is discarded).
    The fields whose values really change are written, the version goes up by one, and an
    "update" entry holds their values before and after (with derived ones, such as a
    location's time zone). Changes that change nothing write nothing.
    """
    unknown = set(changes) - (set(tracked_fields(record)) - NOT_EDITABLE - _key_fields(record))
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    return _change(session, record, changes, expected_version, user_id, "update")


def archive(session: Session, record: R, expected_version: int, user_id: int | None) -> R:
    """Archive the record (it leaves every public page and search), audited "archive".
    Nothing is deleted; archiving an archived record changes nothing."""
    if _current_archived(session, record, expected_version):
        return record
    return _change(session, record, {"archived_at": utcnow()}, expected_version, user_id, "archive")


def restore(session: Session, record: R, expected_version: int, user_id: int | None) -> R:
    """Bring an archived record back, audited "restore"."""
    if not _current_archived(session, record, expected_version):
        return record
    return _change(session, record, {"archived_at": None}, expected_version, user_id, "restore")


def changed_since(session: Session, record: Base, version: int) -> dict[str, JsonValue]:
    """The fields changed after ``version`` (by the audit log), with their latest values."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == entity_name(record),
            AuditEntry.entity_id == entity_key(record),
            AuditEntry.before["version"].as_integer() >= version,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    changed: dict[str, JsonValue] = {}
    for entry in entries:
        for field, value in (entry.after or {}).items():
            if field != "version":
                changed[field] = value
    return changed


def stale_fields(
    current: Base | Mapping[str, Any],
    submitted: Mapping[str, Any],
    *,
    changed: Iterable[str] | None = None,
) -> list[StaleField]:
    """The submitted fields whose values differ from the record's values now, for a form
    to show "someone else changed X to Y while you were editing".

    ``current`` is the record or its snapshot (``StaleEdit.current``); ``submitted`` the
    form's values (records, enums, dates… are compared as snapshots hold them). Give
    ``changed`` (``StaleEdit.changed``) to keep only the fields others changed, so the
    editor's own changes are not listed as conflicts.
    """
    values = snapshot(current) if isinstance(current, Base) else dict(current)
    keep = set(changed) if changed is not None else None
    conflicts = []
    for field, value in submitted.items():
        if field not in values or (keep is not None and field not in keep):
            continue
        mine = comparable(value)
        theirs = values[field]
        if isinstance(mine, list) and isinstance(theirs, list):
            if sorted(mine, key=repr) == sorted(theirs, key=repr):
                continue
        elif mine == theirs:
            continue
        conflicts.append(StaleField(field, theirs, mine))
    return conflicts


def _change(
    session: Session,
    record: R,
    changes: Mapping[str, Any],
    expected_version: int,
    user_id: int | None,
    action: str,
) -> R:
    _lock_current(session, record, expected_version)
    before = snapshot(record)
    changing = {
        field: value for field, value in changes.items() if comparable(value) != before[field]
    }
    if not changing:
        return record
    for field, value in changing.items():
        setattr(record, field, value)
    # A change to a many-to-many collection alone would not UPDATE the row; setting
    # updated_at always does, so the version goes up for every change.
    record.updated_at = utcnow()
    session.flush()
    after = snapshot(record)
    fields = [field for field in after if after[field] != before[field]]
    write_entry(
        session,
        action=action,
        record=record,
        user_id=user_id,
        before={field: before[field] for field in fields},
        after={field: after[field] for field in fields},
    )
    return record


def _current_archived(session: Session, record: Base, expected_version: int) -> bool:
    _lock_current(session, record, expected_version)
    return record.archived_at is not None  # type: ignore[attr-defined]


def _lock_current(session: Session, record: Base, expected_version: int) -> None:
    """Re-read the record's row with ``SELECT … FOR UPDATE`` and check its version."""
    if not isinstance(record, Versioned):
        raise NotVersioned(f"{entity_name(record)} has no version column")
    # refresh() expires everything the identity map held (collections included) and reads
    # the row again, locked until the transaction ends.
    session.refresh(record, with_for_update=True)
    if record.version != expected_version:
        raise StaleEdit(
            entity=entity_name(record),
            entity_id=entity_key(record),
            expected_version=expected_version,
            version=record.version,
            current=snapshot(record),
            changed=changed_since(session, record, expected_version),
        )


def _key_fields(record: Base) -> set[str]:
    mapper = inspect(record).mapper
    return {mapper.get_property_by_column(column).key for column in mapper.primary_key}
