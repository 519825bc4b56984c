"""Stable HSDS 3.0 identifiers for our records.

HSDS wants UUIDs for every object, while our records have integer keys (and sub-records such
as phones or schedules have none at all). The ids are stable across exports (a client that
stored a service id finds it again next month) and need no mapping table:

* a record with an integer key (an organization, a location, its service and its
  service_at_location) gets a UUID that *carries* the key: RFC 9562's version 8 ("custom"),
  with our fixed 48-bit tag, a kind number and the key (``record_id``); ``record_key``
  reads it back, so the HSDS API finds ``/services/{id}`` by primary key, with no index to
  build and nothing kept in memory;
* everything else (taxonomies and terms, named by code; sub-records, numbered within their
  parent as "<kind>:<parent kind>:<parent id>:<n>") gets uuid5 of a fixed namespace.
"""

from __future__ import annotations

import uuid
from typing import Final, Literal, get_args

#: The namespace every Protection Directory HSDS id is derived from. Never change it: every
#: id a partner has stored would change with it.
NAMESPACE: Final = uuid.UUID("6f1d7c1e-3b7a-5c55-9b7e-2d5c0f4a9e13")

Kind = Literal[
    "organization",
    "location",
    "service",
    "service_at_location",
    "phone",
    "schedule",
    "language",
    "service_area",
    "address",
    "taxonomy_term",
    "taxonomy",
    "attribute",
    "cost_option",
]

KINDS: Final[frozenset[str]] = frozenset(get_args(Kind))

#: Our three taxonomies (keys used in "taxonomy:<key>").
TAXONOMY_CATEGORIES: Final = "categories"
TAXONOMY_ORGANIZATION_KINDS: Final = "organization_kinds"
TAXONOMY_POSITION_PRECISION: Final = "position_precision"


# Version 8 UUIDs: bytes 0-5 the tag, byte 6 the version (8) and the kind number, byte 7
# zero, byte 8 the RFC variant (0b10) and bits 0-5 zero, bytes 9-15 the key (56 bits).
_TAG: Final = NAMESPACE.bytes[:6]
_RECORD_KINDS: Final[dict[str, int]] = {
    "organization": 1,
    "location": 2,
    "service": 3,
    "service_at_location": 4,
}
_KEY_LIMIT: Final = 1 << 56


def record_id(kind: str, key: int) -> str:
    """The HSDS id of our record ``key`` of ``kind`` (organization, location, service,
    service_at_location), a version 8 UUID that ``record_key`` reads back."""
    number = _RECORD_KINDS[kind]
    if not 0 <= key < _KEY_LIMIT:
        raise ValueError(f"key out of range: {key}")
    raw = _TAG + bytes([0x80 | number, 0, 0x80]) + key.to_bytes(7, "big")
    return str(uuid.UUID(bytes=raw))


def record_key(kind: str, hsds_id: str) -> int | None:
    """Our key of ``hsds_id`` if it is the id of a record of ``kind`` (``record_id``);
    None for any other string (another kind, someone else's UUID, not a UUID)."""
    try:
        raw = uuid.UUID(str(hsds_id)).bytes
    except ValueError:
        return None
    if raw[:6] != _TAG or raw[6] != 0x80 | _RECORD_KINDS[kind] or raw[7] != 0 or raw[8] != 0x80:
        return None
    return int.from_bytes(raw[9:], "big")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown HSDS kind {kind!r}")


def hsds_id(kind: Kind | str, our_id: int | str) -> str:
    """The HSDS id (a UUID string) of our record `our_id` of `kind`: reversible for the
    records with integer keys (``record_id``), uuid5 for the others."""
    _check_kind(kind)
    if kind in _RECORD_KINDS and isinstance(our_id, int):
        return record_id(kind, our_id)
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{our_id}"))


def sub_id(kind: Kind | str, parent_kind: Kind | str, parent_id: int | str, n: int) -> str:
    """The HSDS id of the `n`-th (0-based) `kind` sub-record of a parent record.

    Sub-records (phones, schedules, languages, addresses, service areas, attributes) have no
    key of their own in our database, so their position within the parent names them.
    """
    _check_kind(kind)
    _check_kind(parent_kind)
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{parent_kind}:{parent_id}:{n}"))


def organization_id(our_id: int) -> str:
    """HSDS id of an Organization."""
    return hsds_id("organization", our_id)


def location_id(our_id: int) -> str:
    """HSDS id of a Location."""
    return hsds_id("location", our_id)


def service_id(location_our_id: int) -> str:
    """HSDS id of the service of a Location (one service per location)."""
    return hsds_id("service", location_our_id)


def service_at_location_id(location_our_id: int) -> str:
    """HSDS id of the service_at_location linking a Location's service and the location."""
    return hsds_id("service_at_location", location_our_id)


def taxonomy_id(key: str) -> str:
    """HSDS id of one of our taxonomies ("categories", "organization_kinds", …)."""
    return hsds_id("taxonomy", key)


def taxonomy_term_id(taxonomy_key: str, code: str) -> str:
    """HSDS id of a term (our code) of one of our taxonomies.

    Category terms use "taxonomy_term:<code>"; the other two
    taxonomies prefix the code with the taxonomy key so a code shared by two taxonomies
    (e.g. "city") cannot collide.
    """
    if taxonomy_key == TAXONOMY_CATEGORIES:
        return hsds_id("taxonomy_term", code)
    return hsds_id("taxonomy_term", f"{taxonomy_key}:{code}")
