"""Test fixtures: a real PostGIS database created for the run, migrated to head.

* ``<db>_test_<pid>`` is created fresh at the start of the run on the server that
  DATABASE_URL names (the local cluster under ``make test``), migrated with Alembic, and
  dropped at the end. Each test runs inside a transaction that is rolled back
  (``db_session``), so tests never see each other's rows; code under test uses
  ``db.session`` and may commit, which only releases a savepoint.
* ``<db>_test_demo_<pid>`` is a copy of the migrated database with the demo data, the
  gazetteer and the computed consular districts committed, built once per run
  (``demo_database``). Tests that need the demo data read it through ``demo_session``, a
  rolled-back transaction on it like ``db_session``; the browser tests serve it from a live
  server in another thread, which cannot see an open transaction.
* Every browser page comes from ``open_page`` (or ``local_only_page``): its network is
  limited to 127.0.0.1, it records console errors and uncaught script errors, it is closed
  after the test, and an uncaught script error fails the test.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from werkzeug.serving import make_server

from directory import create_app
from directory.cli import SEEDS_DIR
from directory.config import sqlalchemy_url
from directory.consular.districts import DistrictReport, compute_districts
from directory.db import db
from directory.gazetteer.services import load_gazetteer
from tests import servers

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
        # No JIT compilation on the test databases (a copy does not inherit the setting).
        # Their tables are tiny and mostly without statistics, so the planner's cost
        # estimates for the spatial queries can pass jit_above_cost, and compiling each
        # query then costs far more than running it: test_corridor.py took 57 s instead
        # of 9 s. It changes no result, only how long the queries take.
        connection.execute(text(f'ALTER DATABASE "{name}" SET jit = off'))
    admin.dispose()
    return server.set(database=name)


def _drop_database(server: URL, name: str) -> None:
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# The language a test reads in when it does not say: most tests were written against the
# English pages, and ask for English as an English reader's browser does. The product's
# own default (Spanish, with no Accept-Language) and the other languages have their tests
# (tests/test_languages.py, tests/test_browser_languages.py).
TEST_READER_LANGUAGE = servers.TEST_READER_LANGUAGE


class EnglishReaderClient(FlaskClient):
    """A test client whose requests say ``Accept-Language: en`` unless a test sets it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", TEST_READER_LANGUAGE)


def make_test_app(database_url: URL, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url.render_as_string(hide_password=False),
        "SECRET_KEY": "test",
        "TILE_URL": "",
        # Tests send requests faster than any person; tests/test_rate_limits.py turns it on.
        "RATELIMIT_ENABLED": False,
        **overrides,
    }
    app = create_app(config)
    app.test_client_class = EnglishReaderClient
    return app


@pytest.fixture(scope="session")
def server_url() -> URL:
    return _server_url()


@pytest.fixture(scope="session")
def test_database(server_url: URL) -> Iterator[URL]:
    """The run's database, migrated to head, and an empty copy of it for the demo data.

    The copy is made here, while nothing is connected to the migrated database (a template
    must have no connections); ``demo_database`` loads the demo data into it when asked."""
    name = f"{server_url.database}_test_{RUN_ID}"
    url = _recreate_database(server_url, name)
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    _recreate_database(server_url, _demo_name(server_url), template=name)
    yield url
    _drop_database(server_url, _demo_name(server_url))
    _drop_database(server_url, name)


def _demo_name(server_url: URL) -> str:
    return f"{server_url.database}_test_demo_{RUN_ID}"


@pytest.fixture(scope="session")
def app(test_database: URL) -> Iterator[Flask]:
    app = make_test_app(test_database)
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def _rolled_back_session(app: Flask) -> Iterator[Session]:
    """``db.session``, for the duration, is a session joined to a transaction on ``app``'s
    database that is rolled back at the end.

    SQLAlchemy's recipe for joining a session into an external transaction: the session is
    bound to our connection with ``join_transaction_mode="create_savepoint"``, so its
    ``commit()`` only releases a savepoint and nothing outlives the test. ``db.session`` is
    Flask-SQLAlchemy's public ``scoped_session``; for the test it is swapped for one of ours
    (a plain SQLAlchemy session, since Flask-SQLAlchemy's picks its engine per query and
    would bypass the connection), shared by the test, its requests and its CLI commands.
    """
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        original = db.session
        db.session = scoped_session(factory, scopefunc=lambda: "test")
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the run's empty, migrated database, rolled back after the test."""
    with _rolled_back_session(app) as session:
        yield session


@pytest.fixture
def client(app: Flask, db_session: Session):
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session: Session):
    return app.test_cli_runner()


@dataclass(frozen=True)
class DemoDatabase:
    """The committed demo database of the run and what building it reported."""

    url: URL
    seeding: Result  # `flask seed demo` on the empty, migrated database
    districts: DistrictReport  # compute_districts on the demo data
    districts_seconds: float


