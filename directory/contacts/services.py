"""Queries over the contact persons: the current ones, filtered and searched, grouped by
country and network. No Flask: views and tests pass the session, the reader's language
and ``today`` (so "not confirmed for 12 months" is reproducible in a test)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from directory.accounts.models import ContactPerson, ContactRole
from directory.places.models import Country, Network, Organization

# A contact not confirmed for this long is flagged: the secretariat asks the country again.
CONFIRMATION_PERIOD = dt.timedelta(days=365)
MAX_QUERY_LENGTH = 100
ROLE_ORDER = {ContactRole.PRIMARY: 0, ContactRole.ALTERNATE: 1}


@dataclass(frozen=True)
class ContactFilters:
    """What the directory page asks for; every field optional (empty: everybody)."""

    query: str = ""
    country: str | None = None  # ISO alpha-2
    network: str | None = None  # a network's code
    role: ContactRole | None = None
    unconfirmed: bool = False  # only those not confirmed for 12 months

    @property
    def any(self) -> bool:
        return bool(
            self.query.strip() or self.country or self.network or self.role or self.unconfirmed
        )


@dataclass
class NetworkContacts:
    """One network's contacts in one country, primary first."""

    network: Network
    contacts: list[ContactPerson] = field(default_factory=list)


@dataclass
class CountryContacts:
    """One country's contacts, network by network."""

    country: Country
    networks: list[NetworkContacts] = field(default_factory=list)

    @property
    def contacts(self) -> list[ContactPerson]:
        return [contact for group in self.networks for contact in group.contacts]


def fold(text: str) -> str:
    """Lower case without accents, as ``immutable_unaccent(lower(…))`` folds the columns:
    "Peña" and "pena" match each other."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _folded(column: object) -> object:
    # immutable_unaccent() is migration 0002's wrapper of the unaccent extension (the
    # gazetteer's search keys use it too); lower() after it folds "É" as well as "é".
    return func.lower(func.immutable_unaccent(func.coalesce(column, "")))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def is_unconfirmed(contact: ContactPerson, today: dt.date) -> bool:
    """Never confirmed, or last confirmed more than 12 months before ``today``."""
    confirmed = contact.last_confirmed_at
    return confirmed is None or confirmed < today - CONFIRMATION_PERIOD


def _in_office(today: dt.date) -> tuple[ColumnElement[bool], ...]:
    """Not archived, and ``today`` within the period the country named them for."""
    return (
        ContactPerson.archived_at.is_(None),
        ContactPerson.valid_from <= today,
        or_(ContactPerson.valid_to.is_(None), ContactPerson.valid_to >= today),
    )


def current_contacts(today: dt.date) -> Select[tuple[ContactPerson]]:
    """The contacts in office on ``today``, with their country, network and institution."""
    return (
        select(ContactPerson)
        .where(*_in_office(today))
        .options(
            joinedload(ContactPerson.country),
            joinedload(ContactPerson.network),
            joinedload(ContactPerson.organization),
        )
    )


def search_contacts(
    session: Session, filters: ContactFilters, today: dt.date, language: str
) -> list[ContactPerson]:
    """The current contacts matching ``filters``, sorted by country, network and role.

    The search term matches the name, e-mail, position or institution, ignoring case and
    accents, anywhere in the text."""
    statement = current_contacts(today).outerjoin(
        Organization, ContactPerson.organization_id == Organization.id
    )
    if filters.country:
        statement = statement.where(ContactPerson.country_code == filters.country.upper())
    if filters.network:
        statement = statement.join(Network, ContactPerson.network_id == Network.id).where(
            Network.code == filters.network
        )
    if filters.role:
        statement = statement.where(ContactPerson.role == filters.role)
    if filters.unconfirmed:
        statement = statement.where(
            or_(
                ContactPerson.last_confirmed_at.is_(None),
                ContactPerson.last_confirmed_at < today - CONFIRMATION_PERIOD,
            )
        )
    term = fold(filters.query.strip()[:MAX_QUERY_LENGTH])
    if term:
        pattern = _like_pattern(term)
        statement = statement.where(
            or_(
                *(
                    _folded(column).like(pattern, escape="\\")
                    for column in (
                        ContactPerson.name,
                        ContactPerson.email,
                        ContactPerson.position,
                        Organization.name,
                    )
                )
            )
        )
    contacts = list(session.scalars(statement).unique())
    return sort_contacts(contacts, language)


def sort_contacts(contacts: Sequence[ContactPerson], language: str) -> list[ContactPerson]:
    """By country and network as the reader names them, primary before alternate."""
    return sorted(
        contacts,
        key=lambda contact: (
            fold(contact.country.name(language)),
            fold(contact.network.name(language)),
            ROLE_ORDER[contact.role],
            fold(contact.name),
        ),
    )


def group_by_country(
    contacts: Sequence[ContactPerson], language: str, networks: Sequence[Network] = ()
) -> list[CountryContacts]:
    """Sorted contacts grouped by country, then network. With ``networks``, every one of
    them appears in each country, empty when the country names nobody for it (the
    country page says so); without, only the networks that have contacts."""
    groups: dict[str, CountryContacts] = {}
    for contact in sort_contacts(contacts, language):
        country = groups.setdefault(contact.country_code, CountryContacts(contact.country))
        if not country.networks or country.networks[-1].network.id != contact.network_id:
            country.networks.append(NetworkContacts(contact.network))
        country.networks[-1].contacts.append(contact)
    if networks:
        for country in groups.values():
            country.networks = _every_network(country.networks, networks, language)
    return list(groups.values())


def _every_network(
    found: list[NetworkContacts], networks: Sequence[Network], language: str
) -> list[NetworkContacts]:
    by_id = {group.network.id: group for group in found}
    ordered = sorted(networks, key=lambda network: fold(network.name(language)))
    return [by_id.get(network.id) or NetworkContacts(network) for network in ordered]


def country_contacts(
    session: Session, country: Country, today: dt.date, language: str
) -> CountryContacts:
    """One country's current contacts under every network (the empty ones included)."""
    contacts = session.scalars(
        current_contacts(today).where(ContactPerson.country_code == country.code)
    ).unique()
    groups = group_by_country(list(contacts), language, all_networks(session))
    if groups:
        return groups[0]
    ordered = sorted(all_networks(session), key=lambda network: fold(network.name(language)))
    return CountryContacts(country, [NetworkContacts(network) for network in ordered])


def all_networks(session: Session) -> list[Network]:
    return list(session.scalars(select(Network).order_by(Network.code)))


def filter_countries(session: Session, today: dt.date, language: str) -> list[Country]:
    """The countries the filter offers: the member countries and any with a contact."""
    with_contacts = select(ContactPerson.country_code).where(*_in_office(today))
    countries = session.scalars(
        select(Country).where(or_(Country.is_rcm_member, Country.code.in_(with_contacts)))
    )
    return sorted(countries, key=lambda country: fold(country.name(language)))


def find_country(session: Session, code: str) -> Country | None:
    if len(code) != 2 or not code.isalpha():
        return None
    return session.get(Country, code.upper())


def listed_country(session: Session, code: str, today: dt.date) -> Country | None:
    """A country that has a contact page: a member country, or one with a current contact
    (any other country code is not found)."""
    country = find_country(session, code)
    if country is None or country.is_rcm_member:
        return country
    named = select(ContactPerson.id).where(
        ContactPerson.country_code == country.code, *_in_office(today)
    )
    return country if session.scalar(named.limit(1)) is not None else None


def find_network(session: Session, code: str) -> Network | None:
    return session.scalar(select(Network).where(Network.code == code))
