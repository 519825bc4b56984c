"""Import batches: where records came from (issue 13, point 5).

One row per file a person (or a command) imported: what kind of file, the source it
describes ("rncom-2026", "hsds:…"), who brought it and when, what the dry run found and,
once applied, what changed. An uploaded file waits here between its dry run and the apply
step (``content``), so the workspace keeps nothing on the web server's disk; the content is
dropped once the batch is applied or discarded.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from directory.db import Base, enum_column, utcnow


class ImportKind(enum.StrEnum):
    LOCATIONS = "locations"  # our CSV of locations
    CONTACTS = "contacts"  # our CSV of contact persons
    HSDS = "hsds"  # an Open Referral HSDS 3.0 dataset (JSON or the tabular package)


class ImportStatus(enum.StrEnum):
    CHECKED = "checked"  # the dry run ran; nothing applied yet
    APPLIED = "applied"
    DISCARDED = "discarded"


class ImportBatch(Base):
    """A file imported, or waiting to be: its provenance and its counts."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_column(ImportKind, "import_kind"), nullable=False)
    status: Mapped[ImportStatus] = mapped_column(
        enum_column(ImportStatus, "import_status"), nullable=False
    )
    # What the file describes, as the records will carry it in ``source``.
    source: Mapped[str] = mapped_column(Text, nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The country a focal point's file was limited to (None: the secretariat, or a command).
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # {"added": n, "updated": n, "unchanged": n, "errors": n}
    counts: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    # The dry run's problems and notes (``ImportReport.to_json``), for its report page.
    report: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
