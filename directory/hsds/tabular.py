"""The HSDS 3.0 tabular package: one CSV file per kind of object, and ``datapackage.json``.

Written from the same mapping as the JSON export (``directory.hsds.mapping``), row by row:
every CSV file is open at once and each batch of records is flattened into its rows and
written out before the next batch is read, so the package of a million locations never sits
in memory. The files and their columns are those of the specification's example package
(``examples/csv``); ``datapackage.json`` describes them as Frictionless tabular resources.

Read back (``read_tabular``, for the importer) from a folder or a ``.zip``, each row with its
line number, so a bad cell is reported where a person can find it.

``flatten`` turns nested HSDS objects (an organization with its services and locations, a
service with its service_at_locations…) into these tables, filling the link fields
(``service_id``, ``location_id``, ``link_id``…) from the nesting. Contacts are dropped whole
(with their phones): personal data never travels through an export or an import.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy.orm import Session

from directory.hsds import spec

SCHEMA_DIR: Final = spec.SCHEMA_DIR


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# kind → file (as in the specification's example package), with its columns in order.
TABLES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "organization": (
        "organizations.csv",
        _columns(
            "id name alternate_name description email website tax_status tax_id "
            "year_incorporated legal_status logo uri parent_organization_id"
        ),
    ),
    "program": (
        "programs.csv",
        _columns("id organization_id name alternate_name description"),
    ),
    "service": (
        "services.csv",
        _columns(
            "id organization_id program_id name alternate_name description url email status "
            "interpretation_services application_process fees_description wait_time fees "
            "accreditations eligibility_description minimum_age maximum_age assured_date "
            "assurer_email licenses alert last_modified"
        ),
    ),
    "attribute": (
        "attributes.csv",
        _columns("id link_id taxonomy_term_id link_type link_entity value"),
    ),
    "service_at_location": (
        "service_at_location.csv",
        _columns("id service_id location_id description"),
    ),
    "location": (
        "locations.csv",
        _columns(
            "id location_type url organization_id name alternate_name description "
            "transportation latitude longitude external_identifier external_identifier_type"
        ),
    ),
    "phone": (
        "phones.csv",
        _columns(
            "id location_id service_id organization_id contact_id service_at_location_id "
            "number extension type description"
        ),
    ),
    "contact": (
        "contacts.csv",
        _columns(
            "id organization_id service_id service_at_location_id location_id name title "
            "department email"
        ),
    ),
    "address": (
        "addresses.csv",
        _columns(
            "id location_id attention address_1 address_2 city region state_province "
            "postal_code country address_type"
        ),
    ),
    "schedule": (
        "schedules.csv",
        _columns(
            "id service_id location_id service_at_location_id valid_from valid_to dtstart "
            "timezone until count wkst freq interval byday byweekno bymonthday byyearday "
            "description opens_at closes_at schedule_link attending_type notes"
        ),
    ),
    "funding": (
        "funding.csv",
        _columns("id organization_id service_id source"),
    ),
    "service_area": (
        "service_areas.csv",
        _columns("id service_id name description extent extent_type uri"),
    ),
    "required_document": (
        "required_documents.csv",
        _columns("id service_id document uri"),
    ),
    "language": (
        "languages.csv",
        _columns("id service_id location_id phone_id name code note"),
    ),
    "accessibility": (
        "accessibility.csv",
        _columns("id location_id description details url"),
    ),
    "taxonomy_term": (
        "taxonomy_terms.csv",
        _columns("id code name description parent_id taxonomy language taxonomy_id term_uri"),
    ),
    "metadata": (
        "metadata.csv",
        _columns(
            "id resource_id resource_type last_action_date last_action_type field_name "
            "previous_value replacement_value updated_by"
        ),
    ),
    "meta_table_description": (
        "meta_table_descriptions.csv",
        _columns("id name language character_set"),
    ),
    "cost_option": (
        "cost_options.csv",
        _columns("id service_id valid_from valid_to option currency amount amount_description"),
    ),
    "organization_identifier": (
        "organization_identifiers.csv",
        _columns("id organization_id identifier_scheme identifier_type identifier"),
    ),
    "taxonomy": (
        "taxonomies.csv",
        _columns("id name description uri version"),
    ),
}
FILE_KINDS: Final = {file: kind for kind, (file, _columns) in TABLES.items()}

# Nested arrays (key → kind of its items) and nested single objects of each kind.
CHILDREN: Final[dict[str, dict[str, str]]] = {
    "organization": {
        "services": "service",
        "locations": "location",
        "phones": "phone",
        "attributes": "attribute",
        "contacts": "contact",
        "funding": "funding",
        "programs": "program",
        "organization_identifiers": "organization_identifier",
        "metadata": "metadata",
    },
    "service": {
        "service_at_locations": "service_at_location",
        "phones": "phone",
        "schedules": "schedule",
        "languages": "language",
        "service_areas": "service_area",
        "cost_options": "cost_option",
        "attributes": "attribute",
        "contacts": "contact",
        "funding": "funding",
        "required_documents": "required_document",
        "metadata": "metadata",
    },
    "service_at_location": {
        "phones": "phone",
        "schedules": "schedule",
        "contacts": "contact",
        "attributes": "attribute",
        "metadata": "metadata",
    },
    "location": {
        "addresses": "address",
        "phones": "phone",
        "schedules": "schedule",
        "languages": "language",
        "attributes": "attribute",
        "accessibility": "accessibility",
        "contacts": "contact",
        "metadata": "metadata",
    },
    "phone": {"languages": "language"},
}
# key → (kind, the field of the parent that names it).
SINGLE: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "service": {
        "organization": ("organization", "organization_id"),
        "program": ("program", "program_id"),
    },
    "service_at_location": {
        "location": ("location", "location_id"),
        "service": ("service", "service_id"),
    },
    "attribute": {"taxonomy_term": ("taxonomy_term", "taxonomy_term_id")},
    "taxonomy_term": {"taxonomy_detail": ("taxonomy", "taxonomy_id")},
}
# Never imported nor exported: a contact is a person.
PERSONAL: Final = frozenset({"contact"})

# The arrays of a dataset document (the export's, or a tabular package turned into JSON as
# the specification's examples/tabular.json does) → kind of their items.
DATASET_KEYS: Final[dict[str, str]] = {
    **{file.removesuffix(".csv"): kind for file, kind in FILE_KINDS.items()},
    "service_at_locations": "service_at_location",
}


Row = dict[str, Any]


@dataclass
class Tables:
    """Flat HSDS records by kind and id, in the order first seen; a record met twice
    (a location nested under its organization and again under a service_at_location) is
    merged, the first value of each field winning."""

    rows: dict[str, dict[str, Row]] = field(default_factory=dict)
    # (kind, id) → where the record was read ("locations.csv line 3", "/services/0").
    origins: dict[tuple[str, str], str] = field(default_factory=dict)
    # Records dropped on the way in (personal data): how many of each kind.
    dropped: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, row: Row, origin: str) -> None:
        record_id = str(row.get("id") or f"{kind}#{len(self.rows.get(kind, {}))}")
        table = self.rows.setdefault(kind, {})
        if record_id in table:
            held = table[record_id]
            for key, value in row.items():
                if held.get(key) in (None, "") and value not in (None, ""):
                    held[key] = value
            return
        table[record_id] = dict(row)
        self.origins[(kind, record_id)] = origin

    def of(self, kind: str) -> list[Row]:
        return list(self.rows.get(kind, {}).values())

    def get(self, kind: str, record_id: Any) -> Row | None:
        if record_id is None:
            return None
        return self.rows.get(kind, {}).get(str(record_id))


def _scalar_fields(kind: str, obj: Row) -> Row:
    nested = set(CHILDREN.get(kind, {})) | set(SINGLE.get(kind, {}))
    return {
        key: value
        for key, value in obj.items()
        if key not in nested and not isinstance(value, dict | list)
    }


def flatten_into(
    tables: Tables, kind: str, obj: Any, origin: str, parent: tuple[str, Row] | None = None
) -> None:
    """Add ``obj`` (an HSDS object of ``kind``) and everything nested in it to ``tables``."""
    if not isinstance(obj, dict):
        return
    if kind in PERSONAL:
        tables.dropped[kind] = tables.dropped.get(kind, 0) + 1
        return
    row = _scalar_fields(kind, obj)
    if parent is not None:
        parent_kind, parent_row = parent
        link = f"{parent_kind}_id"
        columns = TABLES.get(kind, ("", ()))[1]
        if kind == "attribute":
            row.setdefault("link_id", parent_row.get("id"))
            row.setdefault("link_entity", parent_kind)
        elif link in columns and not row.get(link):
            row[link] = parent_row.get("id")
    for key, (child_kind, link_field) in SINGLE.get(kind, {}).items():
        child = obj.get(key)
        if isinstance(child, dict):
            if not row.get(link_field) and child.get("id"):
                row[link_field] = child["id"]
            flatten_into(tables, child_kind, child, f"{origin}/{key}")
    tables.add(kind, row, origin)
    for key, child_kind in CHILDREN.get(kind, {}).items():
        children = obj.get(key)
        if isinstance(children, list):
            for n, child in enumerate(children):
                flatten_into(tables, child_kind, child, f"{origin}/{key}/{n}", (kind, row))


def flatten(objects: Iterable[tuple[str, Any, str]]) -> Tables:
    """Flatten ``(kind, object, origin)`` triples into one set of tables."""
    tables = Tables()
    for kind, obj, origin in objects:
        flatten_into(tables, kind, obj, origin)
    return tables


# --- The published schemas (column types) --------------------------------------------------


@cache
def object_schema(kind: str) -> dict[str, Any]:
    """The specification's JSON Schema of one kind of object (``schema/<kind>.json``)."""
    return spec.read_json(f"schema/{kind}.json")


