"""The offline gazetteer: loading it (idempotent) and finding towns by name (GET /api/v1/places).

The acceptance test runs against the full gazetteer (every GeoNames city of the Americas
plus seeds/places.csv), loaded once for ``TestFullGazetteer`` in a transaction of its own
that is rolled back when the class ends. The tests outside the class load only
seeds/places.csv and a few cities inside the usual per-test transaction.
"""

from __future__ import annotations

import csv
import json
import logging
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from directory.cli import SEEDS_DIR
from directory.db import db
from directory.gazetteer import services as gazetteer
from directory.gazetteer.models import Town, TownName, TownSource
from directory.gazetteer.services import GazetteerError, load_gazetteer, search_towns
from tests import factories

with (SEEDS_DIR / "places.csv").open(encoding="utf-8", newline="") as _handle:
    SEED_PLACES = list(csv.DictReader(_handle))


def plain(name: str) -> str:
    """Lower case without accents: what a searcher on a phone keyboard types."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def _interior(text: str) -> list[int]:
    """Positions of letters that have a letter on both sides."""
    return [i for i in range(1, len(text) - 1) if text[i - 1 : i + 2].isalpha()]


def drop_a_letter(name: str) -> str:
    """One typo: the middle interior letter left out ("tecun uman" → "tecn uman")."""
    text = plain(name)
    positions = _interior(text)
    i = positions[len(positions) // 2]
    return text[:i] + text[i + 1 :]


def swap_two_letters(name: str) -> str:
    """One typo: two different adjacent letters in the middle swapped ("altar" → "alatr")."""
    text = plain(name)
    positions = [i for i in _interior(text) if text[i + 1].isalpha() and text[i] != text[i + 1]]
    i = positions[len(positions) // 2]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def test_typo_helpers_make_one_typo():
    assert drop_a_letter("Tecún Umán") == "tecn uman"
    assert swap_two_letters("Tecún Umán") == "tecnu uman"
    assert drop_a_letter("Altar") == "alar"
    assert swap_two_letters("Turbo") == "tubro"


# A few real GeoNames cities: Tapachula, Umán (shares a word with Tecún Umán), and Turbo,
# which places.csv also has (so it must not be added twice, only lend its population).
FEW_CITIES = [
    factories.geonames_city(3516266, "Tapachula", "MX", -92.25891, 14.90541, 353706),
    factories.geonames_city(3514783, "Umán", "MX", -89.74798, 20.88149, 50993),
    factories.geonames_city(3666640, "Turbo", "CO", -76.72674, 8.09263, 50508),
]


@pytest.fixture
def small_gazetteer(db_session: Session) -> gazetteer.GazetteerReport:
    return load_gazetteer(db_session, SEEDS_DIR, cities=FEW_CITIES)


def _count(session: Session, source: TownSource | None = None) -> int:
    query = select(func.count()).select_from(Town)
    if source is not None:
        query = query.where(Town.source == source)
    return session.scalar(query)


def test_load_adds_places_csv_and_cities_without_duplicates(db_session, small_gazetteer):
    assert small_gazetteer.added == Counter({"places.csv": len(SEED_PLACES), "geonames": 2})
    assert small_gazetteer.populations_filled == 1
    turbo = db_session.scalars(select(Town).where(Town.name == "Turbo")).one()
    assert turbo.source is TownSource.PLACES_CSV
    assert turbo.population == 50508
    assert turbo.admin_area == "Antioquia"
    # Every place is searchable by the key of its name (and of each alternate name).
    keys = set(db_session.scalars(select(TownName.key).join(Town).where(Town.name == "Tecún Umán")))
    assert keys == {"tecun uman", "ciudad tecun uman", "ayutla"}


def test_a_second_load_adds_nothing(db_session, small_gazetteer):
    before = _count(db_session)
    again = load_gazetteer(db_session, SEEDS_DIR, cities=FEW_CITIES)
    assert sum(again.added.values()) == 0
    assert again.populations_filled == 0
    assert again.summary() == "nothing new: the gazetteer was already loaded"
    assert _count(db_session) == before


def test_cities_of_the_directory_join_the_gazetteer_once(db_session):
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    org = factories.organization(db_session)
    # A town no other source has, twice (two sites), and one already in places.csv.
    factories.location(db_session, org, -92.64, 15.07, city="Villa Comaltitlán")
    factories.location(db_session, org, -92.66, 15.05, city="Villa Comaltitlan")
    factories.location(db_session, org, -91.42, 17.47, city="Tenosique")

    report = load_gazetteer(db_session, SEEDS_DIR, cities=[])
    assert report.added["directory"] == 1
    place = db_session.scalars(select(Town).where(Town.source == TownSource.DIRECTORY)).one()
    assert place.source_id == "MX:villa-comaltitlan"
    assert place.position.lon == pytest.approx(-92.65)
    assert place.position.lat == pytest.approx(15.06)
    assert [match.name for match in search_towns(db_session, "villa comaltitln")][:1] == [
        place.name
    ]
    assert load_gazetteer(db_session, SEEDS_DIR, cities=[]).added["directory"] == 0


def test_a_bad_places_csv_row_names_its_line(db_session, tmp_path: Path):
    lines = (SEEDS_DIR / "places.csv").read_text(encoding="utf-8").splitlines()
    lines.insert(3, "Nowhere,,,MX,95.0,-92.0,town")  # latitude out of range, on line 4
    (tmp_path / "places.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=r"places\.csv:4: lat"):
        load_gazetteer(db_session, tmp_path, cities=[])
    assert _count(db_session) == 0


def test_geonames_rows_cover_the_seeded_countries_with_readable_alternate_names():
    rows = gazetteer.geonames_cities({"GT"})
    assert {row["country_code"] for row in rows} == {"GT"}
    guatemala = next(row for row in rows if row["name"] == "Guatemala City")
    assert "Ciudad de Guatemala" in guatemala["alt_names"]
    for row in rows:
        for name in row["alt_names"]:
            assert name[0].isupper(), name
            assert not name.isupper(), name
    codes = gazetteer.americas_country_codes(SEEDS_DIR)
    assert {"MX", "GT", "US", "CA", "BR", "CO", "HT"} <= codes
    assert "ES" not in codes


@pytest.mark.parametrize(
    ("name", "useful"),
    [
        ("Ciudad de Guatemala", True),
        ("Tecún Umán", True),
        ("LAX", False),
        ("luo shan ji", False),
        ("Лос-Анджелес", False),
        ("L.A.", False),
        ("Zone 10", False),
    ],
)
def test_alternate_names_kept_are_those_a_searcher_types(name, useful):
    assert gazetteer._is_useful_alt_name(name, primary="Somewhere") is useful


def test_the_cli_loads_and_reports(runner, db_session, tmp_path: Path):
    # Belize only, to keep the test quick.
    (tmp_path / "places.csv").write_bytes((SEEDS_DIR / "places.csv").read_bytes())
    belize = {"type": "Feature", "properties": {"code": "BZ"}, "geometry": None}
    (tmp_path / "countries.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [belize]}), encoding="utf-8"
    )
    result = runner.invoke(args=["gazetteer", "load", "--seeds-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"{len(SEED_PLACES)} from places.csv" in result.output
    assert _count(db_session, TownSource.GEONAMES) > 0
    again = runner.invoke(args=["gazetteer", "load", "--seeds-dir", str(tmp_path)])
    assert "nothing new" in again.output


# --- the API ------------------------------------------------------------------------------


def test_the_old_places_path_still_answers_for_existing_links(client, small_gazetteer):
    old = client.get("/api/v1/places?q=tecun uman")
    assert old.status_code == 200
    assert old.headers["Cache-Control"] == "private, no-store"
    assert old.json["places"] == client.get("/api/v1/towns?q=tecun uman").json["towns"]
    assert old.json["places"][0]["name"] == "Tecún Umán"


def test_api_finds_tecun_uman_first(client, small_gazetteer):
    response = client.get("/api/v1/towns?q=tecun uman")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    first = response.json["towns"][0]
    # No country and no route is loaded here: nothing to say about the region.
    assert first == {
        "name": "Tecún Umán",
        "admin_area": "San Marcos",
        "country_code": "GT",
        "label": "Tecún Umán, San Marcos, GT",
        "lat": 14.677,
        "lon": -92.139,
        "kind": "border_crossing",
        "in_region": False,
        "route_distance_km": None,
        "far_from_routes": False,
    }


def test_api_limit_and_country(client, small_gazetteer):
    everywhere = client.get("/api/v1/towns?q=penas blancas&limit=2").json["towns"]
    assert {(p["name"], p["country_code"]) for p in everywhere} == {
        ("Peñas Blancas", "CR"),
        ("Peñas Blancas", "NI"),
    }
    one = client.get("/api/v1/towns?q=penas blancas&country=ni").json["towns"]
    assert [(p["name"], p["country_code"]) for p in one][:1] == [("Peñas Blancas", "NI")]
    assert all(p["country_code"] == "NI" for p in one)
    assert len(client.get("/api/v1/towns?q=san&limit=1").json["towns"]) == 1


def test_api_a_query_with_nothing_searchable_finds_nothing(client, small_gazetteer):
    for query in ("%21%21%21", "北京", "zzzzqqqq"):
        response = client.get(f"/api/v1/towns?q={query}")
        assert response.status_code == 200
        assert response.json == {"towns": []}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20%09", "q"),
        ("q=" + "a" * 101, "q"),
        ("q=tapachula&limit=0", "limit"),
        ("q=tapachula&limit=51", "limit"),
        ("q=tapachula&limit=ten", "limit"),
        ("q=tapachula&limit=1.5", "limit"),
        ("q=tapachula&country=MEX", "country"),
    ],
)
def test_api_bad_input_is_a_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/v1/towns?{query}")
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{parameter}:")
    assert list(error["details"]["parameters"]) == [parameter]


def test_api_search_terms_are_not_logged(app: Flask, client, small_gazetteer, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "Qwertzuiopville"
    assert client.get(f"/api/v1/towns?q={secret}").status_code == 200
    assert client.get(f"/api/v1/towns?q={secret}&limit=0").status_code == 400
    assert not [record for record in caplog.records if secret in record.getMessage()]


# --- search on the full gazetteer ---------------------------------------------------------


@pytest.fixture(scope="class")
def full_gazetteer(app: Flask) -> Iterator[tuple[Session, gazetteer.GazetteerReport]]:
    """Every GeoNames city of the Americas + places.csv + one directory city, loaded once
    in a transaction of its own that is rolled back after the class."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        session = Session(bind=connection)
        try:
            factories.country(session, "MX", (-118.0, 14.5, -86.5, 32.8))
            org = factories.organization(session)
            factories.location(session, org, -92.2667, 14.9, city="Tapachula")
            factories.location(session, org, -92.65, 15.06, city="Villa Comaltitlán")
            report = load_gazetteer(session, SEEDS_DIR)
            yield session, report
        finally:
            session.close()
            transaction.rollback()
            connection.close()


