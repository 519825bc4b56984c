"""Editing through ``directory.records``: the version the editor started from is checked
against the row as the database has it now (across sessions, not only inside one), and
every change writes an audit entry with the fields before and after in the same
transaction."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, User, UserRole
from directory.db import Cost, OperationalStatus, OrganizationKind, PositionPrecision, db
from directory.places.models import Location, Network, Organization, ServiceCategory
from directory.records import (
    NotVersioned,
    StaleEdit,
    StaleField,
    apply_edit,
    changed_since,
    create_record,
    entity_name,
    stale_fields,
    write_entry,
)
from geo.coordinates import LonLat
from tests import factories
from tests.conftest import RUN_ID, _drop_database, _recreate_database, make_test_app


def secretariat(session: Session, email: str = "secretariat@example.org") -> User:
    user = User(email=email, name="Ana Secretaría", role=UserRole.SECRETARIAT)
    session.add(user)
    session.flush()
    return user


def audit_entries(session: Session, record) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == record.__tablename__, AuditEntry.entity_id == str(record.id)
            )
            .order_by(AuditEntry.id)
        )
    )


# -- Two connections on committed rows ---------------------------------------------------


@pytest.fixture(scope="module")
def scratch_engine(server_url: URL) -> Iterator[Engine]:
    """A database of its own, migrated to head, where two sessions see each other's
    commits (the rolled-back ``db_session`` cannot show that); dropped afterwards."""
    name = f"{server_url.database}_test_records_{RUN_ID}"
    url = _recreate_database(server_url, name)
    try:
        app = make_test_app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        engine = create_engine(url)
        yield engine
        engine.dispose()
    finally:
        _drop_database(server_url, name)


@pytest.fixture
def committed(scratch_engine: Engine) -> Iterator[dict[str, int]]:
    """A committed user and organization (version 1); every row is gone afterwards."""
    with Session(scratch_engine) as session:
        factories.country(session, "MX")
        user = secretariat(session)
        other = secretariat(session, "other@example.org")
        organization = factories.organization(session, name="Casa del Migrante")
        session.commit()
        ids = {"user": user.id, "other": other.id, "organization": organization.id}
    yield ids
    with Session(scratch_engine) as session:
        for table in ("audit_entries", "organizations", "users", "countries"):
            session.execute(db.metadata.tables[table].delete())
        session.commit()


def test_an_edit_submitted_after_someone_elses_save_is_refused_and_writes_nothing(
    scratch_engine, committed
):
    # Two editors open the same form (version 1), each in a session of their own.
    with Session(scratch_engine) as first, Session(scratch_engine) as second:
        mine = first.get(Organization, committed["organization"])
        theirs = second.get(Organization, committed["organization"])
        assert mine.version == theirs.version == 1

        apply_edit(
            first,
            mine,
            {"name": "Casa del Migrante Belén", "website": "https://belen.example.org"},
            expected_version=1,
            user_id=committed["user"],
        )
        first.commit()
        assert mine.version == 2

        # The second editor's session still holds version 1 in its identity map: the
        # check reads the row itself, so the stale submit is refused all the same.
        with pytest.raises(StaleEdit) as refused:
            apply_edit(
                second,
                theirs,
                {"name": "Albergue Belén", "email": "info@belen.example.org"},
                expected_version=1,
                user_id=committed["other"],
            )
        second.rollback()
        error = refused.value
        assert (error.entity, error.entity_id) == ("organizations", str(mine.id))
        assert (error.expected_version, error.version) == (1, 2)
        assert error.current["name"] == "Casa del Migrante Belén"
        assert error.current["version"] == 2
        assert error.changed == {
            "name": "Casa del Migrante Belén",
            "website": "https://belen.example.org",
        }

    with Session(scratch_engine) as check:
        saved = check.get(Organization, committed["organization"])
        assert (saved.name, saved.email, saved.version) == (
            "Casa del Migrante Belén",
            None,
            2,
        )
        entries = audit_entries(check, saved)
        assert [(e.action, e.user_id) for e in entries] == [("update", committed["user"])]


def test_a_form_loaded_before_a_save_is_refused_in_a_fresh_session(scratch_engine, committed):
    """The case the issue saw: a request loads the record fresh (version 2 now) but the
    form carries version 1; without the check the submit became version 3."""
    with Session(scratch_engine) as first:
        record = first.get(Organization, committed["organization"])
        apply_edit(first, record, {"name": "First"}, expected_version=1, user_id=None)
        first.commit()
    with Session(scratch_engine) as request:
        record = request.get(Organization, committed["organization"])
        assert record.version == 2
        with pytest.raises(StaleEdit):
            apply_edit(request, record, {"name": "Second"}, expected_version=1, user_id=None)
        request.rollback()
    with Session(scratch_engine) as check:
        record = check.get(Organization, committed["organization"])
        assert (record.name, record.version) == ("First", 2)
        assert check.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_the_row_stays_locked_from_the_check_to_the_commit(scratch_engine, committed):
    """Two submits from version 1 at the same moment: the second waits for the first's
    transaction to end, then finds version 2 and is refused (no write in between)."""
    first = Session(scratch_engine)
    record = first.get(Organization, committed["organization"])
    apply_edit(first, record, {"name": "First"}, expected_version=1, user_id=None)  # locked
    outcome: list[object] = []
    started = threading.Event()

    def second_submit() -> None:
        with Session(scratch_engine) as second:
            other = second.get(Organization, committed["organization"])
            started.set()
            try:
                apply_edit(second, other, {"name": "Second"}, expected_version=1, user_id=None)
                second.commit()
                outcome.append("saved")
            except StaleEdit as error:
                second.rollback()
                outcome.append(error)

    thread = threading.Thread(target=second_submit)
    thread.start()
    try:
        assert started.wait(timeout=10)
        thread.join(timeout=0.5)
        assert thread.is_alive()  # waiting on the first editor's row lock
        first.commit()
    finally:
        first.close()
    thread.join(timeout=10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], StaleEdit)
    assert outcome[0].version == 2
    with Session(scratch_engine) as check:
        assert check.get(Organization, committed["organization"]).name == "First"


# -- Audit entries, entity by entity ------------------------------------------------------


@pytest.fixture
def directory_data(db_session):
    factories.country(db_session, "MX")
    factories.country(db_session, "GT", (-92.2, 13.7, -88.2, 17.8))
    rncom = Network(code="rncom", names={"en": "RNCOM"})
    cammina = Network(code="cammina", names={"en": "CAMMINA"})
    food = ServiceCategory(code="food", names={"en": "Food"}, icon="utensils")
    legal = ServiceCategory(code="legal", names={"en": "Legal aid"}, icon="scale")
    db_session.add_all([rncom, cammina, food, legal])
    db_session.flush()
    organization = factories.organization(db_session, name="Albergue Belén")
    location = factories.location(db_session, organization, -92.26, 14.91, city="Tapachula")
    return {
        "user": secretariat(db_session),
        "organization": organization,
        "location": location,
        "networks": (rncom, cammina),
        "categories": (food, legal),
    }


def test_an_organization_edit_is_audited_with_its_fields_before_and_after(
    db_session, directory_data
):
    organization = directory_data["organization"]
    rncom, cammina = directory_data["networks"]
    user = directory_data["user"]
    apply_edit(
        db_session,
        organization,
        {
            "name": "Albergue Belén de Tapachula",
            "kind": OrganizationKind.CIVIL_SOCIETY,
            "descriptions": {"es": "Acogida", "en": "Shelter"},
            "description_language": "es",
            "networks": [cammina, rncom],
            "website": None,  # unchanged: not in the entry
        },
        expected_version=1,
        user_id=user.id,
    )
    assert organization.version == 2
    (entry,) = audit_entries(db_session, organization)
    assert (entry.action, entry.entity, entry.entity_id, entry.user_id) == (
        "update",
        "organizations",
        str(organization.id),
        user.id,
    )
    assert entry.before == {
        "version": 1,
        "name": organization.name.removesuffix(" de Tapachula"),
        "kind": "shelter",
        "descriptions": {},
        "description_language": None,
        "networks": [],
    }
    assert entry.after == {
        "version": 2,
        "name": "Albergue Belén de Tapachula",
        "kind": "civil_society",
        "descriptions": {"es": "Acogida", "en": "Shelter"},
        "description_language": "es",
        "networks": ["cammina", "rncom"],
    }
    assert entry.at is not None


def test_a_location_edit_is_audited_with_json_values(db_session, directory_data):
    location = directory_data["location"]
    food, legal = directory_data["categories"]
    until = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)
    apply_edit(
        db_session,
        location,
        {
            "point": LonLat(-90.5131, 14.6349).to_wkt_element(),  # Guatemala City
            "country_code": "GT",
            "position_precision": PositionPrecision.STREET,
            "phones": ["+502 2222 3333"],
            "status": OperationalStatus.FULL,
            "status_until": until,
            "verified_at": dt.date(2026, 11, 20),
            "cost": Cost.FREE,
            "capacity": 40,
            "opening_hours": {"mo": [["08:00", "16:00"]]},
            "categories": [legal, food],
        },
        expected_version=1,
        user_id=directory_data["user"].id,
    )
    (entry,) = audit_entries(db_session, location)
    assert entry.before == {
        "version": 1,
        "point": [-92.26, 14.91],
        "country_code": "MX",
        "timezone": "America/Mexico_City",
        "position_precision": "exact",
        "phones": [],
        "status": "open",
        "status_until": None,
        "verified_at": None,
        "cost": None,
        "capacity": None,
        "opening_hours": None,
        "categories": [],
    }
    assert entry.after == {
        "version": 2,
        "point": [-90.5131, 14.6349],
        "country_code": "GT",
        "timezone": "America/Guatemala",  # derived from the point, recorded with it
        "position_precision": "street",
        "phones": ["+502 2222 3333"],
        "status": "full",
        "status_until": "2026-12-01T18:00:00+00:00",
        "verified_at": "2026-11-20",
        "cost": "free",
        "capacity": 40,
        "opening_hours": {"mo": [["08:00", "16:00"]]},
        "categories": ["food", "legal"],
    }
    db_session.expire_all()
    saved = db_session.get(Location, location.id)
    assert (saved.version, saved.timezone, saved.status) == (2, "America/Guatemala", "full")


def test_a_change_to_a_collection_alone_raises_the_version(db_session, directory_data):
    location = directory_data["location"]
    food, _legal = directory_data["categories"]
    apply_edit(db_session, location, {"categories": [food]}, expected_version=1, user_id=None)
    assert location.version == 2
    (entry,) = audit_entries(db_session, location)
    assert entry.before == {"version": 1, "categories": []}
    assert entry.after == {"version": 2, "categories": ["food"]}
    with pytest.raises(StaleEdit):
        apply_edit(db_session, location, {"categories": []}, expected_version=1, user_id=None)


def test_a_contact_person_edit_is_audited(db_session, directory_data):
    rncom, _cammina = directory_data["networks"]
    user = directory_data["user"]
    person = create_record(
        db_session,
        ContactPerson(
            external_id="mx-rncom-primary",
            country_code="MX",
            network_id=rncom.id,
            name="Laura Pérez",
            email="laura@example.org",
            languages=["spa"],
            role=ContactRole.PRIMARY,
            valid_from=dt.date(2026, 1, 1),
        ),
        user.id,
    )
    apply_edit(
        db_session,
        person,
        {
            "email": "lperez@example.org",
            "languages": ["spa", "eng"],
            "role": ContactRole.ALTERNATE,
            "last_confirmed_at": dt.date(2026, 11, 1),
        },
        expected_version=1,
        user_id=user.id,
    )
    created, updated = audit_entries(db_session, person)
    assert created.action == "create"
    assert created.before is None
    assert created.after["name"] == "Laura Pérez"
    assert created.after["valid_from"] == "2026-01-01"
    assert created.after["role"] == "primary"
    assert created.after["version"] == 1
    assert "updated_at" not in created.after
    assert "created_at" not in created.after
    assert updated.before == {
        "version": 1,
        "email": "laura@example.org",
        "languages": ["spa"],
        "role": "primary",
        "last_confirmed_at": None,
    }
    assert updated.after == {
        "version": 2,
        "email": "lperez@example.org",
        "languages": ["spa", "eng"],
        "role": "alternate",
        "last_confirmed_at": "2026-11-01",
    }


def test_a_new_network_is_audited_but_cannot_be_edited_without_a_version(
    db_session, directory_data
):
    network = create_record(
        db_session, Network(code="tricamex", names={"en": "TRICAMEX"}), directory_data["user"].id
    )
    (entry,) = audit_entries(db_session, network)
    assert entry.action == "create"
    assert entry.after == {
        "id": network.id,
        "code": "tricamex",
        "names": {"en": "TRICAMEX"},
        "descriptions": {},
        "description_language": None,
        "website": None,
    }
    with pytest.raises(NotVersioned):
        apply_edit(db_session, network, {"website": "https://x"}, expected_version=1, user_id=None)
    assert len(audit_entries(db_session, network)) == 1


def test_a_created_location_is_audited_with_its_snapshot(db_session, directory_data):
    location = create_record(
        db_session,
        Location(
            external_id="new:1",
            organization=directory_data["organization"],
            city="Tuxtla",
            country_code="MX",
            point=LonLat(-93.1162, 16.7516).to_wkt_element(),
            source="workspace",
        ),
        directory_data["user"].id,
    )
    (entry,) = audit_entries(db_session, location)
    assert entry.after["point"] == [-93.1162, 16.7516]
    assert entry.after["timezone"] == "America/Mexico_City"
    assert entry.after["organization_id"] == directory_data["organization"].id
    assert entry.after["archived_at"] is None
    assert entry.after["categories"] == []


def test_an_edit_that_changes_nothing_writes_nothing(db_session, directory_data):
    location = directory_data["location"]
    apply_edit(
        db_session,
        location,
        {"city": "Tapachula", "point": LonLat(-92.26, 14.91).to_wkt_element(), "phones": []},
        expected_version=1,
        user_id=None,
    )
    assert location.version == 1
    assert audit_entries(db_session, location) == []


def test_an_edit_cannot_set_the_version_key_or_archive(db_session, directory_data):
    organization = directory_data["organization"]
    for field in ("version", "id", "archived_at", "updated_at", "no_such_field"):
        with pytest.raises(ValueError, match=field):
            apply_edit(db_session, organization, {field: 5}, expected_version=1, user_id=None)
    assert audit_entries(db_session, organization) == []


def test_the_edit_and_its_audit_entry_roll_back_together(db_session, directory_data):
    organization = directory_data["organization"]
    savepoint = db_session.begin_nested()
    apply_edit(db_session, organization, {"name": "Renamed"}, expected_version=1, user_id=None)
    savepoint.rollback()
    assert audit_entries(db_session, organization) == []
    assert db_session.get(Organization, organization.id).version == 1


# -- Telling the editor what changed -------------------------------------------------------


def test_stale_fields_lists_only_what_others_changed_and_the_form_contradicts(
    db_session, directory_data
):
    organization = directory_data["organization"]
    rncom, cammina = directory_data["networks"]
    original_name = organization.name
    # Someone else saves a new name and networks (version 1 → 2), then an e-mail (→ 3).
    apply_edit(
        db_session,
        organization,
        {"name": "Their name", "networks": [rncom]},
        expected_version=1,
        user_id=None,
    )
    apply_edit(
        db_session, organization, {"email": "a@example.org"}, expected_version=2, user_id=None
    )
    assert changed_since(db_session, organization, 2) == {"email": "a@example.org"}
    # Meanwhile I edited the form I opened at version 1: my own website change, the old
    # name left as it was, and the same networks they chose.
    submitted = {
        "name": original_name,
        "website": "https://mine.example.org",
        "networks": [rncom],
        "email": None,
    }
    with pytest.raises(StaleEdit) as refused:
        apply_edit(db_session, organization, submitted, expected_version=1, user_id=None)
    error = refused.value
    assert error.changed == {"name": "Their name", "networks": ["rncom"], "email": "a@example.org"}
    assert stale_fields(error.current, submitted, changed=error.changed) == [
        StaleField("name", "Their name", original_name),
        StaleField("email", "a@example.org", None),
    ]
    # Without ``changed``: every submitted value that differs from the record now.
    assert stale_fields(organization, {"website": "https://mine.example.org"}) == [
        StaleField("website", None, "https://mine.example.org")
    ]
    assert stale_fields(organization, {"networks": [cammina]}) == [
        StaleField("networks", ["rncom"], ["cammina"])
    ]


def test_a_refused_attempt_can_be_audited_without_a_record(db_session, directory_data):
    """A 403 names what it tried to reach: the permission check writes such an entry."""
    user = directory_data["user"]
    location = directory_data["location"]
    entry = write_entry(
        db_session,
        action="refused",
        entity=entity_name(Location),
        entity_id=str(location.id),
        user_id=user.id,
        after={"attempt": "update"},
    )
    assert (entry.entity, entry.entity_id, entry.before) == ("locations", str(location.id), None)
    assert audit_entries(db_session, location) == [entry]
    with pytest.raises(ValueError, match="entity"):
        write_entry(db_session, action="refused", user_id=user.id)
