"""The public directory as one HSDS 3.0 JSON document, streamed.

HSDS 3.0 has no single-file dataset object, so the document is an object of arrays, one per
kind of record, each item a valid HSDS object of its kind (docs/hsds.md)::

    {"hsds_version": "3.0",
     "taxonomies": [...], "taxonomy_terms": [...], "organizations": [...],
     "locations": [...], "services": [...], "service_at_locations": [...]}

Referenced records come before the records that reference them, so a reader can import the
arrays in order. Only the public directory is exported: non-archived organizations with at
least one non-archived location, and those locations. Contact persons never.

The document is produced as text chunks by a generator: rows are read in keyset batches of
``BATCH_SIZE`` and each batch is written out and dropped before the next is read, so a
directory of a million locations never holds a million objects (tests/test_hsds_export.py
measures it). The caller owns the session; nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Final

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from directory.hsds import mapping
from directory.places.models import Location, Organization, ServiceCategory

BATCH_SIZE: Final = 1_000
COLLECTIONS: Final = (
    "taxonomies",
    "taxonomy_terms",
    "organizations",
    "locations",
    "services",
    "service_at_locations",
)

Progress = Callable[[int], None]


def _no_progress(_rows: int) -> None:
    return None


# --- What is public -----------------------------------------------------------------------


def public_locations() -> Select[tuple[Location]]:
    """Non-archived locations of non-archived organizations, with what the mapping reads."""
    return (
        select(Location)
        .join(Location.organization)
        .where(Location.archived_at.is_(None), Organization.archived_at.is_(None))
        .options(
            joinedload(Location.organization),
            joinedload(Location.country),
            selectinload(Location.categories),
        )
    )


def has_public_location() -> Any:
    """SQL: the organization has at least one non-archived location."""
    return exists().where(
        Location.organization_id == Organization.id, Location.archived_at.is_(None)
    )


def public_organizations() -> Select[tuple[Organization]]:
    return select(Organization).where(Organization.archived_at.is_(None), has_public_location())


def categories(session: Session) -> list[ServiceCategory]:
    return list(
        session.scalars(
            select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.code)
        )
    )


def count_public(session: Session) -> tuple[int, int]:
    """(organizations, locations) of the public directory."""
    organizations = session.scalar(
        select(func.count()).select_from(public_organizations().subquery())
    )
    locations = session.scalar(
        select(func.count())
        .select_from(Location)
        .join(Location.organization)
        .where(Location.archived_at.is_(None), Organization.archived_at.is_(None))
    )
    return int(organizations or 0), int(locations or 0)


def _batches(
    session: Session, query: Select[Any], key: Any, batch_size: int
) -> Iterator[list[Any]]:
    """The rows of ``query`` in batches, by keyset on ``key`` (an integer primary key)."""
    after = 0
    while True:
        rows = list(
            session.scalars(query.where(key > after).order_by(key).limit(batch_size)).unique()
        )
        if not rows:
            return
        yield rows
        after = rows[-1].id
        if len(rows) < batch_size:
            return


def location_batches(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[list[Location]]:
    return _batches(session, public_locations(), Location.id, batch_size)


def organization_batches(
    session: Session, batch_size: int = BATCH_SIZE
) -> Iterator[list[Organization]]:
    return _batches(session, public_organizations(), Organization.id, batch_size)


# --- The document ---------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _array(name: str, chunks: Iterator[list[str]], first: bool) -> Iterator[str]:
    """``"name":[item,item,…]`` from batches of serialized items."""
    yield ("" if first else ",") + _dumps(name) + ":["
    started = False
    for items in chunks:
        if not items:
            continue
        yield ("," if started else "") + ",".join(items)
        started = True
    yield "]"


def export_json(
    session: Session, *, batch_size: int = BATCH_SIZE, progress: Progress = _no_progress
) -> Iterator[str]:
    """The public directory as HSDS 3.0 JSON text, in chunks (one or more per batch).

    ``progress`` is told how many records each batch wrote (organizations once, locations
    three times: as locations, services and service_at_locations): see ``total_records``.
    """

    def mapped(batches: Iterator[list[Any]], to_json: Callable[[Any], Any]) -> Iterator[list[str]]:
        for rows in batches:
            items = [_dumps(to_json(row)) for row in rows]
            progress(len(rows))
            yield items

    yield "{" + _dumps("hsds_version") + ":" + _dumps(mapping.HSDS_VERSION)
    yield from _array("taxonomies", iter([[_dumps(t) for t in mapping.taxonomies()]]), False)
    terms = mapping.taxonomy_terms(categories(session))
    yield from _array("taxonomy_terms", iter([[_dumps(t) for t in terms]]), False)
    yield from _array(
        "organizations",
        mapped(organization_batches(session, batch_size), mapping.organization_object),
        False,
    )
    yield from _array(
        "locations", mapped(location_batches(session, batch_size), mapping.location_object), False
    )
    yield from _array(
        "services", mapped(location_batches(session, batch_size), mapping.service_object), False
    )
    yield from _array(
        "service_at_locations",
        mapped(location_batches(session, batch_size), mapping.service_at_location_object),
        False,
    )
    yield "}"


def total_records(session: Session) -> int:
    """How many records ``export_json`` reports to ``progress`` in all."""
    organizations, locations = count_public(session)
    return organizations + 3 * locations
