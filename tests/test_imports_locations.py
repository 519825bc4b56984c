"""The CSV import of locations (issue 13, point 3): the dry run reports every bad row and
writes nothing; the apply writes all rows in one transaction, audited, or nothing at all.

The countries are boxes (tests/factories.py), so "inside" and "outside" are plain to see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry
from directory.db import OrganizationKind
from directory.imports import batches, locations_csv
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.imports.report import ImportReport
from directory.places.models import Location, Organization, ServiceCategory
from tests import factories

HEADER = (
    "external_id,organization,city,country_code,lat,lon,categories,opening_hours,phones,"
    "verified_at,status,notes_es"
)
GOOD_ROWS = [
    "p:1,casa-gt,Guatemala,GT,14.60,-90.50,shelter;food,Mo-Fr 08:00-14:00,+502 1;+502 2,"
    "2026-01-31,open,",
    "p:2,casa-gt,Quetzaltenango,GT,14.84,-91.52,food,,,,full,Tocar el timbre",
    "p:3,casa-gt,Tapachula,MX,14.90,-92.26,,24/7,,,,",
]

TABLES = ("locations", "location_categories", "organizations", "audit_entries")


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def digest(session: Session) -> dict[str, str | None]:
    """Every row of the tables an import writes, hashed: equal digests, equal tables."""
    session.flush()
    return {
        table: session.scalar(
            text(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f"FROM {table} t"
            )
        )
        for table in TABLES
    }


@pytest.fixture(autouse=True)
def _messages_in_english(db_session: Session) -> Iterator[None]:
    """The reports' messages are read outside a request, where the app's default language
    (Spanish) applies; these tests read them in English."""
    with force_locale("en"):
        yield


@pytest.fixture
def places(db_session: Session) -> Session:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "MX", (-118.0, 14.5, -92.25, 32.8))
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    for position, code in enumerate(("shelter", "food", "legal_aid")):
        db_session.add(
            ServiceCategory(code=code, names={"en": code}, icon="dot", position=position)
        )
    db_session.add(Organization(slug="casa-gt", name="Casa GT", kind=OrganizationKind.SHELTER))
    db_session.flush()
    return db_session


def check(session: Session, content: bytes, country: str | None = None) -> ImportReport:
    return locations_csv.check_locations(session, content, source="partner", country_code=country)


def apply(session: Session, content: bytes, country: str | None = None) -> ImportReport:
    batch, _report = batches.check(
        session,
        ImportKind.LOCATIONS,
        content,
        source="partner",
        filename="test.csv",
        user_id=None,
        country_code=country,
        keep_content=False,
    )
    return batches.apply(session, batch, content, user_id=None)


def lines(report: ImportReport) -> list[tuple[int | None, str | None]]:
    return [(problem.line, problem.column) for problem in report.problems]


def messages(report: ImportReport) -> str:
    return "\n".join(str(problem) for problem in report.problems)


def test_three_bad_rows_are_all_reported_and_nothing_changes(places: Session) -> None:
    before = digest(places)
    content = csv_bytes(
        GOOD_ROWS[0],
        "p:4,casa-gt,Guatemala,XX,14.6,-90.5,,,,,,",  # line 3: unknown country
        GOOD_ROWS[1],
        "p:5,casa-gt,Guatemala,GT,14.6,-90.5,spa,,,,,",  # line 5: unknown category
        "p:6,casa-gt,Guatemala,GT,95,-90.5,,,,,,",  # line 6: latitude out of range
    )
    report = check(places, content)
    assert lines(report) == [(3, "country_code"), (5, "categories"), (6, "lat")]
    assert "There is no country XX" in messages(report)
    assert "no category “spa”" in messages(report)
    assert "95 is not between -90 and 90" in messages(report)
    assert (report.rows, report.added) == (5, 2)
    assert digest(places) == before


def test_a_clean_file_applies_in_one_go(places: Session) -> None:
    report = apply(places, csv_bytes(*GOOD_ROWS))
    assert report.ok
    assert report.applied
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    places.commit()
    records = {
        loc.external_id: loc
        for loc in places.scalars(select(Location).where(Location.external_id.like("p:%")))
    }
    assert set(records) == {"p:1", "p:2", "p:3"}
    first = records["p:1"]
    assert first.position.lon == -90.5
    assert first.position.lat == 14.6
    assert first.timezone == "America/Guatemala"
    assert records["p:3"].timezone == "America/Mexico_City"
    assert sorted(category.code for category in first.categories) == ["food", "shelter"]
    assert first.opening_hours is not None
    assert first.opening_hours["mo"] == [["08:00", "14:00"]]
    assert first.phones == ["+502 1", "+502 2"]
    assert first.verified_at == dt.date(2026, 1, 31)
    assert first.source == "partner"
    assert first.version == 1
    assert records["p:2"].notes == {"es": "Tocar el timbre"}
    assert records["p:2"].notes_language == "es"
    assert records["p:3"].opening_hours == {"always": True}
    batch = places.get(ImportBatch, first.import_id)
    assert batch is not None
    assert batch.status == ImportStatus.APPLIED
    assert batch.counts["added"] == 3
    entries = places.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
    assert {entry.entity_id for entry in entries} == {str(loc.id) for loc in records.values()}


def test_a_second_import_counts_updates_and_unchanged_rows(places: Session) -> None:
    apply(places, csv_bytes(*GOOD_ROWS))
    changed = GOOD_ROWS[1].replace("Quetzaltenango", "Xela")
    dry = check(places, csv_bytes(GOOD_ROWS[0], changed, GOOD_ROWS[2]))
    assert (dry.added, dry.updated, dry.unchanged) == (0, 1, 2)
    version = places.scalar(select(Location.version).where(Location.external_id == "p:2"))

    report = apply(places, csv_bytes(GOOD_ROWS[0], changed, GOOD_ROWS[2]))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    record = places.scalars(select(Location).where(Location.external_id == "p:2")).one()
    assert record.city == "Xela"
    assert record.version == version + 1
    entry = places.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "locations", AuditEntry.entity_id == str(record.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.action == "import"
    assert entry.before == {"city": "Quetzaltenango", "version": version}
    assert entry.after == {"city": "Xela", "version": version + 1}


def test_columns_missing_from_the_file_are_left_alone(places: Session) -> None:
    apply(places, csv_bytes(*GOOD_ROWS))
    short = "external_id,organization,city,country_code,lat,lon\np:2,casa-gt,Xela,GT,14.84,-91.52\n"
    report = apply(places, short.encode())
    assert report.updated == 1
    record = places.scalars(select(Location).where(Location.external_id == "p:2")).one()
    assert record.notes == {"es": "Tocar el timbre"}  # no notes_* column: kept
    assert record.status.value == "full"


def test_an_error_halfway_leaves_the_database_as_it_was(
    places: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(places, csv_bytes(GOOD_ROWS[0]))
    places.commit()
    before = digest(places)
    rows = [f"q:{n},casa-gt,Guatemala,GT,{14 + n / 1000:.3f},-90.5,food,,,,," for n in range(1, 11)]
    monkeypatch.setattr(locations_csv, "CHUNK_ROWS", 2)
    original = locations_csv._apply_chunk
    calls: list[int] = []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) > 2:  # after two chunks (4 rows) are written
            raise RuntimeError("injected failure")
        return original(*args, **kwargs)

    monkeypatch.setattr(locations_csv, "_apply_chunk", failing)
    changed = GOOD_ROWS[0].replace("Guatemala", "Ciudad de Guatemala")
    with places.begin_nested() as attempt:
        with pytest.raises(RuntimeError, match="injected"):
            apply(places, csv_bytes(changed, *rows))
        assert (
            places.scalar(
                select(func.count()).select_from(Location).where(Location.external_id.like("q:%"))
            )
            == 3
        ), "the first chunks were written before the failure"
        attempt.rollback()
    assert digest(places) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"external_id,organization,city,country_code,lat\np:1,casa-gt,X,GT,14\n", "lon"),
        (csv_bytes("p:1,casa-gt,Guatemala,ZZ,14.6,-90.5,,,,,,"), "There is no country ZZ"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-90.5,nap,,,,,"), "no category “nap”"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-190.5,,,,,,"), "not between -180 and 180"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-80,,,,,,"), "is not in GT"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,abc,,,,,,"), "“abc” is not a number"),
        (csv_bytes(GOOD_ROWS[0], GOOD_ROWS[0]), "is on line 2 too"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-90.5,,,,31/01/2026,,"), "YYYY-MM-DD"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-90.5,,,,,closed,"), "“closed” is not one of"),
        (csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-90.5,,Mo 8-14,,,,"), "not understood"),
        (csv_bytes("p:1,casa-gt," + "G" * 300 + ",GT,14.6,-90.5,,,,,,"), "at most 200"),
        (csv_bytes("p:1,nobody,Guatemala,GT,14.6,-90.5,,,,,,"), "no organization “nobody”"),
        (b"external_id,city\xff\np:1\n", "not valid UTF-8 at byte 17 (line 1)"),
        (HEADER.replace(",", ";").encode() + b"\n" + b"p:1;x\n", "separated by semicolons"),
        (HEADER.replace(",", "\t").encode() + b"\n", "separated by tabs"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel workbook (.xlsx)"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "a PNG image"),
        (b"<!DOCTYPE html><html><body>Hi</body></html>", "a web page (HTML)"),
        (b"\x00\x01\x02binary", "binary data"),
        (b"", "The file is empty"),
        (HEADER.encode() + b"\n", "no rows"),
    ],
    ids=[
        "missing column",
        "unknown country",
        "unknown category",
        "out of range",
        "outside its country",
        "not a number",
        "duplicate external_id",
        "bad date",
        "bad status",
        "bad hours",
        "too long",
        "unknown organization",
        "bad utf-8",
        "semicolons",
        "tabs",
        "xlsx",
        "png",
        "html",
        "binary",
        "empty",
        "no rows",
    ],
)
def test_bad_input_is_reported_and_refused(places: Session, content: bytes, expected: str) -> None:
    before = digest(places)
    report = apply(places, content)
    assert not report.ok
    assert not report.applied
    assert expected in messages(report), messages(report)
    assert digest(places) == before


def test_the_duplicate_names_both_lines(places: Session) -> None:
    report = check(places, csv_bytes(GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[0]))
    assert lines(report) == [(4, "external_id")]
    assert "“p:1” is on line 2 too" in messages(report)


def test_a_byte_order_mark_is_accepted(places: Session) -> None:
    report = check(places, b"\xef\xbb\xbf" + csv_bytes(*GOOD_ROWS))
    assert report.ok, messages(report)
    assert report.added == 3


def test_unknown_columns_are_a_note(places: Session) -> None:
    report = check(places, csv_bytes(GOOD_ROWS[0], header=HEADER).replace(b"notes_es", b"remarks"))
    assert report.ok
    assert "remarks" in str(report.notes[0])


def test_a_focal_points_file_holds_its_country_only(places: Session) -> None:
    report = check(places, csv_bytes(*GOOD_ROWS), country="GT")
    assert lines(report) == [(4, "country_code")]
    assert "you can import rows of GT only" in messages(report)
    # An external id that is another country's place cannot be moved into one's own.
    apply(places, csv_bytes(GOOD_ROWS[2]))
    moved = GOOD_ROWS[2].replace("MX,14.90,-92.26", "GT,14.6,-90.5")
    report = check(places, csv_bytes(moved), country="GT")
    assert "is a place in MX" in messages(report)


def test_a_new_organization_is_added_with_its_rows(places: Session) -> None:
    header = (
        "external_id,organization,organization_name,organization_kind,city,country_code,lat,lon"
    )
    content = f"{header}\nn:1,,Refugio Nuevo,shelter,Guatemala,GT,14.6,-90.5\n".encode()
    report = apply(places, content)
    assert report.ok, messages(report)
    assert report.added == 1
    organization = places.scalars(
        select(Organization).where(Organization.slug == "refugio-nuevo")
    ).one()
    assert organization.source == "partner"
    assert organization.import_id is not None
    consulate = content.replace(b"shelter", b"consulate").replace(b"Nuevo", b"Otro")
    assert "cannot be added by an import" in messages(check(places, consulate))


def test_a_row_gets_all_its_problems_at_once(places: Session) -> None:
    report = check(places, csv_bytes("p:1,casa-gt,Guatemala,GT,14.6,-90.5,spa,,,2026-13-01,,"))
    assert lines(report) == [(2, "verified_at"), (2, "categories")]


# --- what a referral needs (issue 15) ---------------------------------------------------------

REFERRAL_HEADER = (
    "external_id,organization,city,country_code,lat,lon,protection_phone,"
    "admission_rules_es,admission_rules_en,admission_rules_language,what_to_bring_fr"
)


@pytest.fixture
def consulate(places: Session) -> Session:
    """A consulate of Honduras (its key: consulado-hn) beside the shelter casa-gt."""
    places.add(
        Organization(
            slug="consulado-hn",
            name="Consulado de Honduras",
            kind=OrganizationKind.CONSULATE,
            sending_country_code="HN",
        )
    )
    places.flush()
    return places


def test_the_referral_columns_are_checked_then_applied(consulate: Session) -> None:
    content = csv_bytes(
        "r:1,consulado-hn,Guatemala,GT,14.6,-90.5,+502 5555 0101,Hondureños,Hondurans,es,",
        "r:2,casa-gt,Guatemala,GT,14.61,-90.51,,Familias,,,Une pièce d'identité",
        header=REFERRAL_HEADER,
    )
    before = digest(consulate)
    dry = check(consulate, content)
    assert dry.ok, messages(dry)
    assert dry.added == 2
    assert digest(consulate) == before  # the dry run writes nothing

    report = apply(consulate, content)
    assert report.ok, messages(report)
    records = {
        loc.external_id: loc
        for loc in consulate.scalars(select(Location).where(Location.external_id.like("r:%")))
    }
    office, shelter = records["r:1"], records["r:2"]
    assert office.protection_phone == "+502 5555 0101"
    assert office.admission_rules == {"es": "Hondureños", "en": "Hondurans"}
    assert office.admission_rules_language == "es"
    assert office.what_to_bring == {}
    assert office.what_to_bring_language is None
    assert shelter.protection_phone is None
    assert shelter.admission_rules == {"es": "Familias"}
    assert shelter.admission_rules_language == "es"  # the only language there is
    assert shelter.what_to_bring == {"fr": "Une pièce d'identité"}
    assert shelter.what_to_bring_language == "fr"
    entry = consulate.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "import", AuditEntry.entity_id == str(office.id)
        )
    ).one()
    assert entry.after["protection_phone"] == "+502 5555 0101"
    assert entry.after["admission_rules"] == {"es": "Hondureños", "en": "Hondurans"}

    # The same file again changes nothing; a changed line is an update, audited.
    assert check(consulate, content).unchanged == 2
    changed = content.replace(b"+502 5555 0101", b"+502 5555 0199")
    report = apply(consulate, changed)
    assert (report.updated, report.unchanged) == (1, 1)
    consulate.expire_all()
    assert office.protection_phone == "+502 5555 0199"
    assert office.version == 2
    latest = consulate.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "locations", AuditEntry.entity_id == str(office.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert latest is not None
    assert latest.before == {"protection_phone": "+502 5555 0101", "version": 1}
    assert latest.after == {"protection_phone": "+502 5555 0199", "version": 2}

    # A file without those columns leaves them as they are.
    short = b"external_id,organization,city,country_code,lat,lon\n"
    short += b"r:1,consulado-hn,Mixco,GT,14.6,-90.5\n"
    assert apply(consulate, short).updated == 1
    consulate.expire_all()
    assert office.city == "Mixco"
    assert office.protection_phone == "+502 5555 0199"
    assert office.admission_rules_language == "es"


@pytest.mark.parametrize(
    ("row", "column", "expected"),
    [
        # A protection line on a shelter's row: only consular offices have one.
        (
            "r:1,casa-gt,Guatemala,GT,14.6,-90.5,+502 5555 0101,,,,",
            "protection_phone",
            "Only a consulate's or an embassy's places have a protection line, and “casa-gt”",
        ),
        (
            "r:1,consulado-hn,Guatemala,GT,14.6,-90.5,call the consul,,,,",
            "protection_phone",
            "“call the consul” is not a phone number",
        ),
        (
            "r:1,consulado-hn,Guatemala,GT,14.6,-90.5,,Hondureños,Hondurans,,",
            "admission_rules_language",
            "say in admission_rules_language which one it was written in",
        ),
        (
            "r:1,consulado-hn,Guatemala,GT,14.6,-90.5,,Hondureños,,fr,",
            "admission_rules_language",
            "no admission_rules_fr",
        ),
    ],
    ids=["protection line on a shelter", "not a phone", "several languages", "absent original"],
)
def test_bad_referral_cells_are_row_errors(
    consulate: Session, row: str, column: str, expected: str
) -> None:
    before = digest(consulate)
    good = "r:0,consulado-hn,Guatemala,GT,14.7,-90.4,,,,,"  # line 2; the bad row is line 3
    content = csv_bytes(good, row, header=REFERRAL_HEADER)
    report = apply(consulate, content)
    assert not report.applied
    assert lines(report) == [(3, column)], messages(report)
    assert expected in messages(report)
    assert digest(consulate) == before


def test_a_new_shelter_s_row_may_not_bring_a_protection_line(places: Session) -> None:
    header = (
        "external_id,organization,organization_name,organization_kind,city,country_code,lat,lon,"
        "protection_phone"
    )
    content = f"{header}\nn:1,,Refugio Nuevo,shelter,Guatemala,GT,14.6,-90.5,+502 1234 5678\n"
    report = check(places, content.encode())
    assert lines(report) == [(2, "protection_phone")]
    assert "“refugio-nuevo” is neither" in messages(report)
