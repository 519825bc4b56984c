"""The HSDS 3.0 tabular package: written from the export's records, read back the same.

The files and their columns are those of the specification's example package; the rows
read back from them (typed as the schemas say) are the records of the JSON export,
flattened; a zip of the folder reads the same; no contact person is in any file.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from directory.accounts.models import ContactPerson
from directory.hsds import export, ids, mapping, spec
from directory.hsds.importer import json_objects, read_dataset
from directory.hsds.tabular import (
    TABLES,
    Tables,
    flatten,
    flatten_into,
    read_tabular,
    write_tabular,
)
from tests.test_hsds_export import add_referral_fields

EXAMPLES = spec.EXAMPLES_DIR


def _records(tables: Tables) -> dict[str, dict[str, dict[str, Any]]]:
    """Each kind's rows by id, without the fields that say nothing (None, "")."""
    return {
        kind: {
            record_id: {key: value for key, value in row.items() if value not in (None, "")}
            for record_id, row in rows.items()
        }
        for kind, rows in tables.rows.items()
        if rows
    }


def _exported_tables(session) -> Tables:
    document = json.loads("".join(export.export_json(session)))
    tables = Tables()
    for kind, obj, where in json_objects(document):
        flatten_into(tables, kind, obj, where)
    return tables


def test_the_package_has_the_files_and_columns_of_the_specification(demo_session, tmp_path):
    summary = write_tabular(demo_session, tmp_path)
    assert "organizations" in summary
    names = {path.name for path in tmp_path.iterdir()}
    example_names = {path.name for path in (EXAMPLES / "csv").glob("*.csv")}
    assert names == example_names | {"datapackage.json"}
    for name in example_names:
        with (EXAMPLES / "csv" / name).open(encoding="utf-8") as example:
            expected = next(csv.reader(example))
        with (tmp_path / name).open(encoding="utf-8") as written:
            assert next(csv.reader(written)) == expected, name
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "tabular-data-package"
    assert {resource["path"] for resource in package["resources"]} == example_names
    for resource in package["resources"]:
        kind = next(k for k, (file, _c) in TABLES.items() if file == resource["path"])
        assert [f["name"] for f in resource["schema"]["fields"]] == list(TABLES[kind][1])
    locations = next(r for r in package["resources"] if r["path"] == "locations.csv")
    types = {f["name"]: f["type"] for f in locations["schema"]["fields"]}
    assert (types["latitude"], types["name"]) == ("number", "string")


def test_what_is_written_reads_back_as_the_same_records(demo_session, tmp_path):
    write_tabular(demo_session, tmp_path / "package")
    dataset = read_dataset(tmp_path / "package")
    assert dataset.problems == []
    expected = _records(_exported_tables(demo_session))
    assert _records(dataset.tables) == expected
    assert len(expected["location"]) > 100
    assert len(expected["schedule"]) > 100

    archive = shutil.make_archive(str(tmp_path / "package"), "zip", tmp_path / "package")
    zipped = read_dataset(Path(archive))
    assert zipped.problems == []
    assert _records(zipped.tables) == expected


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_referral_fields_are_in_their_columns(demo_session, tmp_path):
    """Who is admitted and what to bring in services.csv, the protection line in phones.csv
    with its description."""
    consular, shelter = add_referral_fields(demo_session)
    write_tabular(demo_session, tmp_path)

    services = {row["id"]: row for row in _csv_rows(tmp_path / "services.csv")}
    row = services[ids.service_id(shelter.id)]
    assert row["eligibility_description"] == shelter.admission_rules["es"]
    assert row["application_process"] == shelter.what_to_bring["es"]
    lines = [
        row
        for row in _csv_rows(tmp_path / "phones.csv")
        if row["description"] == mapping.PROTECTION_LINE
    ]
    assert [(line["service_id"], line["number"], line["type"]) for line in lines] == [
        (ids.service_id(consular.id), consular.protection_phone, "voice")
    ]


def test_no_contact_person_is_in_the_package(demo_session, tmp_path):
    write_tabular(demo_session, tmp_path)
    text = "".join(path.read_text(encoding="utf-8") for path in tmp_path.iterdir())
    people = demo_session.scalars(select(ContactPerson)).all()
    assert len(people) > 10
    for person in people:
        for value in (person.name, person.email, person.phone):
            if value:
                assert value not in text, f"contact person data in the package: {value!r}"
    with (tmp_path / "contacts.csv").open(encoding="utf-8") as contacts:
        assert len(list(csv.reader(contacts))) == 1  # the header only


def test_the_export_command_writes_the_package(demo_runner, demo_session, tmp_path):
    out = tmp_path / "hsds"
    result = demo_runner.invoke(args=["export", "hsds", "--format", "tabular", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "datapackage.json").is_file()
    assert read_dataset(out).problems == []


def test_the_specification_package_reads_row_by_row():
    rows = list(read_tabular(EXAMPLES / "csv"))
    files = [row.file for row in rows]
    assert files[0] == "organizations.csv"  # referenced records first
    assert len(rows) == len(TABLES)  # one row in each example file
    location = next(row for row in rows if row.file == "locations.csv")
    assert (location.line, location.cells["latitude"]) == (2, "100")


def test_flatten_fills_the_links_from_the_nesting():
    document = json.loads((EXAMPLES / "service_full.json").read_text(encoding="utf-8"))
    tables = flatten([("service", document, "")])
    service_id = document["id"]
    link = tables.of("service_at_location")[0]
    assert link["service_id"] == service_id
    assert link["location_id"] == document["service_at_locations"][0]["location"]["id"]
    assert tables.of("service")[0]["organization_id"] == document["organization"]["id"]
    assert all(
        schedule.get("service_id")
        or schedule.get("location_id")
        or schedule.get("service_at_location_id")
        for schedule in tables.of("schedule")
    )
    assert "contact" not in tables.rows  # persons are dropped whole, with their phones
    assert tables.dropped["contact"] >= 1
