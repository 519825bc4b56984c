"""Read replica routing (``DATABASE_REPLICA_URL``, directory/db_routing.py) on a REAL streaming
replica of the test cluster.

The module starts a hot standby of the server DATABASE_URL names: ``pg_basebackup -R`` into
a temporary folder (with a replication slot of its own, so the primary keeps the WAL the
standby has not received yet), then ``pg_ctl start`` on a free port, as the ``postgres``
user when we are root (as scripts/db.sh runs the local cluster). Whatever happens, the
standby is stopped, its slot dropped and its folder removed at the end.

What it shows:

* a public GET reads from the standby (a probe view added to the test's app asks the
  server that answered ``pg_is_in_recovery()``), while a POST, a signed-in person and a
  write in the same request use the primary;
* a location committed on the primary reaches the public page through the standby: while
  the standby's replay is paused the public page does not have it yet (404) but the
  workspace (signed in, so primary) does; once replay resumes the public page shows it;
* a standby behind by more than ``REPLICA_MAX_LAG_SECONDS`` is not used (logged once);
* a standby that stops falls back to the primary, mid-request and at the next check: the
  public page still answers 200;
* and, without a standby, the rule that says when a standby is recent enough (``judge``).

The copy is of the whole cluster (physical replication has no per-database copy), so on a
development cluster that holds a large benchmark database it takes longer than under
``make test`` on a fresh cluster.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from directory import db_routing
from directory.accounts.models import UserRole
from directory.db import db
from directory.places.models import Network
from directory.workspace.auth import csrf
from tests import factories
from tests.conftest import RUN_ID, _drop_database, _recreate_database, make_test_app
from tests.workspace_helpers import make_user, sign_in

SLOT_PREFIX = "test_replica_"
PROBE = "/__replica-probe"
ROUTE_HEADER = "X-Test-Database"
# Settings a hot standby must have at least as high as its primary's.
STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
# How long to wait for the standby to start, or to replay what the primary wrote: generous,
# since the cluster's two cores are shared (a wait, never a measured time).
WAIT_SECONDS = 120


def _as_owner(command: list[str]) -> list[str]:
    """Server binaries refuse to run as root: run them as ``postgres`` then (scripts/db.sh)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> None:
    """Run a server binary; on failure say what it printed (and the end of ``log``, which
    the clean-up is about to delete)."""
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        pytest.fail(f"{Path(command[0]).name} failed:\n{done.stdout}\n{done.stderr}\n{tail}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_slots(admin: Engine) -> None:
    """Slots of earlier runs that died before their clean-up (they would keep WAL forever)."""
    with admin.connect() as connection:
        names = connection.scalars(
            text(
                "SELECT slot_name FROM pg_replication_slots "
                "WHERE slot_name LIKE :prefix AND NOT active"
            ),
            {"prefix": SLOT_PREFIX + "%"},
        ).all()
        for name in names:
            pid = name.removeprefix(SLOT_PREFIX)
            if pid.isdigit() and not _pid_alive(int(pid)):
                connection.execute(text("SELECT pg_drop_replication_slot(:name)"), {"name": name})


@dataclass
class Standby:
    """The running standby: its folder, server binaries, port and a superuser engine."""

    folder: Path
    bin: Path
    port: int
    server: URL  # the standby's address (the primary's user, database left to the caller)
    admin: Engine  # superuser on its ``postgres`` database: pause and resume replay

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def running(self) -> bool:
        done = subprocess.run(
            _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def stop(self) -> None:
        if self.running():
            _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def pause_replay(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_pause()"))

    def resume_replay(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_resume()"))

    def wait_for(self, primary: Engine) -> None:
        """Until the standby has replayed everything the primary wrote so far."""
        self._wait_until(primary, "pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)")

    def wait_for_receipt(self, primary: Engine) -> None:
        """Until the standby has received (not necessarily replayed) what the primary wrote."""
        self._wait_until(primary, "pg_last_wal_receive_lsn() >= CAST(:target AS pg_lsn)")

    def wait_until_behind(self, seconds: float) -> None:
        """Until the last transaction the standby replayed is older than ``seconds``."""
        self._poll(
            "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) > :target",
            seconds,
        )

    def _wait_until(self, primary: Engine, condition: str) -> None:
        with primary.connect() as connection:
            target = connection.scalar(text("SELECT pg_current_wal_lsn()::text"))
        self._poll(condition, target)

    def _poll(self, condition: str, target: object) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.admin.connect() as connection:
                if connection.scalar(text(f"SELECT {condition}"), {"target": target}):
                    return
            time.sleep(0.1)
        pytest.fail(f"the standby never reached {condition} ({target}) in {WAIT_SECONDS} s")


@pytest.fixture(scope="module")
def standby(server_url: URL) -> Iterator[Standby]:
    """A hot standby of the test cluster, streaming from it; gone afterwards."""
    primary_admin = create_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with primary_admin.connect() as connection:
        wal_level = connection.scalar(text("SHOW wal_level"))
        version = int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000
        minimums = {name: connection.scalar(text(f"SHOW {name}")) for name in STANDBY_MINIMUMS}
    assert wal_level in ("replica", "logical"), (
        f"wal_level is {wal_level}: the test cluster cannot stream to a standby "
        "(replica is PostgreSQL's default, which scripts/db.sh keeps)"
    )
    _drop_stale_slots(primary_admin)
    binaries = Path(f"/usr/lib/postgresql/{version}/bin")
    assert (binaries / "pg_basebackup").exists(), f"no PostgreSQL {version} binaries in {binaries}"

    folder = Path(tempfile.mkdtemp(prefix="pd-standby-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    slot = f"{SLOT_PREFIX}{RUN_ID}"
    port = _free_port()
    replica_server = server_url.set(host="127.0.0.1", port=port)
    admin = create_engine(replica_server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    node = Standby(folder, binaries, port, replica_server, admin)
    environment = {**os.environ}
    if server_url.password:
        environment["PGPASSWORD"] = str(server_url.password)
    try:
        _run(
            [
                str(binaries / "pg_basebackup"),
                f"--host={server_url.host or '127.0.0.1'}",
                f"--port={server_url.port or 5432}",
                f"--username={server_url.username or 'postgres'}",
                f"--pgdata={node.data}",
                "--write-recovery-conf",
                "--wal-method=stream",
                "--create-slot",
                f"--slot={slot}",
                "--checkpoint=fast",
                "--no-sync",
            ],
            env=environment,
        )
        options = " ".join(
            [
                f"-p {port}",
                "-c listen_addresses=127.0.0.1",
                f"-k {folder}",
                "-c fsync=off",
                "-c shared_buffers=32MB",
                "-c hot_standby=on",
                *(f"-c {name}={value}" for name, value in minimums.items()),
            ]
        )
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(node.data),
                "-l",
                str(folder / "standby.log"),
                "-w",
                "-t",
                str(WAIT_SECONDS),
                "-o",
                options,
                "start",
            ],
            log=folder / "standby.log",
        )
        yield node
    finally:
        try:
            node.stop()
        finally:
            admin.dispose()
            with primary_admin.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE slot_name = :slot AND NOT active"
                    ),
                    {"slot": slot},
                )
            primary_admin.dispose()
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Setup:
    """The scratch database on the primary, its engine, and apps routed to the standby."""

    primary: Engine
    standby: Standby
    make_app: Callable[..., Flask]


def replica_probe() -> Response:
    """Test-only view, registered as ``public.replica_probe``: which server answered a
    read (``pg_is_in_recovery()``), and a write in the same request."""
    in_recovery = db.session.scalar(select(func.pg_is_in_recovery()))
    db.session.add(Network(code=f"probe-{time.monotonic_ns()}", names={"en": "Probe"}))
    db.session.commit()
    return jsonify({"in_recovery": in_recovery})


@pytest.fixture(scope="module")
def setup(server_url: URL, standby: Standby) -> Iterator[Setup]:
    """A database of its own on the primary (commits must reach the standby, which the
    rolled-back ``db_session`` never does), migrated, with its twin on the standby."""
    name = f"{server_url.database}_test_replica_{RUN_ID}"
    url = _recreate_database(server_url, name)
    apps: list[Flask] = []
    primary = create_engine(url)
    try:
        migrating = make_test_app(url)
        with migrating.app_context():
            upgrade()
            db.engine.dispose()
        with Session(primary) as session:
            factories.country(session, "MX")
            session.commit()

        def make_app(**overrides: Any) -> Flask:
            app = make_test_app(
                url,
                DATABASE_REPLICA_URL=standby.server.set(database=name).render_as_string(
                    hide_password=False
                ),
                **overrides,
            )
            app.add_url_rule(
                PROBE, "public.replica_probe", csrf.exempt(replica_probe), methods=["GET", "POST"]
            )
            app.after_request(_tell_route)
            apps.append(app)
            return app

        yield Setup(primary, standby, make_app)
    finally:
        for app in apps:
            routing = db_routing.router(app)
            if routing is not None:
                routing.engine.dispose()
            with app.app_context():
                db.engine.dispose()
        primary.dispose()
        _drop_database(server_url, name)


def _router(app: Flask) -> db_routing.ReplicaRouter:
    routing = db_routing.router(app)
    assert routing is not None
    return routing


def _tell_route(response: Response) -> Response:
    """Test-only ``after_request``: where the request's statements went (db_routing keeps
    it in the request's WSGI environ, which the test client does not hand back)."""
    response.headers[ROUTE_HEADER] = request.environ.get(db_routing.ROUTE_KEY, "")
    return response


def _route(response: Any) -> str:
    return response.headers[ROUTE_HEADER]


class _Statements:
    """Counts the statements an engine runs while in a ``with`` block."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _place(session: Session, city: str) -> int:
    record = factories.location(
        session, factories.organization(session), -99.13, 19.43, "MX", city=city
    )
    session.commit()
    return record.id


def test_public_reads_come_from_the_standby_and_the_rest_from_the_primary(
    setup: Setup,
) -> None:
    # A limit no lag reaches here: this test is about which requests may use the standby.
    app = setup.make_app(REPLICA_MAX_LAG_SECONDS=3600)
    setup.standby.wait_for(setup.primary)
    client = app.test_client()

    read = client.get(PROBE)
    assert read.status_code == 200
    assert read.get_json() == {"in_recovery": True}  # the standby answered the read…
    assert _route(read) == "replica"
    with setup.primary.connect() as connection:  # …and the write went to the primary
        assert connection.scalar(select(func.count()).select_from(Network.__table__)) == 1

    posted = client.post(PROBE)
    assert posted.get_json() == {"in_recovery": False}
    assert _route(posted) == "primary"

    with Session(setup.primary) as session:
        user = make_user(session, UserRole.FOCAL_POINT, country_code="MX")
        signed_in = app.test_client()
        sign_in(signed_in, user)
    as_editor = signed_in.get(PROBE)
    assert as_editor.get_json() == {"in_recovery": False}  # signed in: the primary
    assert _route(as_editor) == "primary"

    assert app.test_client().get("/readyz").status_code == 200
    without = make_test_app(setup.primary.url)
    assert db_routing.router(without) is None  # no DATABASE_REPLICA_URL, no routing


def test_a_committed_place_reaches_the_public_page_through_the_standby(setup: Setup) -> None:
    app = setup.make_app(REPLICA_MAX_LAG_SECONDS=3600)
    with Session(setup.primary, expire_on_commit=False) as session:
        editor = make_user(session, UserRole.FOCAL_POINT, country_code="MX")
    setup.standby.wait_for(setup.primary)
    client = app.test_client()
    workspace = app.test_client()
    sign_in(workspace, editor)

    setup.standby.pause_replay()
    try:
        with Session(setup.primary) as session:
            place = _place(session, "Replicaville")
        # The standby received the commit but has not replayed it: the public page, read
        # from the standby, does not have the place yet…
        early = client.get(f"/places/{place}")
        assert early.status_code == 404
        assert _route(early) == "replica"
        # …while the workspace, always on the primary, has it.
        edit = workspace.get(f"/workspace/locations/{place}/edit")
        assert edit.status_code == 200
        assert "Replicaville" in edit.get_data(as_text=True)
        assert _route(edit) == "primary"
    finally:
        setup.standby.resume_replay()

    setup.standby.wait_for(setup.primary)
    with app.app_context():
        primary_engine = db.engine
    on_primary = _Statements(primary_engine)
    on_standby = _Statements(_router(app).engine)
    with on_primary, on_standby:
        later = client.get(f"/places/{place}")
    assert later.status_code == 200
    assert "Replicaville" in later.get_data(as_text=True)
    assert _route(later) == "replica"
    assert on_primary.count == 0  # the public page asked the primary nothing at all
    assert on_standby.count > 0


def test_a_standby_behind_the_limit_is_not_used(setup: Setup, caplog) -> None:
    app = setup.make_app(REPLICA_MAX_LAG_SECONDS=1)
    routing = _router(app)
    assert routing.max_lag_seconds == 1.0
    client = app.test_client()

    setup.standby.pause_replay()
    try:
        with Session(setup.primary) as session:
            place = _place(session, "Laggington")
        # Received but not replayed, and the last replayed commit over a second old.
        setup.standby.wait_for_receipt(setup.primary)
        setup.standby.wait_until_behind(1.0)
        with caplog.at_level(logging.WARNING, logger=db_routing.__name__):
            for _ in range(2):
                routing.forget()  # a fresh check for each request
                page = client.get(f"/places/{place}")
                assert page.status_code == 200  # the primary has the new place
                assert "Laggington" in page.get_data(as_text=True)
                assert _route(page) == "primary"
        warnings = [record for record in caplog.records if record.name == db_routing.__name__]
        assert len(warnings) == 1  # once per change of state, not once per request
        assert "behind the primary" in warnings[0].getMessage()
        assert "Laggington" not in caplog.text
    finally:
        setup.standby.resume_replay()

    # Caught up again: reads go back to the standby. (Asked until it is so: on a cluster
    # others write to, the standby may fall a second behind now and then.)
    setup.standby.wait_for(setup.primary)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        routing.forget()
        page = client.get(f"/places/{place}")
        assert page.status_code == 200
        if _route(page) == "replica" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert _route(page) == "replica"
    assert "reads go to it" in caplog.text


def test_a_stopped_standby_falls_back_to_the_primary(setup: Setup, caplog) -> None:
    """Last in the module: it stops the standby."""
    app = setup.make_app(REPLICA_MAX_LAG_SECONDS=3600)
    with Session(setup.primary) as session:
        place = _place(session, "Fallbackton")
    setup.standby.wait_for(setup.primary)
    client = app.test_client()
    assert _route(client.get(f"/places/{place}")) == "replica"

    # The verdict stays "usable" (no new check), so the next request starts on the standby
    # and finds it gone in the middle: the statement runs again on the primary.
    routing = _router(app)
    routing.check_interval = 3600.0
    setup.standby.stop()
    with caplog.at_level(logging.WARNING, logger=db_routing.__name__):
        page = client.get(f"/places/{place}")
    assert page.status_code == 200
    assert "Fallbackton" in page.get_data(as_text=True)
    assert _route(page) == "primary"
    assert "failed during a statement" in caplog.text

    # The next check finds it unreachable: the primary answers from the start.
    routing.forget()
    again = client.get(f"/places/{place}")
    assert again.status_code == 200
    assert _route(again) == "primary"
    assert routing.check().why.startswith("unreachable")


def _state(
    at: float = 100.0,
    *,
    standby: bool = True,
    receiving: bool = True,
    received: int | None = 5_000,
    replayed: int | None = 4_000,
    behind: float | None = 60.0,
) -> db_routing.StandbyState:
    return db_routing.StandbyState(
        at,
        standby,
        receiving,
        None if received is None else Decimal(received),
        None if replayed is None else Decimal(replayed),
        behind,
    )


@pytest.mark.parametrize(
    ("state", "previous", "usable", "why"),
    [
        (_state(standby=False), None, False, "not a standby"),
        # Idle primary: the last commit is an hour old, but nothing received is unreplayed.
        (_state(replayed=5_000, behind=3600.0), None, True, "caught up"),
        # …unless no WAL receiver runs: then it may have been cut off from the primary.
        (_state(receiving=False, replayed=5_000, behind=3600.0), None, False, "3600.0 s behind"),
        (_state(behind=4.0), None, True, "4.0 s behind"),
        (_state(behind=None), None, False, "has not replayed"),
        # A long write on the primary: no commit for a minute, but the replica replays what
        # it receives (all it had 2 s ago is replayed now).
        (_state(replayed=4_500), _state(98.0, received=4_200), True, "keeping up"),
        # Replay stalled behind a commit (paused, or a conflict): not keeping up.
        (_state(replayed=4_000), _state(98.0, received=4_200), False, "60.0 s behind"),
        # The previous check is older than the limit: it proves nothing.
        (_state(replayed=4_500), _state(80.0, received=4_200), False, "60.0 s behind"),
        (_state(receiving=False, replayed=4_500), _state(98.0, received=4_200), False, "behind"),
    ],
)
def test_judge_uses_a_replica_only_when_what_it_shows_is_recent(
    state: db_routing.StandbyState,
    previous: db_routing.StandbyState | None,
    usable: bool,
    why: str,
) -> None:
    verdict = db_routing.judge(state, previous, max_lag=10.0)
    assert verdict.usable is usable
    assert why in verdict.why
