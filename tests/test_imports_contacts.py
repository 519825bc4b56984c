"""The CSV import of contact persons (issue 13, point 3): the same dry run and apply as the
locations', on the normal audited path (create_record, apply_edit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole
from directory.imports import batches, contacts_csv
from directory.imports.models import ImportKind
from directory.imports.report import ImportReport
from directory.places.models import Network
from tests import factories

HEADER = "external_id,country_code,network,name,email,languages,role,valid_from,valid_to"
ROWS = [
    "c:1,GT,RNCOM,Ana Pérez,ana@example.org,es;en,primary,2026-01-15,",
    "c:2,GT,RNCOM,Luis Gómez,,es,alternate,2026-01-15,2027-12-31",
    "c:3,HN,RNCOM,Rosa Díaz,,es,primary,2025-06-01,",
]


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


@pytest.fixture(autouse=True)
def _messages_in_english(db_session: Session) -> Iterator[None]:
    """The reports' messages are read outside a request, where the app's default language
    (Spanish) applies; these tests read them in English."""
    with force_locale("en"):
        yield


@pytest.fixture
def people(db_session: Session) -> Session:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    db_session.add(Network(code="RNCOM", names={"en": "RNCOM"}))
    db_session.flush()
    return db_session


def digest(session: Session) -> str:
    session.flush()
    return str(
        session.scalar(
            text(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                "FROM contact_persons t"
            )
        )
    ) + str(session.scalar(text("SELECT count(*) FROM audit_entries")))


def apply(session: Session, content: bytes, country: str | None = None) -> ImportReport:
    batch, _report = batches.check(
        session,
        ImportKind.CONTACTS,
        content,
        source="rncom",
        filename="contacts.csv",
        user_id=None,
        country_code=country,
        keep_content=False,
    )
    return batches.apply(session, batch, content, user_id=None)


def messages(report: ImportReport) -> str:
    return "\n".join(str(problem) for problem in report.problems)


def test_three_bad_rows_are_reported_and_nothing_changes(people: Session) -> None:
    before = digest(people)
    content = csv_bytes(
        ROWS[0],
        "c:4,XX,RNCOM,Nadie,,es,primary,2026-01-01,",
        "c:5,GT,NOPE,Nadie,,es,primary,2026-01-01,",
        "c:6,GT,RNCOM,Nadie,,es,boss,2026-01-01,",
    )
    report = apply(people, content)
    assert [(p.line, p.column) for p in report.problems] == [
        (3, "country_code"),
        (4, "network"),
        (5, "role"),
    ]
    assert not report.applied
    assert digest(people) == before


def test_a_clean_file_applies_and_a_second_counts_changes(people: Session) -> None:
    report = apply(people, csv_bytes(*ROWS))
    assert report.ok, messages(report)
    assert report.applied
    assert report.added == 3
    person = people.scalars(select(ContactPerson).where(ContactPerson.external_id == "c:2")).one()
    assert person.role == ContactRole.ALTERNATE
    assert person.valid_to == dt.date(2027, 12, 31)
    assert person.source == "rncom"
    assert person.import_id is not None
    assert person.languages == ["es"]

    changed = ROWS[1].replace("Luis Gómez", "Luis A. Gómez")
    report = apply(people, csv_bytes(ROWS[0], changed, ROWS[2]))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    people.refresh(person)
    assert person.name == "Luis A. Gómez"
    assert person.version == 2
    entry = people.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "contact_persons", AuditEntry.entity_id == str(person.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.action == "update"
    assert entry.after is not None
    assert entry.after["name"] == "Luis A. Gómez"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"external_id,country_code,name\nc:1,GT,Ana\n", "network, role, valid_from"),
        (csv_bytes(ROWS[0], ROWS[0]), "is on line 2 too"),
        (csv_bytes("c:1,GT,RNCOM,Ana,not-an-email,es,primary,2026-01-15,"), "not an e-mail"),
        (csv_bytes("c:1,GT,RNCOM,Ana,,es,primary,2026-01-15,2025-01-01"), "is before valid_from"),
        (csv_bytes("c:1,GT,RNCOM,Ana,,es,primary,15/01/2026,"), "YYYY-MM-DD"),
        (csv_bytes("c:1,GT,RNCOM,,,es,primary,2026-01-15,"), "must not be empty"),
        (HEADER.replace(",", ";").encode() + b"\n", "separated by semicolons"),
        (
            b"\xef\xbb\xbf" + HEADER.encode() + b"\nc:1,GT,RNCOM,Ana\xe9,,,primary,2026-01-01,\n",
            "not valid UTF-8",
        ),
    ],
    ids=["missing columns", "duplicate", "email", "period", "date", "name", "semicolons", "utf-8"],
)
def test_bad_input(people: Session, content: bytes, expected: str) -> None:
    before = digest(people)
    report = apply(people, content)
    assert expected in messages(report), messages(report)
    assert digest(people) == before


def test_a_focal_points_file_holds_its_country_only(people: Session) -> None:
    report = contacts_csv.check_contacts(people, csv_bytes(*ROWS), source="x", country_code="GT")
    assert [(p.line, p.column) for p in report.problems] == [(4, "country_code")]
    assert report.added == 2
