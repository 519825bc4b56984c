"""Importing locations from a CSV file (issue 13, point 3): the dry run and the apply step.

The dry run reads every row, checks each cell, then checks what needs the database in a
few set-based queries (the countries, the categories, the organizations, whether each point
lies in its country, which external ids exist already), and counts the rows that would be
added, updated (matched by ``external_id``, something differs) or left as they are. It
writes nothing.

The apply step runs the same check (the rows matched are locked ``FOR UPDATE``), then
writes in bulk, because a partner's file may hold 100,000 rows: each chunk of rows is
copied into a temporary table (``COPY``), then inserted or updated with one statement each,
with one audit entry per changed record (action ``import``: the fields before and after)
and the version of every updated record raised by one, as an edit would. Everything
happens in the caller's transaction: the caller commits, or rolls back and nothing is left.

Columns a file does not have are not touched on the records it updates (a file without
``notes_*`` columns leaves the notes as they are); new records get the defaults.

What a referral needs (issue 15) comes as the notes do: ``admission_rules_*`` and
``what_to_bring_*`` per language with their ``*_language``, and ``protection_phone``, which
only a consular office's row may fill (``places.editing.check_protection_phone``, the rule
the workspace's form applies).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Float, Integer, String

from directory.consular.districts import groups_of_offices, recompute_groups
from directory.db import (
    CONSULAR_KINDS,
    Cost,
    OperationalStatus,
    OrganizationKind,
    Population,
    PositionPrecision,
)
from directory.imports import checking
from directory.imports.checking import Cells
from directory.imports.csv_reading import message, read_csv
from directory.imports.models import ImportBatch
from directory.imports.report import ImportReport, Problem
from directory.io.csv_files import original_language, slugify
from directory.places import editing, opening_hours
from directory.places.models import Country, Organization, ServiceCategory
from directory.places.placement import TOLERANCE_M
from directory.records import create_record
from geo.coordinates import CoordinateError, coordinate
from geo.timezones import timezone_at

REQUIRED_COLUMNS = ("external_id", "organization", "city", "country_code", "lat", "lon")
NOTES_LANGUAGES = ("es", "en", "fr", "ht")
# The other texts kept per language (issue 15), read as the notes are.
REFERRAL_TEXTS = tuple(editing.LOCALIZED_TEXTS)
KNOWN_COLUMNS = (
    *REQUIRED_COLUMNS,
    "organization_name",
    "organization_kind",
    "name",
    "address",
    "admin_area",
    "position_precision",
    "categories",
    "populations",
    "languages",
    "cost",
    "opening_hours",
    "hours_confirmed",
    "intake_hours",
    "phones",
    "whatsapp",
    "email",
    "capacity",
    "status",
    "verified_at",
    *(f"notes_{language}" for language in NOTES_LANGUAGES),
    "notes_language",
    *(f"{texts}_{language}" for texts in REFERRAL_TEXTS for language in NOTES_LANGUAGES),
    *(f"{texts}_language" for texts in REFERRAL_TEXTS),
    "protection_phone",
    "source",
)

# Longest text per column (characters): a 100 KB cell is a mistake, not an address.
LIMITS = {
    "external_id": 160,
    "organization": 120,
    "organization_name": 300,
    "name": 300,
    "address": 500,
    "city": 200,
    "admin_area": 200,
    "phone": 64,
    "whatsapp": 64,
    "source": 200,
    "notes": 5000,
    "referral_text": editing.TEXT_LIMIT,
    "protection_phone": 40,
}

# Rows per chunk of the apply step (one COPY and a few statements each).
CHUNK_ROWS = 10_000
# Any constant: the advisory lock two applies take in turn (two files adding one id).
APPLY_LOCK_KEY = 7_261_130_003

NOT_A_COORDINATE = _l("“%(value)s” is not a number.")
OUT_OF_RANGE = _l(
    "%(value)s is not between %(low)s and %(high)s (latitude and longitude swapped?)."
)
OUTSIDE_COUNTRY = _l(
    "The point (lat %(lat)s, lon %(lon)s) is not in %(country)s: check the coordinates "
    "(latitude and longitude swapped?) and the country."
)
UNKNOWN_CATEGORY = _l("There is no category “%(value)s”; the categories are: %(allowed)s.")
UNKNOWN_ORGANIZATION = _l(
    "There is no organization “%(value)s”: give an existing one's key, or organization_name "
    "and organization_kind to add it."
)
NEW_CONSULAR = _l(
    "A consulate or embassy cannot be added by an import (it needs its sending country): add "
    "it in the workspace first, then name its key here."
)
NEW_ORGANIZATION_DIFFERS = _l(
    "The new organization “%(value)s” is described differently on line %(first)s: give it "
    "the same name and kind on every row."
)
BAD_HOURS = _l("“%(value)s” is not understood: %(error)s. Write hours as “Mo-Fr 08:00-14:00”.")
BAD_NOTES_LANGUAGE = _l("The notes' language is not clear: %(error)s.")
BAD_TEXT_LANGUAGE = _l("The language these texts were written in is not clear: %(error)s.")
NOT_A_PHONE = _l("“%(value)s” is not a phone number: one number, with the country code (+502 …).")
PROTECTION_NOT_CONSULAR = _l(
    "Only a consulate's or an embassy's places have a protection line, and “%(value)s” is "
    "neither: leave protection_phone empty on this row."
)
OTHER_COUNTRYS_RECORD = _l(
    "The external_id “%(value)s” is a place in %(country)s: you can change places of %(own)s only."
)

# The fields a location row sets (attribute names), and the columns each needs present in
# the file to be touched on an update.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "organization_id": ("organization",),
    "name": ("name",),
    "address": ("address",),
    "city": ("city",),
    "admin_area": ("admin_area",),
    "country_code": ("country_code",),
    "point": ("lat", "lon"),
    "position_precision": ("position_precision",),
    "categories": ("categories",),
    "populations": ("populations",),
    "languages": ("languages",),
    "cost": ("cost",),
    "opening_hours": ("opening_hours",),
    "hours_confirmed": ("hours_confirmed",),
    "intake_hours": ("intake_hours",),
    "phones": ("phones",),
    "whatsapp": ("whatsapp",),
    "email": ("email",),
    "capacity": ("capacity",),
    "status": ("status",),
    "verified_at": ("verified_at",),
    "notes": tuple(f"notes_{language}" for language in NOTES_LANGUAGES),
    "notes_language": ("notes_language", *(f"notes_{lang}" for lang in NOTES_LANGUAGES)),
    **{
        texts: tuple(f"{texts}_{language}" for language in NOTES_LANGUAGES)
        for texts in REFERRAL_TEXTS
    },
    **{
        f"{texts}_language": (
            f"{texts}_language",
            *(f"{texts}_{language}" for language in NOTES_LANGUAGES),
        )
        for texts in REFERRAL_TEXTS
    },
    "protection_phone": ("protection_phone",),
    "source": (),  # always: the row's, else the batch's
}

Progress = Callable[[int], None]
Checked = Callable[[ImportReport], None]
POPULATIONS = frozenset(population.value for population in Population)


@dataclass
class NewOrganization:
    slug: str
    name: str
    kind: OrganizationKind
    line: int


@dataclass
class LocationRow:
    """A row that passed the cell checks: its values as a snapshot holds them (JSON)."""

    line: int
    external_id: str
    organization: str  # the slug
    country_code: str
    lon: float
    lat: float
    categories: list[str]
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What a check found, and what an apply would write."""

    report: ImportReport
    fields: list[str] = field(default_factory=list)  # the fields the file sets
    rows: list[LocationRow] = field(default_factory=list)
    new_organizations: dict[str, NewOrganization] = field(default_factory=dict)
    organization_ids: dict[str, int] = field(default_factory=dict)
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)  # by external_id
    actions: dict[str, str] = field(default_factory=dict)  # external_id → add/update/same
    # (line, categories) of the rows whose cells were wrong: their categories are checked too.
    unchecked_categories: list[tuple[int, list[str]]] = field(default_factory=list)


