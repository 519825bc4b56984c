"""The probes: alive, and ready (the database answers and is migrated to head)."""

from __future__ import annotations

from sqlalchemy import text

from directory.readiness import migration_heads
from tests.conftest import make_test_app
from tests.test_outage import _closed_port


def test_the_process_is_alive_and_ready_on_a_migrated_database(client, db_session):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "database": True, "migrations_at_head": True}
    assert ready.headers["Cache-Control"] == "private, no-store"
    applied = set(db_session.scalars(text("SELECT version_num FROM alembic_version")))
    assert migration_heads() == applied


def test_without_a_database_it_is_alive_but_not_ready(test_database):
    client = make_test_app(test_database.set(port=_closed_port())).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["database"] is False


def test_an_unmigrated_database_is_not_ready(server_url):
    # The server's maintenance database answers but holds no migrations.
    client = make_test_app(server_url.set(database="postgres")).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {"status": "not_ready", "database": True, "migrations_at_head": False}
