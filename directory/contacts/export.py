"""The contact list as a CSV file for a spreadsheet: UTF-8 with a byte-order mark (so Excel
reads the accents right) and every cell made formula-safe (``directory.io.csv_files``).
The columns are stable English names, like the public exports', so a sheet built on one
file reads the next."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from directory.accounts.models import ContactPerson
from directory.io.csv_files import csv_text

BOM = "\ufeff"
COLUMNS = (
    "country_code",
    "country",
    "network",
    "network_name",
    "role",
    "name",
    "position",
    "institution",
    "email",
    "phone",
    "languages",
    "valid_from",
    "valid_to",
    "last_confirmed_at",
    "last_confirmed_by",
)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def contact_row(contact: ContactPerson, language: str) -> list[str]:
    return [
        contact.country_code,
        contact.country.name(language),
        contact.network.code,
        contact.network.name(language),
        contact.role.value,
        contact.name,
        contact.position or "",
        contact.organization.name if contact.organization else "",
        contact.email or "",
        contact.phone or "",
        ";".join(contact.languages),
        _date(contact.valid_from),
        _date(contact.valid_to),
        _date(contact.last_confirmed_at),
        contact.last_confirmed_by or "",
    ]


def contacts_csv(contacts: Iterable[ContactPerson], language: str) -> str:
    """The whole document, the BOM first."""
    return BOM + csv_text(COLUMNS, (contact_row(contact, language) for contact in contacts))


def export_filename(today: dt.date) -> str:
    return f"contact-persons-{today.isoformat()}.csv"