def column_types(kind: str) -> dict[str, str]:
    """Each column's JSON type ("string", "number"…) as the object's schema declares it."""
    properties = object_schema(kind).get("properties", {})
    return {
        name: str(spec.get("type", "string"))
        for name, spec in properties.items()
        if isinstance(spec, dict)
    }


# --- Writing -----------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _frictionless_type(json_type: str, spec: dict[str, Any]) -> str:
    if json_type in ("number", "integer", "boolean"):
        return json_type
    fmt = spec.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    return "string"


def datapackage() -> dict[str, Any]:
    """The ``datapackage.json`` of a package holding every table of ``TABLES``."""
    resources = []
    for kind, (file, columns) in TABLES.items():
        properties = object_schema(kind).get("properties", {})
        fields = []
        for column in columns:
            spec = properties.get(column, {})
            fields.append(
                {
                    "name": column,
                    "type": _frictionless_type(str(spec.get("type", "string")), spec),
                    **({"format": "uuid"} if spec.get("format") == "uuid" else {}),
                }
            )
        resources.append(
            {
                "name": file.removesuffix(".csv"),
                "path": file,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "primaryKey": ["id"]},
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": "protection-directory-hsds",
        "title": "Protection Directory (Open Referral HSDS 3.0)",
        "resources": resources,
    }


