"""Who may do what to which record: the one place that decides (issue 12, point 4).

Views call ``require(user, action, target)`` (a 403, audited, when refused); templates call
``can(...)`` to show or hide a link or a button. No role is tested anywhere else.

The roles:

* ``secretariat``: everything, the users included;
* ``focal_point``: reads everything; edits the organizations, locations and contact persons
  of its own country, moderates its suggestions, sends its confirmation requests and imports
  its rows;
* ``organization_editor``: staff of one organization; edits that organization's locations
  (status, hours, capacity, phones) and nothing else;
* ``consular``: reads everything, contact persons included; edits nothing.
"""

from __future__ import annotations

import enum
from typing import Any

from directory.accounts.models import ContactPerson, User, UserRole
from directory.places.models import Location, Organization


class Action(enum.StrEnum):
    READ = "read"  # the workspace's lists and records (not contact persons)
    READ_CONTACTS = "read_contacts"  # contact persons' personal data
    EDIT = "edit"  # change a record (an organization, a location, a contact person)
    CREATE = "create"  # add a record (target: the record to be, or its country)
    ARCHIVE = "archive"  # archive or restore a record
    MANAGE_USERS = "manage_users"  # invite, change role, deactivate
    # Issue 13 (target: a record, a suggestion's country code, or None for "any of them"):
    MODERATE = "moderate"  # accept, edit or reject suggested corrections
    REQUEST_CONFIRMATION = "request_confirmation"  # send a record a confirmation link
    IMPORT = "import"  # check and apply a CSV or HSDS file (a focal point: its country's rows)
    READ_OUTBOX = "read_outbox"  # the e-mails kept when no SMTP server is configured
    REVIEW_DUPLICATES = "review_duplicates"  # the likely-duplicates report


def _country_of(target: Any) -> str | None:
    """The country a record belongs to, for a focal point's rights."""
    if isinstance(target, Location | ContactPerson):
        return target.country_code
    if isinstance(target, Organization):
        # A consulate belongs to the country that runs it; any other organization to the
        # country of its sites (an organization of several countries: each of them).
        return target.sending_country_code
    if isinstance(target, str):
        return target  # a country code: "may I add a record in GT?"
    return None


def _organization_countries(organization: Organization) -> set[str]:
    return {location.country_code for location in organization.locations}


def can(user: User | None, action: Action, target: Any = None) -> bool:
    """Whether ``user`` may do ``action`` to ``target`` (a record, a country code, or None
    for the workspace as a whole)."""
    if user is None or not user.is_active:
        return False
    role = user.role
    if role == UserRole.SECRETARIAT:
        return True
    if action == Action.READ:
        return True
    if action == Action.READ_CONTACTS:
        return role in (UserRole.FOCAL_POINT, UserRole.CONSULAR)
    if action == Action.MANAGE_USERS or role == UserRole.CONSULAR:
        return False
    if role == UserRole.FOCAL_POINT:
        if action in (Action.READ_OUTBOX, Action.REVIEW_DUPLICATES):
            return False
        if target is None and action in (
            Action.MODERATE,
            Action.REQUEST_CONFIRMATION,
            Action.IMPORT,
        ):
            return user.country_code is not None  # the pages; each record is asked again
        if isinstance(target, Organization):
            countries = _organization_countries(target) | {target.sending_country_code}
            return user.country_code in countries
        return target is not None and _country_of(target) == user.country_code
    if role == UserRole.ORGANIZATION_EDITOR:
        return (
            action == Action.EDIT
            and isinstance(target, Location)
            and target.organization_id == user.organization_id
        )
    return False
