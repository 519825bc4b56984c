"""What every domain package shares: the declarative base, ``db``, ``Versioned`` and the
enums more than one domain reads.

Conventions that hold for every table:

* Geometries are stored in SRID 4326. A location is a ``geography(Point)`` so distances come
  out in metres on the spheroid; areas and lines are ``geometry`` (PostGIS has more functions
  for them) and are cast to geography where distance matters.
* Text shown to people in several languages is a JSONB object keyed by locale
  (``{"es": "...", "en": "..."}``); ``localized()`` picks one with a fallback. Free text a
  person wrote (a description, a note) also records the language it was written in
  (``description_language``…), and ``localized_text()`` says when the text shown is not in
  the reader's language, so a page can mark it ("written in Spanish").
* Every record a person edits carries ``version`` (optimistic locking: SQLAlchemy adds
  ``WHERE version = :old`` to each UPDATE, so a stale edit fails instead of overwriting) and
  ``archived_at`` (records are archived, never deleted, so history and audits stay whole).
* Closed vocabularies are Python enums stored as strings with a CHECK constraint
  (``enum_column``).
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Enum, Integer, MetaData, event, func, tuple_
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_LOCALE = "en"
LOCALES = ("es", "en", "fr", "ht")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# A connection idle longer than this is pinged before it is handed out (see IdlePingPool).
PING_AFTER_IDLE_S = 1.0


class IdlePingPool(QueuePool):
    """A pool that pings a connection before handing it out only when it has been idle for
    ``PING_AFTER_IDLE_S``, not at every checkout as ``pool_pre_ping`` does.

    The ping (a ``SELECT 1`` round trip) was one of a search's seven round trips; under
    load a worker's connection is back in use within milliseconds and is never pinged,
    while after a quiet spell (when a restart most likely happened unseen) it is. A
    restart under load costs the request that next finds its connection dropped: it
    answers 503 (``directory.web.errors``) and SQLAlchemy then replaces every connection
    of the pool that predates the failure, so the requests after it connect afresh.
    """


@event.listens_for(IdlePingPool, "checkin")
def _idle_from_now(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    if record is not None:
        record.info["idle_since"] = time.monotonic()


@event.listens_for(IdlePingPool, "checkout")
def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return  # new, or back in use at once
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as error:  # any failure: the pool connects afresh (up to 3 tries)
        raise DisconnectionError("connection dropped while idle") from error


Localized = dict[str, str]


def localized(texts: Localized | None, locale: str) -> str:
    """The text in ``locale``, else English, else Spanish, else any, else ''."""
    if not texts:
        return ""
    for candidate in (locale, DEFAULT_LOCALE, "es"):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


@dataclass(frozen=True)
class LocalizedText:
    """A text in one language: ``language`` is the language it is in, and ``is_fallback``
    says it is not in the language the reader asked for. Falsy when there is no text."""

    text: str
    language: str
    is_fallback: bool = False

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def localized_text(texts: Localized | None, locale: str, original: str | None) -> LocalizedText:
    """The text in ``locale``; else in ``original`` (the language it was written in); else
    in Spanish, English or any other language. Empty when there is no text at all."""
    texts = texts or {}
    if texts.get(locale):
        return LocalizedText(texts[locale], locale)
    for candidate in (original, "es", DEFAULT_LOCALE, *sorted(texts)):
        if candidate and texts.get(candidate):
            return LocalizedText(texts[candidate], candidate, is_fallback=True)
    return LocalizedText("", locale)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """A string column limited to the enum's values by a named CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class OrganizationKind(enum.StrEnum):
    CONSULATE = "consulate"
    EMBASSY = "embassy"
    SHELTER = "shelter"
    CIVIL_SOCIETY = "civil_society"
    INTERNATIONAL_ORG = "international_org"
    GOVERNMENT = "government"


# An embassy's consular section counts as a consulate.
CONSULAR_KINDS = (OrganizationKind.CONSULATE, OrganizationKind.EMBASSY)


class OperationalStatus(enum.StrEnum):
    OPEN = "open"
    FULL = "full"
    TEMPORARILY_CLOSED = "temporarily_closed"


class PositionPrecision(enum.StrEnum):
    """How exactly a location's point is known: the door (``exact``), the street or block
    (``street``), or only the town (``city``, a point in its centre). A page never claims
    more than this: distances are rounded to it and directions to a ``city`` point search
    the place's name instead of leading to the town square."""

    EXACT = "exact"
    STREET = "street"
    CITY = "city"


class Cost(enum.StrEnum):
    FREE = "free"
    LOW_COST = "low_cost"
    FEE = "fee"


class Population(enum.StrEnum):
    """Groups a place says it serves in particular (no value means everyone)."""

    WOMEN = "women"
    CHILDREN = "children"
    UNACCOMPANIED_MINORS = "unaccompanied_minors"
    FAMILIES = "families"
    LGBTIQ = "lgbtiq"
    PEOPLE_WITH_DISABILITIES = "people_with_disabilities"
    INDIGENOUS_PEOPLES = "indigenous_peoples"


class Versioned:
    """Optimistic locking and archiving for records that people edit.

    ``version_id_col`` only stops a stale write inside one session; an edit submitted in
    a later request goes through ``directory.records.apply_edit``, which checks the
    version the editor started from against the locked row (and writes the audit entry).
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True),
        nullable=False,
        default=utcnow,
        onupdate=utcnow,
        server_default=func.now(),
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def keyset_after(value: Any, row_id: Any, after: tuple[float, int]) -> Any:
    """SQL: the row comes after ``after`` in ``ORDER BY value, row_id`` (keyset paging).

    A row comparison, ``(value, row_id) > (:value, :id)``: the one keyset predicate.
    """
    return tuple_(value, row_id) > tuple_(*after)
