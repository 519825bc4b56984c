"""Migrations: the models and the migrated schema agree, and every migration reverses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from directory.db import db
from directory.migration_support import ALEMBIC_OPTIONS
from tests.conftest import RUN_ID, _drop_database, _recreate_database, make_test_app


def test_models_and_migrations_do_not_drift(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={key: ALEMBIC_OPTIONS[key] for key in ("compare_type", "include_object")},
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"run `flask db migrate`: models and migrations differ: {differences}"


def test_every_migration_downgrades_and_upgrades_again(server_url):
    name = f"{server_url.database}_test_roundtrip_{RUN_ID}"
    url = _recreate_database(server_url, name)
    try:
        app = make_test_app(url)
        with app.app_context():
            upgrade()
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {
                "alembic_version",
                "spatial_ref_sys",
            }
            upgrade()
            assert "locations" in inspect(db.engine).get_table_names()
            db.engine.dispose()
    finally:
        _drop_database(server_url, name)