@pytest.fixture(scope="session")
def demo_database(server_url: URL, test_database: URL) -> DemoDatabase:
    """The migrated copy of ``test_database`` with the demo data, the gazetteer and the
    computed consular districts (what ``make seed`` loads) committed, built once per run.
    The demo data goes in through ``flask seed demo`` (``load_demo``), whose result is kept."""
    url = server_url.set(database=_demo_name(server_url))
    demo_app = make_test_app(url)
    with demo_app.app_context():
        seeding = demo_app.test_cli_runner().invoke(args=["seed", "demo"])  # commits
        if seeding.exit_code != 0:
            raise RuntimeError(f"`flask seed demo` failed: {seeding.output}")
        load_gazetteer(db.session, SEEDS_DIR)
        started = time.perf_counter()
        report = compute_districts(db.session)
        seconds = time.perf_counter() - started
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return DemoDatabase(url=url, seeding=seeding, districts=report, districts_seconds=seconds)


@pytest.fixture(scope="session")
def browser_database(demo_database: DemoDatabase) -> URL:
    """The URL of the demo database, which the live servers serve."""
    return demo_database.url


@pytest.fixture(scope="session")
def demo_app(demo_database: DemoDatabase) -> Iterator[Flask]:
    app = make_test_app(demo_database.url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def demo_session(demo_app: Flask) -> Iterator[Session]:
    """A session on the demo database inside a transaction rolled back after the test:
    the demo data is there, and whatever the test writes is gone afterwards."""
    with _rolled_back_session(demo_app) as session:
        yield session


@pytest.fixture
def demo_runner(demo_app: Flask, demo_session: Session):
    """The CLI on the demo database, inside ``demo_session``'s transaction."""
    return demo_app.test_cli_runner()


class LiveServer:
    """The app served by werkzeug on 127.0.0.1 in a background thread.

    Stopping it waits for the requests still in flight. ``shutdown()`` only ends the accept
    loop: a request a browser sent late would otherwise finish in its own thread after the
    module, while the next test holds ``db.session`` swapped for its rolled-back session
    (``_rolled_back_session``), and the request's teardown (``db.session.remove()``) would
    close that session and undo the test's work mid-test.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._in_flight = 0
        self._idle = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._counted, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _counted(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        """The app, counting a request as in flight until its response is closed (when
        Flask's teardown runs)."""
        with self._idle:
            self._in_flight += 1
        response = self.app(environ, start_response)
        try:
            yield from response
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=30)
        self._server.server_close()
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


LOCAL_HOST = "127.0.0.1"


class LocalOnlyPage:
    """A page in a browser context of its own whose network is limited to 127.0.0.1.

    Any other request (or WebSocket) is aborted and its URL recorded in ``blocked``, so a
    test can assert which hosts a page tried to reach. Console errors are recorded in
    ``console_errors`` and uncaught script errors ("pageerror", which never reach the
    console) in ``page_errors``, for every page the context opens.
    """

    def __init__(
        self,
        browser: Any,
        *,
        javascript: bool = True,
        geolocation: dict[str, float] | None = None,
        viewport: dict[str, int] | None = None,
        locale: str | None = TEST_READER_LANGUAGE,
    ) -> None:
        options: dict[str, Any] = {
            "java_script_enabled": javascript,
            "service_workers": "block",  # their requests would bypass the routing below
        }
        if viewport:
            options["viewport"] = viewport
        if locale:  # the browser's Accept-Language and navigator.language
            options["locale"] = locale
        if geolocation:
            options.update(geolocation=geolocation, permissions=["geolocation"])
        self.blocked: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.context = browser.new_context(**options)
        try:
            self.context.on("page", self._watch)
            self.context.route("**/*", self._route)
            self.context.route_web_socket(lambda url: True, self._route_web_socket)
            self.page = self.context.new_page()
        except BaseException:
            self.context.close()
            raise

    @staticmethod
    def _is_local(url: str) -> bool:
        return urlsplit(url).hostname == LOCAL_HOST or url.startswith(("data:", "blob:"))

    def _watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda message: message.type == "error" and self.console_errors.append(message.text),
        )
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if self._is_local(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def _route_web_socket(self, socket: Any) -> None:
        if self._is_local(socket.url):
            socket.connect_to_server()
        else:
            self.blocked.append(socket.url)
            socket.close()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., LocalOnlyPage]]:
    """Opens browser pages for a test: ``open_page(javascript=False)``,
    ``open_page(geolocation={"latitude": .., "longitude": ..})``, ``open_page(viewport=
    {"width": .., "height": ..})``. Each gets a context of its own, limited to 127.0.0.1
    (``LocalOnlyPage``), closed after the test whatever its outcome. An uncaught script
    error on any of them fails the test."""
    opened: list[LocalOnlyPage] = []
    with ExitStack() as closing:  # closes every context, even if the test or a close fails

        def open_(**options: Any) -> LocalOnlyPage:
            page = LocalOnlyPage(browser, **options)
            closing.callback(page.close)
            opened.append(page)
            return page

        yield open_
    errors = [error for page in opened for error in page.page_errors]
    if errors:
        pytest.fail(f"uncaught script errors in the page: {errors}", pytrace=False)


@pytest.fixture
def local_only_page(open_page) -> LocalOnlyPage:
    """A page with JavaScript on and the browser's default window (see ``open_page``)."""
    return open_page()
