"""Importing HSDS 3.0 (issue 13, point 4): round trip, the specification's examples, bad input.

The round trip runs against an EMPTY migrated database that only has the countries and the
service categories (from the seeds, as ``flask seed demo`` loads them): the demo directory
exported as HSDS JSON by ``directory.hsds.export`` imports there, and exporting that
database again gives the same documents once ids are set aside. The demo data has none of
what a referral needs (issue 15), so the exported source is given it first: a consular
office's protection line, a shelter's admission rules and what to bring. The specification's own
examples import with notes only (their one location has latitude 100), a dry run applies
nothing, and a file that breaks the schema is reported in full with nothing applied.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson
from directory.cli import SEEDS_DIR
from directory.db import (
    OperationalStatus,
    OrganizationKind,
    PositionPrecision,
    db,
)
from directory.hsds import export, ids, mapping, spec
from directory.hsds.importer import (
    HoursNotWeekly,
    detect_kind,
    import_hsds,
    opening_hours,
    read_dataset,
)
from directory.hsds.tabular import write_tabular
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.io.loading import no_progress
from directory.places.models import Location, Organization
from directory.seeding import DemoSeeder
from tests.conftest import (
    RUN_ID,
    _drop_database,
    _recreate_database,
    _rolled_back_session,
    make_test_app,
)
from tests.test_hsds_export import add_referral_fields

EXAMPLES = spec.EXAMPLES_DIR


# --- An empty database with the vocabularies only ---------------------------------------------


@pytest.fixture
def english(empty_session):
    """Messages read outside a request come in the app's default language (Spanish);
    these tests read them in English."""
    with force_locale("en"):
        yield


@pytest.fixture(scope="module")
def empty_app(server_url: URL, test_database: URL) -> Iterator[Flask]:
    """A migrated database holding only the countries and service categories of the seeds."""
    name = f"{server_url.database}_test_hsdsin_{RUN_ID}"
    url = _recreate_database(server_url, name)
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        seeder = DemoSeeder(db.session, SEEDS_DIR, no_progress)
        seeder.countries()
        seeder.service_categories()
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    _drop_database(server_url, name)


@pytest.fixture
def empty_session(empty_app: Flask) -> Iterator[Session]:
    with _rolled_back_session(empty_app) as session:
        yield session


def _add_referral_fields(session: Session) -> dict[str, dict[str, Any]]:
    """The referral fields on two places (``add_referral_fields``), as each record must
    have them after the round trip, by external id. The caller rolls them back."""
    consular, shelter = add_referral_fields(session)
    fields = (
        "phones",
        "whatsapp",
        "protection_phone",
        "admission_rules",
        "admission_rules_language",
        "what_to_bring",
        "what_to_bring_language",
    )
    return {
        location.external_id: {name: getattr(location, name) for name in fields}
        for location in (consular, shelter)
    }


def _referral_fields(session: Session, expected: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The fields of ``expected``'s records as ``session`` holds them."""
    found = {}
    for external_id, fields in expected.items():
        location = session.scalars(
            select(Location).where(Location.external_id == external_id)
        ).one()
        found[external_id] = {name: getattr(location, name) for name in fields}
    return found


@pytest.fixture(scope="module")
def demo_export(demo_app: Flask) -> dict[str, Any]:
    """The demo directory's HSDS export (with the referral fields added, rolled back after),
    what it says of its organizations, and the referral fields by external id."""
    with demo_app.app_context():
        referral = _add_referral_fields(db.session)
        text = "".join(export.export_json(db.session))
        people = [
            value
            for person in db.session.scalars(select(ContactPerson))
            for value in (person.name, person.email, person.phone)
            if value
        ]
        organizations = {
            (o.name, o.kind.value, o.sending_country_code)
            for o in db.session.scalars(select(Organization).where(export.has_public_location()))
        }
        db.session.rollback()
        db.session.remove()
    return {
        "text": text,
        "people": people,
        "organizations": organizations,
        "referral": referral,
    }


def _write(tmp_path: Path, document: Any, name: str = "dataset.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Organization, Location, AuditEntry, ImportBatch, ContactPerson)
    )


