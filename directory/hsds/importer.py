"""Importing an Open Referral HSDS 3.0 dataset, with the same dry run as the CSV imports.

Accepted: the JSON document of our own export (``directory.hsds.export``: arrays of
taxonomies, organizations, locations, services…), the specification's single objects (an
organization with its services and locations nested, a service, a service_at_location, a
location), a list object (``{"contents": [...]}``), or the tabular package (a folder or a
``.zip`` of the CSV files, ``directory.hsds.tabular``).

First every object is checked against the published JSON Schemas (``schema/*.json``,
offline, their ``$ref`` resolved from disk): a file with any error is reported in full (where
and why) and nothing is applied. Then the objects are mapped back onto our records as the
export maps ours out (``directory.hsds.mapping``): an HSDS
organization becomes an Organization (its kind from our "organization kinds" attribute,
civil_society when absent), each HSDS location with usable coordinates in one of our
countries becomes a Location carrying what its services say (categories, phones, hours,
languages, status, cost, verification date, who is admitted and what to bring, and a
consular office's 24/7 protection line). What cannot be placed (the specification's
own example has latitude 100) is left out with a note, never silently: the rest imports.

The apply runs in one transaction (a savepoint the dry run rolls back): the caller commits.
Records are created and changed through ``directory.records`` (audited), matched by
``external_id`` (ours for locations we exported, else ``hsds:<id>``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from babel import Locale
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.consular.districts import groups_of_offices, recompute_groups
from directory.db import (
    CONSULAR_KINDS,
    Cost,
    OperationalStatus,
    OrganizationKind,
    PositionPrecision,
    utcnow,
)
from directory.hsds import ids, mapping
from directory.hsds.tabular import (
    DATASET_KEYS,
    FILE_KINDS,
    SCHEMA_DIR,
    TABLES,
    Tables,
    TabularError,
    column_types,
    flatten_into,
    object_schema,
    read_tabular,
)
from directory.imports.checking import reference_data_problem
from directory.imports.csv_reading import message
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.imports.report import ImportReport, Problem
from directory.io.csv_files import slugify
from directory.io.loading import Progress, no_progress
from directory.places.editing import Problem as EditingProblem
from directory.places.editing import check_protection_phone
from directory.places.models import Country, Location, Organization, ServiceCategory
from directory.places.placement import PlacementError, check_placement, country_at
from directory.records import apply_edit, create_record
from directory.records.audit import comparable
from geo.coordinates import CoordinateError, LonLat

# The language the texts of an HSDS file (descriptions) are taken to be written in: HSDS
# does not say, and most of the region's feeds are in Spanish.
DEFAULT_TEXT_LANGUAGE: Final = "es"
DEFAULT_SOURCE_PREFIX: Final = "hsds"
SLUG_LENGTH: Final = 120
KIND_CODES: Final = frozenset(kind.value for kind in OrganizationKind)
PRECISION_CODES: Final = frozenset(precision.value for precision in PositionPrecision)
COST_CODES: Final = frozenset(cost.value for cost in Cost)
EXTERNAL_ID_LENGTH: Final = 160
# Our per-language texts a service carries, by the Place value that holds the file's text:
# (texts field, the field of the language it was written in).
TEXT_FIELDS: Final[dict[str, tuple[str, str]]] = {
    "notes_text": ("notes", "notes_language"),
    "admission_rules_text": ("admission_rules", "admission_rules_language"),
    "what_to_bring_text": ("what_to_bring", "what_to_bring_language"),
}

NOT_JSON = _l("Not a readable JSON file: %(reason)s")
NOT_HSDS = _l(
    "Not an HSDS 3.0 document: expected an organization, a service, a location, a list "
    "object with “contents”, or a dataset of such arrays."
)
NOT_AN_OBJECT = _l("Not an HSDS 3.0 object (%(kind)s expected).")
SCHEMA_ERROR = _l("Does not follow the HSDS 3.0 schema of %(kind)s: %(reason)s")
NO_SCHEMAS = _l(
    "The HSDS 3.0 schemas are not at %(path)s: nothing can be checked (set HSDS_SPEC_DIR)."
)
NOT_READABLE = _l("The package cannot be read: %(reason)s")
EMPTY = _l("The file holds no HSDS organization, service or location.")
DUPLICATE_EXTERNAL_ID = _l(
    "Location %(id)s has the identifier %(external_id)s, like location %(other)s: "
    "one of them is a mistake."
)
NO_COORDINATES = _l(
    "Location “%(name)s” (%(id)s) has no usable coordinates (%(reason)s): not imported."
)
OUTSIDE_COUNTRIES = _l(
    "Location “%(name)s” (%(id)s) lies outside the countries of the directory: not imported."
)
UNKNOWN_COUNTRY = _l(
    "Location “%(name)s” (%(id)s) is in %(country)s, a country the directory does not cover: "
    "not imported."
)
MISPLACED = _l("Location “%(name)s” (%(id)s): %(reason)s. Not imported.")
NO_CITY = _l("Location “%(name)s” (%(id)s) has no address with a city: not imported.")
NO_ORGANIZATION = _l(
    "Location “%(name)s” (%(id)s) belongs to no organization of the file: not imported."
)
NOT_RUNNING = _l(
    "Location “%(name)s” (%(id)s): its services are %(status)s, not running: not imported."
)
SERVICE_WITHOUT_LOCATION = _l(
    "Service “%(name)s” (%(id)s) is offered at no location of the file: not imported "
    "(the directory lists places)."
)
MERGED_SERVICES = _l(
    "Location “%(name)s” (%(id)s) has %(count)s services: their categories, phones and hours "
    "are merged into one place."
)
UNKNOWN_TERM = _l(
    "Attribute term “%(term)s” is not one of the directory's categories, kinds or precisions: "
    "left out (%(count)s times)."
)
UNKNOWN_CATEGORY = _l(
    "Category “%(code)s” is not one of the directory's: left out (%(count)s times)."
)
HOURS_NOT_WEEKLY = _l(
    "Location “%(name)s” (%(id)s): schedule %(schedule)s is not a plain weekly one "
    "(%(reason)s): opening hours left unknown."
)
BAD_LANGUAGE = _l("Language code “%(code)s” is not an ISO 639 code: left out (%(count)s times).")
BAD_DATE = _l("Service %(id)s: assured_date “%(value)s” is not a date: left out.")
SENDING_COUNTRY_FROM_NAME = _l(
    "%(count)s consular offices: the country they belong to was read from their names "
    "(HSDS has no field for it); check them."
)
NO_SENDING_COUNTRY = _l(
    "Organization “%(name)s” (%(id)s) is a consular office, but the country it belongs to "
    "cannot be told: imported as a government office."
)
PROTECTION_LINE_NOT_CONSULAR = _l(
    "Location “%(name)s” (%(id)s): “%(number)s” is described as a 24/7 consular protection "
    "line, but only a consulate's or an embassy's places have one: kept as an ordinary phone."
)
PROTECTION_LINE_NOT_A_PHONE = _l(
    "Location “%(name)s” (%(id)s): the protection line “%(number)s” is not one phone number "
    "with its country code: kept as an ordinary phone."
)
CONTACTS_DROPPED = _l(
    "%(count)s contacts (persons) left out: contact persons are never imported from a feed."
)


# --- The published schemas ---------------------------------------------------------------

SCHEMA_BASE: Final = "https://hsds.invalid/schema/"


@cache
def _registry() -> Registry:
    """Every schema file of the specification, so ``$ref``s resolve from disk (no network)."""
    resources = [
        (
            SCHEMA_BASE + path.name,
            Resource.from_contents(
                json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
            ),
        )
        for path in sorted(SCHEMA_DIR.glob("*.json"))
        if path.name != "openapi.json"
    ]
    return Registry().with_resources(resources).crawl()


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator of one kind of HSDS object (``schema/<kind>.json``), formats checked."""
    object_schema(kind)  # fails early, naming the file, when the schema is missing
    return Draft202012Validator(
        {"$ref": f"{SCHEMA_BASE}{kind}.json"},
        registry=_registry(),
        format_checker=FormatChecker(),
    )


