"""Faults under the production server: no trace of a searcher, quick 503s, bounded costs.

These tests restart, stop and lock a database and kill gunicorn workers, so they never
touch the server the rest of the suite uses. The module provisions its own: a throwaway
PostgreSQL cluster made by ``scripts/db.sh`` exactly as ``make`` makes the local one (so
with the logging settings it writes, docs/postgresql-logging.md), migrated and seeded with
``flask db upgrade`` and ``flask seed demo``, served by gunicorn with ``gunicorn.conf.py``.
It needs the PostgreSQL and PostGIS server packages (``make test`` installs them).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import psycopg2
import pytest

from directory.api.corridor import MAX_BODY_BYTES
from geo.corridor import MAX_POSITIONS, read_line
from tests import servers

ROOT = Path(__file__).resolve().parent.parent
DB_SH = ROOT / "scripts" / "db.sh"
STATEMENT_TIMEOUT_S = 10.0  # what the gunicorn below runs with (STATEMENT_TIMEOUT_MS)

# What a searcher sends: unusual enough that finding one in a log can only mean a leak.
SECRET_LAT, SECRET_LON = "14.918273", "-92.263544"
SECRET_TOWN, QUOTED_TOWN = "Qwertyville", "Villa O'Higgins"
SECRET_LINE = [[-92.263544, 14.918273], [-92.174311, 15.036142], [-91.982265, 15.219384]]
SECRET_BODY = {"type": "LineString", "coordinates": SECRET_LINE}
SEARCHES: list[tuple[str, str, bytes | None]] = [
    ("GET", f"/api/v1/locations/nearest?lat={SECRET_LAT}&lon={SECRET_LON}", None),
    ("GET", f"/api/v1/consulates/serving?lat={SECRET_LAT}&lon={SECRET_LON}&nationality=GT", None),
    ("GET", f"/near?q={SECRET_TOWN}", None),
    ("GET", f"/near?q={quote(QUOTED_TOWN)}", None),
    ("GET", f"/api/v1/towns?q={SECRET_TOWN}", None),
    ("GET", f"/api/v1/towns?q={quote_plus(QUOTED_TOWN, safe=chr(39))}", None),  # O'Higgins
    ("POST", "/api/v1/corridor?buffer_km=50", json.dumps(SECRET_BODY).encode()),
]
# Every form a secret could take in a log: the numbers as sent or rounded to 4 or 5
# decimals, as SQL or URL text (the sign and the dot are never escaped); the terms in any
# case, quoted ('O''Higgins' in SQL) or URL-encoded (O%27Higgins). PostgreSQL's timestamps
# carry 3 decimals ("12:40:14.918 UTC"), so they cannot match.
SECRET_PATTERN = re.compile(r"14\.918[23]|92\.2635|qwertyville|higgins", re.IGNORECASE)

SERVER_PACKAGES = "scripts/ensure-system-packages.sh --with-db"


# --- the throwaway cluster ---------------------------------------------------------------


@dataclass
class Cluster:
    """A PostgreSQL cluster of ``scripts/db.sh`` in a folder and on a port of its own."""

    data: Path
    port: int

    @property
    def environment(self) -> dict[str, str]:
        return {**os.environ, "PGDATA_LOCAL": str(self.data), "PGPORT_LOCAL": str(self.port)}

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/protection_directory"

    @property
    def server_log(self) -> Path:
        return self.data / "server.log"

    def db_sh(self, command: str) -> None:
        done = subprocess.run(
            ["bash", str(DB_SH), command],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/db.sh {command} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        self.db_sh("start")

    def stop(self) -> None:
        self.db_sh("stop")

    def connect(self, database: str = "protection_directory") -> Any:
        """A psycopg2 connection of the test's own (not the app's)."""
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=3
        )


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new cluster made and started by ``scripts/db.sh``; stopped and removed after."""
    if not list(Path("/usr/lib/postgresql").glob("*/lib/postgis-3.so")):
        pytest.fail(f"the PostgreSQL + PostGIS server is not installed: run {SERVER_PACKAGES}")
    # As root, db.sh runs the server as the postgres user, who must be able to reach the
    # folder: pytest's tmp_path (under /tmp/pytest-of-root, mode 0700) is out of its reach.
    parent = Path(tempfile.mkdtemp(prefix="directory-faults-"))
    parent.chmod(0o755)
    cluster = Cluster(parent / "pgdata", servers.free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        with suppress(Exception):
            cluster.stop()
        shutil.rmtree(parent, ignore_errors=True)


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int  # 0: the connection broke before an answer came
    headers: dict[str, str]
    body: bytes
    started: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 15.0):
    """One request on a connection of its own (so each may reach either worker)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    # In English, as every test reads unless it says otherwise (tests/conftest.py).
    headers = {"Connection": "close", "Accept-Language": servers.TEST_READER_LANGUAGE}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        found = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, found, data, started, time.monotonic())
    except (OSError, http.client.HTTPException):
        return Answer(0, {}, b"", started, time.monotonic())
    finally:
        connection.close()


def wait_for(condition: Callable[[], Any], seconds: float, what: str | Callable[[], str]):
    """Poll ``condition`` until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:.0f} s for {what if isinstance(what, str) else what()}")
        time.sleep(0.05)


