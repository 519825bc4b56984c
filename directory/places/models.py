"""The directory itself: countries, networks, service categories, organizations and the
locations where they receive people (HSDS: organization, location, service)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from geoalchemy2 import Geography, Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship
from sqlalchemy.orm.attributes import get_history

from directory.db import (
    DEFAULT_LOCALE,
    Base,
    Cost,
    Localized,
    LocalizedText,
    OperationalStatus,
    OrganizationKind,
    PositionPrecision,
    Versioned,
    enum_column,
    localized,
    localized_text,
)
from directory.places.opening_hours import OpenState, state_at
from geo.coordinates import LonLat
from geo.timezones import timezone_at


class Country(Base):
    """A country with its boundary (Natural Earth, simplified) and emergency number."""

    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    emergency_number: Mapped[str | None] = mapped_column(String(16))
    is_rcm_member: Mapped[bool] = mapped_column(nullable=False, default=False)
    # Deferred: a boundary weighs up to a megabyte and almost no page reads it.
    boundary: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False, deferred=True
    )

    __table_args__ = (CheckConstraint("code ~ '^[A-Z]{2}$'", name="code_format"),)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        """CLDR's name in ``locale`` where CLDR has one ("México", "Mexique"); else the name
        recorded for ``locale`` (CLDR has no country names in Haitian Creole); else CLDR's
        Spanish name; else any recorded name."""
        cldr = _cldr_territories(locale)
        if self.code in cldr:
            return cldr[self.code]
        if self.names and self.names.get(locale):
            return self.names[locale]
        return _cldr_territories("es").get(self.code) or localized(self.names, locale) or self.code


@cache
def _cldr_territories(locale: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(locale).territories)
    except (UnknownLocaleError, ValueError):
        return {}


def _language_column() -> Mapped[str | None]:
    """The language a text was written in (its original); None while there is no text."""
    return mapped_column(String(8))


def _original_is_present(texts: str, language: str) -> CheckConstraint:
    """The language a text was written in is one the text is recorded in."""
    return CheckConstraint(
        f"{language} IS NULL OR {texts} ? {language}", name=f"{language}_present"
    )


organization_networks = Table(
    "organization_networks",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True),
    Column("network_id", ForeignKey("networks.id"), primary_key=True),
)

# The nationalities a joint consular office serves besides its sending country's (TRICAMEX-
# style shared offices): such an office is found for each of them.
organization_nationalities = Table(
    "organization_nationalities",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True),
    Column("country_code", ForeignKey("countries.code"), primary_key=True),
)

location_categories = Table(
    "location_categories",
    Base.metadata,
    Column("location_id", ForeignKey("locations.id"), primary_key=True),
    Column("category_id", ForeignKey("service_categories.id"), primary_key=True),
)


class Network(Base):
    """A network of organizations or officials: RNCOM, CAMMINA, the Liaison Officer Network…"""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    descriptions: Mapped[Localized] = mapped_column(JSONB, nullable=False, default=dict)
    description_language: Mapped[str | None] = _language_column()
    website: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (_original_is_present("descriptions", "description_language"),)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)

    def description_in(self, language: str) -> LocalizedText:
        """The description in ``language``, else in the language it was written in."""
        return localized_text(self.descriptions, language, self.description_language)


class ServiceCategory(Base):
    """A kind of help (shelter, food, legal aid, consular assistance…), with an icon."""

    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    icon: Mapped[str] = mapped_column(String(32), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)


class Organization(Versioned, Base):
    """An organization: a consulate, a shelter, a civil-society group, IOM…

    For consulates and embassies (an embassy's consular section counts as a consulate)
    ``sending_country_code`` is the country that runs the office and the nationality it
    serves. A joint or shared office serves more nationalities: they are listed in
    ``also_serves``, and the office is found for each of them.
    """

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[OrganizationKind] = mapped_column(
        enum_column(OrganizationKind, "organization_kind"), nullable=False
    )
    sending_country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    descriptions: Mapped[Localized] = mapped_column(JSONB, nullable=False, default=dict)
    description_language: Mapped[str | None] = _language_column()
    website: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    # Provenance (issue 13): the feed it came from, its id there, the import that brought it.
    source: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(160), unique=True)
    # use_alter: import_batches names users, and users name organizations (a cycle).
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", use_alter=True))

    networks: Mapped[list[Network]] = relationship(secondary=organization_networks)
    locations: Mapped[list[Location]] = relationship(back_populates="organization")
    sending_country: Mapped[Country | None] = relationship()
    also_serves: Mapped[list[Country]] = relationship(secondary=organization_nationalities)

    __table_args__ = (
        CheckConstraint(
            "kind NOT IN ('consulate', 'embassy') OR sending_country_code IS NOT NULL",
            name="consular_has_sending_country",
        ),
        _original_is_present("descriptions", "description_language"),
    )

    def description(self, locale: str = DEFAULT_LOCALE) -> str:
        return self.description_in(locale).text

    def description_in(self, language: str) -> LocalizedText:
        """The description in ``language``, else in the language it was written in."""
        return localized_text(self.descriptions, language, self.description_language)

    @property
    def nationalities(self) -> list[str]:
        """The nationalities a consular office serves (its own first); [] for the others."""
        if self.sending_country_code is None:
            return []
        extra = sorted(c.code for c in self.also_serves if c.code != self.sending_country_code)
        return [self.sending_country_code, *extra]


class Location(Versioned, Base):
    """A physical site where an organization receives people (HSDS: location + service).

    ``timezone`` is derived from ``point`` whenever the point is saved (see the listener
    below), so opening hours are always read in the place's own local time.
    ``opening_hours`` is a weekly schedule ``{"mo": [["08:00", "16:00"]], …}``; ``None``
    means unknown and ``{"always": true}`` means 24/7 (see ``directory.places.opening_hours``).
    ``verified_at`` is ``None`` for a record nobody has confirmed.

    How sure we are: ``position_precision`` says whether the point is the door, the street
    or only the town (every demo record is ``city``); ``hours_confirmed`` is true only when
    the organization itself gave or confirmed ``opening_hours`` (hours from other sources
    are typical hours and never make a place "open now"); ``intake_hours`` are the hours a
    shelter takes people in, when known.
    """

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str] = mapped_column(Text, nullable=False)
    admin_area: Mapped[str | None] = mapped_column(Text)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), nullable=False)
    point: Mapped[WKBElement] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=True), nullable=False
    )
    position_precision: Mapped[PositionPrecision] = mapped_column(
        enum_column(PositionPrecision, "position_precision"),
        nullable=False,
        default=PositionPrecision.CITY,
        server_default=PositionPrecision.CITY.value,
    )
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    phones: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    whatsapp: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    hours_confirmed: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default="false"
    )
    intake_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    populations: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)), nullable=False, default=list)
    cost: Mapped[Cost | None] = mapped_column(enum_column(Cost, "cost"))
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[OperationalStatus] = mapped_column(
        enum_column(OperationalStatus, "operational_status"),
        nullable=False,
        default=OperationalStatus.OPEN,
    )
    status_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    # The import that brought or last changed it (provenance; None: seeded or edited by hand).
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    # What a person should know about this site ("Take the path behind the church"), per
    # language, and the language it was written in.
    notes: Mapped[Localized] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    notes_language: Mapped[str | None] = _language_column()
    # A consular office's 24/7 protection and consular-notification line (Vienna Convention,
    # art. 36: authorities must be able to notify the consulate of a detained national).
    # None where nobody has given it: the pages then say it is not known.
    protection_phone: Mapped[str | None] = mapped_column(Text)
    # Who the site admits ("families only", "no unaccompanied minors") and what a person
    # should bring, per language, each with the language it was written in.
    admission_rules: Mapped[Localized] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    admission_rules_language: Mapped[str | None] = _language_column()
    what_to_bring: Mapped[Localized] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    what_to_bring_language: Mapped[str | None] = _language_column()

    organization: Mapped[Organization] = relationship(back_populates="locations")
    country: Mapped[Country] = relationship()
    categories: Mapped[list[ServiceCategory]] = relationship(secondary=location_categories)

    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        _original_is_present("notes", "notes_language"),
        _original_is_present("admission_rules", "admission_rules_language"),
        _original_is_present("what_to_bring", "what_to_bring_language"),
        # An organization's places (its consular offices, its page): without it each such
        # lookup read all the places (a million of them, issue 14).
        Index("ix_locations_organization_id", "organization_id"),
    )

    @property
    def position(self) -> LonLat:
        return LonLat.from_element(self.point)

    @position.setter
    def position(self, value: LonLat) -> None:
        self.point = value.to_wkt_element()

    @property
    def display_name(self) -> str:
        return self.name or self.organization.name

    def notes_in(self, language: str) -> LocalizedText:
        """The notes in ``language``, else in the language they were written in."""
        return localized_text(self.notes, language, self.notes_language)

    def admission_rules_in(self, language: str) -> LocalizedText:
        """Who is admitted, in ``language``, else in the language it was written in."""
        return localized_text(self.admission_rules, language, self.admission_rules_language)

    def what_to_bring_in(self, language: str) -> LocalizedText:
        """What to bring, in ``language``, else in the language it was written in."""
        return localized_text(self.what_to_bring, language, self.what_to_bring_language)

    def open_state(self, at: dt.datetime) -> OpenState:
        """Open, closed, full or unknown at the aware instant ``at``, in the place's own time;
        ``confirmed`` says whether the organization confirmed the hours behind it."""
        return state_at(
            self.opening_hours,
            self.status,
            self.status_until,
            self.timezone,
            at,
            confirmed=self.hours_confirmed,
        )


def _derive_timezone(_mapper: Mapper[Any], _connection: Any, location: Location) -> None:
    """Set the IANA time zone from the point whenever the point is new or has changed."""
    if location.point is None:
        return
    changed = get_history(location, "point").has_changes()
    if changed or not location.timezone:
        position = LonLat.from_element(location.point)
        location.timezone = timezone_at(position.lon, position.lat)


event.listen(Location, "before_insert", _derive_timezone)
event.listen(Location, "before_update", _derive_timezone)
