"""A record's history: every audited change in time order, with who, when, what, and each
field's difference made readable (items added and removed, a short word diff, how far a
point moved)."""

from __future__ import annotations

import datetime as dt

import pytest

from directory.accounts.models import User, UserRole
from directory.db import OperationalStatus
from directory.places.models import Location, Network, Organization
from directory.records import (
    FieldDifference,
    apply_edit,
    archive,
    create_record,
    history,
    restore,
)
from directory.records.history import TextPiece, text_diff
from geo.coordinates import LonLat
from tests import factories
from tests.distances import haversine_m

NOTES = (
    "Take the path behind the church and ring the bell at the green gate; we open the "
    "door to families first and then to everyone else who is waiting outside."
)


@pytest.fixture
def people(db_session):
    factories.country(db_session, "MX")
    ana = User(email="ana@example.org", name="Ana", role=UserRole.SECRETARIAT)
    luis = User(email="luis@example.org", name="Luis", role=UserRole.SECRETARIAT)
    db_session.add_all([ana, luis])
    db_session.flush()
    return ana, luis


@pytest.fixture
def edited_location(db_session, people):
    """A location created by Ana, then edited, moved, archived and restored."""
    ana, luis = people
    organization = factories.organization(db_session, name="Albergue Belén")
    location = create_record(
        db_session,
        Location(
            external_id="new:1",
            organization=organization,
            city="Tapachula",
            country_code="MX",
            point=LonLat(-92.26, 14.91).to_wkt_element(),
            phones=["+52 962 111 1111", "+52 962 222 2222"],
            notes={"es": "Detrás de la iglesia", "en": NOTES},
            notes_language="es",
            source="workspace",
        ),
        ana.id,
    )
    apply_edit(
        db_session,
        location,
        {
            "phones": ["+52 962 222 2222", "+52 962 333 3333"],
            "notes": {
                "es": "Detrás de la iglesia",
                "en": NOTES.replace("green gate", "blue gate"),
                "fr": "Derrière l'église",
            },
            "status": OperationalStatus.FULL,
            "opening_hours": {"mo": [["08:00", "16:00"]]},
        },
        expected_version=1,
        user_id=luis.id,
    )
    apply_edit(
        db_session,
        location,
        {"point": LonLat(-92.26, 14.92).to_wkt_element()},
        expected_version=2,
        user_id=ana.id,
    )
    archive(db_session, location, expected_version=3, user_id=luis.id)
    restore(db_session, location, expected_version=4, user_id=ana.id)
    return location


def by_field(change) -> dict[str, FieldDifference]:
    return {difference.field: difference for difference in change.differences}


def test_the_history_lists_every_change_in_time_order_with_who_and_version(
    db_session, people, edited_location
):
    ana, luis = people
    changes = history(db_session, "locations", edited_location.id)
    assert [(c.action, c.user_id, c.version) for c in changes] == [
        ("create", ana.id, 1),
        ("update", luis.id, 2),
        ("update", ana.id, 3),
        ("archive", luis.id, 4),
        ("restore", ana.id, 5),
    ]
    assert [c.at for c in changes] == sorted(c.at for c in changes)
    # The model class names the entity as well as its table name.
    assert history(db_session, Location, edited_location.id) == changes
    assert history(db_session, Location, edited_location.id + 1000) == []


def test_a_creation_shows_the_fields_it_was_given(db_session, edited_location):
    created = by_field(history(db_session, Location, edited_location.id)[0])
    assert created["city"] == FieldDifference("city", "value", None, "Tapachula")
    assert created["phones"].kind == "list"
    assert created["phones"].added == ["+52 962 111 1111", "+52 962 222 2222"]
    assert created["point"].kind == "point"
    assert created["point"].after == [-92.26, 14.91]
    assert created["point"].distance_m is None
    assert created["notes.es"].after == "Detrás de la iglesia"
    assert created["timezone"].after == "America/Mexico_City"
    # The key, the version and empty fields are not differences.
    for hidden in ("id", "version", "address", "archived_at", "categories", "languages"):
        assert hidden not in created


def test_an_update_is_shown_field_by_field(db_session, edited_location):
    update = by_field(history(db_session, Location, edited_location.id)[1])
    assert set(update) == {"phones", "notes.en", "notes.fr", "status", "opening_hours.mo"}

    phones = update["phones"]
    assert phones.kind == "list"
    assert phones.added == ["+52 962 333 3333"]
    assert phones.removed == ["+52 962 111 1111"]

    assert update["status"] == FieldDifference("status", "value", "open", "full")
    assert update["notes.fr"] == FieldDifference("notes.fr", "value", None, "Derrière l'église")
    assert update["opening_hours.mo"].kind == "list"
    assert update["opening_hours.mo"].added == [["08:00", "16:00"]]

    notes = update["notes.en"]
    assert notes.kind == "text"
    assert notes.before == NOTES
    assert notes.pieces == [
        TextPiece("=", "… the bell at the"),
        TextPiece("-", "green"),
        TextPiece("+", "blue"),
        TextPiece("=", "gate; we open the …"),
    ]


def test_a_moved_point_says_how_far_it_moved(db_session, edited_location):
    moved = history(db_session, Location, edited_location.id)[2]
    assert [d.field for d in moved.differences] == ["point"]  # same time zone: no change
    (point,) = moved.differences
    assert point.kind == "point"
    assert (point.before, point.after) == ([-92.26, 14.91], [-92.26, 14.92])
    expected = haversine_m((-92.26, 14.91), (-92.26, 14.92))
    assert point.distance_m == pytest.approx(expected, rel=0.005)  # about 1.1 km
    assert 1090 < point.distance_m < 1120


def test_archive_and_restore_show_when(db_session, edited_location):
    archived, restored = history(db_session, Location, edited_location.id)[3:]
    (when,) = archived.differences
    assert when.field == "archived_at"
    assert when.before is None
    archived_at = dt.datetime.fromisoformat(when.after)
    assert abs(archived_at - archived.at) < dt.timedelta(seconds=5)
    assert restored.differences == [FieldDifference("archived_at", "value", when.after, None)]


def test_an_organizations_networks_show_as_added_and_removed(db_session, people):
    ana, _luis = people
    rncom = Network(code="rncom", names={"en": "RNCOM"})
    cammina = Network(code="cammina", names={"en": "CAMMINA"})
    db_session.add_all([rncom, cammina])
    organization = factories.organization(db_session, name="Casa del Migrante")
    apply_edit(db_session, organization, {"networks": [rncom]}, expected_version=1, user_id=None)
    apply_edit(
        db_session, organization, {"networks": [cammina]}, expected_version=2, user_id=ana.id
    )
    first, second = history(db_session, Organization, organization.id)
    assert first.user_id is None
    assert first.differences[0].added == ["rncom"]
    (networks,) = second.differences
    assert (networks.added, networks.removed) == (["cammina"], ["rncom"])


def test_a_short_text_is_shown_whole_and_a_long_one_as_a_diff():
    assert text_diff("a b c", "a x c") == [
        TextPiece("=", "a"),
        TextPiece("-", "b"),
        TextPiece("+", "x"),
        TextPiece("=", "c"),
    ]
    words = " ".join(f"w{i}" for i in range(30))
    pieces = text_diff(words, words.replace("w15", "changed") + " end")
    assert pieces == [
        TextPiece("=", "… w11 w12 w13 w14"),
        TextPiece("-", "w15"),
        TextPiece("+", "changed"),
        TextPiece("=", "w16 w17 w18 w19 … w26 w27 w28 w29"),
        TextPiece("+", "end"),
    ]
