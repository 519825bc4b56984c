"""A record's history from its audit entries, as differences a person can read.

Each entry becomes a ``Change`` (who, when, what) with one ``FieldDifference`` per field:
a list as the items added and removed, a long text as a short word diff, a point as its
coordinates before and after and how far it moved (metres on the spheroid, by PostGIS), a
per-language text or a weekly schedule key by key ("notes.es", "opening_hours.mo"). The
view shows names for user ids and translates field names; nothing here is worded.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry
from directory.db import Base
from directory.records.audit import JsonValue, entity_name
from geo.coordinates import LonLat, point_geography

# A text longer than this (or on several lines) is shown as a diff, not whole twice.
LONG_TEXT = 80
# Unchanged words kept either side of a change in a text diff.
CONTEXT_WORDS = 4
# Fields never shown as differences: the key, and the version (it is ``Change.version``).
HIDDEN = frozenset({"id", "version"})


@dataclass(frozen=True, slots=True)
class TextPiece:
    """A piece of a text diff: ``op`` is "=" (kept, shortened to its context), "-" or "+"."""

    op: str
    text: str


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field's change. ``kind`` says how to show it:

    * ``value``: ``before`` → ``after``;
    * ``list``: ``added`` and ``removed`` items;
    * ``text``: ``pieces``, a short word diff (``before``/``after`` hold the whole texts);
    * ``point``: ``before``/``after`` as ``[lon, lat]`` and ``distance_m`` moved.
    """

    field: str
    kind: str
    before: JsonValue
    after: JsonValue
    added: list[JsonValue] = field(default_factory=list)
    removed: list[JsonValue] = field(default_factory=list)
    pieces: list[TextPiece] = field(default_factory=list)
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One audit entry: ``user_id`` (None for the system), ``at``, ``action`` ("create",
    "update", "archive", "restore", …), the ``version`` it left the record at, and the
    differences."""

    id: int
    at: dt.datetime
    user_id: int | None
    action: str
    version: int | None
    differences: list[FieldDifference]


def history(session: Session, entity: str | type[Base], entity_id: Any) -> list[Change]:
    """Every audited change of one record, oldest first."""
    name = entity if isinstance(entity, str) else entity_name(entity)
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == name, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    points = _geometry_fields(name)
    return [_change(session, entry, points) for entry in entries]


def _change(session: Session, entry: AuditEntry, points: set[str]) -> Change:
    before = entry.before or {}
    after = entry.after or {}
    version = after.get("version", before.get("version"))
    differences: list[FieldDifference] = []
    for name in [*after, *(key for key in before if key not in after)]:
        if name in HIDDEN:
            continue
        old, new = before.get(name), after.get(name)
        if entry.before is None and _empty(new):
            continue  # a new record: only the fields it was given
        if old != new:
            differences.extend(_differences(session, name, old, new, point=name in points))
    return Change(entry.id, entry.at, entry.user_id, entry.action, version, differences)


def _differences(
    session: Session, name: str, old: JsonValue, new: JsonValue, *, point: bool = False
) -> list[FieldDifference]:
    if point:
        return [_moved(session, name, old, new)]
    if isinstance(old, dict) or isinstance(new, dict):
        old_map = old if isinstance(old, dict) else {}
        new_map = new if isinstance(new, dict) else {}
        differences = []
        for key in sorted(set(old_map) | set(new_map)):
            old_value, new_value = old_map.get(key), new_map.get(key)
            if old_value != new_value:
                differences += _differences(session, f"{name}.{key}", old_value, new_value)
        return differences
    if isinstance(old, list) or isinstance(new, list):
        old_items = old if isinstance(old, list) else []
        new_items = new if isinstance(new, list) else []
        return [
            FieldDifference(
                name,
                "list",
                old,
                new,
                added=[item for item in new_items if item not in old_items],
                removed=[item for item in old_items if item not in new_items],
            )
        ]
    if isinstance(old, str) and isinstance(new, str) and _long(old, new):
        return [FieldDifference(name, "text", old, new, pieces=text_diff(old, new))]
    return [FieldDifference(name, "value", old, new)]


def _moved(session: Session, name: str, old: JsonValue, new: JsonValue) -> FieldDifference:
    distance = None
    if _is_position(old) and _is_position(new):
        distance = session.scalar(
            select(
                func.ST_Distance(
                    point_geography(LonLat(*old)),  # type: ignore[misc]
                    point_geography(LonLat(*new)),  # type: ignore[misc]
                )
            )
        )
    return FieldDifference(name, "point", old, new, distance_m=distance)


def text_diff(old: str, new: str) -> list[TextPiece]:
    """A word diff of two texts (words compared and shown with single spaces between), the
    unchanged stretches cut to a few words of context."""
    old_words = old.split()
    new_words = new.split()
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    pieces: list[TextPiece] = []
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            pieces.append(
                TextPiece("=", _context(old_words[i1:i2], index == 0, index == len(opcodes) - 1))
            )
            continue
        if i2 > i1:
            pieces.append(TextPiece("-", " ".join(old_words[i1:i2])))
        if j2 > j1:
            pieces.append(TextPiece("+", " ".join(new_words[j1:j2])))
    return pieces


def _context(words: list[str], first: bool, last: bool) -> str:
    """Unchanged words around a change: the last few before it, the first few after it."""
    keep = CONTEXT_WORDS
    if (first and last) or len(words) <= keep * (1 if first or last else 2):
        return " ".join(words)
    if first:
        return "… " + " ".join(words[-keep:])
    if last:
        return " ".join(words[:keep]) + " …"
    return " ".join(words[:keep]) + " … " + " ".join(words[-keep:])


def _long(*texts: str) -> bool:
    return any(len(text) > LONG_TEXT or "\n" in text for text in texts)


def _empty(value: JsonValue) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _is_position(value: JsonValue) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(number, int | float) for number in value)
    )


def _geometry_fields(table: str) -> set[str]:
    """The attributes of the mapped class for ``table`` that hold a point or a geometry."""
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table:
            return {
                attribute.key
                for attribute in mapper.column_attrs
                if isinstance(attribute.columns[0].type, Geography | Geometry)
            }
    return set()
