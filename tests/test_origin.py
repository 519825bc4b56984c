"""Where a search starts: a typed town, and the other towns offered as "Did you mean"."""

from __future__ import annotations

from directory.cli import SEEDS_DIR
from directory.gazetteer.origin import resolve_origin
from directory.gazetteer.services import load_gazetteer
from geo.coordinates import LonLat
from tests import factories

CITIES = [
    factories.geonames_city(3516266, "Tapachula", "MX", -92.25891, 14.90541, 353706),
    factories.geonames_city(3386213, "Tapauá", "BR", -63.18333, -5.62833, 9000),
    factories.geonames_city(3589289, "Santa Rosa de Lima", "SV", -87.89361, 13.62472, 27000),
    factories.geonames_city(3622455, "Santa Rosa de Lima", "GT", -90.29, 14.38, 5000),
]


def _lookup(db_session, query: str):
    load_gazetteer(db_session, SEEDS_DIR, cities=CITIES)
    return resolve_origin(db_session, {"q": query})


def test_a_whole_name_offers_no_towns_it_merely_resembles(db_session):
    lookup = _lookup(db_session, "tapachula")
    assert lookup.origin is not None
    assert lookup.origin.label == "Tapachula, MX"
    assert all(place.name != "Tapauá" for place in lookup.alternatives)


def test_a_whole_name_offers_the_other_towns_of_that_name(db_session):
    lookup = _lookup(db_session, "Santa Rosa de Lima")
    assert lookup.origin.label == "Santa Rosa de Lima, SV"  # the larger first
    assert [(place.name, place.country_code) for place in lookup.alternatives] == [
        ("Santa Rosa de Lima", "GT")
    ]


def test_part_of_a_name_offers_every_candidate(db_session):
    lookup = _lookup(db_session, "tapa")
    assert lookup.origin.label == "Tapachula, MX"
    assert "Tapauá" in {place.name for place in lookup.alternatives}


def test_a_position_needs_no_town(db_session):
    lookup = resolve_origin(db_session, {"position": LonLat(-92.26, 14.9), "q": "ignored"})
    assert lookup.origin.label is None
    assert lookup.alternatives == []
    assert lookup.problem is None