def _present_fields(columns: Iterable[str]) -> list[str]:
    present = set(columns)
    return [
        name
        for name, needs in FIELD_COLUMNS.items()
        if not needs or any(column in present for column in needs)
    ]


def _coordinate(cells: Cells, name: str) -> float | None:
    value = cells.cells.get(name, "")
    if not value:
        cells.problem(name, checking.REQUIRED)
        return None
    try:
        return coordinate(name, value)
    except CoordinateError:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):
            cells.problem(name, message(NOT_A_COORDINATE, value=value[:80]))
        else:
            limit = 90 if name == "lat" else 180
            cells.problem(name, message(OUT_OF_RANGE, value=value[:80], low=-limit, high=limit))
        return None


@lru_cache(maxsize=4096)
def _parse_hours(value: str) -> Any:
    """Hours as stored; a file repeats the same few texts thousands of times. The result
    is shared between rows and never changed."""
    return opening_hours.parse(value)


def _hours(cells: Cells, column: str) -> Any:
    value = cells.cells.get(column, "")
    try:
        return _parse_hours(value)
    except opening_hours.OpeningHoursError as error:
        cells.problem(column, message(BAD_HOURS, value=value[:80], error=error))
        return None


def _notes(cells: Cells) -> tuple[dict[str, str], str | None]:
    notes: dict[str, str] = {}
    for language in NOTES_LANGUAGES:
        column = f"notes_{language}"
        if value := cells.text(column, LIMITS["notes"]):
            notes[language] = value
    stated = cells.cells.get("notes_language", "").lower()
    try:
        language = original_language({"notes_language": stated}, "notes_", notes)
    except ValueError as error:
        cells.problem("notes_language", message(BAD_NOTES_LANGUAGE, error=error))
        return notes, None
    return notes, language