# --- gunicorn --------------------------------------------------------------------------


@dataclass
class Gunicorn:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def master(self) -> int:
        return self.process.pid

    def workers(self) -> set[int]:
        """The live worker processes: the master's children, read from /proc."""
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, IndexError, ValueError):
                state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
                if int(parent) == self.master and state != "Z":
                    found.add(int(stat.parent.name))
        return found

    def get(self, path: str, timeout: float = 15.0) -> Answer:
        return fetch(self.port, "GET", path, timeout=timeout)

    def wait_ready(self, seconds: float = 30.0) -> None:
        """Until /readyz answers 200 and both workers are up."""
        wait_for(
            lambda: len(self.workers()) == 2 and self.get("/readyz", 5).status == 200,
            seconds,
            f"gunicorn to be ready:\n{self.log.read_text()[-3000:]}",
        )


@contextmanager
def serve(database_url: str, log: Path) -> Iterator[Gunicorn]:
    """gunicorn with gunicorn.conf.py, configured for production, as `make serve` runs it."""
    process, port = servers.start_gunicorn(
        database_url,
        log,
        THREADS="4",
        STATEMENT_TIMEOUT_MS=str(int(STATEMENT_TIMEOUT_S * 1000)),
        # Searchers here send requests far faster than people: no rate limit.
        RATELIMIT_ENABLED="0",
    )
    server = Gunicorn(process, port, log)
    try:
        server.wait_ready(60)  # the first time, workers import the app on a busy machine
        yield server
    finally:
        servers.stop_gunicorn(process)


