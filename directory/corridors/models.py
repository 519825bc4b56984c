"""Migration routes: named corridors drawn through the towns people pass, and the barriers
along them that no road crosses (the Darién Gap)."""

from __future__ import annotations

from geoalchemy2 import Geometry, WKBElement, WKTElement
from sqlalchemy import String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from directory.db import DEFAULT_LOCALE, Base, Localized, Versioned, localized


class Route(Versioned, Base):
    """A named migration corridor, drawn through the towns people pass."""

    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    # Deferred: the services draw and search along it in SQL, never in Python.
    path: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False, deferred=True
    )
    country_codes: Mapped[list[str]] = mapped_column(ARRAY(String(2)), nullable=False)

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)


class Barrier(Versioned, Base):
    """Land that no road crosses, such as the Darién Gap between Colombia and Panama.

    A place on the far side of a barrier may be near in a straight line and days away on
    foot: searches flag it and rank it after the help on the searcher's side, and route
    pages warn where the route enters it. ``notes`` is the warning, per language.
    """

    __tablename__ = "barriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    names: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    notes: Mapped[Localized] = mapped_column(JSONB, nullable=False)
    area: Mapped[WKBElement | WKTElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False, deferred=True
    )

    def name(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.names, locale)

    def note(self, locale: str = DEFAULT_LOCALE) -> str:
        return localized(self.notes, locale)
