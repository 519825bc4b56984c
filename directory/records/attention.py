"""What needs attention in the directory (issue 12, point 5): the workspace home lists it,
per country, so that the people who keep the records true see where they have gone stale.

Three concerns:

* a "full" or "temporarily closed" status whose ``status_until`` has passed: the public
  pages no longer show it (``opening_hours.state_at``), but the record still says so, and
  nobody has said whether the place reopened;
* locations never verified, or last verified more than 12 months ago;
* contact persons in office never confirmed, or last confirmed more than 12 months ago
  (the same rule as the contact pages' "not confirmed for 12 months").

Archived records (and the locations of archived organizations) are never listed. No Flask:
the view passes the session, the acting user's ``Scope`` and the instant ``now``, so a test
can say what "expired" and "12 months ago" mean.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from directory.accounts.models import ContactPerson
from directory.contacts.services import CONFIRMATION_PERIOD, current_contacts
from directory.db import OperationalStatus
from directory.places.models import Country, Location, Organization

# A location not verified for this long is listed, like a contact not confirmed for as long.
VERIFICATION_PERIOD = CONFIRMATION_PERIOD
# How many records of one concern in one country the home page shows before "show all".
DEFAULT_LIMIT = 5
# Statuses that end: a place is full or closed "until" a moment.
ENDING_STATUSES = (OperationalStatus.FULL, OperationalStatus.TEMPORARILY_CLOSED)


class Concern(enum.StrEnum):
    """Why a record is listed (and, on the page, what to do about it)."""

    STATUS_EXPIRED = "status_expired"
    NOT_VERIFIED = "not_verified"
    NOT_CONFIRMED = "not_confirmed"


@dataclass(frozen=True)
class Scope:
    """What the acting user looks after: everything, one country, or one organization's
    locations. ``contacts`` says whether contact persons are listed at all (only for users
    who may read them; never in an organization's scope)."""

    country_code: str | None = None
    organization_id: int | None = None
    contacts: bool = False

    @property
    def lists_contacts(self) -> bool:
        return self.contacts and self.organization_id is None


@dataclass(frozen=True)
class Item:
    """One record listed under one concern."""

    record: Location | ContactPerson
    concern: Concern

    @property
    def since(self) -> dt.date | dt.datetime | None:
        """When the status ended, or the last verification or confirmation (None: never)."""
        if isinstance(self.record, ContactPerson):
            return self.record.last_confirmed_at
        if self.concern == Concern.STATUS_EXPIRED:
            return self.record.status_until
        return self.record.verified_at


@dataclass
class Group:
    """One concern in one country: how many records, and the first of them."""

    concern: Concern
    total: int
    items: list[Item] = field(default_factory=list)

    @property
    def rest(self) -> int:
        """How many are not listed (the page offers "show all")."""
        return self.total - len(self.items)


@dataclass
class CountryAttention:
    """What needs attention in one country, concern by concern (empty concerns left out)."""

    country: Country
    groups: list[Group] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups)


@dataclass
class Attention:
    """Everything in a scope that needs attention, by country (by country code)."""

    countries: list[CountryAttention] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(country.total for country in self.countries)

    def count(self, concern: Concern) -> int:
        return sum(
            group.total
            for country in self.countries
            for group in country.groups
            if group.concern == concern
        )


def status_expired(now: dt.datetime) -> ColumnElement[bool]:
    """Full or closed "until" a moment that has passed (a status with no end never expires)."""
    return Location.status.in_(ENDING_STATUSES) & (Location.status_until < now)


def not_verified(today: dt.date) -> ColumnElement[bool]:
    return or_(Location.verified_at.is_(None), Location.verified_at < today - VERIFICATION_PERIOD)


def not_confirmed(today: dt.date) -> ColumnElement[bool]:
    """The SQL twin of ``contacts.services.is_unconfirmed``."""
    confirmed = ContactPerson.last_confirmed_at
    return or_(confirmed.is_(None), confirmed < today - CONFIRMATION_PERIOD)


