"""Importing contact persons from a CSV file (issue 13, point 3): the dry run and the apply.

The same rules as the locations' import (every bad row reported, counts of added, updated
and unchanged, nothing written by a dry run, a focal point's file limited to its country),
on the normal audited path: contact lists are short (a few hundred people), so each new
person goes through ``records.create_record`` and each change through ``records.apply_edit``
(version check, one audit entry each), in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson, ContactRole
from directory.imports import checking
from directory.imports.checking import Cells
from directory.imports.csv_reading import message, read_csv
from directory.imports.models import ImportBatch
from directory.imports.report import ImportReport, Problem
from directory.places.models import Country, Network, Organization
from directory.records import apply_edit, create_record

REQUIRED_COLUMNS = ("external_id", "country_code", "network", "name", "role", "valid_from")
KNOWN_COLUMNS = (
    *REQUIRED_COLUMNS,
    "organization",
    "position",
    "email",
    "phone",
    "languages",
    "valid_to",
    "last_confirmed_at",
    "last_confirmed_by",
    "source",
)
LIMITS = {
    "external_id": 160,
    "name": 200,
    "position": 300,
    "phone": 64,
    "organization": 120,
    "last_confirmed_by": 200,
    "source": 200,
}
# The attribute each optional column sets (a column the file lacks is left as it is).
OPTIONAL_FIELDS = {
    "organization": "organization_id",
    "position": "position",
    "email": "email",
    "phone": "phone",
    "languages": "languages",
    "valid_to": "valid_to",
    "last_confirmed_at": "last_confirmed_at",
    "last_confirmed_by": "last_confirmed_by",
}

UNKNOWN_NETWORK = _l("There is no network “%(value)s”; the networks are: %(allowed)s.")
UNKNOWN_ORGANIZATION = _l("There is no organization “%(value)s”.")
ENDS_BEFORE = _l("valid_to (%(value)s) is before valid_from (%(start)s).")
OTHER_COUNTRYS_PERSON = _l(
    "The external_id “%(value)s” is a contact person of %(country)s: you can change those "
    "of %(own)s only."
)

Progress = Callable[[int], None]


@dataclass
class ContactRow:
    line: int
    external_id: str
    country_code: str
    network: str
    organization: str | None
    values: dict[str, Any]


@dataclass
class ContactPlan:
    report: ImportReport
    columns: set[str] = field(default_factory=set)
    rows: list[ContactRow] = field(default_factory=list)
    existing: dict[str, ContactPerson] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)


def _read_row(
    line: int, raw: dict[str, str], source: str, problems: list[Problem]
) -> ContactRow | None:
    cells = Cells(line, raw, problems)
    external_id = cells.text("external_id", LIMITS["external_id"], required=True)
    country_code = cells.country_code("country_code")
    network = cells.text("network", 32, required=True)
    organization = cells.text("organization", LIMITS["organization"])
    values: dict[str, Any] = {
        "name": cells.text("name", LIMITS["name"], required=True),
        "position": cells.text("position", LIMITS["position"]),
        "email": cells.email("email"),
        "phone": cells.text("phone", LIMITS["phone"]),
        "languages": cells.languages("languages"),
        "role": cells.choice("role", ContactRole),
        "valid_from": cells.date("valid_from"),
        "valid_to": cells.date("valid_to"),
        "last_confirmed_at": cells.date("last_confirmed_at"),
        "last_confirmed_by": cells.text("last_confirmed_by", LIMITS["last_confirmed_by"]),
        "source": cells.text("source", LIMITS["source"]) or source,
    }
    if values["role"] is None and not raw.get("role"):
        cells.problem("role", checking.REQUIRED)
    if values["valid_from"] is None and not raw.get("valid_from"):
        cells.problem("valid_from", checking.REQUIRED)
    start, end = values["valid_from"], values["valid_to"]
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        cells.problem(
            "valid_to", message(ENDS_BEFORE, value=end.isoformat(), start=start.isoformat())
        )
    if cells.bad or external_id is None or country_code is None or network is None:
        return None
    return ContactRow(line, external_id, country_code, network, organization, values)


def _plan(session: Session, content: bytes, source: str, country_code: str | None) -> ContactPlan:
    read = read_csv(content, required=REQUIRED_COLUMNS, known=KNOWN_COLUMNS)
    report = ImportReport(rows=len(read.rows), problems=list(read.problems))
    report.notes.extend(read.notes)
    plan = ContactPlan(report, columns=set(read.columns))
    if missing := checking.reference_data_problem(session, categories=False):
        report.problems.append(missing)
    if report.problems:
        return plan
    problems = report.problems
    first_lines = checking.FirstLines()
    for csv_row in read.rows:
        row = _read_row(csv_row.line, csv_row.cells, source, problems)
        duplicate = first_lines.duplicate(csv_row.line, csv_row.cells.get("external_id", ""))
        if duplicate is not None:
            problems.append(duplicate)
            continue
        if row is None:
            continue
        if country_code and row.country_code != country_code:
            wording = message(checking.OTHER_COUNTRY, value=row.country_code, country=country_code)
            problems.append(Problem(row.line, "country_code", wording))
            continue
        plan.rows.append(row)

    countries = set(session.scalars(select(Country.code)))
    networks = dict(session.execute(select(Network.code, Network.id)).all())
    slugs = {row.organization for row in plan.rows if row.organization}
    organizations = (
        dict(
            session.execute(
                select(Organization.slug, Organization.id).where(Organization.slug.in_(slugs))
            ).all()
        )
        if slugs
        else {}
    )
    ids = [row.external_id for row in plan.rows]
    plan.existing = (
        {
            person.external_id: person
            for person in session.scalars(
                select(ContactPerson).where(ContactPerson.external_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    good: list[ContactRow] = []
    for row in plan.rows:
        before = len(problems)
        if row.country_code not in countries:
            problems.append(
                Problem(
                    row.line,
                    "country_code",
                    message(checking.UNKNOWN_COUNTRY, value=row.country_code),
                )
            )
        if row.network not in networks:
            allowed = ", ".join(sorted(networks))
            problems.append(
                Problem(
                    row.line,
                    "network",
                    message(UNKNOWN_NETWORK, value=row.network[:80], allowed=allowed),
                )
            )
        if row.organization and row.organization not in organizations:
            problems.append(
                Problem(
                    row.line,
                    "organization",
                    message(UNKNOWN_ORGANIZATION, value=row.organization[:80]),
                )
            )
        held = plan.existing.get(row.external_id)
        if country_code and held is not None and held.country_code != country_code:
            problems.append(
                Problem(
                    row.line,
                    "external_id",
                    message(
                        OTHER_COUNTRYS_PERSON,
                        value=row.external_id[:80],
                        country=held.country_code,
                        own=country_code,
                    ),
                )
            )
        if len(problems) == before:
            row.values["country_code"] = row.country_code
            row.values["network_id"] = networks.get(row.network)
            row.values["organization_id"] = (
                organizations.get(row.organization) if row.organization else None
            )
            good.append(row)
    plan.rows = good
    problems.sort(key=lambda problem: problem.line or 0)
    for row in plan.rows:
        held = plan.existing.get(row.external_id)
        if held is None:
            plan.actions[row.external_id] = "add"
            report.added += 1
        elif _changes(plan, row, held):
            plan.actions[row.external_id] = "update"
            report.updated += 1
        else:
            plan.actions[row.external_id] = "same"
            report.unchanged += 1
    return plan


def _fields(plan: ContactPlan, row: ContactRow) -> dict[str, Any]:
    """The attributes the row sets: the required ones, and the optional columns the file has."""
    fields = {
        name: row.values[name]
        for name in ("country_code", "network_id", "name", "role", "valid_from", "source")
    }
    for column, attribute in OPTIONAL_FIELDS.items():
        if column in plan.columns:
            fields[attribute] = row.values[attribute]
    return fields


def _changes(plan: ContactPlan, row: ContactRow, held: ContactPerson) -> dict[str, Any]:
    return {
        name: value for name, value in _fields(plan, row).items() if getattr(held, name) != value
    }


def check_contacts(
    session: Session, content: bytes, *, source: str, country_code: str | None = None
) -> ImportReport:
    """The dry run: every problem of the file, and the counts. Writes nothing."""
    report = _plan(session, content, source, country_code).report
    session.expire_all()  # nothing read here may stay in the identity map as if checked
    return report


def apply_contacts(
    session: Session,
    content: bytes,
    *,
    batch: ImportBatch,
    user_id: int | None,
    country_code: str | None = None,
    progress: Progress | None = None,
    checked: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Check again and, without problems, add and change the contact persons (audited),
    in the caller's transaction; ``checked`` is given the check's report first."""
    session.flush()
    plan = _plan(session, content, batch.source, country_code)
    if checked is not None:
        checked(plan.report)
    if plan.report.problems:
        return plan.report
    for row in plan.rows:
        action = plan.actions[row.external_id]
        if action == "add":
            person = ContactPerson(
                external_id=row.external_id, import_id=batch.id, **_fields(plan, row)
            )
            create_record(session, person, user_id)
        elif action == "update":
            held = plan.existing[row.external_id]
            changes = _changes(plan, row, held) | {"import_id": batch.id}
            apply_edit(session, held, changes, expected_version=held.version, user_id=user_id)
        if progress:
            progress(1)
    plan.report.applied = True
    return plan.report