@dataclass
class Stack:
    cluster: Cluster
    gunicorn: Gunicorn


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """A throwaway cluster, migrated and seeded as `make seed` does, served by gunicorn."""
    with ExitStack() as cleanup:
        cluster = cleanup.enter_context(throwaway_cluster())
        environment = {
            **os.environ,
            "DATABASE_URL": cluster.url,
            "FLASK_APP": "wsgi:app",
            "DIRECTORY_ENV": "development",
        }
        # The gazetteer and the districts are not needed: a town nobody knows is a search.
        for command in (["db", "upgrade"], ["seed", "demo"]):
            done = subprocess.run(
                [sys.executable, "-m", "flask", *command],
                cwd=ROOT,
                env=environment,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, f"flask {' '.join(command)}:\n{done.stdout}{done.stderr}"
        gunicorn = cleanup.enter_context(serve(cluster.url, cluster.data.parent / "gunicorn.log"))
        yield Stack(cluster, gunicorn)


# --- 1. restart, cancel, kill: no trace of a searcher ------------------------------------


@dataclass
class Searchers:
    """Threads sending SEARCHES round and round until stopped, keeping every answer."""

    port: int
    threads: int = 4
    answers: list[tuple[int, Answer]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running = [
            threading.Thread(target=self._search, args=(offset,), daemon=True)
            for offset in range(self.threads)
        ]

    def _search(self, offset: int) -> None:
        turn = offset
        while not self._stop.is_set():
            index = turn % len(SEARCHES)
            method, path, body = SEARCHES[index]
            answer = fetch(self.port, method, path, body)
            with self._lock:
                self.answers.append((index, answer))
            turn += 1
            self._stop.wait(0.02)

    def __enter__(self) -> Searchers:
        for thread in self._running:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout=30)

    def all_answered_since(self, moment: float) -> bool:
        """Every search has had a 200 to a request sent after ``moment``."""
        with self._lock:
            good = {index for index, a in self.answers if a.status == 200 and a.started > moment}
        return len(good) == len(SEARCHES)

    def last_statuses(self) -> str:
        """For a failure message: the last status of each search."""
        with self._lock:
            last = {SEARCHES[index][1]: answer.status for index, answer in self.answers}
        return f"every search to answer 200; last statuses: {last}"


def _autocommit(cluster: Cluster) -> Any:
    connection = cluster.connect()
    connection.autocommit = True
    return connection


def _lock_locations(cluster: Cluster) -> Any:
    """A transaction of ours holding the table of places: searches by position now wait, in
    the middle of their statement, until it ends. (One table: a transaction locking several
    could deadlock with a search holding one of them.)"""
    locker = cluster.connect()
    locker.cursor().execute("LOCK TABLE locations IN ACCESS EXCLUSIVE MODE")
    return locker


def _waiting_backends(watcher: Any) -> list[tuple[int, int]]:
    """(pid, client port) of the app's sessions waiting for a lock."""
    with watcher.cursor() as cursor:
        cursor.execute(
            "SELECT pid, client_port FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def _owner_of_port(local_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the IPv4 socket whose local port is ``local_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
            inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        with suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None


CANCELLED = "canceling statement due to user request"


def _close_quietly(connection: Any) -> None:
    with suppress(Exception):
        connection.close()


def test_restart_cancel_and_killed_worker_leave_no_search_in_any_log(stack: Stack):
    cluster, gunicorn = stack.cluster, stack.gunicorn
    gunicorn.wait_ready()
    with Searchers(gunicorn.port) as searchers:
        wait_for(lambda: searchers.all_answered_since(0), 30, searchers.last_statuses)

        # Statements cancelled and terminated mid-run: searches wait on a lock of ours;
        # one is cancelled (an ERROR), then a fast restart terminates the others (FATAL).
        locker = _lock_locations(cluster)
        watcher = _autocommit(cluster)
        waiting = wait_for(
            lambda: len(found := _waiting_backends(watcher)) >= 2 and found,
            15,
            "searches to wait on the lock",
        )
        watcher.cursor().execute("SELECT pg_cancel_backend(%s)", (waiting[0][0],))
        wait_for(
            lambda: CANCELLED in cluster.server_log.read_text(errors="replace"),
            10,
            "the cancel to reach the search",
        )
        _close_quietly(watcher)
        cluster.stop()  # pg_ctl stop -m fast, with searches waiting
        cluster.start()
        _close_quietly(locker)
        back = time.monotonic()
        wait_for(lambda: searchers.all_answered_since(back), 30, searchers.last_statuses)

        # A worker killed while its searches wait in the database: their sessions lose
        # their client when the lock goes.
        locker = _lock_locations(cluster)
        watcher = _autocommit(cluster)
        waiting = wait_for(
            lambda: len(found := _waiting_backends(watcher)) >= 2 and found,
            15,
            "searches to wait on the lock again",
        )
        workers = gunicorn.workers()
        owners = {_owner_of_port(port, workers) for _, port in waiting} - {None}
        victim = min(owners or workers)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in gunicorn.workers(), 30, "the master to reap the worker")
        _close_quietly(watcher)
        locker.rollback()
        _close_quietly(locker)
        killed = time.monotonic()
        wait_for(lambda: searchers.all_answered_since(killed), 30, searchers.last_statuses)
        wait_for(lambda: len(gunicorn.workers()) == 2, 30, "a new worker")

    statuses = {answer.status for _, answer in searchers.answers}
    assert statuses <= {200, 503, 0}, statuses  # 0: a connection to the killed worker
    assert 503 in statuses  # the faults did reach searches
    assert gunicorn.process.poll() is None  # the master lived through it all

    server_log = cluster.server_log.read_text(errors="replace")
    app_log = gunicorn.log.read_text(errors="replace")
    # The faults happened, so the logs had every chance to show a statement.
    for evidence in (
        CANCELLED,
        "terminating connection due to administrator command",
        "shutting down",
    ):
        assert evidence in server_log
    assert f"Worker (pid:{victim}) was sent SIGKILL" in app_log
    assert '"GET /api/v1/locations/nearest"' in app_log  # the access log did run
    for name, text in (("PostgreSQL", server_log), ("gunicorn and app", app_log)):
        leaks = [line for line in text.splitlines() if SECRET_PATTERN.search(line)]
        assert not leaks, f"the {name} log shows a search: {leaks[:5]}"
    for line_kind in ("STATEMENT:", "DETAIL:", "CONTEXT:", "HINT:"):
        assert line_kind not in server_log


# --- 2. the zigzag: a costly line cannot starve other searches ---------------------------


def _zigzag(amplitude: float) -> list[list[float]]:
    """10,000 positions zigzagging over Mexico City, where the demo data is densest: every
    edge crosses the same places, so each of the ~10,000 pieces of the line finds them."""
    return [
        [round(-99.2 + i * 0.00001, 6), round(19.4 + (amplitude if i % 2 else -amplitude), 6)]
        for i in range(MAX_POSITIONS)
    ]


def _is_error_shape(answer: Answer) -> bool:
    error = answer.json().get("error", {})
    return bool(error.get("code")) and bool(error.get("message"))


def test_two_zigzag_corridors_at_once_leave_a_probe_answering_within_a_second(stack: Stack):
    gunicorn = stack.gunicorn
    gunicorn.wait_ready()
    positions = _zigzag(0.004)
    read_line({"type": "LineString", "coordinates": positions})  # within every input bound
    body = json.dumps({"type": "LineString", "coordinates": positions}).encode()
    probe_path = "/api/v1/locations/nearest?lat=19.4326&lon=-99.1332"
    for _ in range(10):  # both workers warm, with a pooled connection each
        assert gunicorn.get(probe_path).status == 200

    zigzags: list[Answer] = []
    probes: list[Answer] = []
    done = threading.Event()
    start = threading.Barrier(2)

    def send_zigzag() -> None:
        start.wait()
        zigzags.append(
            fetch(gunicorn.port, "POST", "/api/v1/corridor?buffer_km=100&limit=500", body, 60)
        )

    def probe() -> None:
        while not done.is_set():
            probes.append(gunicorn.get(probe_path, timeout=10))
            done.wait(0.05)

    prober = threading.Thread(target=probe)
    senders = [threading.Thread(target=send_zigzag) for _ in range(2)]
    prober.start()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=90)
    done.set()
    prober.join(timeout=30)

    assert len(zigzags) == 2
    for answer in zigzags:
        if answer.status == 200:
            assert answer.seconds < STATEMENT_TIMEOUT_S
        else:
            assert 400 <= answer.status < 500, answer.status
            assert _is_error_shape(answer)
    first, last = min(a.started for a in zigzags), max(a.ended for a in zigzags)
    during = [p for p in probes if p.ended > first and p.started < last]
    assert during, "no probe ran while the zigzags did"
    assert {p.status for p in probes} == {200}
    slowest = max(p.seconds for p in probes)
    # A bound from the acceptance point, not a speed figure (those come from bench/).
    assert slowest < 1.0, f"a probe took {slowest:.2f} s"