def _location_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [Location.archived_at.is_(None), Organization.archived_at.is_(None)]
    if scope.country_code is not None:
        conditions.append(Location.country_code == scope.country_code)
    if scope.organization_id is not None:
        conditions.append(Location.organization_id == scope.organization_id)
    return conditions


def _contact_scope(scope: Scope, today: dt.date) -> list[ColumnElement[bool]]:
    in_office = current_contacts(today).whereclause  # not archived, and named for today
    conditions: list[ColumnElement[bool]] = [] if in_office is None else [in_office]
    if scope.country_code is not None:
        conditions.append(ContactPerson.country_code == scope.country_code)
    return conditions


def _counts(session: Session, query: Select[Any], country: Any) -> dict[str, int]:
    """Records per country code for ``query`` (a select of the entity with its filters)."""
    counted = query.with_only_columns(country, func.count()).group_by(country)
    return {row[0]: row[1] for row in session.execute(counted)}


def _first_per_country(
    session: Session,
    query: Select[Any],
    entity: type[Location] | type[ContactPerson],
    order_by: Sequence[Any],
    limit: int | None,
) -> list[Any]:
    """The first ``limit`` records of ``query`` in each country (all when None), ranked by
    ``order_by`` within the country, then the id."""
    ranking = func.row_number().over(
        partition_by=entity.country_code, order_by=[*order_by, entity.id]
    )
    ranked = query.with_only_columns(entity.id.label("id"), ranking.label("rank")).subquery()
    records = select(entity).join(ranked, ranked.c.id == entity.id)
    if limit is not None:
        records = records.where(ranked.c.rank <= limit)
    records = records.order_by(entity.country_code, ranked.c.rank)
    if entity is Location:
        records = records.options(joinedload(Location.organization))
    else:
        records = records.options(joinedload(ContactPerson.network))
    return list(session.scalars(records).unique())


def _concern_groups(
    session: Session,
    concern: Concern,
    query: Select[Any],
    entity: type[Location] | type[ContactPerson],
    order_by: Sequence[Any],
    limit: int | None,
) -> dict[str, Group]:
    counts = _counts(session, query, entity.country_code)
    groups = {code: Group(concern, total) for code, total in counts.items()}
    if counts and limit != 0:
        for record in _first_per_country(session, query, entity, order_by, limit):
            groups[record.country_code].items.append(Item(record, concern))
    return groups


def needs_attention(
    session: Session, scope: Scope, now: dt.datetime, *, limit: int | None = DEFAULT_LIMIT
) -> Attention:
    """What needs attention in ``scope`` at the aware instant ``now`` (its UTC date is the
    "today" of the 12 months), by country code, each concern's oldest records first: up to
    ``limit`` of them per country and concern (None: all)."""
    today = now.astimezone(dt.UTC).date()
    locations = select(Location).join(Location.organization).where(*_location_scope(scope))
    concerns = [
        _concern_groups(
            session,
            Concern.STATUS_EXPIRED,
            locations.where(status_expired(now)),
            Location,
            [Location.status_until],
            limit,
        ),
        _concern_groups(
            session,
            Concern.NOT_VERIFIED,
            locations.where(not_verified(today)),
            Location,
            [Location.verified_at.asc().nulls_first()],
            limit,
        ),
    ]
    if scope.lists_contacts:
        contacts = select(ContactPerson).where(*_contact_scope(scope, today), not_confirmed(today))
        confirmed = ContactPerson.last_confirmed_at.asc().nulls_first()
        concerns.append(
            _concern_groups(
                session, Concern.NOT_CONFIRMED, contacts, ContactPerson, [confirmed], limit
            )
        )
    codes = sorted({code for groups in concerns for code in groups})
    countries = {
        country.code: country
        for country in session.scalars(select(Country).where(Country.code.in_(codes)))
    }
    return Attention(
        [
            CountryAttention(
                countries[code], [groups[code] for groups in concerns if code in groups]
            )
            for code in codes
        ]
    )
