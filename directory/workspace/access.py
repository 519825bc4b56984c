"""Enforcing permissions in views: ``require(action, target)`` lets the request go on, or
ends it with 403 and an audit entry (issue 12, point 4).

``permissions.can`` decides; this module only acts on its answer. A refusal is recorded
even though the request fails: whatever the request had done is rolled back, then the
entry is committed on its own.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_login import current_user

from directory.accounts.models import AuditEntry, User
from directory.db import db
from directory.workspace.permissions import Action, can


def _entity_of(target: Any) -> tuple[str, str]:
    """How an audit entry names the target: a record's table and id, a country, or the
    workspace page that was refused."""
    if target is None:
        return "workspace", request.endpoint or request.path
    if isinstance(target, str):
        return "country", target
    table = getattr(target, "__tablename__", type(target).__name__.lower())
    return str(table), str(getattr(target, "id", "") or "-")


def acting_user() -> User | None:
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]


def require(action: Action, target: Any = None) -> None:
    """Go on if the signed-in user may do ``action`` to ``target``; else 403, audited."""
    user = acting_user()
    if can(user, action, target):
        return
    refuse(user, action, target)


def refuse(user: User | None, action: Action, target: Any = None) -> None:
    """End the request with 403 after committing an audit entry of the attempt."""
    entity, entity_id = _entity_of(target)
    user_id = user.id if user is not None else None
    db.session.rollback()  # nothing the refused request did is kept
    db.session.add(
        AuditEntry(
            user_id=user_id,
            action="refused",
            entity=entity,
            entity_id=entity_id[:160],
            after={"action": str(action), "path": request.path},
        )
    )
    db.session.commit()
    abort(403)