def test_a_zigzag_past_the_length_bound_is_refused_at_once(stack: Stack):
    body = json.dumps({"type": "LineString", "coordinates": _zigzag(0.008)}).encode()
    answer = fetch(stack.gunicorn.port, "POST", "/api/v1/corridor?buffer_km=100", body)
    assert answer.status == 400
    assert answer.json()["error"]["message"].startswith("coordinates: the line is")
    assert answer.seconds < 1.0


# --- 3. the database stops: quick 503s, then 200s from the same processes --------------


OUTAGE_API = ["/api/v1/locations/nearest?lat=14.9&lon=-92.26", "/api/v1/towns?q=Tapachula"]
OUTAGE_PAGES = ["/near?q=Tapachula", "/consulates/serving"]


def test_a_stopped_database_gives_quick_503s_then_200s_from_the_same_processes(stack: Stack):
    cluster, gunicorn = stack.cluster, stack.gunicorn
    gunicorn.wait_ready()
    for path in OUTAGE_API + OUTAGE_PAGES:
        assert gunicorn.get(path).status == 200
    processes = (gunicorn.master, gunicorn.workers())

    cluster.stop()
    try:
        for _ in range(3):  # several rounds, so that both workers answer
            for path in OUTAGE_API + OUTAGE_PAGES:
                answer = gunicorn.get(path, timeout=10)
                assert answer.status == 503, (path, answer.status)
                assert answer.seconds < 1.0, (path, answer.seconds)
                assert answer.headers["retry-after"] == "5"
                if path in OUTAGE_API:
                    assert answer.json()["error"]["code"] == "unavailable"
                else:
                    assert answer.headers["content-type"].startswith("text/html")
                    assert "Try again soon" in answer.body.decode()
    finally:
        cluster.start()
    back = time.monotonic()

    wait_for(lambda: gunicorn.get(OUTAGE_API[0]).status == 200, 10, "a 200 after the outage")
    for _ in range(3):
        for path in OUTAGE_API + OUTAGE_PAGES:
            assert gunicorn.get(path).status == 200, path
    assert time.monotonic() - back < 15.0
    assert (gunicorn.master, gunicorn.workers()) == processes  # no process was restarted


