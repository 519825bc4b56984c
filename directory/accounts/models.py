"""People: who signs in (users), whom the networks name (contact persons), who changed what
(audit entries). Contact persons' personal data is shown to signed-in roles only."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.db import Base, Versioned, enum_column, utcnow
from directory.places.models import Country, Network, Organization


class ContactRole(enum.StrEnum):
    PRIMARY = "primary"
    ALTERNATE = "alternate"


class UserRole(enum.StrEnum):
    """What a person may do in the workspace (``directory.workspace.permissions`` decides)."""

    SECRETARIAT = "secretariat"
    FOCAL_POINT = "focal_point"  # scoped to a country
    ORGANIZATION_EDITOR = "organization_editor"  # scoped to an organization
    CONSULAR = "consular"


# Roles that must sign in with a second factor (TOTP) before they can do anything.
ROLES_REQUIRING_TWO_FACTOR = frozenset({UserRole.SECRETARIAT})


def new_security_stamp() -> str:
    """A fresh random stamp: changing it invalidates set-password links and sessions."""
    return secrets.token_urlsafe(24)


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
    role: Mapped[ContactRole] = mapped_column(
        enum_column(ContactRole, "contact_role"), nullable=False
    )
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    last_confirmed_at: Mapped[dt.date | None] = mapped_column(Date)
    last_confirmed_by: Mapped[str | None] = mapped_column(Text)
    # Provenance (issue 13): the feed it came from and the import that brought it.
    source: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    country: Mapped[Country] = relationship()
    network: Mapped[Network] = relationship()
    organization: Mapped[Organization | None] = relationship()

    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
    )


class User(Base):
    """Somebody who signs in: the secretariat, a country's focal point, an organization's
    editor, consular staff.

    ``password_hash`` is empty for an invited user until the set-password link is used.
    ``security_stamp`` travels in set-password links and in the session: changing it (a new
    password, a used link) makes every outstanding link and every other session invalid.
    The attributes Flask-Login reads (``is_active``, ``get_id``…) are plain Python here, so
    the model imports no Flask.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole, "user_role"), nullable=False)
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    security_stamp: Mapped[str] = mapped_column(
        String(64), nullable=False, default=new_security_stamp
    )
    # The second factor: a base32 TOTP secret (set while being confirmed, enabled once a
    # code from the person's app matched), the last time step accepted (a code is never
    # accepted twice), and the recovery codes, each a SHA-256 hex digest, removed when used.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default=text("false")
    )
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), nullable=False, default=list, server_default=text("'{}'")
    )
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )

    country: Mapped[Country | None] = relationship()
    organization: Mapped[Organization | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "role <> 'focal_point' OR country_code IS NOT NULL", name="focal_point_has_country"
        ),
        CheckConstraint(
            "role <> 'organization_editor' OR organization_id IS NOT NULL",
            name="organization_editor_has_organization",
        ),
    )

    # Flask-Login's user protocol.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """A deactivated account cannot sign in, and its sessions end at the next request."""
        return self.active

    def get_id(self) -> str:
        """What the session keeps: the id and the stamp, so a new stamp signs it out."""
        return f"{self.id}:{self.security_stamp}"

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def needs_two_factor(self) -> bool:
        """The role requires a second factor (it may not be set up yet)."""
        return self.role in ROLES_REQUIRING_TWO_FACTOR


class AuditEntry(Base):
    """Who changed what, when, with the record before and after (never edited)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, server_default=func.now()
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(160), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    user: Mapped[User | None] = relationship()
