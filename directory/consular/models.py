"""Consular districts: the area each consular office serves, per nationality."""

from __future__ import annotations

import enum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.db import Base, Versioned, enum_column
from directory.places.models import Location


class DistrictOrigin(enum.StrEnum):
    COMPUTED = "computed"
    OFFICIAL = "official"


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
        enum_column(DistrictOrigin, "district_origin"), nullable=False
    )
    # Deferred: a computed district follows a border (tens of thousands of vertices); the
    # services draw or test it in SQL and never need it in Python.
    area: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False, deferred=True
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
