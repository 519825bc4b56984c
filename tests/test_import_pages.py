"""The workspace's import pages: upload → dry-run report → apply (or discard), a focal
point limited to its country, and a file over the limit answered 413."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from directory.accounts.models import UserRole
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.places.models import Location, Network
from tests.test_imports_locations import GOOD_ROWS, csv_bytes, digest
from tests.test_imports_locations import places as places
from tests.workspace_helpers import csrf_token, make_user, sign_in

IMPORTS = "/workspace/imports"


def upload(
    client: FlaskClient, content: bytes, *, kind: str = "locations", name: str = "partner.csv"
):
    token = csrf_token(client, IMPORTS)
    return client.post(
        IMPORTS,
        data={
            "csrf_token": token,
            "kind": kind,
            "source": "partner-2026",
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def post(client: FlaskClient, path: str, page: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page)})


def count_locations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Location)) or 0


def test_upload_report_apply(client: FlaskClient, places: Session) -> None:
    user = make_user(places, UserRole.SECRETARIAT)
    sign_in(client, user)
    assert "Imports" in client.get("/workspace/").get_data(as_text=True)

    response = upload(client, csv_bytes(*GOOD_ROWS))
    assert response.status_code == 303
    report_url = response.location
    page = client.get(report_url).get_data(as_text=True)
    assert "3 would be added" in page
    assert "No problem found" in page
    assert "Apply the file" in page
    assert count_locations(places) == 0
    batch = places.scalars(select(ImportBatch)).one()
    assert batch.status == ImportStatus.CHECKED
    assert batch.user_id == user.id
    assert batch.source == "partner-2026"

    applied = post(client, f"{report_url}/apply", report_url)
    assert applied.status_code == 303
    page = client.get(applied.location).get_data(as_text=True)
    assert "Applied 3 rows: 3 added, 0 updated, 0 left as they were." in page
    assert count_locations(places) == 3
    places.refresh(batch)
    assert batch.status == ImportStatus.APPLIED
    assert places.scalar(select(ImportBatch.content).where(ImportBatch.id == batch.id)) is None
    assert "Apply the file" not in page

    again = post(client, f"{report_url}/apply", report_url)
    assert again.status_code == 303
    assert count_locations(places) == 3


def test_a_report_with_problems_has_no_apply_button(client: FlaskClient, places: Session) -> None:
    sign_in(client, make_user(places, UserRole.SECRETARIAT))
    before = digest(places)
    bad = csv_bytes(GOOD_ROWS[0], "p:9,casa-gt,Guatemala,XX,14.6,-90.5,,,,,,", GOOD_ROWS[0])
    report_url = upload(client, bad).location
    page = client.get(report_url).get_data(as_text=True)
    assert "2 problems" in page
    assert "Line 3" in page
    assert "There is no country XX" in page
    assert "Line 4" in page
    assert "is on line 2 too" in page
    assert "Apply the file" not in page
    refused = post(client, f"{report_url}/apply", report_url)
    assert refused.status_code == 303
    assert "nothing was applied" in client.get(refused.location).get_data(as_text=True)
    assert digest(places) == before

    discarded = post(client, f"{report_url}/discard", report_url)
    assert discarded.status_code == 303
    batch = places.scalars(select(ImportBatch)).one()
    places.refresh(batch)
    assert batch.status == ImportStatus.DISCARDED


def test_not_a_csv_and_no_file(client: FlaskClient, places: Session) -> None:
    sign_in(client, make_user(places, UserRole.SECRETARIAT))
    report_url = upload(client, b"\x89PNG\r\n\x1a\n\x00\x00", name="photo.png").location
    assert "This is not a CSV file: it looks like a PNG image" in client.get(report_url).get_data(
        as_text=True
    )
    token = csrf_token(client, IMPORTS)
    missing = client.post(IMPORTS, data={"csrf_token": token, "kind": "locations", "source": "x"})
    assert missing.status_code == 400
    assert "Choose the CSV file to check." in missing.get_data(as_text=True)


def test_a_focal_point_imports_its_country_only(client: FlaskClient, places: Session) -> None:
    sign_in(client, make_user(places, UserRole.FOCAL_POINT, country_code="GT"))
    page = client.get(IMPORTS).get_data(as_text=True)
    assert "rows of GT only" in page
    report_url = upload(client, csv_bytes(*GOOD_ROWS)).location
    page = client.get(report_url).get_data(as_text=True)
    assert "This row is in MX: you can import rows of GT only." in page
    batch = places.scalars(select(ImportBatch)).one()
    assert batch.country_code == "GT"

    # Another country's focal point neither sees nor applies it.
    client.post("/workspace/sign-out", data={"csrf_token": csrf_token(client, "/workspace/")})
    sign_in(client, make_user(places, UserRole.FOCAL_POINT, country_code="HN"))
    assert client.get(report_url).status_code == 403
    assert "partner.csv" not in client.get(IMPORTS).get_data(as_text=True)


def test_contacts_need_the_right_to_read_them(client: FlaskClient, places: Session) -> None:
    places.add(Network(code="RNCOM", names={"en": "RNCOM"}))
    places.flush()
    sign_in(client, make_user(places, UserRole.FOCAL_POINT, country_code="GT"))
    content = (
        b"external_id,country_code,network,name,role,valid_from\n"
        b"c:1,GT,RNCOM,Ana,primary,2026-01-01\n"
    )
    report_url = upload(client, content, kind="contacts").location
    assert "1 would be added" in client.get(report_url).get_data(as_text=True)


def test_a_file_over_the_limit_is_answered_413(
    app: Flask, client: FlaskClient, places: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, make_user(places, UserRole.SECRETARIAT))
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 2048)
    response = upload(client, csv_bytes(*GOOD_ROWS * 40))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is too large" in page
    assert "at most" in page
    assert "MB" in page
    assert places.scalar(select(func.count()).select_from(ImportBatch)) == 0
    small = upload(client, csv_bytes(GOOD_ROWS[0]))
    assert small.status_code == 303


def batch_path(world: Any, suffix: str = "") -> str:
    """The path of a checked batch of GT (one clean row of the world's organization), made
    once per world in the world's own session: for tests/test_workspace_routes.py's rows."""
    session = object_session(world.location)
    assert session is not None
    batch = session.scalars(
        select(ImportBatch).where(ImportBatch.filename == "routes-test.csv")
    ).first()
    if batch is None:
        content = (
            "external_id,organization,city,country_code,lat,lon\n"
            f"routes:1,{world.organization.slug},Guatemala,GT,14.61,-90.51\n"
        ).encode()
        batch = ImportBatch(
            kind=ImportKind.LOCATIONS,
            status=ImportStatus.CHECKED,
            source="routes-test",
            filename="routes-test.csv",
            sha256=hashlib.sha256(content).hexdigest(),
            country_code="GT",
            counts={"rows": 1, "added": 1},
            content=content,
        )
        session.add(batch)
        session.commit()  # in tests, a savepoint released: a view that rolls back keeps it
    return f"{IMPORTS}/{batch.id}{suffix}"