def _texts(cells: Cells, prefix: str) -> tuple[dict[str, str], str | None]:
    """A per-language text (``{prefix}_es`` …) and the language it was written in, as the
    notes are read (the ``{prefix}_language`` cell, or the only language there is)."""
    texts: dict[str, str] = {}
    for language in NOTES_LANGUAGES:
        if value := cells.text(f"{prefix}_{language}", LIMITS["referral_text"]):
            texts[language] = value
    column = f"{prefix}_language"
    stated = cells.cells.get(column, "").lower()
    try:
        language = original_language({column: stated}, f"{prefix}_", texts)
    except ValueError as error:
        cells.problem(column, message(BAD_TEXT_LANGUAGE, error=error))
        return texts, None
    return texts, language


def _protection_phone(cells: Cells) -> str | None:
    """One phone number, as the workspace's form takes it; whether the row's organization
    may have one is checked with the database (``_check_database``)."""
    value = cells.text("protection_phone", LIMITS["protection_phone"])
    if value is not None and not editing.PHONE_PATTERN.match(value):
        cells.problem("protection_phone", message(NOT_A_PHONE, value=value[:80]))
        return None
    return value


def _categories(cell: str) -> list[str]:
    return sorted({code.strip() for code in cell.split(";")} - {""})


def _read_row(line: int, raw: dict[str, str], source: str, problems: list[Problem]) -> Any:
    """The row's values, or None when a cell is wrong (its problems are added)."""
    cells = Cells(line, raw, problems)
    external_id = cells.text("external_id", LIMITS["external_id"], required=True)
    organization = cells.text("organization", LIMITS["organization"])
    organization_name = cells.text("organization_name", LIMITS["organization_name"])
    organization_kind = cells.choice("organization_kind", OrganizationKind)
    if not organization and organization_name:
        organization = slugify(organization_name)[: LIMITS["organization"]] or None
    if not organization and not cells.bad:
        cells.problem("organization", checking.REQUIRED)
    city = cells.text("city", LIMITS["city"], required=True)
    country_code = cells.country_code("country_code")
    lat = _coordinate(cells, "lat")
    lon = _coordinate(cells, "lon")
    notes, notes_language = _notes(cells)
    referral: dict[str, Any] = {}
    for texts in REFERRAL_TEXTS:
        referral[texts], referral[f"{texts}_language"] = _texts(cells, texts)
    values: dict[str, Any] = {
        "name": cells.text("name", LIMITS["name"]),
        "address": cells.text("address", LIMITS["address"]),
        "city": city,
        "admin_area": cells.text("admin_area", LIMITS["admin_area"]),
        "country_code": country_code,
        "point": [lon, lat],
        "position_precision": str(
            cells.choice("position_precision", PositionPrecision, PositionPrecision.CITY)
        ),
        "populations": cells.choices("populations", POPULATIONS),
        "languages": cells.languages("languages"),
        "cost": (cost := cells.choice("cost", Cost)) and cost.value,
        "opening_hours": _hours(cells, "opening_hours"),
        "hours_confirmed": cells.flag("hours_confirmed"),
        "intake_hours": _hours(cells, "intake_hours"),
        "phones": cells.listed("phones", LIMITS["phone"]),
        "whatsapp": cells.text("whatsapp", LIMITS["whatsapp"]),
        "email": cells.email("email"),
        "capacity": cells.count("capacity"),
        "status": str(cells.choice("status", OperationalStatus, OperationalStatus.OPEN)),
        "verified_at": (day := cells.date("verified_at")) and day.isoformat(),
        "notes": notes,
        "notes_language": notes_language,
        **referral,
        "protection_phone": _protection_phone(cells),
        "source": cells.text("source", LIMITS["source"]) or source,
    }
    categories = _categories(raw.get("categories", ""))
    if cells.bad or external_id is None or organization is None:
        return None
    assert country_code is not None
    assert lon is not None
    assert lat is not None
    assert city
    row = LocationRow(line, external_id, organization, country_code, lon, lat, categories, values)
    row.values["categories"] = categories
    return row, organization_name, organization_kind


