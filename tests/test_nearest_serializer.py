"""The nearest-help API's fast serializer says exactly what the ORM and marshmallow said.

``GET /api/v1/locations/nearest`` builds its features straight from one statement's rows
(``find_nearby_places`` + ``nearby_place_feature``) instead of ORM objects, three
``selectinload`` queries and ``LocationSchema`` (issue 14). The old path is kept here as the
oracle (``_oracle_feature``, what ``directory.web.features.nearby_feature`` was, over
``find_nearest``, which the /near page still uses): on the demo data at many points and
filter combinations, on hand-made places that fill every field, and through HTTP, the two
must give the same JSON to the byte.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest
from sqlalchemy import event

from directory.db import Cost, OperationalStatus, OrganizationKind, PositionPrecision, db
from directory.places.filters import LocationFilters
from directory.places.models import Network, ServiceCategory
from directory.places.nearest import NearbyLocation, NearestQuery, find_nearby_places, find_nearest
from directory.places.precision import rounded_distance_m
from directory.places.schemas import location_feature
from directory.web.features import nearby_place_feature
from geo.coordinates import LonLat
from tests import factories

NOON_UTC = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)  # a Monday, noon in Mexico City
EVENING_UTC = dt.datetime(2026, 11, 25, 3, 30, tzinfo=dt.UTC)  # Tuesday 21:30 there


def _oracle_feature(result: NearbyLocation) -> dict[str, Any]:
    """The feature as the API built it before issue 14: the ORM object through
    ``LocationSchema`` (``location_feature``) plus what the search computed.

    One change: a place's categories and its organization's networks in the order of their
    ids. ``selectinload`` gave them in no stated order: by id where its query walked the
    link table's primary key (a list of ten places), in the order they were linked where
    it scanned the table (a hundred), so the old answer depended on the query plan.
    """
    state = result.state
    location = result.location
    feature = location_feature(
        location,
        distance_m=rounded_distance_m(result.distance_m, location.position_precision),
        rank=result.rank,
        across_barrier=result.across,
        open_now=state.is_open,
        state=state.reason,
        closes_at=state.closes_at,
        opens_at=state.opens_at,
    )
    properties = feature["properties"]
    properties["categories"] = [c.code for c in sorted(location.categories, key=_id)]
    properties["networks"] = [n.code for n in sorted(location.organization.networks, key=_id)]
    return feature


def _id(record: Any) -> int:
    return record.id


def _as_sent(features: list[dict[str, Any]]) -> str:
    """JSON as ``jsonify`` writes it outside debug mode (sorted keys, compact)."""
    body = {"type": "FeatureCollection", "features": features}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _both(session, query: NearestQuery, at: dt.datetime) -> tuple[str, str]:
    old = [_oracle_feature(result) for result in find_nearest(session, query, at=at)]
    new = [nearby_place_feature(result) for result in find_nearby_places(session, query, at=at)]
    return _as_sent(old), _as_sent(new)


# Points over the demo data's region and far from it (sparse: the Pacific, the Atlantic,
# the far south, across the Darién Gap), with every filter alone and some together.
DEMO_FILTERS = [
    LocationFilters(),
    LocationFilters(categories=("shelter",)),
    LocationFilters(categories=("legal_aid", "medical")),
    LocationFilters(populations=("women", "children")),
    LocationFilters(languages=("es",)),
    LocationFilters(kinds=(OrganizationKind.CONSULATE, OrganizationKind.EMBASSY)),
    LocationFilters(networks=("RNCOM",)),
    LocationFilters(free=True),
    LocationFilters(categories=("food",), languages=("en",), free=True),
]
FAR_POINTS = [(-140.0, 5.0), (-30.0, 10.0), (-70.0, -50.0), (-77.9, 7.4), (-77.2, 8.6)]


def test_the_demo_data_gives_the_same_json_by_both_paths(demo_session):
    rng = random.Random(14)
    points = [(rng.uniform(-118, -60), rng.uniform(-5, 33)) for _ in range(40)] + FAR_POINTS
    compared = features = 0
    for index, (lon, lat) in enumerate(points):
        for filters in DEMO_FILTERS[index % 3 :: 3] if index % 5 else DEMO_FILTERS:
            query = NearestQuery(
                LonLat(lon, lat),
                limit=rng.choice([1, 10, 37, 100]),
                radius_km=rng.choice([None, None, 300.0, 2_000.0]),
                filters=filters,
            )
            old, new = _both(demo_session, query, NOON_UTC)
            assert new == old, (lon, lat, query)
            compared += 1
            features += old.count('"type":"Feature"')
    assert compared >= 100
    assert features > 1_000  # the comparisons were of lists, not of empty answers


def test_a_search_across_the_darien_gap_gives_the_same_json(demo_session):
    # South of the Gap, the places on the searcher's side come first (a second search).
    query = NearestQuery(LonLat(-76.9, 7.9), limit=30)
    old, new = _both(demo_session, query, NOON_UTC)
    assert '"across_barrier":"' in old  # the positive control: some result is across
    assert new == old


@pytest.fixture
def every_field(db_session):
    """Places that fill what the demo data leaves empty: a status with an end, a
    verification date, WhatsApp, intake hours, confirmed hours, several categories and
    networks (linked out of id order), no own name, an empty own name."""
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    food = ServiceCategory(code="food", names={"en": "Food"}, icon="utensils")
    legal = ServiceCategory(code="legal_aid", names={"en": "Legal"}, icon="scale")
    shelter = ServiceCategory(code="shelter", names={"en": "Shelter"}, icon="bed")
    rncom = Network(code="RNCOM", names={"en": "RNCOM"})
    cammina = Network(code="CAMMINA", names={"en": "CAMMINA"})
    db_session.add_all([food, legal, shelter, rncom, cammina])
    db_session.flush()
    organization = factories.organization(db_session, OrganizationKind.SHELTER, name="Belén")
    organization.networks = [cammina, rncom]
    organization.website = "https://belen.example"
    hours = {"mo": [["08:00", "16:00"]], "tu": [["20:00", "02:00"]], "we": [["09:00", "13:00"]]}
    full = factories.location(db_session, organization, -92.27, 14.9, city="Tapachula")
    full.name = "Albergue Belén — Tapachula"
    full.address = "4a Avenida Norte 10"
    full.admin_area = "Chiapas"
    full.phones = ["+52 962 000 0000", "+52 962 111 1111"]
    full.whatsapp = "+52 962 000 0001"
    full.email = "belen@example.org"
    full.opening_hours = hours
    full.intake_hours = {"always": True}
    full.populations = ["women", "children"]
    full.languages = ["es", "en"]
    full.cost = Cost.FREE
    full.status = OperationalStatus.FULL
    full.status_until = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    full.verified_at = dt.date(2026, 10, 1)
    full.categories = [shelter, food, legal]
    unnamed = factories.location(db_session, organization, -92.2, 14.95, city="Tapachula")
    unnamed.opening_hours = hours
    unnamed.categories = [legal, food]
    blank = factories.location(
        db_session, organization, -92.1, 15.0, precision=PositionPrecision.STREET
    )
    blank.name = ""
    blank.opening_hours = {"always": True}
    blank.hours_confirmed = False
    town = factories.location(
        db_session, organization, -92.3, 15.1, precision=PositionPrecision.CITY
    )
    town.opening_hours = hours
    db_session.flush()
    return [full, unnamed, blank, town]


@pytest.mark.parametrize("at", [NOON_UTC, EVENING_UTC])
@pytest.mark.parametrize(
    "filters",
    [
        LocationFilters(),
        LocationFilters(open_now=True),
        LocationFilters(categories=("legal_aid",), networks=("CAMMINA",)),
        LocationFilters(populations=("women",), languages=("en",), free=True),
    ],
)
def test_every_field_gives_the_same_json_by_both_paths(db_session, every_field, filters, at):
    query = NearestQuery(LonLat(-92.26, 14.91), limit=10, filters=filters)
    old, new = _both(db_session, query, at)
    assert new == old
    assert '"type":"Feature"' in old


def test_every_field_is_filled_in_the_comparison(db_session, every_field):
    """The positive control of the test above: its places do fill every field."""
    (feature,) = [
        nearby_place_feature(result)
        for result in find_nearby_places(
            db_session, NearestQuery(LonLat(-92.27, 14.9), limit=1), at=NOON_UTC
        )
    ]
    properties = feature["properties"]
    assert properties["status_until"] == "2026-11-30T12:00:00+00:00"
    assert properties["verified_at"] == "2026-10-01"
    assert properties["categories"] == ["food", "legal_aid", "shelter"]  # by id
    assert properties["networks"] == ["RNCOM", "CAMMINA"]
    assert properties["state"] == "full"
    assert properties["kind"] == "shelter"
    assert properties["whatsapp"] == "+52 962 000 0001"
    assert properties["website"] == "https://belen.example"
    assert properties["intake_hours"] == {"always": True}
    names = [
        nearby_place_feature(result)["properties"]["name"]
        for result in find_nearby_places(
            db_session, NearestQuery(LonLat(-92.27, 14.9), limit=4), at=NOON_UTC
        )
    ]
    assert names == ["Albergue Belén — Tapachula", "Belén", "Belén", "Belén"]


def test_the_api_answers_with_the_oracles_bytes_in_one_statement(demo_app, demo_session):
    client = demo_app.test_client()
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            seen.append(statement)

    # (query string, the same search, statements it takes: the search, once when its
    # first try proves exact, and a lookup of the category codes when there are some).
    cases = [
        ("lat=14.9&lon=-92.26", NearestQuery(LonLat(-92.26, 14.9)), 1),
        (
            "lat=19.43&lon=-99.13&limit=50&category=shelter&category=legal_aid",
            NearestQuery(
                LonLat(-99.13, 19.43),
                limit=50,
                filters=LocationFilters(categories=("shelter", "legal_aid")),
            ),
            2,
        ),
        (
            "lat=25.7&lon=-100.3&radius_km=800&kind=consulate&language=es",
            NearestQuery(
                LonLat(-100.3, 25.7),
                radius_km=800,
                filters=LocationFilters(languages=("es",), kinds=(OrganizationKind.CONSULATE,)),
            ),
            1,
        ),
        # Far out in the Pacific the first try may not prove exactness: more tries, each
        # one statement, and still nothing else.
        ("lat=5&lon=-140&limit=3", NearestQuery(LonLat(-140.0, 5.0), limit=3), None),
    ]
    engine = db.engine  # demo_session's app context is active
    for url, query, statements in cases:
        before = _oracle_body(demo_session, query)
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(f"/api/v1/locations/nearest?{url}")
        finally:
            event.remove(engine, "before_cursor_execute", record)
        after = _oracle_body(demo_session, query)
        assert response.status_code == 200
        # "Open now" may change between the two oracles at a minute's turn: the answer is
        # one of them.
        assert response.get_data(as_text=True) in {before, after}, url
        assert '"type":"Feature"' in before
        searches = [statement for statement in seen if "knn" in statement]
        lookups = [s for s in seen if s.startswith("SELECT service_categories.code \nFROM")]
        assert searches, seen
        assert len(searches) + len(lookups) == len(seen), seen
        if statements is not None:
            assert len(seen) == statements, seen
        seen.clear()


def _oracle_body(session, query: NearestQuery) -> str:
    at = dt.datetime.now(dt.UTC)
    features = [_oracle_feature(result) for result in find_nearest(session, query, at=at)]
    return _as_sent(features) + "\n"  # jsonify ends with a newline
