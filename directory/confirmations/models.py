"""Confirmation requests: one row per e-mail sent, so a link is used once.

The link carries a signature over the request's id and ``nonce`` (itsdangerous, with its
time stamp): an altered link fails the signature, an old one its age (14 days), and a used
one finds ``used_at`` set. The row keeps where the request went and in which language, so
the secretariat can see what is waiting for an answer.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from directory.db import Base, enum_column, utcnow


class ConfirmationOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # "it is right as it is"
    CORRECTED = "corrected"  # a correction went to the moderation queue


class ConfirmationRequest(Base):
    """A request sent to a location's organization or to a contact person."""

    __tablename__ = "confirmation_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    contact_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_persons.id"), index=True
    )
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), nullable=False)
    email: Mapped[str] = mapped_column(Text, nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    # Random, in the signed link: a request re-sent gets a new row and a new nonce.
    nonce: Mapped[str] = mapped_column(String(43), unique=True, nullable=False)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[ConfirmationOutcome | None] = mapped_column(
        enum_column(ConfirmationOutcome, "confirmation_outcome")
    )

    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(location_id, contact_person_id) = 1", name="names_one_record"
        ),
    )
