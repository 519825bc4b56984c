"""What the workspace's views share: role names, set-password links, the template globals."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from directory.accounts import tokens
from directory.accounts.models import User, UserRole
from directory.accounts.passwords import MIN_LENGTH
from directory.workspace import workspace
from directory.workspace.permissions import Action, can

ROLE_NAMES = {
    UserRole.SECRETARIAT: _l("Secretariat"),
    UserRole.FOCAL_POINT: _l("Country focal point"),
    UserRole.ORGANIZATION_EDITOR: _l("Organization editor"),
    UserRole.CONSULAR: _l("Consular staff"),
}

# The set-password page's path (the view: directory/workspace/views.py). Links are made
# outside requests too (`flask users create`), so on PUBLIC_URL, not with url_for.
SET_PASSWORD_PATH = "/workspace/set-password/"


def role_name(role: UserRole | str) -> str:
    return str(ROLE_NAMES.get(UserRole(role), role))


def set_password_link(config: Any, user: User) -> str:
    """A one-time link that lets ``user`` choose a password, on the public address."""
    token = tokens.make_set_password_token(config["SECRET_KEY"], user)
    return config["PUBLIC_URL"].rstrip("/") + SET_PASSWORD_PATH + token


def link_max_age(config: Any) -> int:
    return int(float(config["SET_PASSWORD_LINK_HOURS"]) * 3600)


def when(value: Any) -> str:
    return format_datetime(value, "medium") if value else ""


@workspace.context_processor
def template_globals() -> dict[str, Any]:
    """Templates ask ``can(current_user, Action.…, target)``; they never test a role."""
    return {
        "can": can,
        "Action": Action,
        "role_name": role_name,
        "when": when,
        "min_password_length": MIN_LENGTH,
        "link_hours": int(float(current_app.config["SET_PASSWORD_LINK_HOURS"])),
    }