def _found(matches, row: dict[str, str]) -> bool:
    return any(m.name == row["name"] and m.country_code == row["country_code"] for m in matches)


class TestFullGazetteer:
    def test_the_load_covers_every_source(self, full_gazetteer):
        session, report = full_gazetteer
        assert report.added["places.csv"] == len(SEED_PLACES)
        assert report.added["geonames"] > 8000
        assert report.added["directory"] == 1  # Villa Comaltitlán; Tapachula is a city
        assert report.populations_filled >= 10
        assert _count(session, TownSource.GEONAMES) == report.added["geonames"]

    def test_a_second_full_load_adds_nothing(self, full_gazetteer):
        session, _ = full_gazetteer
        before = _count(session)
        again = load_gazetteer(session, SEEDS_DIR)
        assert sum(again.added.values()) == 0
        assert _count(session) == before

    @pytest.mark.parametrize("typo", [drop_a_letter, swap_two_letters])
    @pytest.mark.parametrize(
        "row", SEED_PLACES, ids=[f"{r['name']}-{r['country_code']}" for r in SEED_PLACES]
    )
    def test_every_seeded_town_is_found_despite_one_typo(self, full_gazetteer, row, typo):
        session, _ = full_gazetteer
        query = typo(row["name"])
        matches = search_towns(session, query, limit=3, country=row["country_code"])
        assert _found(matches, row), f"{query!r} → {matches}"

    @pytest.mark.parametrize(
        "row", SEED_PLACES, ids=[f"{r['name']}-{r['country_code']}" for r in SEED_PLACES]
    )
    def test_every_seeded_town_is_first_by_its_plain_name_in_its_country(self, full_gazetteer, row):
        session, _ = full_gazetteer
        matches = search_towns(session, plain(row["name"]), limit=3, country=row["country_code"])
        assert _found(matches[:1], row) or (
            # Two towns of one country may share a name (El Ceibo GT/MX is two countries).
            matches[0].name == row["name"]
        ), matches

    @pytest.mark.parametrize(
        ("query", "name", "country"),
        [
            ("tecun uman", "Tecún Umán", "GT"),
            ("TECÚN UMÁN", "Tecún Umán", "GT"),
            ("Tecun Umn", "Tecún Umán", "GT"),
            ("Necocli", "Necoclí", "CO"),
            ("tapachul", "Tapachula", "MX"),
            ("tapachula", "Tapachula", "MX"),
            ("ciudad de mexico", "Mexico City", "MX"),
            ("ciudad juarez", "Ciudad Juárez", "MX"),
            ("villa comaltitlan", "Villa Comaltitlán", "MX"),
            ("san pedro sula", "San Pedro Sula", "HN"),
            ("monterey", "Monterey", "US"),
        ],
    )
    def test_known_searches_put_the_town_first(self, full_gazetteer, query, name, country):
        session, _ = full_gazetteer
        first = search_towns(session, query, limit=5)[0]
        assert (first.name, first.country_code) == (name, country)

    def test_results_carry_where_the_town_is(self, full_gazetteer):
        session, _ = full_gazetteer
        (tapachula,) = search_towns(session, "tapachula", limit=1)
        assert tapachula.kind == "city"
        assert tapachula.lon == pytest.approx(-92.26, abs=0.05)
        assert tapachula.lat == pytest.approx(14.91, abs=0.05)
        assert tapachula.as_dict()["lat"] == tapachula.lat

    def test_limit_and_nothing_searchable(self, full_gazetteer):
        session, _ = full_gazetteer
        assert len(search_towns(session, "san", limit=7)) == 7
        assert search_towns(session, " ¡¿? ") == []

    @pytest.mark.parametrize("query", ["tecun uman", "santa rosa de copan", "sa"])
    def test_the_search_uses_the_trigram_index(self, full_gazetteer, query):
        session, _ = full_gazetteer
        key = gazetteer.search_key(session, query)
        statement, parameters = gazetteer.search_statement(key, None, 10)
        plan = session.execute(text("EXPLAIN " + statement.text), parameters).scalars()
        plan_text = "\n".join(plan)
        assert "ix_town_names_key_trgm" in plan_text
        assert "Seq Scan on place_names" not in plan_text