def schema_problems(kind: str, obj: Any, where: str, line: int | None = None) -> list[Problem]:
    """Every way ``obj`` breaks the schema of ``kind``, as problems (where, why)."""
    problems = []
    errors = sorted(validator(kind).iter_errors(obj), key=lambda error: list(error.path))
    for error in errors:
        path = "/".join(str(part) for part in error.absolute_path)
        column = f"{where}/{path}" if path else where or "/"
        problems.append(
            Problem(line, column, message(SCHEMA_ERROR, kind=kind, reason=error.message))
        )
    return problems


# --- Reading a file into flat tables -----------------------------------------------------------


@dataclass
class Dataset:
    """A file read, checked and flattened: ``problems`` non-empty means it is not applied."""

    tables: Tables = field(default_factory=Tables)
    problems: list[Problem] = field(default_factory=list)
    sha256: str = ""


# Fields by which an object is an organization (its name may be the field that is missing).
ORGANIZATION_FIELDS: Final = frozenset(
    {"name", "description", "website", "legal_status", "tax_status", "year_incorporated"}
    | {"services", "locations", "programs", "funding", "organization_identifiers"}
)


def detect_kind(obj: Any) -> str | None:
    """Which HSDS object a JSON object is, by the fields only that kind has."""
    if not isinstance(obj, dict):
        return None
    keys = set(obj)
    if keys & {"location_type", "latitude", "longitude", "addresses"}:
        return "location"
    if "status" in keys:
        return "service"
    if "name" not in keys and keys & {"service", "location", "service_id", "location_id"}:
        return "service_at_location"
    if keys & {"taxonomy_id", "code", "taxonomy", "parent_id", "taxonomy_detail", "term_uri"}:
        return "taxonomy_term"
    if "name" in keys and "version" in keys and not keys & {"email", "website", "services"}:
        return "taxonomy"
    if keys & ORGANIZATION_FIELDS:
        return "organization"
    return None


def json_objects(document: Any) -> Iterator[tuple[str | None, Any, str]]:
    """``(kind, object, where)`` for each top-level object of a JSON document."""
    if isinstance(document, list):
        for n, item in enumerate(document):
            yield detect_kind(item), item, f"/{n}"
        return
    if not isinstance(document, dict):
        yield None, document, "/"
        return
    if isinstance(document.get("contents"), list):
        for n, item in enumerate(document["contents"]):
            yield detect_kind(item), item, f"/contents/{n}"
        return
    arrays = {
        key: DATASET_KEYS[key.removesuffix(".csv")]
        for key, value in document.items()
        if key.removesuffix(".csv") in DATASET_KEYS and isinstance(value, list)
    }
    if arrays and "id" not in document:  # an object with nested arrays has an id
        for key, kind in arrays.items():
            for n, item in enumerate(document[key]):
                yield kind, item, f"/{key}/{n}"
        return
    yield detect_kind(document), document, ""


