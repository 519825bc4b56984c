"""A freshly migrated database has no countries or service categories: every import says
so once, names the command that loads them (``flask seed reference``), and applies nothing.
Before, an HSDS feed imported its organizations and silently left out every location
("a country the directory does not cover"), and a CSV got one "no country" error per row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskCliRunner
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.hsds import spec
from directory.hsds.importer import import_hsds
from directory.imports import contacts_csv, locations_csv
from directory.imports.report import ImportReport
from directory.places.models import Country, Network, Organization, ServiceCategory

LOCATIONS = (
    b"external_id,organization,organization_name,organization_kind,city,country_code,lat,lon,"
    b"categories\n"
    b"p:1,casa-gt,Casa GT,shelter,Guatemala,GT,14.62,-90.53,shelter;food\n"
    b"p:2,casa-gt,Casa GT,shelter,Tapachula,MX,14.90,-92.26,food\n"
)
CONTACTS = (
    b"external_id,country_code,network,name,email,languages,role,valid_from,valid_to\n"
    b"c:1,GT,RNCOM,Ana P\xc3\xa9rez,ana@example.org,es,primary,2026-01-15,\n"
)
HSDS_EXAMPLE = spec.EXAMPLES_DIR / "organization_full.json"


@pytest.fixture(autouse=True)
def _messages_in_english(db_session: Session) -> Iterator[None]:
    with force_locale("en"):
        yield


def _only_the_reference_problem(report: ImportReport) -> None:
    assert [(p.line, p.column) for p in report.problems] == [(None, None)]
    assert "flask seed reference" in str(report.problems[0])
    assert not report.applied


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_import_into_a_database_without_reference_data_says_so_once(
    db_session: Session,
) -> None:
    assert _count(db_session, Country) == 0
    _only_the_reference_problem(
        locations_csv.check_locations(db_session, LOCATIONS, source="t", country_code=None)
    )
    _only_the_reference_problem(
        contacts_csv.check_contacts(db_session, CONTACTS, source="t", country_code=None)
    )
    _only_the_reference_problem(import_hsds(db_session, HSDS_EXAMPLE, apply=True))
    assert _count(db_session, Organization) == 0  # the feed's organizations did not slip in


def test_seed_reference_loads_what_an_import_needs_once(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    result = runner.invoke(args=["seed", "reference"])
    assert result.exit_code == 0, result.output
    assert "Reference data:" in result.output
    assert _count(db_session, Country) > 20
    assert _count(db_session, ServiceCategory) > 5
    assert db_session.scalar(select(Network).where(Network.code == "RNCOM")) is not None
    assert _count(db_session, Organization) == 0  # no demo records

    report = locations_csv.check_locations(db_session, LOCATIONS, source="t", country_code=None)
    assert report.problems == [], [str(p) for p in report.problems]
    assert report.added == 2
    report = contacts_csv.check_contacts(db_session, CONTACTS, source="t", country_code=None)
    assert report.problems == [], [str(p) for p in report.problems]

    again = runner.invoke(args=["seed", "reference"])
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output