class TabularWriter:
    """Every CSV file of the package open at once; ``write`` flattens objects into them.

    A taxonomy term nested in every attribute is written once: the ids of the terms (and
    taxonomies) written are remembered, a few dozen. Every other record comes once from
    the export, so nothing else is remembered and memory stays flat however many rows pass.
    """

    REPEATED: Final = frozenset({"taxonomy", "taxonomy_term"})

    def __init__(self, out_dir: Path, stack: ExitStack) -> None:
        self.writers: dict[str, Any] = {}
        self.written: dict[str, set[str]] = {kind: set() for kind in self.REPEATED}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        for kind, (file, columns) in TABLES.items():
            handle = stack.enter_context((out_dir / file).open("w", encoding="utf-8", newline=""))
            writer = csv.writer(handle)
            writer.writerow(columns)
            self.writers[kind] = writer

    def write(self, kind: str, obj: dict[str, Any]) -> None:
        tables = flatten([(kind, obj, "")])
        for table_kind, rows in tables.rows.items():
            if table_kind not in self.writers:
                continue
            columns = TABLES[table_kind][1]
            seen = self.written.get(table_kind)
            for record_id, row in rows.items():
                if seen is not None:
                    if record_id in seen:
                        continue
                    seen.add(record_id)
                self.writers[table_kind].writerow([_cell(row.get(column)) for column in columns])
                self.counts[table_kind] += 1


