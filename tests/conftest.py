"""Test fixtures: a real PostGIS database created for the run, migrated to head.

* ``<db>_test`` is created fresh at the start of the run on the server that DATABASE_URL
  names (the local cluster under ``make test``), migrated with Alembic, and dropped at the
  end. Each test runs inside a transaction that is rolled back (``db_session``), so tests
  never see each other's rows; code under test may commit, which only releases a savepoint.
* ``<db>_test_browser`` is a copy of the migrated database with the demo data committed, for
  the browser tests, whose live server runs in another thread and cannot see an open
  transaction.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from directory import create_app
from directory.cli import SEEDS_DIR
from directory.config import sqlalchemy_url
from directory.consular.districts import compute_districts
from directory.db import db
from directory.gazetteer.services import load_gazetteer
from directory.seeding import load_demo

# Each run gets its own databases, so two runs on one server (CI and a developer, or two
# developers) never drop each other's.
RUN_ID = os.getpid()


def _server_url() -> URL:
    raw = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not raw:
        raise pytest.UsageError(
            "Set DATABASE_URL (or TEST_DATABASE_URL) to a PostGIS server, or run `make test`."
        )
    return make_url(sqlalchemy_url(raw))


def _recreate_database(server: URL, name: str, template: str | None = None) -> URL:
    """Drop and create database ``name`` on the server; return its URL."""
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()
    return server.set(database=name)


def _drop_database(server: URL, name: str) -> None:
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_test_app(database_url: URL, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url.render_as_string(hide_password=False),
        "SECRET_KEY": "test",
        "TILE_URL": "",
        **overrides,
    }
    return create_app(config)


@pytest.fixture(scope="session")
def server_url() -> URL:
    return _server_url()


@pytest.fixture(scope="session")
def test_database(server_url: URL) -> Iterator[URL]:
    """The run's database, migrated to head."""
    name = f"{server_url.database}_test_{RUN_ID}"
    url = _recreate_database(server_url, name)
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    _drop_database(server_url, name)


@pytest.fixture(scope="session")
def app(test_database: URL) -> Iterator[Flask]:
    app = make_test_app(test_database)
    yield app
    with app.app_context():
        db.engine.dispose()


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's session always picks its engine; in tests, use our connection."""

    def get_bind(self, *args: Any, **kwargs: Any):
        return self.bind


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
                "scopefunc": lambda: "test",
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db_session: Session):
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session: Session):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def browser_database(server_url: URL, test_database: URL, app: Flask) -> Iterator[URL]:
    """A committed copy of the migrated database holding the demo data and gazetteer."""
    with app.app_context():
        db.engine.dispose()  # a template database must have no open connections
    name = f"{server_url.database}_test_browser_{RUN_ID}"
    url = _recreate_database(server_url, name, template=test_database.database)
    app = make_test_app(url)
    with app.app_context():
        load_demo(db.session, SEEDS_DIR)
        load_gazetteer(db.session, SEEDS_DIR)
        compute_districts(db.session)
        db.session.commit()
        db.engine.dispose()
    yield url
    _drop_database(server_url, name)


class LiveServer:
    """The app served by werkzeug on 127.0.0.1 in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_app_factory(browser_database: URL):
    """Build a live server for the demo database, with config overrides (e.g. TILE_URL)."""

    def build(**overrides: Any) -> LiveServer:
        return LiveServer(make_test_app(browser_database, **overrides))

    return build


@pytest.fixture(scope="module")
def server(live_app_factory) -> Iterator[LiveServer]:
    """A live server on the demo database without map tiles, shared by a test module."""
    with live_app_factory(TILE_URL="") as running:
        yield running


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LocalOnlyPage:
    """A page whose network is limited to 127.0.0.1: any other request is aborted and
    recorded in ``blocked``, so a test can assert which hosts a page tried to reach."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context()
        self.blocked: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page.on(
            "console",
            lambda message: message.type == "error" and self.console_errors.append(message.text),
        )

    def _route(self, route) -> None:
        from urllib.parse import urlsplit

        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def local_only_page(browser) -> Iterator[LocalOnlyPage]:
    page = LocalOnlyPage(browser)
    yield page
    page.close()
