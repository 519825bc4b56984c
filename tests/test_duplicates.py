"""Likely duplicates and provenance (issue 13, point 5): the report pairs places of the same
kind, with similar names, within 200 m; keeping one archives the other, audited; each
record's history page says where it came from."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, UserRole
from directory.db import OrganizationKind
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.places.models import Location
from directory.records.duplicates import likely_duplicates
from tests import factories
from tests.workspace_helpers import csrf_token, make_user, sign_in

# About 100 m and 300 m north of a point at 14.6° N (1° of latitude ≈ 110.6 km).
NEAR = 100 / 110_600
FAR = 300 / 110_600


def _place(
    session: Session,
    name: str,
    lon: float,
    lat: float,
    kind: OrganizationKind = OrganizationKind.SHELTER,
    source: str = "tests",
) -> Location:
    organization = factories.organization(session, kind=kind, name=name)
    location = factories.location(session, organization, lon, lat, "GT", "Guatemala")
    location.source = source
    return location


def _pairs(session: Session) -> set[frozenset[int]]:
    return {frozenset((p.first.id, p.second.id)) for p in likely_duplicates(session, "GT")}


def test_same_kind_similar_name_within_200_m_is_a_likely_duplicate(db_session: Session):
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    first = _place(db_session, "Casa del Migrante Guatemala", -90.5, 14.6, source="rncom")
    second = _place(db_session, "Casa del Migrante de Guatemala", -90.5, 14.6 + NEAR, source="hsds")
    pairs = likely_duplicates(db_session, "GT")
    assert [(p.first.id, p.second.id) for p in pairs] == [(first.id, second.id)]
    assert 90 < pairs[0].distance_m < 110
    assert pairs[0].name_similarity >= 0.4


def test_other_kind_far_apart_unlike_names_or_archived_are_not(db_session: Session):
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    base = _place(db_session, "Albergue Belén", -90.5, 14.6)
    _place(db_session, "Albergue Belén", -90.5, 14.6 + NEAR, kind=OrganizationKind.GOVERNMENT)
    _place(db_session, "Albergue Belen", -90.5, 14.6 + FAR)  # 300 m away
    _place(db_session, "Clínica Médica Norte", -90.5 + NEAR, 14.6)  # a different name
    archived = _place(db_session, "ALBERGUE BELÉN", -90.5, 14.6 - NEAR)
    assert _pairs(db_session) == {frozenset((base.id, archived.id))}  # case and accents fold
    archived.archived_at = dt.datetime.now(dt.UTC)
    db_session.flush()
    assert _pairs(db_session) == set()


def test_the_secretariat_keeps_one_and_archives_the_other(client: FlaskClient, db_session: Session):
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    keep = _place(db_session, "Casa Refugio", -90.5, 14.6, source="rncom")
    duplicate = _place(db_session, "Casa Refugio", -90.5, 14.6 + NEAR, source="partner feed")
    secretariat = make_user(db_session, UserRole.SECRETARIAT)
    db_session.commit()
    sign_in(client, secretariat)
    page = client.get("/workspace/duplicates?country=GT")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "rncom" in html
    assert "partner feed" in html
    response = client.post(
        "/workspace/duplicates/merge",
        data={
            "csrf_token": csrf_token(client, "/workspace/duplicates"),
            "keep": keep.id,
            "archive": duplicate.id,
            "version": duplicate.version,
        },
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert duplicate.archived_at is not None
    assert keep.archived_at is None
    entry = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "locations", AuditEntry.entity_id == str(duplicate.id)
        )
    ).one()
    assert entry.action == "archive"
    assert entry.user_id == secretariat.id
    assert _pairs(db_session) == set()


def test_a_stale_merge_changes_nothing(client: FlaskClient, db_session: Session):
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    keep = _place(db_session, "Casa Refugio", -90.5, 14.6)
    duplicate = _place(db_session, "Casa Refugio", -90.5, 14.6 + NEAR)
    secretariat = make_user(db_session, UserRole.SECRETARIAT)
    db_session.commit()
    sign_in(client, secretariat)
    client.post(
        "/workspace/duplicates/merge",
        data={
            "csrf_token": csrf_token(client, "/workspace/duplicates"),
            "keep": keep.id,
            "archive": duplicate.id,
            "version": duplicate.version - 1 if duplicate.version > 1 else 99,
        },
    )
    db_session.expire_all()
    assert duplicate.archived_at is None


def test_the_history_page_says_where_a_record_came_from(client: FlaskClient, db_session: Session):
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    secretariat = make_user(db_session, UserRole.SECRETARIAT, name="Sara Secretariat")
    batch = ImportBatch(
        kind=ImportKind.LOCATIONS,
        status=ImportStatus.APPLIED,
        source="rncom-2026",
        filename="rncom-gt.csv",
        sha256="0" * 64,
        user_id=secretariat.id,
        applied_at=dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC),
    )
    db_session.add(batch)
    db_session.flush()
    imported = _place(db_session, "Casa Importada", -90.5, 14.6, source="rncom-2026")
    imported.external_id = "rncom:gt-0042"
    imported.import_id = batch.id
    by_hand = _place(db_session, "Casa a Mano", -90.4, 14.7, source="secretariat")
    db_session.commit()
    sign_in(client, secretariat)
    html = client.get(f"/workspace/locations/{imported.id}/history").get_data(as_text=True)
    assert "rncom-2026" in html
    assert "rncom:gt-0042" in html
    assert "rncom-gt.csv" in html
    assert "Sara Secretariat" in html
    html = client.get(f"/workspace/locations/{by_hand.id}/history").get_data(as_text=True)
    assert "Not imported" in html
    assert "secretariat" in html
    organization_page = client.get(f"/workspace/organizations/{imported.organization_id}/history")
    assert "Where this record comes from" in organization_page.get_data(as_text=True)


def test_the_town_in_a_name_or_another_country_s_consulate_is_no_likeness(db_session: Session):
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    factories.country(db_session, "SV", (-90.2, 13.1, -87.6, 14.5))
    _place(db_session, "OIM Guatemala", -90.5, 14.6, kind=OrganizationKind.INTERNATIONAL_ORG)
    _place(db_session, "ACNUR Guatemala", -90.5, 14.6, kind=OrganizationKind.INTERNATIONAL_ORG)
    for country in ("HN", "SV"):
        office = factories.organization(
            db_session,
            kind=OrganizationKind.CONSULATE,
            sending_country_code=country,
            name=f"Consulado de {country} en Guatemala",
        )
        factories.location(db_session, office, -90.5, 14.6, "GT", "Guatemala")
    assert _pairs(db_session) == set()