def read_json(content: bytes) -> Dataset:
    dataset = Dataset(sha256=hashlib.sha256(content).hexdigest())
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        dataset.problems.append(Problem(None, None, message(NOT_JSON, reason=error)))
        return dataset
    found = False
    for kind, obj, where in json_objects(document):
        if kind is None:
            dataset.problems.append(Problem(None, where or "/", NOT_HSDS))
            continue
        if not isinstance(obj, dict):
            dataset.problems.append(Problem(None, where, message(NOT_AN_OBJECT, kind=kind)))
            continue
        found = True
        dataset.problems.extend(schema_problems(kind, obj, where))
        # An organization's nested services are not in its schema (the examples have
        # them): each is checked as a service.
        if kind == "organization" and isinstance(obj.get("services"), list):
            for n, service in enumerate(obj["services"]):
                dataset.problems.extend(
                    schema_problems("service", service, f"{where}/services/{n}")
                )
        flatten_into(dataset.tables, kind, obj, where)
    if not found and not dataset.problems:
        dataset.problems.append(Problem(None, None, EMPTY))
    return dataset


_INTEGER = re.compile(r"^[+-]?\d+$")


def typed_cells(kind: str, cells: dict[str, str]) -> dict[str, Any]:
    """A CSV row with its cells typed as the object's schema says (numbers as numbers).

    An empty cell is an absent field, except for a required one, which stays "" (HSDS
    requires a postal code even where there is none). A cell that does not convert is
    kept as text, so the schema check reports it."""
    types = column_types(kind)
    required = set(object_schema(kind).get("required", []))
    row: dict[str, Any] = {}
    for name, raw in cells.items():
        value = raw.strip()
        if value == "":
            if name in required:
                row[name] = ""
            continue
        kind_of = types.get(name, "string")
        if kind_of in ("number", "integer"):
            try:
                row[name] = int(value) if _INTEGER.match(value) else float(value)
            except ValueError:
                row[name] = value
        elif kind_of == "boolean" and value.lower() in ("true", "false"):
            row[name] = value.lower() == "true"
        else:
            row[name] = value
    return row


def read_package(path: Path) -> Dataset:
    """The tabular package at ``path`` (a folder or a .zip), row by row checked."""
    dataset = Dataset()
    digest = hashlib.sha256()
    found = False
    try:
        for row in read_tabular(path):
            kind = FILE_KINDS[row.file]
            digest.update(f"{row.file}:{row.line}:{sorted(row.cells.items())}".encode())
            if kind == "contact":
                dataset.tables.dropped["contact"] = dataset.tables.dropped.get("contact", 0) + 1
                continue
            typed = typed_cells(kind, row.cells)
            dataset.problems.extend(schema_problems(kind, typed, row.file, line=row.line))
            dataset.tables.add(kind, typed, f"{row.file} line {row.line}")
            found = found or kind in ("organization", "service", "location")
    except TabularError as error:
        dataset.problems.append(Problem(None, None, message(NOT_READABLE, reason=error)))
    if not found and not dataset.problems:
        dataset.problems.append(Problem(None, None, EMPTY))
    dataset.sha256 = digest.hexdigest()
    return dataset


def read_dataset(path: Path) -> Dataset:
    """A JSON file, or a tabular package (a folder, or a .zip of CSV files)."""
    if not (SCHEMA_DIR / "organization.json").is_file():
        return Dataset(problems=[Problem(None, None, message(NO_SCHEMAS, path=SCHEMA_DIR))])
    if path.is_dir() or path.suffix.lower() == ".zip":
        return read_package(path)
    return read_json(path.read_bytes())


# --- Mapping onto our records ----------------------------------------------------------------

_TIME = re.compile(
    r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?$"
)
_DAYS: Final = ("mo", "tu", "we", "th", "fr", "sa", "su")
# Fields of a schedule that make it something other than "these days, these hours, weekly".
_NOT_PLAIN: Final = ("byweekno", "bymonthday", "byyearday", "count", "until")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class HoursNotWeekly(ValueError):
    """A schedule our weekly hours cannot say (monthly, some weeks only, no times)."""


def _clock(value: Any) -> str:
    match = _TIME.match(str(value or "").strip())
    if not match:
        raise HoursNotWeekly(f"time {value!r}")
    hours, minutes = (match.group(1), match.group(2)) if match.group(1) else ("24", "00")
    return f"{hours}:{minutes}"


