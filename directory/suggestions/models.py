"""Change suggestions: "this place is closed", "the phone is wrong", or a corrected record
sent back through a confirmation link (issue 13, points 1 and 2).

A suggestion names one record (a location or a contact person) and waits, per country, in
the workspace's moderation queue until a focal point or the secretariat accepts it (the
change then goes through the normal audited edit), edits it first, or rejects it. Nothing
about the sender is kept: no address, no position, no account; only the language of the
page they wrote from, so a reply or a question can be understood.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.db import Base, enum_column, utcnow
from directory.places.models import Location

# The longest free text a suggestion may carry (characters).
TEXT_MAX_LENGTH = 2000


class SuggestionKind(enum.StrEnum):
    CLOSED = "closed"
    MOVED = "moved"
    PHONE = "phone"
    HOURS = "hours"
    OTHER = "other"
    CORRECTION = "correction"  # a record corrected through a confirmation link


class SuggestionVia(enum.StrEnum):
    PUBLIC = "public"  # the place page's "suggest a correction"
    CONFIRMATION = "confirmation"  # a confirmation link's "correct it"


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ChangeSuggestion(Base):
    """A correction waiting for moderation, or decided (kept: the queue's history)."""

    __tablename__ = "change_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    contact_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_persons.id"), index=True
    )
    # The record's country: whose focal point moderates it.
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), nullable=False)
    kind: Mapped[SuggestionKind] = mapped_column(
        enum_column(SuggestionKind, "suggestion_kind"), nullable=False
    )
    via: Mapped[SuggestionVia] = mapped_column(
        enum_column(SuggestionVia, "suggestion_via"), nullable=False
    )
    text: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # Field values the sender proposes ({"phones": ["+52 …"]}), as the edit forms name them.
    proposed: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=sql_text("'{}'::jsonb")
    )
    # The language of the page the sender wrote from.
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    confirmation_id: Mapped[int | None] = mapped_column(ForeignKey("confirmation_requests.id"))
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_column(SuggestionStatus, "suggestion_status"),
        nullable=False,
        default=SuggestionStatus.PENDING,
        server_default=SuggestionStatus.PENDING.value,
        index=True,
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)

    location: Mapped[Location | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(location_id, contact_person_id) = 1", name="names_one_record"
        ),
        CheckConstraint(f"char_length(text) <= {TEXT_MAX_LENGTH}", name="text_length"),
    )