def normalized(value: Any) -> Any:
    """A document with its ids (and modification times) removed and its lists sorted by
    their content: what must survive a round trip."""
    if isinstance(value, dict):
        return {
            key: normalized(item)
            for key, item in value.items()
            if key != "id" and not key.endswith("_id") and key != "last_modified"
        }
    if isinstance(value, list):
        items = [normalized(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def owners(document: dict[str, Any]) -> dict[str, str]:
    """Each location (by our external id) → the name of its organization."""
    names = {o["id"]: o["name"] for o in document["organizations"]}
    return {
        location["external_identifier"]: names[location["organization_id"]]
        for location in document["locations"]
    }


# --- The round trip ---------------------------------------------------------------------------


def test_the_demo_export_round_trips_through_an_empty_database(
    empty_session, demo_export, tmp_path
):
    first = json.loads(demo_export["text"])
    path = _write(tmp_path, first)
    before = _counts(empty_session)
    assert before[:2] == (0, 0)

    report = import_hsds(empty_session, path, apply=True, source="demo export")
    assert report.problems == [], report.problems[:5]
    assert report.applied
    assert report.added == len(first["organizations"]) + len(first["locations"])
    assert (report.updated, report.unchanged) == (0, 0)

    text = "".join(export.export_json(empty_session))
    second = json.loads(text)
    assert read_dataset(_write(tmp_path, second, "second.json")).problems == []
    assert normalized(second) == normalized(first)
    assert owners(second) == owners(first)
    # What HSDS has no field for came back too: kinds, and the consulates' countries.
    imported = {
        (o.name, o.kind.value, o.sending_country_code)
        for o in empty_session.scalars(select(Organization))
    }
    assert imported == demo_export["organizations"]
    # So did what a referral needs, on the consulate's and the shelter's place.
    services = json.dumps(first["services"], ensure_ascii=False)
    assert mapping.PROTECTION_LINE in services
    assert "eligibility_description" in services
    assert "application_process" in services
    assert _referral_fields(empty_session, demo_export["referral"]) == demo_export["referral"]

    # Provenance and audit: one batch, every record created by it, audited.
    batch = empty_session.scalars(select(ImportBatch)).one()
    assert (batch.kind, batch.status, batch.source) == (
        ImportKind.HSDS,
        ImportStatus.APPLIED,
        "demo export",
    )
    assert batch.counts["added"] == report.added
    assert {location.import_id for location in empty_session.scalars(select(Location))} == {
        batch.id
    }
    created = empty_session.scalar(
        select(func.count()).where(AuditEntry.action == "create", AuditEntry.entity == "locations")
    )
    assert created == len(first["locations"])

    # The same file again changes nothing.
    again = import_hsds(empty_session, path, apply=False, source="demo export")
    assert (again.added, again.updated, again.unchanged) == (0, 0, report.rows)


@pytest.fixture(scope="module")
def demo_package(demo_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo directory as the HSDS tabular package (a folder of CSV files)."""
    folder = tmp_path_factory.mktemp("hsds") / "package"
    with demo_app.app_context():
        _add_referral_fields(db.session)
        write_tabular(db.session, folder)
        db.session.rollback()
        db.session.remove()
    return folder


def test_the_tabular_package_round_trips_too(empty_session, demo_package, demo_export):
    report = import_hsds(empty_session, demo_package, apply=True)
    assert report.problems == []
    first = json.loads(demo_export["text"])
    assert report.added == len(first["organizations"]) + len(first["locations"])
    second = json.loads("".join(export.export_json(empty_session)))
    assert normalized(second) == normalized(first)
    assert owners(second) == owners(first)
    assert _referral_fields(empty_session, demo_export["referral"]) == demo_export["referral"]


def test_a_dry_run_applies_nothing(empty_session, demo_export, tmp_path):
    path = _write(tmp_path, json.loads(demo_export["text"]))
    before = _counts(empty_session)
    report = import_hsds(empty_session, path, apply=False)
    assert report.problems == []
    assert not report.applied
    assert report.added == report.rows > 900
    assert _counts(empty_session) == before


def test_a_changed_record_is_updated_through_an_audited_edit(empty_session, tmp_path):
    document = _small_dataset()
    path = _write(tmp_path, document)
    assert import_hsds(empty_session, path, apply=True).added == 2
    document["services"][0]["phones"][0]["number"] = "+502 7777 0000"
    document["services"][0]["status"] = "temporarily closed"
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    location = empty_session.scalars(select(Location)).one()
    assert location.phones == ["+502 7777 0000"]
    assert location.status == OperationalStatus.TEMPORARILY_CLOSED
    entry = empty_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "locations")
    ).one()
    assert entry.after["phones"] == ["+502 7777 0000"]
    batches = empty_session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert location.import_id == batches[-1].id != batches[0].id


def test_what_a_feed_does_not_say_is_kept(empty_session, tmp_path):
    document = _small_dataset()
    assert import_hsds(empty_session, _write(tmp_path, document), apply=True).added == 2
    location = empty_session.scalars(select(Location)).one()
    location.position_precision = PositionPrecision.EXACT
    empty_session.flush()
    del document["organizations"][0]["attributes"]  # a feed without our kinds
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert empty_session.scalars(select(Organization.kind)).one() == OrganizationKind.SHELTER
    assert location.position_precision == PositionPrecision.EXACT


def _protection_line(number: str) -> dict[str, Any]:
    return {
        "id": ids.hsds_id("phone", f"test:{number}"),
        "number": number,
        "type": "voice",
        "description": mapping.PROTECTION_LINE,
    }


def _consulate_dataset() -> dict[str, Any]:
    """The small dataset as Mexico's consulate in Tecún Umán, with a protection line, who
    is admitted and what to bring."""
    document = _small_dataset()
    organization = document["organizations"][0]
    organization["name"] = "Consulado de México en Tecún Umán"
    organization["attributes"][0]["taxonomy_term_id"] = mapping.kind_term(
        OrganizationKind.CONSULATE
    )["id"]
    organization["attributes"][0]["value"] = "MX"
    service = document["services"][0]
    service["phones"].append(_protection_line("+502 7776 9999"))
    service["eligibility_description"] = "Personas mexicanas y sus familias."
    service["application_process"] = "Pasaporte o acta de nacimiento."
    return document


def test_a_consulates_protection_line_and_texts_come_back(empty_session, tmp_path):
    document = _consulate_dataset()
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True)
    assert (report.problems, report.added) == ([], 2)
    location = empty_session.scalars(select(Location)).one()
    assert location.organization.kind == OrganizationKind.CONSULATE
    assert location.protection_phone == "+502 7776 9999"
    assert location.phones == ["+502 7776 8416"]  # the line is not an ordinary phone too
    assert (location.admission_rules, location.admission_rules_language) == (
        {"es": "Personas mexicanas y sus familias."},
        "es",
    )
    assert (location.what_to_bring, location.what_to_bring_language) == (
        {"es": "Pasaporte o acta de nacimiento."},
        "es",
    )

    # A feed that says none of them leaves them as they are.
    bare = copy.deepcopy(document)
    service = bare["services"][0]
    service["phones"] = service["phones"][:1]
    del service["eligibility_description"], service["application_process"]
    report = import_hsds(empty_session, _write(tmp_path, bare), apply=True)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert location.protection_phone == "+502 7776 9999"
    assert location.admission_rules == {"es": "Personas mexicanas y sus familias."}

    # A text already held in some language is left as it is, whatever the file's language.
    location.what_to_bring = {"es": "Pasaporte.", "en": "Pasaporte o acta de nacimiento."}
    location.what_to_bring_language = "es"
    empty_session.flush()
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True, language="fr")
    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert location.what_to_bring_language == "es"

    # New texts and a new line replace the old, through an audited edit.
    service = document["services"][0]
    service["phones"][-1]["number"] = "+502 7776 0000"
    service["eligibility_description"] = "Personas mexicanas."
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert location.protection_phone == "+502 7776 0000"
    assert location.admission_rules == {"es": "Personas mexicanas."}
    assert location.what_to_bring == {"es": "Pasaporte.", "en": "Pasaporte o acta de nacimiento."}
    entry = empty_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "locations")
    ).one()
    assert entry.after["protection_phone"] == "+502 7776 0000"


def test_a_protection_line_on_a_shelter_stays_an_ordinary_phone(empty_session, english, tmp_path):
    document = _small_dataset()
    service = document["services"][0]
    service["phones"].append(_protection_line("+502 7776 9999"))
    service["eligibility_description"] = "Families and women with their children."
    service["application_process"] = "An identity document, if you have one."
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True, language="en")
    assert report.problems == []
    location = empty_session.scalars(select(Location)).one()
    assert location.organization.kind == OrganizationKind.SHELTER
    assert location.protection_phone is None
    assert location.phones == ["+502 7776 8416", "+502 7776 9999"]
    notes = [str(note.message) for note in report.notes]
    assert (
        "Location “Casa del Migrante Tecún Umán” ("
        + document["locations"][0]["id"]
        + "): “+502 7776 9999” is described as a 24/7 consular protection line, but only a "
        "consulate's or an embassy's places have one: kept as an ordinary phone."
    ) in notes
    # The texts in the language the import was told they are in (--texts-in).
    assert (location.admission_rules, location.admission_rules_language) == (
        {"en": "Families and women with their children."},
        "en",
    )
    assert (location.what_to_bring, location.what_to_bring_language) == (
        {"en": "An identity document, if you have one."},
        "en",
    )


def _small_dataset() -> dict[str, Any]:
    """One shelter in Tecún Umán (Guatemala), in the shape of our export."""
    org, loc, svc = "org-1", "loc-1", "svc-1"
    org_id, loc_id, svc_id = (ids.hsds_id("organization", f"test:{x}") for x in (org, loc, svc))
    return {
        "hsds_version": "3.0",
        "organizations": [
            {
                "id": org_id,
                "name": "Casa del Migrante Tecún Umán",
                "description": "Albergue para personas migrantes.",
                "attributes": [
                    {
                        "id": ids.hsds_id("attribute", "test:1"),
                        "link_id": org_id,
                        "link_entity": "organization",
                        "taxonomy_term_id": mapping.kind_term(OrganizationKind.SHELTER)["id"],
                    }
                ],
            }
        ],
        "locations": [
            {
                "id": loc_id,
                "location_type": "physical",
                "organization_id": org_id,
                "name": "Casa del Migrante Tecún Umán",
                "latitude": 14.6786,
                "longitude": -92.1431,
                "addresses": [
                    {
                        "id": ids.hsds_id("address", "test:1"),
                        "address_1": "4a Calle",
                        "city": "Tecún Umán",
                        "state_province": "San Marcos",
                        "postal_code": "",
                        "country": "GT",
                        "address_type": "physical",
                    }
                ],
            }
        ],
        "services": [
            {
                "id": svc_id,
                "organization_id": org_id,
                "name": "Casa del Migrante — Tecún Umán",
                "status": "active",
                "phones": [{"id": ids.hsds_id("phone", "test:1"), "number": "+502 7776 8416"}],
                "schedules": [
                    {
                        "id": ids.hsds_id("schedule", "test:1"),
                        "freq": "WEEKLY",
                        "byday": "MO,TU,WE,TH,FR,SA,SU",
                        "opens_at": "00:00:00",
                        "closes_at": "24:00:00",
                        "description": mapping.HOURS_CONFIRMED,
                    }
                ],
                "attributes": [
                    {
                        "id": ids.hsds_id("attribute", "test:2"),
                        "taxonomy_term_id": ids.taxonomy_term_id("categories", "shelter"),
                    },
                    {
                        "id": ids.hsds_id("attribute", "test:3"),
                        "taxonomy_term": {
                            "id": ids.hsds_id("taxonomy_term", "elsewhere:1"),
                            "name": "Counselling",
                            "description": "Someone else's term",
                        },
                    },
                ],
            }
        ],
        "service_at_locations": [
            {
                "id": ids.hsds_id("service_at_location", "test:1"),
                "service_id": svc_id,
                "location_id": loc_id,
            }
        ],
    }


def test_a_small_dataset_maps_onto_our_fields(empty_session, english, tmp_path):
    report = import_hsds(empty_session, _write(tmp_path, _small_dataset()), apply=True)
    assert report.problems == []
    assert [str(note.message) for note in report.notes] == [
        "Attribute term “Counselling” is not one of the directory's categories, kinds or "
        "precisions: left out (1 times)."
    ]
    organization = empty_session.scalars(select(Organization)).one()
    assert organization.kind == OrganizationKind.SHELTER
    assert organization.slug == "casa-del-migrante-tecun-uman"
    assert organization.external_id.startswith("hsds:")
    assert organization.descriptions == {"es": "Albergue para personas migrantes."}
    location = empty_session.scalars(select(Location)).one()
    assert location.name is None  # the organization's name: not repeated
    assert (location.address, location.city, location.admin_area) == (
        "4a Calle",
        "Tecún Umán",
        "San Marcos",
    )
    assert location.country_code == "GT"
    assert location.opening_hours == {"always": True}
    assert location.hours_confirmed
    assert [category.code for category in location.categories] == ["shelter"]
    assert location.position_precision == PositionPrecision.CITY  # not said: the safe default
    assert location.external_id.startswith("hsds:")


def test_places_that_cannot_be_placed_are_noted_and_the_rest_imports(
    empty_session, english, tmp_path
):
    document = _small_dataset()
    good = document["locations"][0]
    wrong_country = copy.deepcopy(good) | {"id": ids.hsds_id("location", "test:wrong")}
    wrong_country["addresses"] = [dict(good["addresses"][0], country="HN")]
    abroad = copy.deepcopy(good) | {"id": ids.hsds_id("location", "test:abroad")}
    abroad["addresses"] = [dict(good["addresses"][0], country="FR")]
    no_country = copy.deepcopy(good) | {"id": ids.hsds_id("location", "test:bare")}
    no_country["addresses"] = [
        {k: v for k, v in good["addresses"][0].items() if k != "country"} | {"country": ""}
    ]
    at_sea = copy.deepcopy(no_country) | {"id": ids.hsds_id("location", "test:sea")}
    at_sea |= {"latitude": 10.0, "longitude": -100.0}
    for n, location in enumerate((wrong_country, abroad, no_country, at_sea)):
        location["addresses"][0]["id"] = ids.hsds_id("address", f"test:copy:{n}")
        document["locations"].append(location)
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True)
    assert report.problems == []
    notes = " | ".join(str(note.message) for note in report.notes)
    assert "lies in GT, not in HN" in notes
    assert "is in FR, a country the directory does not cover" in notes
    assert "lies outside the countries of the directory" in notes
    # The one without a country is placed by its point.
    assert sorted(loc.country_code for loc in empty_session.scalars(select(Location))) == [
        "GT",
        "GT",
    ]


# --- The specification's examples ------------------------------------------------------------

IMPORTABLE_EXAMPLES = [
    "organization_full.json",
    "organization_list.json",
    "service_full.json",
    "service_list.json",
    "service_at_location_full.json",
    "service_at_location_list.json",
    "location.json",
    "csv",
]


@pytest.mark.parametrize("name", IMPORTABLE_EXAMPLES)
def test_the_specification_examples_import_cleanly(empty_session, name):
    path = EXAMPLES / name
    before = _counts(empty_session)
    dry = import_hsds(empty_session, path, apply=False)
    assert dry.problems == []
    assert _counts(empty_session) == before
    report = import_hsds(empty_session, path, apply=True)
    assert report.problems == []
    assert report.applied
    assert (report.added, report.updated) == (dry.added, dry.updated)
    notes = " ".join(str(note.message) for note in report.notes)
    if name not in ("organization_list.json", "service_list.json"):
        # Their one location lies at latitude 100: left out, said so.
        assert "latitude 100.0 is not between -90 and 90" in notes
    # No person comes in: the examples' contact "Ann Persona" stays out.
    assert _counts(empty_session)[4] == 0
    for organization in empty_session.scalars(select(Organization)):
        assert organization.kind == OrganizationKind.CIVIL_SOCIETY  # no kind said: the default
        assert organization.source == f"hsds:{name}"
    if name in ("organization_full.json", "csv", "service_full.json"):
        organization = empty_session.scalars(select(Organization)).one()
        assert organization.name == "Example Organization Inc."
        assert organization.website == "http://example.com"


def test_documents_that_are_no_hsds_are_refused(tmp_path):
    assert detect_kind(json.loads((EXAMPLES / "base.json").read_text())) is None
    for content, expected in (
        (b"{not json", "Not a readable JSON file"),
        (b'{"version": "3.0"}', "Not an HSDS 3.0 document"),
        (b"[]", "holds no HSDS organization"),
    ):
        path = tmp_path / "file.json"
        path.write_bytes(content)
        problems = read_dataset(path).problems
        assert len(problems) == 1, problems
        assert expected in str(problems[0].message)


# --- Bad input -------------------------------------------------------------------------------


def test_a_file_that_fails_its_schema_is_reported_in_full_and_nothing_applied(
    empty_session, tmp_path
):
    document = json.loads((EXAMPLES / "organization_full.json").read_text(encoding="utf-8"))
    document["id"] = "not-a-uuid"
    del document["name"]
    document["locations"][0]["latitude"] = "north"
    document["services"][0]["status"] = "open all hours"
    path = _write(tmp_path, document)
    before = _counts(empty_session)
    report = import_hsds(empty_session, path, apply=True)
    assert not report.applied
    where = sorted(problem.column for problem in report.problems)
    assert where == ["/", "/id", "/locations/0/latitude", "/services/0/status"], report.problems
    messages = " | ".join(str(problem.message) for problem in report.problems)
    assert "'name' is a required property" in messages
    assert "'not-a-uuid' is not a 'uuid'" in messages
    assert _counts(empty_session) == before


def test_a_bad_cell_of_the_tabular_package_is_reported_with_its_line(empty_session, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(EXAMPLES / "csv", package, symlinks=True)
    locations = package / "locations.csv"
    locations.write_text(
        locations.read_text(encoding="utf-8").replace(",100,101,", ",north,101,"),
        encoding="utf-8",
    )
    before = _counts(empty_session)
    report = import_hsds(empty_session, package, apply=True)
    assert not report.applied
    assert [(p.line, p.column) for p in report.problems] == [(2, "locations.csv/latitude")]
    assert "'north' is not of type 'number'" in str(report.problems[0].message)
    assert _counts(empty_session) == before


def test_a_zip_of_the_tabular_package_imports(empty_session, tmp_path):
    archive = shutil.make_archive(str(tmp_path / "package"), "zip", EXAMPLES / "csv")
    report = import_hsds(empty_session, Path(archive), apply=True)
    assert report.problems == []
    assert empty_session.scalars(select(Organization.name)).all() == ["Example Organization Inc."]


def test_duplicate_identifiers_within_a_file_are_a_problem(empty_session, tmp_path):
    document = _small_dataset()
    twin = copy.deepcopy(document["locations"][0]) | {"id": ids.hsds_id("location", "test:2")}
    for location in (document["locations"][0], twin):
        location |= {
            "external_identifier": "demo:x",
            "external_identifier_type": "protection-directory",
        }
    twin["addresses"][0]["id"] = ids.hsds_id("address", "test:2")
    document["locations"].append(twin)
    report = import_hsds(empty_session, _write(tmp_path, document), apply=True)
    assert not report.applied
    assert len(report.problems) == 1
    assert "demo:x" in str(report.problems[0].message)
    assert _counts(empty_session)[:2] == (0, 0)


# --- Hours ----------------------------------------------------------------------------------


def _schedule(byday: str, opens: str, closes: str, **more: Any) -> dict[str, Any]:
    return {"freq": "WEEKLY", "byday": byday, "opens_at": opens, "closes_at": closes, **more}


def test_weekly_schedules_become_opening_hours():
    assert opening_hours([]) is None
    assert opening_hours(
        [_schedule("MO,TU", "08:00:00", "16:00:00"), _schedule("SA", "20:00", "02:00")]
    ) == {"mo": [["08:00", "16:00"]], "tu": [["08:00", "16:00"]], "sa": [["20:00", "02:00"]]}
    assert opening_hours([_schedule("MO,TU,WE,TH,FR,SA,SU", "00:00:00", "24:00:00")]) == {
        "always": True
    }
    # What our weekly hours cannot say is refused, never guessed.
    for schedule in (
        _schedule("MO", "08:00", "16:00", freq="MONTHLY"),
        _schedule("MO", "08:00", "16:00", byweekno="41,42"),
        _schedule("1MO", "08:00", "16:00"),
        _schedule("", "08:00", "16:00"),
        _schedule("MO", "8 am", "16:00"),
        _schedule("MO", "08:00", "08:00"),
    ):
        with pytest.raises(HoursNotWeekly):
            opening_hours([schedule])


# --- The command --------------------------------------------------------------------------------


def test_the_command_dry_runs_then_applies(empty_app, empty_session):
    runner = empty_app.test_cli_runner()
    path = EXAMPLES / "organization_full.json"
    result = runner.invoke(args=["import", "hsds", str(path)])
    assert result.exit_code == 0, result.output
    assert "Nothing was applied" in result.output
    assert "Note: " in result.output
    assert _counts(empty_session)[0] == 0
    result = runner.invoke(args=["import", "hsds", str(path), "--apply", "--source", "spec"])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    assert empty_session.scalars(select(Organization.source)).all() == ["spec"]


def test_the_command_refuses_a_file_with_problems(empty_app, empty_session, tmp_path):
    document = json.loads((EXAMPLES / "service_full.json").read_text(encoding="utf-8"))
    document["status"] = "sometimes"
    result = empty_app.test_cli_runner().invoke(
        args=["import", "hsds", str(_write(tmp_path, document)), "--apply"]
    )
    assert result.exit_code == 1
    assert "/status" in result.output
    assert "nothing was applied" in result.output
    assert _counts(empty_session)[0] == 0