# --- 4. bodies past the bound: 413 -----------------------------------------------------


def _post_raw(port: int, head: str, payload: bytes) -> tuple[int, dict[str, Any]]:
    """Send a request while reading the answer (the server may answer before reading it all);
    return the status and the JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as connection:

        def send() -> None:
            with suppress(OSError):  # the server may close once it has answered
                connection.sendall(head.encode() + payload)

        sender = threading.Thread(target=send)
        sender.start()
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = json.loads(response.read())
        sender.join(timeout=15)
        return response.status, body


def _chunked(data: bytes, size: int = 65536) -> bytes:
    pieces = [
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
        for i in range(0, len(data), size)
    ]
    return b"".join(pieces) + b"0\r\n\r\n"


def _head(**headers: str) -> str:
    lines = ["POST /api/v1/corridor HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "Connection: close", "", ""])


OVERSIZED = json.dumps({"type": "LineString", "coordinates": [[-92.26, 14.9]] * 90_000}).encode()


def test_an_oversized_body_is_413(stack: Stack):
    assert len(OVERSIZED) > MAX_BODY_BYTES
    head = _head(Content_Length=str(len(OVERSIZED)))
    status, body = _post_raw(stack.gunicorn.port, head, OVERSIZED)
    assert status == 413
    assert body["error"]["code"] == "request_entity_too_large"


def test_a_chunked_body_is_read(stack: Stack):
    line = json.dumps(SECRET_BODY).encode()
    status, body = _post_raw(
        stack.gunicorn.port, _head(Transfer_Encoding="chunked"), _chunked(line, 16)
    )
    assert status == 200
    assert body["type"] == "FeatureCollection"


def test_an_over_long_chunked_body_is_413(stack: Stack):
    head = _head(Transfer_Encoding="chunked")
    status, body = _post_raw(stack.gunicorn.port, head, _chunked(OVERSIZED))
    assert status == 413
    assert body["error"]["code"] == "request_entity_too_large"
