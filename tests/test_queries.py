"""What a request asks the database: no geometry nobody reads, no query per row.

Each test expunges the session first, so relations the fixture loaded cannot hide a lazy
load, then records every statement the request runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from directory.db import OrganizationKind, db
from directory.places.models import Network, ServiceCategory
from tests import factories

ROUTE = [(-92.26, 14.9), (-92.0, 15.5), (-91.5, 16.0)]


class Statements(list):
    def selecting(self, column: str) -> list[str]:
        """Statements whose SELECT list (before FROM) names ``column``."""
        return [s for s in self if re.search(rf"^SELECT .*{re.escape(column)}.* FROM ", s, re.S)
                and column in s.split(" FROM ", 1)[0]]  # fmt: skip


@pytest.fixture
def statements(db_session) -> Iterator[Statements]:
    seen = Statements()

    def record(_conn, _cursor, statement, _parameters, _context, _many):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            seen.append(" ".join(statement.split()))

    db_session.flush()
    db_session.expunge_all()
    engine = db.engine  # the app context of ``db_session`` is active
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def directory(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.9))
    db_session.add(ServiceCategory(code="food", names={"en": "Food"}, icon="utensils"))
    network = Network(code="RNCOM", names={"en": "RNCOM"})
    db_session.add(network)
    factories.route(db_session, "test-route", ROUTE)
    office = factories.consular_office(db_session, "GT", -92.26, 14.9)
    factories.district(db_session, office, (-95.0, 14.0, -90.0, 18.0))
    for index in range(12):
        organization = factories.organization(db_session, OrganizationKind.SHELTER)
        organization.networks = [network]
        factories.location(db_session, organization, -92.25 + index * 0.01, 14.95)
    return office


def test_the_list_of_consulates_reads_no_boundary(client, directory, statements):
    assert client.get("/consulates").status_code == 200
    assert statements  # the positive control: the request did query
    assert statements.selecting("countries.boundary") == []
    assert statements.selecting("consular_districts.area") == []


def test_which_consulate_serves_me_reads_no_district_polygon(client, directory, statements):
    response = client.get("/api/v1/consulates/serving?nationality=GT&lat=14.9&lon=-92.2")
    assert response.status_code == 200
    assert response.json["properties"]["match"] == "district"
    assert statements.selecting("consular_districts.area") == []
    assert statements.selecting("countries.boundary") == []
    # Known country, the covering office, its categories and its organization's networks:
    # no lazy load per relation.
    assert len(statements) <= 5, statements


def test_a_list_of_places_loads_its_relations_once_not_per_row(client, directory, statements):
    response = client.get("/api/v1/locations/nearest?lat=14.95&lon=-92.2&limit=12")
    assert len(response.json["features"]) == 12
    assert len(statements) <= 4, statements


def test_the_route_page_reads_the_route_in_few_round_trips(client, directory, statements):
    response = client.get("/routes/test-route?lat=14.9&lon=-92.26")
    assert response.status_code == 200
    assert "In " in response.get_data(as_text=True)  # it found places ahead
    # The route, the categories, start and length, the items and their three relations,
    # the line and corridor drawn, the country the person is in (its emergency number),
    # the barriers the route enters (the Darién Gap): 10 statements (12 before start and
    # length, and the line and corridor, became one statement each).
    assert len(statements) <= 10, "\n".join(statements)
    # The route record is read without its path (deferred): SQL reads it where it is used.
    (record,) = [s for s in statements if s.startswith("SELECT routes.id")]
    assert "routes.path" not in record