def opening_hours(schedules: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Weekly schedules as our ``opening_hours`` (``{"mo": [["08:00","16:00"]]}`` or
    ``{"always": true}`` for every day 00:00–24:00); None without schedules."""
    if not schedules:
        return None
    days: dict[str, list[list[str]]] = {}
    for schedule in schedules:
        freq = str(schedule.get("freq") or "WEEKLY").upper()
        if freq != "WEEKLY":
            raise HoursNotWeekly(f"freq {freq}")
        if (interval := schedule.get("interval")) not in (None, "", 1):
            raise HoursNotWeekly(f"every {interval} weeks")
        if any(schedule.get(name) not in (None, "") for name in _NOT_PLAIN):
            raise HoursNotWeekly("limited to some weeks or dates")
        byday = [part.strip().lower() for part in str(schedule.get("byday") or "").split(",")]
        byday = [day[-2:] for day in byday if day]  # "1MO" (the first Monday) is not weekly
        if not byday or any(day not in _DAYS for day in byday):
            raise HoursNotWeekly(f"days {schedule.get('byday')!r}")
        if any(len(part.strip()) > 2 for part in str(schedule.get("byday")).split(",")):
            raise HoursNotWeekly(f"days {schedule.get('byday')!r}")
        opens, closes = _clock(schedule.get("opens_at")), _clock(schedule.get("closes_at"))
        if opens == closes or opens == "24:00":
            raise HoursNotWeekly(f"{opens}–{closes}")
        for day in byday:
            if [opens, closes] not in days.setdefault(day, []):
                days[day].append([opens, closes])
    if all(days.get(day) == [["00:00", "24:00"]] for day in _DAYS):
        return {"always": True}
    return {day: sorted(days[day]) for day in _DAYS if day in days}


def _folded(text: str) -> str:
    """Lower case ASCII words: accents, apostrophes and dashes do not matter to a match
    ("Consulat d'Haïti" holds "haiti", "États-Unis" is "etats unis")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", " ", plain.lower()).strip()


@dataclass
class Place:
    """An HSDS location mapped onto the fields of our Location."""

    hsds_id: str
    name: str
    external_id: str
    organization_hsds_id: str
    values: dict[str, Any]
    category_codes: list[str]
    position: LonLat
    precision_stated: bool = False  # else the default (city) applies to a new record only
    # The phone the file describes as a 24/7 consular protection line (``mapping.
    # PROTECTION_LINE``): whether it is one is told by the organization's kind, when applied.
    protection_line: str | None = None


@dataclass
class Body:
    """An HSDS organization mapped onto the fields of our Organization."""

    hsds_id: str
    name: str
    values: dict[str, Any]
    text: str  # the description as the file has it ("" when it is only the kind's label)
    # The kind the file says (values may say less: a consulate without its country); None
    # when the file says none (the default kind then applies to a new record only).
    file_kind: OrganizationKind | None


class Mapper:
    """Maps the flat tables onto Places and Bodies, collecting notes and problems."""

    def __init__(
        self, session: Session, tables: Tables, report: ImportReport, language: str
    ) -> None:
        self.session = session
        self.tables = tables
        self.report = report
        self.language = language
        self.countries = set(session.scalars(select(Country.code)))
        self.categories = {
            category.code: category for category in session.scalars(select(ServiceCategory))
        }
        self.unknown_terms: Counter[str] = Counter()
        self.unknown_categories: Counter[str] = Counter()
        self.bad_languages: Counter[str] = Counter()
        self.named_consulates = 0
        self._index()

    # Indexes of the sub-records by the record they belong to.
    def _index(self) -> None:
        t = self.tables
        self.by_link: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for kind, links in (
            ("phone", ("service_id", "location_id", "service_at_location_id")),
            ("schedule", ("service_id", "location_id", "service_at_location_id")),
            ("language", ("service_id", "location_id")),
            ("address", ("location_id",)),
            ("cost_option", ("service_id",)),
            ("service_at_location", ("service_id", "location_id")),
        ):
            for row in t.of(kind):
                for link in links:
                    if row.get(link):
                        key = f"{kind}:{link}"
                        self.by_link.setdefault(key, {}).setdefault(str(row[link]), []).append(row)
        self.attributes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in t.of("attribute"):
            if row.get("link_id"):
                self.attributes[str(row["link_id"])].append(row)
        self.our_taxonomies = {ids.taxonomy_id(key): key for key in mapping.TAXONOMIES}
        self.taxonomy_names = {
            _folded(name): key for key, (name, _description) in mapping.TAXONOMIES.items()
        }
        known: dict[str, tuple[str, str]] = {}
        for code in self.categories:
            known[ids.taxonomy_term_id(ids.TAXONOMY_CATEGORIES, code)] = (
                ids.TAXONOMY_CATEGORIES,
                code,
            )
        for kind in OrganizationKind:
            term = ids.taxonomy_term_id(ids.TAXONOMY_ORGANIZATION_KINDS, kind.value)
            known[term] = (ids.TAXONOMY_ORGANIZATION_KINDS, kind.value)
        for precision in PositionPrecision:
            term = ids.taxonomy_term_id(ids.TAXONOMY_POSITION_PRECISION, precision.value)
            known[term] = (ids.TAXONOMY_POSITION_PRECISION, precision.value)
        self.known_terms = known

    def linked(self, kind: str, link: str, record_id: Any) -> list[dict[str, Any]]:
        return self.by_link.get(f"{kind}:{link}", {}).get(str(record_id), [])

    def terms(self, record_id: Any) -> list[tuple[str, str, dict[str, Any]]]:
        """``(taxonomy key, code, attribute)`` of our taxonomies among the attributes
        linked to ``record_id``; other terms are counted for a note."""
        found = []
        for attribute in self.attributes.get(str(record_id), []):
            term_id = str(attribute.get("taxonomy_term_id") or "")
            if term_id in self.known_terms:
                key, code = self.known_terms[term_id]
                found.append((key, code, attribute))
                continue
            term = self.tables.get("taxonomy_term", term_id) or {}
            key = self._taxonomy_of(term)
            code = str(term.get("code") or "")
            if key is not None and code:
                found.append((key, code, attribute))
            else:
                self.unknown_terms[str(term.get("name") or term.get("code") or term_id)] += 1
        return found

    def _taxonomy_of(self, term: dict[str, Any]) -> str | None:
        if key := self.our_taxonomies.get(str(term.get("taxonomy_id") or "")):
            return key
        taxonomy = self.tables.get("taxonomy", term.get("taxonomy_id")) or {}
        name = str(taxonomy.get("name") or term.get("taxonomy") or "")
        return self.taxonomy_names.get(_folded(name)) if name else None

    # --- Organizations ---

    def body(self, row: dict[str, Any], host_countries: set[str]) -> Body:
        hsds_id = str(row["id"])
        name = str(row.get("name") or "").strip()
        kind = OrganizationKind.CIVIL_SOCIETY
        stated_country: str | None = None
        file_kind: OrganizationKind | None = None
        for key, code, attribute in self.terms(hsds_id):
            if key == ids.TAXONOMY_ORGANIZATION_KINDS and code in KIND_CODES:
                kind = file_kind = OrganizationKind(code)
                value = str(attribute.get("value") or "").strip().upper()
                stated_country = value if value in self.countries else None
        sending: str | None = None
        if kind in CONSULAR_KINDS:
            sending = stated_country or self._country_in_name(name, host_countries)
            if sending is None:
                self.report.notes.append(
                    Problem(None, None, message(NO_SENDING_COUNTRY, name=name, id=hsds_id))
                )
                kind = OrganizationKind.GOVERNMENT
            elif stated_country is None:
                self.named_consulates += 1
        text = str(row.get("description") or "").strip()
        if text == mapping.KIND_LABELS[kind]:
            text = ""
        values: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "sending_country_code": sending,
            "email": _text(row.get("email")),
            "website": _text(row.get("website")),
        }
        return Body(hsds_id, name, values, text, file_kind)

    def _country_in_name(self, name: str, hosts: set[str]) -> str | None:
        """The one country of the directory named in a consular office's name, the
        countries it stands in aside ("Consulado de Guatemala en Tapachula" → GT)."""
        folded = f" {_folded(name)} "
        found = []
        for code, names in _country_names(frozenset(self.countries)).items():
            if code in hosts:
                continue
            for country_name in names:
                position = folded.find(f" {country_name} ")
                if position >= 0:
                    found.append((position, code))
                    break
        codes = {code for _position, code in found}
        if len(codes) == 1:
            return codes.pop()
        return min(found)[1] if found else None

    # --- Locations ---

    def services_of(self, location: dict[str, Any]) -> list[dict[str, Any]]:
        services = []
        for link in self.linked("service_at_location", "location_id", location["id"]):
            service = self.tables.get("service", link.get("service_id"))
            if service is not None and service not in services:
                services.append(service)
        return services

    def organization_of(
        self, location: dict[str, Any], services: list[dict[str, Any]]
    ) -> str | None:
        for candidate in (
            location.get("organization_id"),
            *(s.get("organization_id") for s in services),
        ):
            if candidate and self.tables.get("organization", candidate) is not None:
                return str(candidate)
        return None

    def place(self, location: dict[str, Any]) -> Place | None:
        """The Location an HSDS location becomes, or None (with a note) when it cannot."""
        hsds_id = str(location["id"])
        services = self.services_of(location)
        name = str(location.get("name") or "").strip()
        shown = name or (services[0].get("name") if services else "") or hsds_id

        def note(template: Any, **values: Any) -> None:
            self.report.notes.append(
                Problem(None, None, message(template, name=shown, id=hsds_id, **values))
            )

        try:
            position = LonLat.parse(location.get("longitude"), location.get("latitude"))
        except CoordinateError as error:
            note(NO_COORDINATES, reason=error)
            return None
        organization_id = self.organization_of(location, services)
        if organization_id is None:
            note(NO_ORGANIZATION)
            return None
        addresses = self.linked("address", "location_id", hsds_id)
        address = next(
            (a for a in addresses if a.get("address_type") == "physical"),
            addresses[0] if addresses else {},
        )
        country = str(address.get("country") or "").strip().upper()
        if country and country not in self.countries:
            note(UNKNOWN_COUNTRY, country=country)
            return None
        if country:
            try:
                check_placement(self.session, position, country)
            except PlacementError as error:
                note(MISPLACED, reason=error)
                return None
        else:
            found = country_at(self.session, position)
            if found is None:
                note(OUTSIDE_COUNTRIES)
                return None
            country = found.code
        city = _text(address.get("city"))
        if city is None:
            note(NO_CITY)
            return None
        statuses = {str(service.get("status") or "") for service in services}
        if services and not statuses & {"active", "temporarily closed"}:
            note(NOT_RUNNING, status=", ".join(sorted(statuses)))
            return None
        if len(services) > 1:
            note(MERGED_SERVICES, count=len(services))
        status = (
            OperationalStatus.OPEN
            if not services or "active" in statuses
            else OperationalStatus.TEMPORARILY_CLOSED
        )
        organization = self.tables.get("organization", organization_id) or {}
        organization_name = str(organization.get("name") or "").strip()
        address_1 = _text(address.get("address_1"))
        region = _text(address.get("region"))
        state = _text(address.get("state_province"))
        values: dict[str, Any] = {
            "name": name if name and name != organization_name else None,
            "address": address_1 if address_1 != city else None,
            "city": city,
            "admin_area": region or (state if state != city else None),
            "country_code": country,
            "status": status,
            "position_precision": PositionPrecision.CITY,
        }
        categories: list[str] = []
        precision_stated = False
        for key, code, _attribute in self.terms(hsds_id):
            if key == ids.TAXONOMY_POSITION_PRECISION and code in PRECISION_CODES:
                values["position_precision"] = PositionPrecision(code)
                precision_stated = True
        for service in services:
            for key, code, _attribute in self.terms(service["id"]):
                if key != ids.TAXONOMY_CATEGORIES:
                    continue
                if code not in self.categories:
                    self.unknown_categories[code] = self.unknown_categories[code] + 1
                elif code not in categories:
                    categories.append(code)
        contact_points = self._contact_points(location, services)
        protection_line = contact_points.pop("protection_line")
        values.update(contact_points)
        values.update(self._hours(location, services, note))
        values.update(self._service_texts(services, organization))
        external = _text(location.get("external_identifier"))
        if (
            external
            and location.get("external_identifier_type") == mapping.EXTERNAL_IDENTIFIER_TYPE
        ):
            external_id = external[:EXTERNAL_ID_LENGTH]
        else:
            external_id = f"{DEFAULT_SOURCE_PREFIX}:{hsds_id}"[:EXTERNAL_ID_LENGTH]
        return Place(
            hsds_id,
            shown,
            external_id,
            organization_id,
            values,
            categories,
            position,
            precision_stated,
            protection_line,
        )

    def _sub(
        self, kind: str, location: dict[str, Any], services: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Sub-records of a location: its services' first, then its links', then its own."""
        rows: list[dict[str, Any]] = []
        for service in services:
            rows.extend(self.linked(kind, "service_id", service["id"]))
        for link in self.linked("service_at_location", "location_id", location["id"]):
            rows.extend(self.linked(kind, "service_at_location_id", link["id"]))
        rows.extend(self.linked(kind, "location_id", location["id"]))
        unique: dict[str, dict[str, Any]] = {}
        for row in rows:
            unique.setdefault(str(row.get("id") or id(row)), row)
        return list(unique.values())

    def _contact_points(
        self, location: dict[str, Any], services: list[dict[str, Any]]
    ) -> dict[str, Any]:
        phones: list[str] = []
        whatsapp: str | None = None
        protection_line: str | None = None
        for phone in self._sub("phone", location, services):
            if phone.get("contact_id"):
                continue  # a person's number: never imported
            number = str(phone.get("number") or "").strip().strip('"').strip()
            if not number:
                continue
            if phone.get("extension") not in (None, ""):
                number = f"{number} ext. {phone['extension']}"
            description = str(phone.get("description") or "").strip()
            described = _folded(description)
            if protection_line is None and description == mapping.PROTECTION_LINE:
                protection_line = number
            elif whatsapp is None and phone.get("type") == "text" and "whatsapp" in described:
                whatsapp = number
            elif number not in phones:
                phones.append(number)
        languages: list[str] = []
        for language in self._sub("language", location, services):
            code = str(language.get("code") or "").strip().lower().replace("_", "-").split("-")[0]
            if not _LANGUAGE.match(code):
                self.bad_languages[str(language.get("code"))] += 1
            elif code not in languages:
                languages.append(code)
        email = next(
            (str(s["email"]).strip() for s in services if "@" in str(s.get("email") or "")), None
        )
        return {
            "phones": phones,
            "whatsapp": whatsapp,
            "languages": languages,
            "email": email,
            "protection_line": protection_line,
        }

    def _hours(
        self, location: dict[str, Any], services: list[dict[str, Any]], note: Any
    ) -> dict[str, Any]:
        schedules = self._sub("schedule", location, services)
        try:
            hours = opening_hours(schedules)
        except HoursNotWeekly as error:
            note(
                HOURS_NOT_WEEKLY,
                schedule=", ".join(str(s.get("id")) for s in schedules),
                reason=error,
            )
            return {"opening_hours": None, "hours_confirmed": False}
        descriptions = [_folded(str(s.get("description") or "")) for s in schedules]
        confirmed = bool(descriptions) and all(
            _folded(mapping.HOURS_CONFIRMED) in text for text in descriptions
        )
        return {"opening_hours": hours, "hours_confirmed": confirmed}

    def _service_texts(
        self, services: list[dict[str, Any]], organization: dict[str, Any]
    ) -> dict[str, Any]:
        """Cost, verification date and the texts of a location's services: notes (the
        first service's description, unless it is only the organization's), who is admitted
        (``eligibility_description``) and what to bring (``application_process``), each the
        first a service gives; "" when none does."""
        values: dict[str, Any] = {"cost": None, "verified_at": None}
        values.update(dict.fromkeys(TEXT_FIELDS, ""))
        if not services:
            return values
        first = services[0]
        description = str(first.get("description") or "").strip()
        if description and description != str(organization.get("description") or "").strip():
            values["notes_text"] = description
        for key, hsds_field in (
            ("admission_rules_text", "eligibility_description"),
            ("what_to_bring_text", "application_process"),
        ):
            values[key] = next(
                (text for s in services if (text := str(s.get(hsds_field) or "").strip())), ""
            )
        for service in services:
            values["cost"] = values["cost"] or self._cost(service)
            assured = service.get("assured_date")
            if assured and values["verified_at"] is None:
                try:
                    values["verified_at"] = dt.date.fromisoformat(str(assured)[:10])
                except ValueError:
                    self.report.notes.append(
                        Problem(None, None, message(BAD_DATE, id=service["id"], value=assured))
                    )
        return values

    def _cost(self, service: dict[str, Any]) -> Cost | None:
        for option in self.linked("cost_option", "service_id", service["id"]):
            value = str(option.get("option") or "").strip().lower()
            if value in COST_CODES:
                return Cost(value)
        fees = _folded(str(service.get("fees_description") or ""))
        for cost, label in mapping.COST_LABELS.items():
            if fees == _folded(label) or fees == cost.value:
                return cost
        return None

    def closing_notes(self) -> None:
        """The notes counted over the whole file, once each."""
        for term, count in sorted(self.unknown_terms.items()):
            self.report.notes.append(
                Problem(None, None, message(UNKNOWN_TERM, term=term, count=count))
            )
        for code, count in sorted(self.unknown_categories.items()):
            self.report.notes.append(
                Problem(None, None, message(UNKNOWN_CATEGORY, code=code, count=count))
            )
        for code, count in sorted(self.bad_languages.items()):
            self.report.notes.append(
                Problem(None, None, message(BAD_LANGUAGE, code=code, count=count))
            )
        if self.named_consulates:
            self.report.notes.append(
                Problem(None, None, message(SENDING_COUNTRY_FROM_NAME, count=self.named_consulates))
            )
        if dropped := self.tables.dropped.get("contact"):
            self.report.notes.append(Problem(None, None, message(CONTACTS_DROPPED, count=dropped)))


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


# Short forms that office names use besides CLDR's names ("U.S. Embassy in Panama").
COUNTRY_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "US": ("u.s.", "usa", "u.s.a.", "ee.uu.", "ee. uu.", "eua", "eeuu"),
}


@cache
def _country_names(codes: frozenset[str]) -> dict[str, list[str]]:
    """Folded names of each country in the languages of the region (CLDR), longest first."""
    names: dict[str, list[str]] = {
        code: list(aliases) for code, aliases in COUNTRY_ALIASES.items() if code in codes
    }
    for language in ("es", "en", "fr", "pt"):
        territories = Locale.parse(language).territories
        for code in codes:
            if code in territories:
                names.setdefault(code, []).append(_folded(territories[code]))
    return {code: sorted(set(found), key=len, reverse=True) for code, found in names.items()}


# --- The import itself -------------------------------------------------------------------------


@dataclass
class _Applier:
    session: Session
    report: ImportReport
    source: str
    language: str
    user_id: int | None
    batch: ImportBatch
    slugs: set[str] = field(default_factory=set)
    categories: dict[str, ServiceCategory] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.categories = {c.code: c for c in self.session.scalars(select(ServiceCategory))}

    def organization(self, body: Body, existing: Organization | None) -> Organization:
        values = dict(body.values)
        if body.text:
            values["descriptions"] = {self.language: body.text}
            values["description_language"] = self.language
        if existing is None:
            record = Organization(
                slug=self._slug(body.name),
                external_id=f"{DEFAULT_SOURCE_PREFIX}:{body.hsds_id}"[:EXTERNAL_ID_LENGTH],
                source=self.source,
                import_id=self.batch.id,
                **values,
            )
            create_record(self.session, record, self.user_id)
            self.report.added += 1
            return record
        if existing.descriptions and body.text in existing.descriptions.values():
            values.pop("descriptions", None)
            values.pop("description_language", None)
        if values.get("sending_country_code") is None:
            values.pop("sending_country_code")  # not said by the file: kept
            if body.file_kind in CONSULAR_KINDS and existing.sending_country_code:
                values["kind"] = body.file_kind  # the office we hold knows its country
        if body.file_kind is None:
            values.pop("kind")  # a feed without our kinds does not make a consulate an NGO
        self._update(existing, values)
        return existing

    def location(self, place: Place, organization: Organization, existing: Location | None) -> None:
        values = dict(place.values)
        texts = {key: values.pop(key) for key in TEXT_FIELDS}
        values["organization_id"] = organization.id
        values["categories"] = [self.categories[code] for code in place.category_codes]
        for key, text in texts.items():
            if text:
                texts_field, language_field = TEXT_FIELDS[key]
                values[texts_field] = {self.language: text}
                values[language_field] = self.language
        if place.protection_line is not None:
            self._protection_line(place, organization, values)
        if existing is None:
            record = Location(
                external_id=place.external_id,
                point=place.position.to_wkt_element(),
                source=self.source,
                import_id=self.batch.id,
                **values,
            )
            create_record(self.session, record, self.user_id)
            self.report.added += 1
            return
        held = existing.position
        if (round(held.lon, 6), round(held.lat, 6)) != (place.position.lon, place.position.lat):
            values["point"] = place.position.to_wkt_element()
        if not place.precision_stated:
            values.pop("position_precision")
        for key, text in texts.items():
            texts_field, language_field = TEXT_FIELDS[key]
            if text and text in (getattr(existing, texts_field) or {}).values():
                values.pop(texts_field)  # already there, in some language: left as it is
                values.pop(language_field)
        self._update(existing, values)

    def _protection_line(
        self, place: Place, organization: Organization, values: dict[str, Any]
    ) -> None:
        """The protection line the file gives, as the workspace would take it
        (``editing.check_protection_phone``): a consular office's ``protection_phone``;
        on any other place, or when it is not one phone number, an ordinary phone, with a
        note. A file without one leaves the line the record has."""
        number = place.protection_line
        problem = check_protection_phone(OrganizationKind(organization.kind), number)
        if problem is None:
            values["protection_phone"] = number
            return
        template = (
            PROTECTION_LINE_NOT_CONSULAR
            if problem == EditingProblem.NOT_CONSULAR
            else PROTECTION_LINE_NOT_A_PHONE
        )
        self.report.notes.append(
            Problem(None, None, message(template, name=place.name, id=place.hsds_id, number=number))
        )
        if number not in values["phones"]:
            values["phones"] = [*values["phones"], number]

    def _update(self, record: Any, values: dict[str, Any]) -> None:
        changing = {
            name: value
            for name, value in values.items()
            if comparable(value) != comparable(getattr(record, name))
        }
        if not changing:
            self.report.unchanged += 1
            return
        changing["import_id"] = self.batch.id
        apply_edit(
            self.session, record, changing, expected_version=record.version, user_id=self.user_id
        )
        self.report.updated += 1

    def _slug(self, name: str) -> str:
        base = (slugify(name) or "organization")[: SLUG_LENGTH - 8].strip("-")
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(slug)
        return slug


def _by_external_id(session: Session, model: Any, keys: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    pending = list(keys)
    for start in range(0, len(pending), 1000):
        chunk = pending[start : start + 1000]
        for record in session.scalars(select(model).where(model.external_id.in_(chunk))):
            found[record.external_id] = record
    return found


def import_dataset(
    session: Session,
    dataset: Dataset,
    *,
    apply: bool,
    source: str,
    filename: str,
    user_id: int | None = None,
    language: str = DEFAULT_TEXT_LANGUAGE,
    progress: Progress[Any] = no_progress,
) -> ImportReport:
    """Map ``dataset`` onto our records: a dry run (``apply`` False: counts, notes, nothing
    kept) or the apply (flushed in the caller's transaction, an ``ImportBatch`` recorded).
    A dataset with problems is reported and never applied."""
    report = ImportReport(problems=list(dataset.problems))
    if missing := reference_data_problem(session):
        report.problems.append(missing)
    if report.problems:
        return report
    tables = dataset.tables
    savepoint = session.begin_nested()
    try:
        moved = _map_and_write(
            session, tables, report, source, filename, dataset.sha256, user_id, language, progress
        )
    except BaseException:
        savepoint.rollback()
        raise
    if report.problems or not apply:
        savepoint.rollback()
        report.applied = False
        return report
    savepoint.commit()
    groups = groups_of_offices(session, moved)
    recompute_groups(session, groups)
    report.districts = [(group.nationality, group.host) for group in groups]
    report.applied = True
    return report


def _map_and_write(
    session: Session,
    tables: Tables,
    report: ImportReport,
    source: str,
    filename: str,
    sha256: str,
    user_id: int | None,
    language: str,
    progress: Progress[Any],
) -> dict[int, set[str]]:
    """Map the tables and write them; returns the locations added or moved (id → the host
    country before a move), whose consular districts an apply recomputes."""
    mapper = Mapper(session, tables, report, language)
    locations = tables.of("location")
    organizations = tables.of("organization")
    report.rows = len(organizations) + len(locations)

    places: list[Place] = []
    seen_external: dict[str, str] = {}
    for location in locations:
        place = mapper.place(location)
        if place is None:
            continue
        if place.external_id in seen_external:
            report.problems.append(
                Problem(
                    None,
                    tables.origins.get(("location", place.hsds_id)),
                    message(
                        DUPLICATE_EXTERNAL_ID,
                        id=place.hsds_id,
                        external_id=place.external_id,
                        other=seen_external[place.external_id],
                    ),
                )
            )
            continue
        seen_external[place.external_id] = place.hsds_id
        places.append(place)
    located = {link.get("service_id") for link in tables.of("service_at_location")}
    for service in tables.of("service"):
        if service.get("id") not in located:
            report.notes.append(
                Problem(
                    None,
                    None,
                    message(
                        SERVICE_WITHOUT_LOCATION, name=service.get("name"), id=service.get("id")
                    ),
                )
            )
    hosts: dict[str, set[str]] = defaultdict(set)
    for place in places:
        hosts[place.organization_hsds_id].add(place.values["country_code"])
    bodies = [mapper.body(row, hosts[str(row["id"])]) for row in organizations]
    mapper.closing_notes()
    if report.problems:
        return {}

    batch = ImportBatch(
        kind=ImportKind.HSDS,
        status=ImportStatus.APPLIED,
        source=source,
        filename=filename[:300],
        sha256=sha256,
        user_id=user_id,
    )
    session.add(batch)
    session.flush()
    applier = _Applier(
        session,
        report,
        source,
        language,
        user_id,
        batch,
        set(session.scalars(select(Organization.slug))),
    )
    existing_organizations = _by_external_id(
        session, Organization, [f"{DEFAULT_SOURCE_PREFIX}:{body.hsds_id}" for body in bodies]
    )
    ours = _our_organizations(session, bodies)
    records: dict[str, Organization] = {}
    for body in progress(bodies, "organizations"):
        key = f"{DEFAULT_SOURCE_PREFIX}:{body.hsds_id}"
        existing = existing_organizations.get(key) or ours.get(body.hsds_id)
        records[body.hsds_id] = applier.organization(body, existing)
    existing_locations = _by_external_id(session, Location, [p.external_id for p in places])
    before = {
        record.id: (record.country_code, record.position) for record in existing_locations.values()
    }
    for place in progress(places, "locations"):
        organization = records[place.organization_hsds_id]
        applier.location(place, organization, existing_locations.get(place.external_id))
    session.flush()
    batch.counts = report.counts()
    batch.applied_at = utcnow()
    session.flush()
    return _added_or_moved(session, batch, before)


def _added_or_moved(
    session: Session, batch: ImportBatch, before: dict[int, tuple[str, LonLat]]
) -> dict[int, set[str]]:
    """The batch's locations that are new or stand elsewhere than ``before`` (id → (host,
    point) of the records the batch matched)."""
    moved: dict[int, set[str]] = {}
    for record in session.scalars(select(Location).where(Location.import_id == batch.id)):
        held = before.get(record.id)
        if held is None:
            moved[record.id] = set()
        elif held != (record.country_code, record.position):
            moved[record.id] = {held[0]}
    return moved


def _our_organizations(session: Session, bodies: Sequence[Body]) -> dict[str, Organization]:
    """Organizations of this directory that an HSDS organization is (our own export read
    back: the id is ours and the name the same), so they are updated, not duplicated."""
    wanted = {body.hsds_id: body.name for body in bodies}
    found: dict[str, Organization] = {}
    names = set(wanted.values())
    for record in session.scalars(select(Organization).where(Organization.name.in_(names))):
        hsds_id = ids.organization_id(record.id)
        if wanted.get(hsds_id) == record.name:
            found[hsds_id] = record
    return found


def default_source(path: Path) -> str:
    return f"{DEFAULT_SOURCE_PREFIX}:{path.name}"


def import_hsds(
    session: Session,
    path: Path,
    *,
    apply: bool,
    source: str | None = None,
    user_id: int | None = None,
    language: str = DEFAULT_TEXT_LANGUAGE,
    progress: Progress[Any] = no_progress,
) -> ImportReport:
    """Read, check and import the HSDS dataset at ``path`` (JSON file, folder or .zip)."""
    dataset = read_dataset(path)
    return import_dataset(
        session,
        dataset,
        apply=apply,
        source=(source or default_source(path)).strip()[:200],
        filename=path.name,
        user_id=user_id,
        language=language,
        progress=progress,
    )


__all__ = [
    "TABLES",
    "Dataset",
    "detect_kind",
    "import_dataset",
    "import_hsds",
    "opening_hours",
    "read_dataset",
    "schema_problems",
    "validator",
]