class _Checker:
    def __init__(self, session: Session, source: str, country_code: str | None, lock: bool) -> None:
        self.session = session
        self.source = source
        self.country_code = country_code
        self.lock = lock

    def run(self, content: bytes) -> Plan:
        read = read_csv(content, required=REQUIRED_COLUMNS, known=KNOWN_COLUMNS)
        report = ImportReport(rows=len(read.rows), problems=list(read.problems))
        report.notes.extend(read.notes)
        plan = Plan(report, fields=_present_fields(read.columns))
        if missing := checking.reference_data_problem(self.session):
            report.problems.append(missing)
        if report.problems:
            return plan
        first_lines = checking.FirstLines()
        problems = report.problems
        for csv_row in read.rows:
            result = _read_row(csv_row.line, csv_row.cells, self.source, problems)
            duplicate = first_lines.duplicate(csv_row.line, csv_row.cells.get("external_id", ""))
            if duplicate is not None:
                problems.append(duplicate)
                continue
            if result is None:
                # Its categories are still checked, so the row's problems come all at once.
                plan.unchecked_categories.append(
                    (csv_row.line, _categories(csv_row.cells.get("categories", "")))
                )
                continue
            row, organization_name, organization_kind = result
            if self.country_code and row.country_code != self.country_code:
                problems.append(
                    Problem(
                        row.line,
                        "country_code",
                        message(
                            checking.OTHER_COUNTRY,
                            value=row.country_code,
                            country=self.country_code,
                        ),
                    )
                )
                continue
            row.values["_organization_name"] = organization_name
            row.values["_organization_kind"] = organization_kind
            plan.rows.append(row)
        self._check_database(plan)
        return plan

    # --- the set-based checks -------------------------------------------------------------

    def _check_database(self, plan: Plan) -> None:
        session, problems = self.session, plan.report.problems
        bad_lines: set[int] = set()

        def refuse(row: LocationRow, column: str, text_: Any) -> None:
            problems.append(Problem(row.line, column, text_))
            bad_lines.add(row.line)

        codes = {row.country_code for row in plan.rows}
        known_countries = (
            set(session.scalars(select(Country.code).where(Country.code.in_(codes))))
            if codes
            else set()
        )
        categories = dict(session.execute(select(ServiceCategory.code, ServiceCategory.id)).all())
        allowed = ", ".join(sorted(categories))
        slugs = {row.organization for row in plan.rows}
        organizations = (
            {
                slug: (org_id, kind)
                for slug, org_id, kind in session.execute(
                    select(Organization.slug, Organization.id, Organization.kind).where(
                        Organization.slug.in_(slugs)
                    )
                ).all()
            }
            if slugs
            else {}
        )
        plan.organization_ids = {slug: org_id for slug, (org_id, _kind) in organizations.items()}

        for line, codes_ in plan.unchecked_categories:
            for code in codes_:
                if code not in categories:
                    wording = message(UNKNOWN_CATEGORY, value=code[:80], allowed=allowed)
                    problems.append(Problem(line, "categories", wording))
        for row in plan.rows:
            if row.country_code not in known_countries:
                refuse(
                    row, "country_code", message(checking.UNKNOWN_COUNTRY, value=row.country_code)
                )
            for code in row.categories:
                if code not in categories:
                    refuse(
                        row,
                        "categories",
                        message(UNKNOWN_CATEGORY, value=code[:80], allowed=allowed),
                    )
            if row.organization not in organizations:
                self._new_organization(plan, row, refuse)
                kind = row.values["_organization_kind"]
            else:
                kind = organizations[row.organization][1]
            row.values["organization_id"] = plan.organization_ids.get(row.organization)
            number = row.values.get("protection_phone")
            if kind is not None and editing.check_protection_phone(kind, number) is not None:
                wording = message(PROTECTION_NOT_CONSULAR, value=row.organization[:80])
                refuse(row, "protection_phone", wording)

        placed = [row for row in plan.rows if row.line not in bad_lines]
        for row in self._outside_country(placed):
            refuse(
                row,
                "lat",
                message(OUTSIDE_COUNTRY, lat=row.lat, lon=row.lon, country=row.country_code),
            )
        plan.existing = self._existing([row.external_id for row in plan.rows])
        if self.country_code:
            for row in plan.rows:
                held = plan.existing.get(row.external_id)
                if held is not None and held["country_code"] != self.country_code:
                    refuse(
                        row,
                        "external_id",
                        message(
                            OTHER_COUNTRYS_RECORD,
                            value=row.external_id[:80],
                            country=held["country_code"],
                            own=self.country_code,
                        ),
                    )
        plan.rows = [row for row in plan.rows if row.line not in bad_lines]
        if plan.report.problems:
            plan.report.problems.sort(key=lambda problem: problem.line or 0)
        self._count(plan)

    def _new_organization(
        self, plan: Plan, row: LocationRow, refuse: Callable[[LocationRow, str, Any], None]
    ) -> None:
        name = row.values["_organization_name"]
        kind = row.values["_organization_kind"]
        if not name or kind is None:
            refuse(row, "organization", message(UNKNOWN_ORGANIZATION, value=row.organization[:80]))
            return
        if kind in CONSULAR_KINDS:
            refuse(row, "organization_kind", NEW_CONSULAR)
            return
        known = plan.new_organizations.get(row.organization)
        if known is None:
            plan.new_organizations[row.organization] = NewOrganization(
                row.organization, name, kind, row.line
            )
        elif (known.name, known.kind) != (name, kind):
            refuse(
                row,
                "organization_name",
                message(NEW_ORGANIZATION_DIFFERS, value=row.organization[:80], first=known.line),
            )

    def _outside_country(self, rows: Sequence[LocationRow]) -> list[LocationRow]:
        """The rows whose point is neither in their country's boundary nor within the
        tolerance of it: one query per country of the file, the boundary read once (as a
        scalar subquery, so PostGIS prepares it once and tests every point against it), the
        spheroid distance measured only for the few points outside."""
        by_country: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            by_country.setdefault(row.country_code, []).append(index)
        # "OFFSET 0" keeps each boundary a single row read (and detoasted) once, joined to
        # every point, so PostGIS's prepared-geometry cache serves all the points.
        statement = text(
            """
            WITH outside AS MATERIALIZED (
                SELECT p.i, p.point
                FROM (SELECT boundary FROM countries WHERE code = :code OFFSET 0) AS b
                CROSS JOIN LATERAL (
                    SELECT t.i, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS point
                    FROM unnest(:indexes, :lons, :lats) AS t(i, lon, lat)
                ) AS p
                WHERE NOT ST_Covers(b.boundary, p.point)
            )
            SELECT o.i
            FROM (SELECT boundary::geography AS area FROM countries WHERE code = :code OFFSET 0)
                AS b
            CROSS JOIN outside AS o
            WHERE NOT ST_DWithin(b.area, o.point::geography, :tolerance)
            """
        ).bindparams(
            bindparam("indexes", type_=ARRAY(Integer)),
            bindparam("lons", type_=ARRAY(Float)),
            bindparam("lats", type_=ARRAY(Float)),
        )
        outside: list[int] = []
        for code, indexes in by_country.items():
            outside.extend(
                self.session.scalars(
                    statement,
                    {
                        "code": code,
                        "indexes": indexes,
                        "lons": [rows[index].lon for index in indexes],
                        "lats": [rows[index].lat for index in indexes],
                        "tolerance": TOLERANCE_M,
                    },
                ).all()
            )
        return [rows[index] for index in sorted(outside)]

    def _existing(self, external_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The locations these external ids name, as snapshots (locked when applying)."""
        if not external_ids:
            return {}
        lock = "FOR UPDATE OF l" if self.lock else ""
        statement = text(
            f"""
            SELECT l.id, l.external_id, l.version, l.organization_id, l.name, l.address, l.city,
                   l.admin_area, l.country_code, ST_X(l.point::geometry) AS lon,
                   ST_Y(l.point::geometry) AS lat, l.position_precision, l.populations,
                   l.languages, l.cost, l.opening_hours, l.hours_confirmed, l.intake_hours,
                   l.phones, l.whatsapp, l.email, l.capacity, l.status,
                   to_char(l.verified_at, 'YYYY-MM-DD') AS verified_at, l.notes,
                   l.notes_language, l.admission_rules, l.admission_rules_language,
                   l.what_to_bring, l.what_to_bring_language, l.protection_phone, l.source,
                   l.timezone
            FROM unnest(:ids) AS k(external_id)
            JOIN locations l ON l.external_id = k.external_id
            {lock}
            """
        ).bindparams(bindparam("ids", type_=ARRAY(String)))
        categories = text(
            """
            SELECT lc.location_id, array_agg(c.code ORDER BY c.code)
            FROM unnest(:ids) AS k(external_id)
            JOIN locations l ON l.external_id = k.external_id
            JOIN location_categories lc ON lc.location_id = l.id
            JOIN service_categories c ON c.id = lc.category_id
            GROUP BY lc.location_id
            """
        ).bindparams(bindparam("ids", type_=ARRAY(String)))
        existing: dict[str, dict[str, Any]] = {}
        for record in self.session.execute(statement, {"ids": external_ids}).mappings():
            values = dict(record)
            values["point"] = [values.pop("lon"), values.pop("lat")]
            values["populations"] = list(values["populations"] or [])
            values["languages"] = list(values["languages"] or [])
            values["phones"] = list(values["phones"] or [])
            values["notes"] = dict(values["notes"] or {})
            for texts in REFERRAL_TEXTS:
                values[texts] = dict(values[texts] or {})
            existing[values["external_id"]] = values
        if existing:
            codes = dict(self.session.execute(categories, {"ids": external_ids}).all())
            for values in existing.values():
                values["categories"] = list(codes.get(values["id"], []))
        return existing

    def _count(self, plan: Plan) -> None:
        report = plan.report
        compared = [name for name in plan.fields if name != "organization_id"]
        for row in plan.rows:
            held = plan.existing.get(row.external_id)
            if held is None:
                plan.actions[row.external_id] = "add"
                report.added += 1
                continue
            differs = any(row.values.get(name) != held.get(name) for name in compared) or (
                row.values.get("organization_id") is None
                or row.values["organization_id"] != held["organization_id"]
            )
            plan.actions[row.external_id] = "update" if differs else "same"
            if differs:
                report.updated += 1
            else:
                report.unchanged += 1


def check_locations(
    session: Session, content: bytes, *, source: str, country_code: str | None = None
) -> ImportReport:
    """The dry run: every problem of the file, and the counts. Writes nothing."""
    return _Checker(session, source, country_code, lock=False).run(content).report


# --- applying ---------------------------------------------------------------------------

TEMP_COLUMNS = (
    ("action", "text"),
    ("id", "integer"),
    ("external_id", "text"),
    ("organization_id", "integer"),
    ("name", "text"),
    ("address", "text"),
    ("city", "text"),
    ("admin_area", "text"),
    ("country_code", "text"),
    ("lon", "double precision"),
    ("lat", "double precision"),
    ("timezone", "text"),
    ("position_precision", "text"),
    ("categories", "text[]"),
    ("populations", "text[]"),
    ("languages", "text[]"),
    ("cost", "text"),
    ("opening_hours", "jsonb"),
    ("hours_confirmed", "boolean"),
    ("intake_hours", "jsonb"),
    ("phones", "text[]"),
    ("whatsapp", "text"),
    ("email", "text"),
    ("capacity", "integer"),
    ("status", "text"),
    ("verified_at", "date"),
    ("notes", "jsonb"),
    ("notes_language", "text"),
    ("admission_rules", "jsonb"),
    ("admission_rules_language", "text"),
    ("what_to_bring", "jsonb"),
    ("what_to_bring_language", "text"),
    ("protection_phone", "text"),
    ("source", "text"),
)
TEMP_TABLE = "import_location_rows"

# Plain columns copied as they are (the point, the time zone and the collections aside).
PLAIN = (
    "organization_id",
    "name",
    "address",
    "city",
    "admin_area",
    "country_code",
    "position_precision",
    "populations",
    "languages",
    "cost",
    "opening_hours",
    "hours_confirmed",
    "intake_hours",
    "phones",
    "whatsapp",
    "email",
    "capacity",
    "status",
    "verified_at",
    "notes",
    "notes_language",
    "admission_rules",
    "admission_rules_language",
    "what_to_bring",
    "what_to_bring_language",
    "protection_phone",
    "source",
)


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        items = ",".join(
            '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"' for item in value
        )
        value = "{" + items + "}"
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _copy(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN`` on the session's own connection (same transaction)."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    finally:
        cursor.close()


def _timezones(rows: Sequence[LocationRow]) -> dict[tuple[float, float], str]:
    found: dict[tuple[float, float], str] = {}
    for row in rows:
        key = (row.lon, row.lat)
        if key not in found:
            found[key] = timezone_at(row.lon, row.lat)
    return found


def _apply_chunk(
    session: Session,
    plan: Plan,
    rows: Sequence[LocationRow],
    batch: ImportBatch,
    user_id: int | None,
) -> dict[str, int]:
    """Write one chunk of rows: COPY into the temporary table, insert the new, update the
    changed, replace their categories, and write their audit entries. Returns the ids of
    the added records by external id."""
    session.execute(text(f"TRUNCATE {TEMP_TABLE}"))
    zones = _timezones(rows)
    copied = []
    for row in rows:
        action = plan.actions[row.external_id]
        held = plan.existing.get(row.external_id)
        moved = held is None or held["point"] != row.values["point"]
        values = row.values
        copied.append(
            [
                action,
                held["id"] if held else None,
                row.external_id,
                *[values.get(name) for name in ("organization_id", "name", "address", "city")],
                values.get("admin_area"),
                row.country_code,
                row.lon,
                row.lat,
                zones[(row.lon, row.lat)] if moved else None,
                values.get("position_precision"),
                row.categories,
                *[values.get(name) for name in ("populations", "languages", "cost")],
                values.get("opening_hours"),
                values.get("hours_confirmed"),
                values.get("intake_hours"),
                values.get("phones"),
                values.get("whatsapp"),
                values.get("email"),
                values.get("capacity"),
                values.get("status"),
                values.get("verified_at"),
                values.get("notes") or {},
                values.get("notes_language"),
                values.get("admission_rules") or {},
                values.get("admission_rules_language"),
                values.get("what_to_bring") or {},
                values.get("what_to_bring_language"),
                values.get("protection_phone"),
                values.get("source"),
            ]
        )
    _copy(session, TEMP_TABLE, [name for name, _type in TEMP_COLUMNS], copied)

    added = dict(
        session.execute(
            text(
                f"""
                INSERT INTO locations (external_id, point, timezone, {", ".join(PLAIN)},
                                       version, import_id, created_at, updated_at)
                SELECT external_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
                       timezone, {", ".join(PLAIN)}, 1, :batch, now(), now()
                FROM {TEMP_TABLE} WHERE action = 'add'
                RETURNING external_id, id
                """
            ),
            {"batch": batch.id},
        ).all()
    )
    updating = [name for name in plan.fields if name in PLAIN]
    sets = [f"{name} = t.{name}" for name in updating]
    if "point" in plan.fields:
        sets.append("point = ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography")
        sets.append("timezone = COALESCE(t.timezone, l.timezone)")
    session.execute(
        text(
            f"""
            UPDATE locations l SET {", ".join(sets)}, version = l.version + 1,
                   updated_at = now(), import_id = :batch
            FROM {TEMP_TABLE} t
            WHERE t.action = 'update' AND l.id = t.id
            """
        ),
        {"batch": batch.id},
    )
    replace = "t.action = 'add'"
    if "categories" in plan.fields:
        session.execute(
            text(
                f"""
                DELETE FROM location_categories lc USING {TEMP_TABLE} t
                WHERE t.action = 'update' AND lc.location_id = t.id
                """
            )
        )
        replace = "t.action IN ('add', 'update')"
    session.execute(
        text(
            f"""
            INSERT INTO location_categories (location_id, category_id)
            SELECT DISTINCT l.id, c.id
            FROM {TEMP_TABLE} t
            JOIN locations l ON l.external_id = t.external_id
            CROSS JOIN LATERAL unnest(t.categories) AS u(code)
            JOIN service_categories c ON c.code = u.code
            WHERE {replace}
            """
        )
    )
    _audit(session, plan, rows, added, zones, batch, user_id)
    return added


def _moved(plan: Plan, rows: Sequence[LocationRow], added: dict[str, int]) -> dict[int, set[str]]:
    """The records these rows add or move (location id → the host country it was in before
    a move; empty for a new record): the offices among them need their districts again."""
    moved: dict[int, set[str]] = {}
    for row in rows:
        held = plan.existing.get(row.external_id)
        if held is None:
            moved[added[row.external_id]] = set()
        elif "point" in plan.fields and (
            held["point"] != row.values["point"] or held["country_code"] != row.country_code
        ):
            moved[held["id"]] = {held["country_code"]}
    return moved


def _audit(
    session: Session,
    plan: Plan,
    rows: Sequence[LocationRow],
    added: dict[str, int],
    zones: dict[tuple[float, float], str],
    batch: ImportBatch,
    user_id: int | None,
) -> None:
    """One audit entry (action ``import``) per record added or changed: a new record's
    values, or the changed fields before and after, with the version."""
    entries = []
    shown = [name for name in plan.fields if name != "source"] + ["source"]
    for row in rows:
        action = plan.actions[row.external_id]
        if action == "same":
            continue
        values = {name: row.values.get(name) for name in shown}
        values["timezone"] = zones[(row.lon, row.lat)]
        values["import_id"] = batch.id
        if action == "add":
            record_id = added[row.external_id]
            after = {"id": record_id, "external_id": row.external_id, **values, "version": 1}
            before = None
        else:
            held = plan.existing[row.external_id]
            record_id = held["id"]
            changed = [
                name
                for name in shown
                if name not in ("import_id",) and values.get(name) != held.get(name)
            ]
            if "point" not in changed:
                changed = [name for name in changed if name != "timezone"]
            before = {name: held.get(name) for name in changed}
            after = {name: values.get(name) for name in changed}
            before["version"], after["version"] = held["version"], held["version"] + 1
            if "point" in changed:
                before["timezone"] = held.get("timezone")
        entries.append(
            [
                user_id,
                "import",
                "locations",
                str(record_id),
                json.dumps(before) if before is not None else None,
                json.dumps(after),
            ]
        )
    if entries:
        _copy(
            session,
            "audit_entries",
            ["user_id", "action", "entity", "entity_id", "before", "after"],
            entries,
        )


def apply_locations(
    session: Session,
    content: bytes,
    *,
    batch: ImportBatch,
    user_id: int | None,
    country_code: str | None = None,
    progress: Progress | None = None,
    checked: Checked | None = None,
) -> ImportReport:
    """Check the file again (locking the records it matches) and, when it has no problem,
    write all of it in the caller's transaction. A report with problems writes nothing.
    ``checked`` is given the check's report before anything is written (the command line
    prints it as the dry run: one check instead of two for a large file)."""
    session.flush()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPLY_LOCK_KEY})
    plan = _Checker(session, batch.source, country_code, lock=True).run(content)
    if checked is not None:
        checked(plan.report)
    if plan.report.problems:
        return plan.report
    slugs = {}
    for new in plan.new_organizations.values():
        organization = Organization(
            slug=new.slug, name=new.name, kind=new.kind, source=batch.source, import_id=batch.id
        )
        create_record(session, organization, user_id)
        slugs[new.slug] = organization.id
    for row in plan.rows:
        if row.values.get("organization_id") is None:
            row.values["organization_id"] = slugs[row.organization]
    changing = [row for row in plan.rows if plan.actions[row.external_id] != "same"]
    columns = ", ".join(f"{name} {kind}" for name, kind in TEMP_COLUMNS)
    session.execute(text(f"DROP TABLE IF EXISTS {TEMP_TABLE}"))
    session.execute(text(f"CREATE TEMP TABLE {TEMP_TABLE} ({columns}) ON COMMIT DROP"))
    done = len(plan.rows) - len(changing)
    if progress and done:
        progress(done)
    moved: dict[int, set[str]] = {}
    for start in range(0, len(changing), CHUNK_ROWS):
        chunk = changing[start : start + CHUNK_ROWS]
        added = _apply_chunk(session, plan, chunk, batch, user_id)
        moved.update(_moved(plan, chunk, added))
        if progress:
            progress(len(chunk))
    session.execute(text(f"DROP TABLE IF EXISTS {TEMP_TABLE}"))
    # The identity map may hold locations these statements changed behind its back.
    session.expire_all()
    groups = groups_of_offices(session, moved)
    recompute_groups(session, groups)
    plan.report.districts = [(group.nationality, group.host) for group in groups]
    plan.report.applied = True
    return plan.report
