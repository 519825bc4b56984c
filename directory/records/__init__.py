"""Changing the records people edit: optimistic locking across requests, archive and
restore (nothing is deleted), an audit entry for every change in the same transaction, and
each record's history as readable differences.

Services only: they take a session and the acting user's id, flush, and leave the commit
to the caller, so the change and its audit entry commit (or roll back) together.
"""

from directory.records.audit import entity_name, snapshot, write_entry
from directory.records.changes import (
    NotVersioned,
    StaleEdit,
    StaleField,
    apply_edit,
    archive,
    changed_since,
    create_record,
    restore,
    stale_fields,
)
from directory.records.history import Change, FieldDifference, history

__all__ = [
    "Change",
    "FieldDifference",
    "NotVersioned",
    "StaleEdit",
    "StaleField",
    "apply_edit",
    "archive",
    "changed_since",
    "create_record",
    "entity_name",
    "history",
    "restore",
    "snapshot",
    "stale_fields",
    "write_entry",
]
