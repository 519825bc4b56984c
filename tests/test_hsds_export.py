"""The HSDS 3.0 export: valid against the published schemas, public data only, streamed.

The validator is proven first: every example of the specification validates against its
schema (the published files, kept in directory/hsds/spec, their $refs resolved there), and
broken copies of them fail. Then the export of the demo directory validates object by
object, holds no contact person's data and nothing archived, and its memory stays flat as
the directory grows. ``HSDS_SCHEMAS``, ``validator`` and ``published_openapi`` are shared
with tests/test_hsds_api.py, ``public_place`` with the other HSDS tests.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import tracemalloc
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson
from directory.db import CONSULAR_KINDS, OrganizationKind, PositionPrecision
from directory.hsds import export, ids, mapping, spec
from directory.hsds.api import PUBLISHED_OPENAPI
from directory.places.models import Location, Organization
from geo.coordinates import LonLat
from tests import factories

HSDS_SCHEMAS = spec.SCHEMA_DIR
HSDS_EXAMPLES = spec.EXAMPLES_DIR
# Where the published documents live; their $refs name these addresses, read from disk here.
PUBLISHED = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


# --- Schemas from disk --------------------------------------------------------------------


@cache
def registry() -> Registry:
    """Every schema file (and openapi.json) under its published address, so relative and
    absolute $refs resolve from disk, never from the network."""
    resources = []
    for path in sorted([*HSDS_SCHEMAS.rglob("*.json"), *HSDS_SCHEMAS.rglob("*.json.gz")]):
        relative = path.relative_to(HSDS_SCHEMAS).as_posix().removesuffix(".gz")
        contents = spec.read_json(f"schema/{relative}")
        resources.append((PUBLISHED + relative, Resource.from_contents(contents, DRAFT202012)))
    return Registry().with_resources(resources)


def validator(name: str) -> Draft202012Validator:
    """A Draft 2020-12 validator, formats checked, for ``name`` (``compiled/service.json``,
    ``taxonomy.json``…) or a JSON pointer into openapi.json (``openapi.json#/paths/…``)."""
    return Draft202012Validator(
        {"$ref": PUBLISHED + name},
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def response_schema(path: str) -> str:
    """The pointer to the 200 answer's schema of GET ``path`` in the published document."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"openapi.json#/paths/{escaped}/get/responses/200/content/application~1json/schema"


def problems(name: str, document: Any) -> list[str]:
    found = validator(name).iter_errors(document)
    return sorted(f"{list(error.absolute_path)}: {error.message}" for error in found)


def published_openapi() -> dict[str, Any]:
    return json.loads(spec.read_bytes("schema/openapi.json"))


# Each example of the specification and the schema it is an instance of.
EXAMPLES = {
    "base.json": response_schema("/"),
    "location.json": "location.json",
    "organization_full.json": "compiled/organization.json",
    "organization_list.json": response_schema("/organizations"),
    "service_at_location_full.json": "compiled/service_at_location.json",
    "service_at_location_list.json": response_schema("/service_at_locations"),
    "service_full.json": "compiled/service.json",
    "service_list.json": response_schema("/services"),
    "taxonomy.json": "taxonomy.json",
    "taxonomy_list.json": response_schema("/taxonomies"),
    "taxonomy_term.json": "taxonomy_term.json",
    "taxonomy_term_list.json": response_schema("/taxonomy_terms"),
}
# tabular.json holds rows keyed by CSV file; each row is an object of the flat schema.
TABULAR_FILES = {
    "organizations.csv": "organization.json",
    "services.csv": "service.json",
    "locations.csv": "location.json",
    "service_at_location.csv": "service_at_location.json",
    "phones.csv": "phone.json",
    "schedules.csv": "schedule.json",
    "addresses.csv": "address.json",
    "attributes.csv": "attribute.json",
}


def example(name: str) -> Any:
    return json.loads((HSDS_EXAMPLES / name).read_text(encoding="utf-8"))


def test_the_published_document_is_the_one_we_resolve():
    assert PUBLISHED + "openapi.json" == PUBLISHED_OPENAPI
    refs = {ref for ref in _refs(published_openapi()) if not ref.startswith("#")}
    assert refs, "the document names its schemas by their published address"
    for ref in refs:
        assert ref.startswith(PUBLISHED), ref
        assert spec.read_bytes("schema/" + ref.removeprefix(PUBLISHED).split("#")[0]), ref


def _refs(value: Any):
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_every_example_file_is_covered():
    names = {path.name for path in HSDS_EXAMPLES.glob("*.json")}
    assert names == {*EXAMPLES, "tabular.json"}


@pytest.mark.parametrize(("name", "schema"), sorted(EXAMPLES.items()))
def test_each_example_of_the_specification_validates(name, schema):
    assert problems(schema, example(name)) == []


def test_the_tabular_example_validates_row_by_row_but_for_its_one_slip():
    """The rows of tabular.json against the flat schemas: all valid except one that the
    validator rightly catches (a number where the schema wants a string)."""
    rows = example("tabular.json")
    found = []
    checked = 0
    for file_name, schema in TABULAR_FILES.items():
        for row in rows[file_name]:
            found += [(file_name, problem) for problem in problems(schema, row)]
            checked += 1
    assert checked >= len(TABULAR_FILES)
    assert found == [
        ("locations.csv", "['external_identifier']: 10092008082 is not of type 'string'")
    ]


def test_formats_are_checked():
    checker = Draft202012Validator.FORMAT_CHECKER
    for name in ("uuid", "email", "date-time"):
        assert name in checker.checkers, name  # date-time needs rfc3339-validator


@pytest.mark.parametrize(
    ("name", "schema", "break_it", "expected"),
    [
        ("service_full.json", "compiled/service.json", lambda d: d.pop("name"), "'name'"),
        ("service_full.json", "compiled/service.json", lambda d: d.update(status=1), "status"),
        (
            "service_full.json",
            "compiled/service.json",
            lambda d: d.update(status="open"),
            "'open' is not one of",
        ),
        (
            "service_full.json",
            "compiled/service.json",
            lambda d: d["phones"][0].update(id="phone-1"),
            "'phone-1' is not a 'uuid'",
        ),
        (
            "service_full.json",
            "compiled/service.json",
            lambda d: d.update(last_modified="yesterday"),
            "'yesterday' is not a 'date-time'",
        ),
        (
            "organization_full.json",
            "compiled/organization.json",
            lambda d: d.pop("description"),
            "'description'",
        ),
        ("location.json", "location.json", lambda d: d.update(latitude="north"), "number"),
        (
            "service_at_location_full.json",
            "compiled/service_at_location.json",
            lambda d: d["location"].pop("location_type"),
            "'location_type'",
        ),
        (
            "taxonomy_term.json",
            "taxonomy_term.json",
            lambda d: d["taxonomy_detail"].pop("name"),
            "'name'",
        ),
        (
            "service_list.json",
            response_schema("/services"),
            lambda d: d["contents"][0].pop("status"),
            "'status'",
        ),
        (
            "service_list.json",
            response_schema("/services"),
            lambda d: d.update(total_items="many"),
            "integer",
        ),
    ],
)
def test_a_broken_example_fails(name, schema, break_it, expected):
    broken = copy.deepcopy(example(name))
    break_it(broken)
    found = problems(schema, broken)
    assert found, "the validator let a broken document through"
    assert any(expected in problem for problem in found), found


# --- The export of the demo directory ---------------------------------------------------------


def exported(session: Session, **options: Any) -> dict[str, Any]:
    return json.loads("".join(export.export_json(session, **options)))


# The schema each exported array's items follow.
ARRAY_SCHEMAS = {
    "taxonomies": "taxonomy.json",
    "taxonomy_terms": "taxonomy_term.json",
    "organizations": "compiled/organization.json",
    "locations": "location.json",
    "services": "compiled/service.json",
    "service_at_locations": "compiled/service_at_location.json",
}


@pytest.fixture
def demo_export(demo_session: Session) -> dict[str, Any]:
    return exported(demo_session)


def test_the_demo_export_validates_against_the_published_schemas(demo_export):
    assert list(demo_export) == ["hsds_version", *export.COLLECTIONS]
    assert demo_export["hsds_version"] == "3.0"
    for array, schema in ARRAY_SCHEMAS.items():
        items = demo_export[array]
        assert items, array
        check = validator(schema)
        for item in items:
            errors = sorted(check.iter_errors(item), key=str)
            assert errors == [], (array, item["id"], errors[0].message if errors else "")


def test_the_export_is_the_public_directory_and_hangs_together(demo_export, demo_session):
    organizations, locations = export.count_public(demo_session)
    assert len(demo_export["organizations"]) == organizations > 100
    for array in ("locations", "services", "service_at_locations"):
        assert len(demo_export[array]) == locations > 100
    every_id = [item["id"] for array in export.COLLECTIONS for item in demo_export[array]]
    assert len(every_id) == len(set(every_id))

    organization_ids = {item["id"] for item in demo_export["organizations"]}
    location_ids = {item["id"] for item in demo_export["locations"]}
    service_ids = {item["id"] for item in demo_export["services"]}
    term_ids = {item["id"] for item in demo_export["taxonomy_terms"]}
    taxonomy_ids = {item["id"] for item in demo_export["taxonomies"]}
    assert {item["organization_id"] for item in demo_export["services"]} == organization_ids
    assert {item["organization_id"] for item in demo_export["locations"]} == organization_ids
    assert {item["service_id"] for item in demo_export["service_at_locations"]} == service_ids
    assert {item["location_id"] for item in demo_export["service_at_locations"]} == location_ids
    assert {term["taxonomy_id"] for term in demo_export["taxonomy_terms"]} == taxonomy_ids
    for array in ("organizations", "locations", "services"):
        for item in demo_export[array]:
            for attribute in item["attributes"]:
                assert attribute["taxonomy_term_id"] in term_ids
                assert attribute["link_id"] == item["id"]


def test_records_map_as_the_mapping_says(demo_export, demo_session):
    location = demo_session.scalars(
        select(Location)
        .where(Location.archived_at.is_(None), Location.opening_hours.is_not(None))
        .order_by(Location.id)
        .limit(1)
    ).one()
    service_id = ids.service_id(location.id)
    (service,) = [s for s in demo_export["services"] if s["id"] == service_id]
    assert service["name"] == f"{location.organization.name} — {location.city}"
    assert service["organization_id"] == ids.organization_id(location.organization_id)
    codes = {a["taxonomy_term"]["code"] for a in service["attributes"]}
    assert codes == {category.code for category in location.categories}
    assert service["schedules"], "hours become schedules"
    assert [lang["code"] for lang in service["languages"]] == list(location.languages)
    (site,) = [s for s in demo_export["locations"] if s["id"] == ids.location_id(location.id)]
    assert site["external_identifier"] == location.external_id
    assert site["latitude"] == round(location.position.lat, 6)
    assert site["addresses"][0]["country"] == location.country_code
    (precision,) = site["attributes"]
    assert precision["taxonomy_term"]["code"] == location.position_precision.value
    organization = next(
        o
        for o in demo_export["organizations"]
        if o["id"] == ids.organization_id(location.organization_id)
    )
    (kind,) = organization["attributes"]
    assert kind["taxonomy_term"]["code"] == location.organization.kind.value


def public_place(session: Session, *kinds: OrganizationKind) -> Location:
    """The first public place (by id) of an organization of one of ``kinds``; a consular
    office with its sending country, so an import can tell it is one."""
    query = export.public_locations().where(Organization.kind.in_(kinds))
    if set(kinds) <= set(CONSULAR_KINDS):
        query = query.where(Organization.sending_country_code.is_not(None))
    return session.scalars(query.order_by(Location.id).limit(1)).one()


def add_referral_fields(session: Session) -> tuple[Location, Location]:
    """Issue 15's fields on two public places, in Spanish: a consular office's protection
    line and what to bring, a shelter's admission rules and what to bring. Returns (office,
    shelter); the caller's session rolls them back."""
    consular = public_place(session, *CONSULAR_KINDS)
    shelter = public_place(session, OrganizationKind.SHELTER)
    consular.protection_phone = "+52 962 626 1111"
    consular.what_to_bring = {"es": "Pasaporte o acta de nacimiento, si los tiene."}
    consular.what_to_bring_language = "es"
    shelter.admission_rules = {"es": "Familias y mujeres con sus hijos."}
    shelter.admission_rules_language = "es"
    shelter.what_to_bring = {"es": "Documento de identidad, si lo tiene."}
    shelter.what_to_bring_language = "es"
    session.flush()
    return consular, shelter


def _service(session: Session, location: Location) -> dict[str, Any]:
    (service,) = [
        s for s in exported(session)["services"] if s["id"] == ids.service_id(location.id)
    ]
    return service


def test_the_referral_fields_are_carried_and_valid(demo_session):
    """Issue 15's fields: the protection line is one more phone after the voice phones and
    WhatsApp (the others keep their ids), who is admitted is ``eligibility_description``
    and what to bring ``application_process``, each in the language it was written in."""
    consular = public_place(demo_session, *CONSULAR_KINDS)
    shelter = public_place(demo_session, OrganizationKind.SHELTER)
    consular.phones = ["+52 962 111 1111", "+52 962 111 2222"]
    consular.whatsapp = "+52 962 222 2222"
    consular.protection_phone = None
    demo_session.flush()
    without = _service(demo_session, consular)["phones"]
    assert not any(phone.get("description") == mapping.PROTECTION_LINE for phone in without)

    consular.protection_phone = "+52 962 333 3333"
    shelter.admission_rules = {"es": "Familias y mujeres solas.", "en": "Families, women."}
    shelter.admission_rules_language = "en"
    shelter.what_to_bring = {"es": "Documento de identidad, si lo tiene."}
    shelter.what_to_bring_language = "es"
    demo_session.flush()

    service = _service(demo_session, consular)
    assert [(p["number"], p["type"], p.get("description")) for p in service["phones"]] == [
        ("+52 962 111 1111", "voice", None),
        ("+52 962 111 2222", "voice", None),
        ("+52 962 222 2222", "text", mapping.WHATSAPP),
        ("+52 962 333 3333", "voice", "24/7 consular protection line"),
    ]
    assert [p["id"] for p in service["phones"][:3]] == [p["id"] for p in without]
    assert "eligibility_description" not in service
    assert "application_process" not in service

    sheltered = _service(demo_session, shelter)
    assert sheltered["eligibility_description"] == "Families, women."  # as written
    assert sheltered["application_process"] == "Documento de identidad, si lo tiene."
    assert not any(p.get("description") == mapping.PROTECTION_LINE for p in sheltered["phones"])

    for location, body in ((consular, service), (shelter, sheltered)):
        assert problems("compiled/service.json", body) == []
        listed = mapping.service_list_object(location)
        assert problems("compiled/service_list.json", listed) == []
        for field in ("eligibility_description", "application_process"):
            assert listed.get(field) == body.get(field)


def test_no_contact_person_is_in_the_export(demo_session):
    text = "".join(export.export_json(demo_session))
    people = demo_session.scalars(select(ContactPerson)).all()
    assert len(people) > 10
    for person in people:
        for value in (person.name, person.email, person.phone):
            if value:
                assert value not in text, f"contact person data in the export: {value!r}"


def test_archived_records_are_left_out(demo_session):
    organization = demo_session.scalars(
        select(Organization)
        .where(Organization.archived_at.is_(None))
        .where(
            select(func.count(Location.id))
            .where(Location.organization_id == Organization.id)
            .scalar_subquery()
            == 1
        )
        .order_by(Organization.id)
        .limit(1)
    ).one()
    (site,) = organization.locations
    other = demo_session.scalars(
        select(Location)
        .where(Location.organization_id != organization.id, Location.archived_at.is_(None))
        .order_by(Location.id)
        .limit(1)
    ).one()
    before = exported(demo_session)
    other.archived_at = dt.datetime.now(dt.UTC)
    site.archived_at = dt.datetime.now(dt.UTC)
    demo_session.flush()
    after = exported(demo_session)
    text = json.dumps(after)
    for record_id in (ids.location_id(site.id), ids.location_id(other.id)):
        assert record_id in json.dumps(before)
        assert record_id not in text
    # The organization had no other location: it is no longer public.
    assert ids.organization_id(organization.id) not in text
    assert len(after["services"]) == len(before["services"]) - 2


# --- Streaming ---------------------------------------------------------------------------------


def _add_locations(session: Session, organization: Organization, count: int, start: int) -> None:
    """``count`` locations in one statement (the factories flush one by one)."""
    session.execute(
        insert(Location),
        [
            {
                "external_id": f"memory:{n}",
                "organization_id": organization.id,
                "name": f"Site {n}",
                "city": "Tapachula",
                "country_code": "MX",
                "point": LonLat(-92.26 + n / 100_000, 14.9).to_wkt_element(),
                "position_precision": PositionPrecision.CITY,
                "timezone": "America/Mexico_City",
                "phones": ["+52 962 000 0000", "+52 962 111 1111"],
                "languages": ["es", "en"],
                "opening_hours": {"mo": [["08:00", "16:00"]], "tu": [["08:00", "16:00"]]},
                "notes": {"es": "Nota de prueba " * 10},
                "notes_language": "es",
                "status": "open",
                "source": "tests",
            }
            for n in range(start, start + count)
        ],
    )
    session.flush()


def _peak_while_streaming(session: Session) -> tuple[int, int]:
    """(peak traced bytes, bytes written) while the export is consumed chunk by chunk."""
    written = 0
    tracemalloc.start()
    try:
        for chunk in export.export_json(session, batch_size=100):
            written += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, written


def test_the_export_streams_in_bounded_memory(db_session):
    factories.country(db_session, "MX")
    organization = factories.organization(db_session, OrganizationKind.SHELTER)
    _add_locations(db_session, organization, 200, 0)
    _peak_while_streaming(db_session)  # warm-up: compiled statements, caches
    small_peak, small_size = _peak_while_streaming(db_session)
    _add_locations(db_session, organization, 1_800, 200)
    db_session.expire_all()
    large_peak, large_size = _peak_while_streaming(db_session)
    assert large_size > 8 * small_size  # ten times the locations, ten times the text…
    assert large_peak < 2 * small_peak, (small_peak, large_peak)  # …in the same memory


# --- The command and the download ------------------------------------------------------------


def test_the_command_writes_the_document(demo_runner, demo_session, tmp_path):
    out = tmp_path / "directory.json"
    result = demo_runner.invoke(args=["export", "hsds", "--format", "json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == exported(demo_session)
    assert "records written" in result.stderr
    assert not list(tmp_path.glob(".*partial"))


def test_the_command_refuses_a_folder_for_json(demo_runner, tmp_path):
    result = demo_runner.invoke(args=["export", "hsds", "--format", "json", str(tmp_path)])
    assert result.exit_code == 2
    assert "folder" in result.output


def test_the_public_download_is_streamed_and_cached(demo_app, demo_session):
    client = demo_app.test_client()
    response = client.get("/hsds/v3/export.json", headers={"Origin": "https://partner.example"})
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.get_data(as_text=True)) == exported(demo_session)


def test_the_kept_copy_is_the_published_specification():
    """``directory/hsds/spec`` holds the files of ``shared/hsds-3.0`` byte for byte (the
    compiled schemas gzipped): every file's SHA-256 is the one ``SHA256SUMS`` recorded from
    the published copy, and every file listed is there."""
    listed = {}
    for line in (spec.SPEC_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.removeprefix("./")] = digest
    assert len(listed) > 60
    for name, digest in listed.items():
        assert hashlib.sha256(spec.read_bytes(name)).hexdigest() == digest, name
    kept = {
        path.relative_to(spec.SPEC_DIR).as_posix().removesuffix(".gz")
        for path in spec.SPEC_DIR.rglob("*")
        if path.is_file() and path.name != "SHA256SUMS"
    }
    assert kept == set(listed)
