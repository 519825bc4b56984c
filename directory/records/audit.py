"""Audit entries and the JSON snapshots they hold.

A snapshot is a record's columns and its many-to-many collections as JSON values, so an
audit entry stays readable whatever later happens to the schema or the related rows:
dates as ISO strings, a point as ``[lon, lat]``, other geometries as GeoJSON, enums as
their values, related records by code (else by id). ``updated_at`` and ``created_at`` are
left out (the entry's own ``at`` says when); ``version`` is kept, so the log can say which
fields changed after the version an editor started from.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Mapping
from typing import Any

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, mapping
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry
from directory.db import Base
from geo.coordinates import LonLat

# Bookkeeping columns a snapshot leaves out: they change on every save and say nothing.
UNTRACKED = frozenset({"created_at", "updated_at"})

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


def entity_name(record_or_class: Any) -> str:
    """The name an audit entry gives a record's kind: its table's name."""
    return inspect(record_or_class).mapper.local_table.name


def entity_key(record: Base) -> str:
    """The record's primary key as the audit entry's ``entity_id`` ("12", "MX")."""
    identity = inspect(record).identity or tuple(
        getattr(record, column.key) for column in inspect(record).mapper.primary_key
    )
    return ":".join(str(part) for part in identity)


def json_value(value: Any) -> JsonValue:
    """``value`` as plain JSON, the same way wherever it comes from (a column, a form)."""
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, LonLat):
        return [value.lon, value.lat]
    if isinstance(value, WKBElement | WKTElement):
        shape = to_shape(value)
        if isinstance(shape, Point):
            return [shape.x, shape.y]
        return json_value(mapping(shape))
    if isinstance(value, Base):
        return related_key(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_value(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    raise TypeError(f"no JSON form for {type(value).__name__}")


def related_key(record: Base) -> JsonValue:
    """A related record as a snapshot names it: its code when it has one, else its key."""
    code = getattr(record, "code", None)
    if isinstance(code, str):
        return code
    key = inspect(record).mapper.primary_key_from_instance(record)
    return json_value(key[0] if len(key) == 1 else list(key))


def tracked_fields(record_or_class: Any) -> list[str]:
    """The attributes a snapshot holds: the mapped columns (by attribute name) and the
    many-to-many collections (a many-to-one is already there as its foreign key column)."""
    mapper = inspect(record_or_class).mapper
    columns = [attribute.key for attribute in mapper.column_attrs if attribute.key not in UNTRACKED]
    collections = [
        relationship.key
        for relationship in mapper.relationships
        if relationship.secondary is not None and relationship.uselist
    ]
    return columns + collections


def comparable(value: Any) -> JsonValue:
    """``value`` as a snapshot holds it: a collection of related records as their sorted
    keys (a collection has no order), anything else as ``json_value``."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, Base) for v in value):
        return sorted((related_key(item) for item in value), key=repr)
    return json_value(value)


def field_value(record: Base, field: str) -> JsonValue:
    return comparable(getattr(record, field))


def snapshot(record: Base, fields: list[str] | None = None) -> dict[str, JsonValue]:
    """The record's tracked fields (or ``fields``) as JSON values."""
    return {field: field_value(record, field) for field in fields or tracked_fields(record)}


def write_entry(
    session: Session,
    *,
    action: str,
    record: Base | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    user_id: int | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session's transaction (flushed, so it has an id): it
    commits with the change it records, or not at all. Give ``record`` or
    ``entity``/``entity_id`` (a refused attempt names what it tried to reach)."""
    if record is not None:
        entity, entity_id = entity_name(record), entity_key(record)
    if entity is None or entity_id is None:
        raise ValueError("an audit entry needs a record, or an entity and its id")
    entry = AuditEntry(
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        user_id=user_id,
        before=json_value(before) if before is not None else None,
        after=json_value(after) if after is not None else None,
    )
    session.add(entry)
    session.flush()
    return entry
