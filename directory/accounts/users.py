"""Accounts: invite, change, deactivate, set and check passwords. Each change is audited.

Services take the session and the acting user (None for the command line) and never
import Flask. Bad input raises ``UserError`` naming each field at fault and what is wrong
with it (a ``Problem``); the caller words it in the reader's language. Nothing is written
when it is raised.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.accounts import passwords
from directory.accounts.models import AuditEntry, User, UserRole, new_security_stamp
from directory.db import utcnow
from directory.places.models import Country, Organization


class Problem(enum.StrEnum):
    EMAIL_INVALID = "email_invalid"
    EMAIL_TAKEN = "email_taken"
    ROLE_UNKNOWN = "role_unknown"
    COUNTRY_REQUIRED = "country_required"
    COUNTRY_UNKNOWN = "country_unknown"
    ORGANIZATION_REQUIRED = "organization_required"
    ORGANIZATION_UNKNOWN = "organization_unknown"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_WRONG = "password_wrong"
    LAST_SECRETARIAT = "last_secretariat"


@dataclass
class UserError(Exception):
    """What is wrong, per field (``{"email": [Problem.EMAIL_TAKEN]}``)."""

    problems: dict[str, list[Problem]] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{name}: {', '.join(p)}" for name, p in self.problems.items())


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """The form an e-mail is stored, looked up and rate-limited under."""
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def _audit(
    session: Session,
    acting: User | None,
    action: str,
    user: User,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntry(
            user_id=acting.id if acting else None,
            action=action,
            entity="users",
            entity_id=str(user.id),
            before=before,
            after=after,
        )
    )


def _snapshot(user: User) -> dict[str, Any]:
    """What an audit entry records of an account: never a hash, a secret or a code."""
    return {
        "email": user.email,
        "name": user.name,
        "role": str(user.role),
        "country_code": user.country_code,
        "organization_id": user.organization_id,
        "active": user.active,
    }


@dataclass(frozen=True)
class Scope:
    """A role and what it is scoped to, checked together."""

    role: str
    country_code: str | None = None
    organization_id: int | None = None


def _check_scope(session: Session, scope: Scope, problems: dict[str, list[Problem]]) -> Scope:
    """The scope as stored: a country only for a focal point, an organization only for an
    organization editor (anything else given is dropped)."""
    try:
        role = UserRole(scope.role)
    except ValueError:
        problems.setdefault("role", []).append(Problem.ROLE_UNKNOWN)
        return scope
    country = (scope.country_code or "").strip().upper() or None
    organization = scope.organization_id
    if role == UserRole.FOCAL_POINT:
        if country is None:
            problems.setdefault("country", []).append(Problem.COUNTRY_REQUIRED)
        elif session.get(Country, country) is None:
            problems.setdefault("country", []).append(Problem.COUNTRY_UNKNOWN)
    else:
        country = None
    if role == UserRole.ORGANIZATION_EDITOR:
        if organization is None:
            problems.setdefault("organization", []).append(Problem.ORGANIZATION_REQUIRED)
        elif session.get(Organization, organization) is None:
            problems.setdefault("organization", []).append(Problem.ORGANIZATION_UNKNOWN)
    else:
        organization = None
    return Scope(role, country, organization)


def create_user(
    session: Session,
    *,
    email: str,
    scope: Scope,
    name: str | None = None,
    acting: User | None = None,
) -> User:
    """An account without a password (the set-password link gives it one)."""
    problems: dict[str, list[Problem]] = {}
    email = normalize_email(email)
    if not _EMAIL.match(email):
        problems.setdefault("email", []).append(Problem.EMAIL_INVALID)
    elif find_by_email(session, email) is not None:
        problems.setdefault("email", []).append(Problem.EMAIL_TAKEN)
    scope = _check_scope(session, scope, problems)
    if problems:
        raise UserError(problems)
    user = User(
        email=email,
        name=(name or "").strip() or email.split("@")[0],
        role=UserRole(scope.role),
        country_code=scope.country_code,
        organization_id=scope.organization_id,
        active=True,
        security_stamp=new_security_stamp(),
    )
    session.add(user)
    session.flush()
    _audit(session, acting, "create", user, None, _snapshot(user))
    return user


def _active_secretariat_count(session: Session) -> int:
    query = select(func.count()).where(User.role == UserRole.SECRETARIAT, User.active)
    return session.scalar(query.select_from(User)) or 0


def update_user(
    session: Session, user: User, *, scope: Scope, name: str | None, acting: User | None
) -> User:
    """Change an account's role and what it is scoped to (and its name)."""
    problems: dict[str, list[Problem]] = {}
    scope = _check_scope(session, scope, problems)
    demoted = user.role == UserRole.SECRETARIAT and scope.role != UserRole.SECRETARIAT
    if demoted and user.active and _active_secretariat_count(session) <= 1:
        problems.setdefault("role", []).append(Problem.LAST_SECRETARIAT)
    if problems:
        raise UserError(problems)
    before = _snapshot(user)
    user.role = UserRole(scope.role)
    user.country_code = scope.country_code
    user.organization_id = scope.organization_id
    if name and name.strip():
        user.name = name.strip()
    after = _snapshot(user)
    if after != before:
        _audit(session, acting, "edit", user, before, after)
    return user


def set_active(session: Session, user: User, active: bool, *, acting: User | None) -> None:
    """Deactivate (signed out at its next request, cannot sign in) or reactivate."""
    if user.active == active:
        return
    if not active and user.role == UserRole.SECRETARIAT and _active_secretariat_count(session) <= 1:
        raise UserError({"active": [Problem.LAST_SECRETARIAT]})
    before = _snapshot(user)
    user.active = active
    _audit(
        session, acting, "deactivate" if not active else "reactivate", user, before, _snapshot(user)
    )


def reissue_link(session: Session, user: User, *, acting: User | None) -> None:
    """Before a fresh set-password link: a new stamp, so earlier links stop working (the
    account's sessions end too: its access is being handed over again)."""
    user.security_stamp = new_security_stamp()
    _audit(session, acting, "new_link", user, None, None)


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; the stamp changes, which ends other sessions and outstanding links."""
    if len(password) < passwords.MIN_LENGTH:
        raise UserError({"password": [Problem.PASSWORD_TOO_SHORT]})
    user.password_hash = passwords.hash_password(password)
    user.security_stamp = new_security_stamp()
    _audit(session, user, "set_password", user, None, None)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not passwords.check(user.password_hash, current):
        raise UserError({"current": [Problem.PASSWORD_WRONG]})
    set_password(session, user, new)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The account these credentials open, or None; as slow for an unknown e-mail, an
    account without a password or a deactivated one as for a wrong password."""
    user = find_by_email(session, email)
    if user is None:
        passwords.check(None, password)
        return None
    if not passwords.check(user.password_hash, password) or not user.active:
        return None
    return user


def record_sign_in(user: User) -> None:
    user.last_sign_in_at = utcnow()
