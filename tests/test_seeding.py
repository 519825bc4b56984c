"""The demo data: counts, idempotence, and the rules for what demo records may contain."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

import pytest
from click.testing import Result
from sqlalchemy import distinct, func, select

from directory.accounts.models import ContactPerson
from directory.cli import SEEDS_DIR
from directory.corridors.models import Barrier, Route
from directory.db import OrganizationKind, PositionPrecision
from directory.places.models import Country, Location, Network, Organization
from directory.seeding import DEMO_SOURCE, SeedError, load_demo

COUNTED = (Country, Network, Organization, Location, Route, ContactPerson, Barrier)
SENDING_COUNTRIES = {"GT", "HN", "SV", "NI", "MX", "CR", "PA", "DO", "CO", "VE", "EC", "CU", "HT"}
REQUIRED_PLACES = [
    "Necoclí", "Tecún Umán", "Paso Canoas", "Peñas Blancas", "Yaviza", "Metetí", "El Ceibo",
    "Ciudad Hidalgo", "Talismán", "La Mesilla", "Agua Caliente", "Las Manos", "Guasaule",
    "El Amatillo",
]  # fmt: skip


def _counts(session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) for model in COUNTED
    }


@pytest.fixture
def seeded(demo_session):
    """The demo data, loaded once per run (``demo_database``), in a rolled-back transaction."""
    return demo_session


def test_seeding_twice_adds_nothing_the_second_time(demo_database, demo_runner, demo_session):
    # The first `flask seed demo` ran on the empty database when the demo database was built.
    first: Result = demo_database.seeding
    assert first.exit_code == 0, first.output
    assert "nothing new" not in first.output
    counts = _counts(demo_session)
    assert 0 not in counts.values(), counts  # the first load did add every kind
    second: Result = demo_runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert "nothing new" in second.output
    assert _counts(demo_session) == counts


def test_demo_data_meets_the_promised_numbers(seeded):
    session = seeded
    assert session.scalar(select(func.count()).select_from(Location)) >= 200
    assert session.scalar(select(func.count(distinct(Location.country_code)))) >= 10
    assert session.scalar(select(func.count()).select_from(Route)) >= 6
    americas = set(session.scalars(select(Country.code)))
    assert {"US", "CA", "MX", "GT", "HT", "CO", "BR", "AR", "CU", "DO"} <= americas


def test_consulates_of_every_sending_country_are_present(seeded):
    served = set(
        seeded.scalars(
            select(Organization.sending_country_code).where(
                Organization.kind.in_([OrganizationKind.CONSULATE, OrganizationKind.EMBASSY])
            )
        )
    )
    assert served >= SENDING_COUNTRIES
    in_us = seeded.scalar(
        select(func.count())
        .select_from(Location)
        .join(Location.organization)
        .where(Location.country_code == "US", Organization.kind == OrganizationKind.CONSULATE)
    )
    assert in_us >= 10


def test_shelters_and_international_organizations_are_present(seeded):
    kinds = dict(
        seeded.execute(
            select(Organization.kind, func.count(Location.id))
            .join(Location.organization)
            .group_by(Organization.kind)
        ).all()
    )
    assert kinds.get(OrganizationKind.SHELTER, 0) >= 20
    slugs = set(seeded.scalars(select(Organization.slug)))
    assert {"iom", "unhcr", "icrc"} <= slugs
    networks = set(seeded.scalars(select(Network.code).join(Organization.networks).distinct()))
    assert {"RNCOM", "CAMMINA"} <= networks


def test_demo_locations_are_unverified_and_carry_no_invented_contact_data(seeded):
    locations = seeded.scalars(select(Location)).all()
    assert {location.source for location in locations} == {DEMO_SOURCE}
    assert all(location.verified_at is None for location in locations)
    assert all(
        not location.email and not location.phones and not location.whatsapp
        for location in locations
    )


def test_every_member_country_has_a_contact_in_every_network(seeded):
    members = set(seeded.scalars(select(Country.code).where(Country.is_rcm_member)))
    assert len(members) == 11
    pairs = set(
        seeded.execute(
            select(ContactPerson.country_code, Network.code)
            .join(ContactPerson.network)
            .where(ContactPerson.role == "primary")
        ).all()
    )
    for network in ("RNCOM", "CAMMINA", "LONCP"):
        assert {(country, network) for country in members} <= pairs
    emails = seeded.scalars(select(ContactPerson.email).where(ContactPerson.email.is_not(None)))
    assert all(email.endswith("@example.org") for email in emails)


def test_every_demo_location_lies_in_its_country(seeded):
    # check_placement ran at load time; this re-checks the stored rows independently.
    outside = seeded.scalars(
        select(Location.external_id)
        .join(Country, Country.code == Location.country_code)
        .where(~func.ST_DWithin(func.Geography(Country.boundary), Location.point, 15_000))
    ).all()
    assert outside == []
    # Positive control: the same check against another country's boundary finds them all.
    in_mexico = select(Location.external_id).where(Location.country_code == "MX")
    against_argentina = seeded.scalars(
        in_mexico.join(Country, Country.code == "AR").where(
            ~func.ST_DWithin(func.Geography(Country.boundary), Location.point, 15_000)
        )
    ).all()
    assert len(against_argentina) == len(seeded.scalars(in_mexico).all()) > 0


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def test_place_list_has_the_transit_towns_gazetteers_miss():
    with (SEEDS_DIR / "places.csv").open(encoding="utf-8") as handle:
        names = {_plain(row["name"]) for row in csv.DictReader(handle)}
    missing = [place for place in REQUIRED_PLACES if _plain(place) not in names]
    assert missing == []


def test_demo_locations_claim_only_city_points_and_typical_hours(seeded):
    """The demo points are town centres and its hours were never confirmed: the seeds say
    so, and nothing can show a demo place as "open now" or to the metre."""
    locations = seeded.scalars(select(Location)).all()
    assert {location.position_precision for location in locations} == {PositionPrecision.CITY}
    assert not any(location.hours_confirmed for location in locations)
    assert any(location.opening_hours for location in locations)  # the hours are kept


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("position_precision", "rooftop", "'rooftop' is not a valid PositionPrecision"),
        ("hours_confirmed", "maybe", "'maybe' is not one of true, false, yes, no"),
        ("intake_hours", "Mo-Zz 08:00-10:00", "Zz"),
    ],
)
def test_a_bad_certainty_cell_names_the_line(db_session, tmp_path, column, value, message):
    _copy_seeds(tmp_path)
    lines = (tmp_path / "locations.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader(lines))
    rows[1][column] = value
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows[:3])
    (tmp_path / "locations.csv").write_text(output.getvalue(), encoding="utf-8")
    with pytest.raises(SeedError, match=rf"locations\.csv:3: .*{re.escape(message)}"):
        load_demo(db_session, tmp_path)


def _copy_seeds(target):
    for path in SEEDS_DIR.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())


def test_a_duplicate_row_in_a_seed_file_is_an_error(db_session, tmp_path):
    _copy_seeds(tmp_path)
    lines = (tmp_path / "locations.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "locations.csv").write_text("\n".join([*lines[:3], lines[1]]) + "\n")
    with pytest.raises(SeedError, match=r"locations\.csv:4: same organization, city and site name"):
        load_demo(db_session, tmp_path)


def test_a_bad_row_loads_nothing_and_names_the_line(runner, db_session, tmp_path):
    _copy_seeds(tmp_path)
    locations = (tmp_path / "locations.csv").read_text(encoding="utf-8").splitlines()
    header = locations[0].split(",")
    row = next(csv.DictReader([locations[0], locations[1]]))
    row["site_name"] = "Somewhere at sea"
    row["lat"], row["lon"] = "5.0", "-100.0"  # the Pacific
    broken = ",".join(f'"{row[column]}"' for column in header)
    (tmp_path / "locations.csv").write_text(
        "\n".join([locations[0], *locations[1:3], broken]) + "\n", encoding="utf-8"
    )
    with pytest.raises(SeedError, match=r"locations\.csv:4: .*outside every country"):
        load_demo(db_session, tmp_path)
    db_session.rollback()

    result = runner.invoke(args=["seed", "demo", "--seeds-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "nothing was loaded" in result.output
    assert "locations.csv:4" in result.output
    assert set(_counts(db_session).values()) == {0}


def _with_organization_row(tmp_path, key: str, kind: str, sending: str, also_serves: str) -> None:
    path = tmp_path / "organizations.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = f"{key},Oficina consular conjunta,{kind},{sending},,{also_serves},,,"
    path.write_text("\n".join([*lines, row]) + "\n", encoding="utf-8")


def test_a_joint_office_loads_the_nationalities_it_also_serves(demo_session, tmp_path):
    # Loaded onto the demo data, where only the joint office is new.
    _copy_seeds(tmp_path)
    _with_organization_row(tmp_path, "joint-office", "consulate", "GT", "SV;HN")
    by_slug = select(Organization).where(Organization.slug == "joint-office")
    assert demo_session.scalar(by_slug) is None
    report = load_demo(demo_session, tmp_path)
    assert report.added["organizations"] == 1
    office = demo_session.scalar(by_slug)
    assert office.nationalities == ["GT", "HN", "SV"]


@pytest.mark.parametrize(
    ("kind", "also_serves", "message"),
    [
        ("consulate", "SV;XX", "also_serves names unknown country 'XX'"),
        ("shelter", "SV", "also_serves is only for consulates and embassies"),
    ],
)
def test_a_bad_also_serves_loads_nothing(db_session, tmp_path, kind, also_serves, message):
    _copy_seeds(tmp_path)
    _with_organization_row(tmp_path, "joint-office", kind, "GT", also_serves)
    with pytest.raises(SeedError, match=rf"organizations\.csv:\d+: {message}"):
        load_demo(db_session, tmp_path)