def write_tabular(session: Session, out_dir: Path) -> str:
    """Write the public directory as the HSDS tabular package into the folder ``out_dir``
    (created if missing; files of the same names are replaced). Returns a summary.

    The records are those of the JSON export (``directory.hsds.export``), read in the same
    batches, so the two formats always say the same."""
    from directory.hsds import export, mapping

    out_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        writer = TabularWriter(out_dir, stack)
        for item in mapping.taxonomies():
            writer.write("taxonomy", item)
        for item in mapping.taxonomy_terms(export.categories(session)):
            writer.write("taxonomy_term", item)
        for organizations in export.organization_batches(session):
            for organization in organizations:
                writer.write("organization", mapping.organization_object(organization))
        for locations in export.location_batches(session):
            for location in locations:
                writer.write("location", mapping.location_object(location))
                writer.write("service", mapping.service_object(location))
                writer.write("service_at_location", mapping.service_at_location_object(location))
    (out_dir / "datapackage.json").write_text(
        json.dumps(datapackage(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    counts = writer.counts
    return (
        f"{counts['organization']} organizations, {counts['location']} locations, "
        f"{counts['service']} services"
    )


# --- Reading -------------------------------------------------------------------------------


class TabularError(ValueError):
    """The package cannot be read at all (not a folder or zip of CSV files, bad encoding)."""


@dataclass(frozen=True, slots=True)
class TabularRow:
    file: str
    line: int
    cells: dict[str, str]


def _listed_files(datapackage_text: str | None) -> list[str] | None:
    """The CSV paths ``datapackage.json`` lists; None when it is absent or unreadable (the
    specification's own example package ships a broken one), then the known names serve."""
    if not datapackage_text:
        return None
    try:
        document = json.loads(datapackage_text)
        paths = [resource["path"] for resource in document["resources"]]
    except (ValueError, KeyError, TypeError):
        return None
    return [str(path) for path in paths if isinstance(path, str)]


def _rows(file: str, handle: IO[str]) -> Iterator[TabularRow]:
    reader = csv.DictReader(handle)
    for line_number, cells in enumerate(reader, start=2):
        yield TabularRow(
            file,
            line_number,
            {str(key): (value or "") for key, value in cells.items() if key is not None},
        )


def read_tabular(path: Path) -> Iterator[TabularRow]:
    """Every row of every known CSV file of the package at ``path`` (a folder or a .zip).

    Files come in the order of ``TABLES`` (organizations first); files the package lacks are
    skipped, unknown files ignored. ``TabularError`` when the package cannot be read.
    """
    try:
        if path.is_dir():
            yield from _read_folder(path)
        elif zipfile.is_zipfile(path):
            yield from _read_zip(path)
        else:
            raise TabularError(f"{path.name}: neither a folder nor a .zip of CSV files")
    except UnicodeDecodeError as error:
        raise TabularError(f"{path.name}: not UTF-8 text ({error.reason})") from None
    except (OSError, zipfile.BadZipFile, csv.Error) as error:
        raise TabularError(f"{path.name}: cannot be read ({error})") from None


def _ordered(names: Iterable[str], listed: list[str] | None) -> list[str]:
    present = {Path(name).name: name for name in names}
    wanted = [file for file, _ in (TABLES[kind] for kind in TABLES)]
    if listed is not None:
        wanted = [file for file in wanted if any(Path(p).name == file for p in listed)]
    return [present[file] for file in wanted if file in present]


def _read_folder(folder: Path) -> Iterator[TabularRow]:
    package = folder / "datapackage.json"
    listed = _listed_files(package.read_text(encoding="utf-8") if package.is_file() else None)
    names = [child.name for child in folder.iterdir() if child.is_file()]
    for name in _ordered(names, listed):
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            yield from _rows(name, handle)


def _read_zip(path: Path) -> Iterator[TabularRow]:
    with zipfile.ZipFile(path) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        package = next((name for name in names if Path(name).name == "datapackage.json"), None)
        listed = _listed_files(archive.read(package).decode("utf-8") if package else None)
        for name in _ordered(names, listed):
            with archive.open(name) as raw:
                handle = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                yield from _rows(Path(name).name, handle)
