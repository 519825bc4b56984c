"""Benchmarks over HTTP (issue 14): the app under gunicorn against a bare reference, with wrk.

What runs:

1. A throw-away database on the server ``DATABASE_URL`` names: migrations, demo data,
   gazetteer, consular districts, then ``flask seed synthetic --count SIZE`` (places
   clustered around the region's towns, ``directory/places/synthetic.py``). Each step is
   timed. ``--database URL`` measures an existing database instead (nothing is written).
2. Three servers, each gunicorn with the settings of ``gunicorn.conf.py`` (2 workers of 4
   threads by default) and no access log: the app (``wsgi:app``); the reference
   (``bench/reference_app.py``: the SQL of the app's nearest fast path through bare psycopg2
   and ``json.dumps``); a Flask hello-world (``bench/hello_app.py``, the ceiling).
3. wrk on loopback (``-t2 -c8 -d10s --latency``), each request a path drawn at random from a
   list made beforehand (``bench/wrk/paths.lua``); app and reference interleaved A/B/A/B for
   three rounds, medians. Every figure is printed with its ratio to the reference (or its
   target) and the load average, which says how much the machine was shared.
4. The CSV import, by ``bench/imports.py`` (100,000 rows against a plain ``COPY``).

Then a markdown table of every figure. ``--sizes 10000,100000,1000000`` measures each size in
turn (the database grows between them) and draws p50/p99 against size to
``docs/bench/latency-by-size.png`` (``bench/plot.py``, the ``bench`` extra: matplotlib).

    python bench/http_load.py [--size 10000] [--sizes 10000,100000,1000000] [--duration 10]

Benchmarks are not tests: targets are printed as "yes"/"NO", never enforced.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from directory.config import sqlalchemy_url  # noqa: E402

VENV_BIN = Path(sys.executable).parent
WRK_SCRIPT = ROOT / "bench/wrk/paths.lua"
PLOT_PATH = ROOT / "docs/bench/latency-by-size.png"

# Where the nearest searches come from: across the whole region, sea and sparse land too.
WIDE = (-120.0, -10.0, -60.0, 35.0)
TOWN_JITTER_DEG = 0.1
MEXICO_AND_CENTRAL_AMERICA = "-118,7,-77,33"
MEXICO_CITY = "-99.25,19.30,-99.05,19.50"
BOGOTA = (4.711, -74.072)  # lat, lon
TAPACHULA = (14.905, -92.263)  # inside a Guatemalan consulate's district
FILTERS = "category=shelter&open_now=true"
COMPRESSED = "Accept-Encoding: br, gzip"
# Targets of issue 14.
THROUGHPUT_TARGET = 0.8  # × the reference's requests per second, at least
P99_TARGET = 1.5  # × the reference's p99, at most
AREA_P95_MS, AREA_BYTES = 150.0, 200_000
CORRIDOR_P95_MS = 100.0
APP_NAME = "bench-http"


@dataclass
class Run:
    """One wrk run's figures (``bench/wrk/paths.lua``'s JSON line)."""

    rps: float
    p50: float
    p95: float
    p99: float
    requests: int
    errors: int
    load: float


@dataclass
class Figure:
    """One row of the final table: medians of the app's runs and of the reference's."""

    name: str
    app: list[Run] = field(default_factory=list)
    reference: list[Run] = field(default_factory=list)
    # The app with one client (wrk -t1 -c1): the latency one person sees, without queueing
    # behind the other connections on 2 cores.
    alone: list[Run] = field(default_factory=list)
    note: str = ""
    target: str = ""
    holds: bool | None = None

    @staticmethod
    def median(runs: list[Run], attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in runs)

    def value(self, side: str, attribute: str) -> float | None:
        """The median over the rounds; latencies only of rounds where a request finished."""
        runs = {"app": self.app, "reference": self.reference, "alone": self.alone}[side]
        if attribute != "rps":
            runs = [run for run in runs if run.requests]
        return self.median(runs, attribute) if runs else None


@dataclass
class Server:
    name: str
    module: str
    port: int
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# --- the database ----------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """``postgresql://…`` (what psycopg2, psql and the app's DATABASE_URL take)."""
    return url.replace("postgresql+psycopg2://", "postgresql://")


def flask(env: dict[str, str], *args: str) -> float:
    """Run ``flask ARGS`` on the bench database; its seconds. Progress bars show as usual."""
    started = time.perf_counter()
    subprocess.run([str(VENV_BIN / "flask"), *args], env=env, cwd=ROOT, check=True)
    return time.perf_counter() - started


def create_database(server_url: str, name: str) -> str:
    server = make_url(sqlalchemy_url(server_url))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return libpq_url(server.set(database=name).render_as_string(hide_password=False))


def drop_database(server_url: str, name: str) -> None:
    server = make_url(sqlalchemy_url(server_url))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def load_base(url: str) -> None:
    """Migrations, demo data, gazetteer and districts: what every size starts from."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi:app"}
    env["DIRECTORY_ENV"] = "development"
    steps = (
        ("migrations", ("db", "upgrade")),
        ("demo data", ("seed", "demo")),
        ("gazetteer", ("gazetteer", "load")),
        ("districts", ("districts", "compute")),
    )
    for label, args in steps:
        took = flask(env, *args)
        print(f"  {label}: {took:.1f} s", flush=True)


def add_places(url: str, count: int, seed: int) -> float:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi:app"}
    env["DIRECTORY_ENV"] = "development"
    took = flask(env, "seed", "synthetic", "--count", str(count), "--seed", str(seed))
    return took + settle(url)


def settle(url: str) -> float:
    """VACUUM ANALYZE the freshly loaded tables, as autovacuum would soon after a load.

    Without it, the filtered nearest search gave 5 req/s in a full run and 100 req/s on the
    same data vacuumed (likely cause: autovacuum's first pass over a million new rows
    beside the first figures, and hint bits set on first reads)."""
    started = time.perf_counter()
    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(text("VACUUM (ANALYZE) locations, location_categories, organizations"))
    engine.dispose()
    took = time.perf_counter() - started
    print(f"  VACUUM ANALYZE: {took:.1f} s", flush=True)
    return took


def database_facts(url: str) -> dict[str, Any]:
    """What the path lists are drawn from: towns, the longest route, and some counts."""
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as connection:
        towns = connection.execute(
            text(
                "SELECT ST_Y(point::geometry), ST_X(point::geometry) FROM towns "
                "WHERE ST_Intersects(point::geometry, ST_MakeEnvelope(:w, :s, :e, :n, 4326)) "
                "ORDER BY id"
            ),
            dict(zip("wsen", WIDE, strict=True)),
        ).all()
        route = connection.execute(
            text(
                "SELECT code, ST_Length(path::geography) / 1000 AS km, "
                "ST_AsGeoJSON(path) AS line FROM routes WHERE archived_at IS NULL "
                "ORDER BY ST_Length(path::geography) DESC LIMIT 1"
            )
        ).one()
        locations = connection.scalar(text("SELECT count(*) FROM locations"))
        size = connection.scalar(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        )
    engine.dispose()
    return {
        "towns": [tuple(row) for row in towns],
        "route": route.code,
        "route_km": route.km,
        "route_line": json.loads(route.line)["coordinates"],
        "locations": locations,
        "database_size": size,
    }


# --- the servers -------------------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on: other people's servers use the usual ones."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_config(folder: Path) -> Path:
    """``gunicorn.conf.py``'s settings, without the access log (it would be measured too)."""
    path = folder / "gunicorn_bench.py"
    path.write_text(
        "import runpy\n"
        f"_settings = runpy.run_path({str(ROOT / 'gunicorn.conf.py')!r})\n"
        "globals().update({k: v for k, v in _settings.items() if not k.startswith('__')})\n"
        "accesslog = None\n",
        encoding="utf-8",
    )
    return path


@contextmanager
def serving(servers: list[Server], url: str, folder: Path) -> Iterator[None]:
    """Start every server (gunicorn) on ``url``'s database; stop them all at the end."""
    config = gunicorn_config(folder)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DIRECTORY_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        # wrk is one client asking thousands of times: the per-client rate limits would
        # answer 429 within a second.
        "RATELIMIT_ENABLED": "0",
    }
    try:
        for server in servers:
            with (folder / f"{server.name}.log").open("ab") as log:
                server.process = subprocess.Popen(
                    [str(VENV_BIN / "gunicorn"), "-c", str(config), server.module],
                    # PGAPPNAME names the servers' database sessions for ``drain``.
                    env={**env, "BIND": f"127.0.0.1:{server.port}", "PGAPPNAME": APP_NAME},
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        for server in servers:
            wait_until_up(server, folder)
        yield
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
        for server in servers:
            if server.process is not None:
                try:
                    server.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                server.process = None


def drain(url: str, limit_s: float = 20.0) -> float:
    """Wait until no statement of the servers runs any more; the seconds waited.

    wrk stops at the end of its duration and leaves the requests in flight to the servers:
    slow ones (up to the statement timeout) would otherwise run on into the next figure.
    """
    started = time.monotonic()
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            while time.monotonic() - started < limit_s:
                active = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                        "AND application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": APP_NAME},
                )
                connection.rollback()
                if not active:
                    break
                time.sleep(0.2)
    finally:
        engine.dispose()
    return time.monotonic() - started


def wait_until_up(server: Server, folder: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            log = (folder / f"{server.name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{server.name} did not start:\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer on port {server.port} within 90 s")


def log_tail(server: Server, folder: Path, chars: int = 3000) -> str:
    path = folder / f"{server.name}.log"
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def fetch(url: str, *, compressed: bool = False) -> tuple[int, bytes, dict[str, str]]:
    """One request as a browser makes it: status, body as sent, headers."""
    headers = {"Accept-Encoding": "br, gzip"} if compressed else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def decoded(body: bytes, headers: dict[str, str]) -> Any:
    encoding = headers.get("Content-Encoding", "")
    if encoding == "br":
        body = brotli.decompress(body)
    elif encoding == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


# --- wrk ---------------------------------------------------------------------------------


@dataclass
class Load:
    threads: int
    connections: int
    duration: int
    rounds: int
    database: str = ""  # the servers' database, to ``drain`` after each run


def wrk(base: str, paths: Path, load: Load, headers: tuple[str, ...] = ()) -> Run:
    """One wrk run; then wait for the requests it left in flight (``drain``)."""
    command = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.duration}s",
        "--latency",
        # Slow endpoints must be measured, not dropped as timeouts (wrk's default is 2 s).
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        base,
        "--",
        str(paths),
        *headers,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(lines[-1])
    if load.database:
        waited = drain(load.database)
        if waited > 0.5:
            print(f"    (waited {waited:.1f} s for the requests wrk left in flight)", flush=True)
    return Run(
        rps=figures["rps"],
        p50=figures["p50_ms"],
        p95=figures["p95_ms"],
        p99=figures["p99_ms"],
        requests=figures["requests"],
        errors=sum(figures["errors"].values()),
        load=os.getloadavg()[0],
    )


def show(name: str, side: str, run: Run) -> None:
    errors = f", {run.errors} ERRORS (non-2xx or timeouts)" if run.errors else ""
    print(
        f"    {side:<9} {run.rps:8.1f} req/s  p50 {run.p50:8.1f}  p95 {run.p95:8.1f}  "
        f"p99 {run.p99:8.1f} ms  ({run.requests} requests{errors}; load {run.load:.2f})",
        flush=True,
    )


def write_paths(folder: Path, name: str, paths: list[str]) -> Path:
    path = folder / f"{name}.paths"
    path.write_text("\n".join(paths) + "\n", encoding="utf-8")
    return path


# --- the figures -------------------------------------------------------------------------


def nearest_points(rng: random.Random, facts: dict[str, Any], kind: str) -> list[tuple]:
    if kind == "random":
        west, south, east, north = WIDE
        return [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(2000)]
    return [
        (lat + rng.uniform(-TOWN_JITTER_DEG, TOWN_JITTER_DEG),
         lon + rng.uniform(-TOWN_JITTER_DEG, TOWN_JITTER_DEG))
        for lat, lon in (rng.choice(facts["towns"]) for _ in range(2000))
    ]  # fmt: skip


def measure_nearest(
    app: Server, reference: Server, facts: dict[str, Any], load: Load, folder: Path
) -> list[Figure]:
    figures = []
    for kind, label in (
        ("random", "random points across the region"),
        ("towns", "points near towns"),
    ):
        for filters in ("", FILTERS):
            rng = random.Random(f"{kind}{filters}")
            points = nearest_points(rng, facts, kind)
            query = [f"lat={lat:.5f}&lon={lon:.5f}" + (f"&{filters}" if filters else "")
                     for lat, lon in points]  # fmt: skip
            name = f"nearest, {label}" + (f", {FILTERS}" if filters else "")
            app_paths = write_paths(folder, f"app-{kind}{bool(filters)}",
                                    [f"/api/v1/locations/nearest?{q}" for q in query])  # fmt: skip
            ref_paths = write_paths(folder, f"ref-{kind}{bool(filters)}",
                                    [f"/nearest?{q}" for q in query])  # fmt: skip
            figure = Figure(name)
            print(f"\n  {name}", flush=True)
            failed = False
            for server, paths in ((app, app_paths), (reference, ref_paths)):
                status, body, _ = fetch(server.base + paths.read_text().splitlines()[0])
                if status != 200:
                    failed = True
                    figure.note = f"{server.name} answered {status}"
                    print(f"    {server.name} answered {status}: {body[:300]!r}\n"
                          f"{log_tail(server, folder)}", flush=True)  # fmt: skip
            if failed:
                figure.holds = False
                figures.append(figure)
                continue
            for _ in range(load.rounds):
                run = wrk(app.base, app_paths, load)
                show(name, "app", run)
                figure.app.append(run)
                run = wrk(reference.base, ref_paths, load)
                show(name, "reference", run)
                figure.reference.append(run)
            rps = (figure.value("app", "rps") or 0.0) / (figure.value("reference", "rps") or 1.0)
            p99 = (figure.value("app", "p99") or float("inf")) / (
                figure.value("reference", "p99") or 1.0
            )
            figure.target = f"≥ {THROUGHPUT_TARGET}× req/s, p99 ≤ {P99_TARGET}×"
            figure.holds = rps >= THROUGHPUT_TARGET and p99 <= P99_TARGET
            print(
                f"    median: {rps:.3f}× the reference's req/s, {p99:.2f}× its p99; "
                f"target {figure.target}: {'yes' if figure.holds else 'NO'}",
                flush=True,
            )
            figures.append(figure)
    return figures


def measure_app_only(
    app: Server,
    name: str,
    paths: list[str],
    load: Load,
    folder: Path,
    *,
    p95_target: float | None = None,
    bytes_target: int | None = None,
) -> Figure:
    """A figure with no reference: p95 (and the answer's size) against the issue's target."""
    print(f"\n  {name}", flush=True)
    fetch(app.base + paths[-1], compressed=True)  # the first in its worker is slower
    started = time.perf_counter()
    status, body, headers = fetch(app.base + paths[0], compressed=True)
    alone_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        print(f"    app answered {status}: {body[:300]!r}\n{log_tail(app, folder)}", flush=True)
        return Figure(name, note=f"app answered {status}", holds=False)
    size = len(body)
    encoding = headers.get("Content-Encoding", "none")
    # The first request alone (no other load): a figure even when wrk's rounds are too short
    # for a slow endpoint to finish a request under load.
    note = f"{size:,} B {encoding}, alone {alone_ms:,.0f} ms"
    try:
        content = decoded(body, headers)
    except (ValueError, OSError, brotli.error):  # not JSON (vector tiles?): the size alone
        content = {}
    if "match" in content.get("properties", {}):
        note += f", match {content['properties']['match']}"
    elif "features" in content:
        clusters = sum(1 for f in content["features"] if f.get("properties", {}).get("cluster"))
        points = len(content["features"]) - clusters
        note += f", {points} places" + (f", {clusters} clusters" if clusters else "")
    print(f"    first answer: {note}", flush=True)
    listing = write_paths(folder, f"app-{len(os.listdir(folder))}", paths)
    figure = Figure(name, note=note)
    one_client = Load(1, 1, load.duration, load.rounds, load.database)
    for _ in range(load.rounds):
        run = wrk(app.base, listing, load, (COMPRESSED,))
        show(name, "app", run)
        figure.app.append(run)
        run = wrk(app.base, listing, one_client, (COMPRESSED,))
        show(name, "1 client", run)
        figure.alone.append(run)
    p95 = figure.value("app", "p95")
    p95_alone = figure.value("alone", "p95")
    if p95 is None:
        figure.note += f"; no request finished within {load.duration} s"
    checks = []
    if p95_target is not None:
        # Judged on one client's p95 (what a person waits), and said for the loaded one too.
        figure.target = f"p95 < {p95_target:.0f} ms"
        checks.append(p95_alone is not None and p95_alone < p95_target)
        loaded = p95 is not None and p95 < p95_target
        figure.note += f"; under {load.connections} connections: {'yes' if loaded else 'no'}"
    if bytes_target is not None:
        figure.target += f", < {bytes_target // 1000} KB"
        checks.append(size < bytes_target)
    if checks:
        figure.holds = all(checks)
        print(f"    target {figure.target}: {'yes' if figure.holds else 'NO'}", flush=True)
    return figure


def measure_others(app: Server, facts: dict[str, Any], load: Load, folder: Path) -> list[Figure]:
    figures = []
    for name, bbox in (
        ("map area, Mexico + Central America", MEXICO_AND_CENTRAL_AMERICA),
        ("map area, Mexico City", MEXICO_CITY),
    ):
        figures.append(
            measure_app_only(
                app,
                name,
                [f"/api/v1/locations?bbox={bbox}"],
                load,
                folder,
                p95_target=AREA_P95_MS,
                bytes_target=AREA_BYTES,
            )
        )
    rng = random.Random("corridor")
    starts = [
        (lat + rng.uniform(-0.04, 0.04), lon + rng.uniform(-0.04, 0.04))
        for lon, lat in (rng.choice(facts["route_line"]) for _ in range(500))
    ]
    route = facts["route"]
    for buffer_km in (10, 50):
        for with_from in (False, True):
            base = f"/api/v1/routes/{route}/corridor?buffer_km={buffer_km}"
            paths = (
                [f"{base}&from={lat:.5f},{lon:.5f}" for lat, lon in starts] if with_from else [base]
            )
            name = f"corridor `{route}` ({facts['route_km']:,.0f} km), {buffer_km} km" + (
                ", with from" if with_from else ""
            )
            figures.append(
                measure_app_only(app, name, paths, load, folder, p95_target=CORRIDOR_P95_MS)
            )
    for name, (lat, lon) in (
        ("consulate serving a Guatemalan in Bogotá (nearest office)", BOGOTA),
        ("consulate serving a Guatemalan in Tapachula (district)", TAPACHULA),
    ):
        rng = random.Random(name)
        paths = [
            f"/api/v1/consulates/serving?lat={lat + rng.uniform(-0.05, 0.05):.5f}"
            f"&lon={lon + rng.uniform(-0.05, 0.05):.5f}&nationality=GT"
            for _ in range(500)
        ]
        figures.append(measure_app_only(app, name, paths, load, folder))
    return figures


def measure_hello(hello: Server, load: Load, folder: Path) -> Figure:
    figure = Figure("Flask hello-world (the ceiling)")
    paths = write_paths(folder, "hello", ["/"])
    print(f"\n  {figure.name}", flush=True)
    for _ in range(load.rounds):
        run = wrk(hello.base, paths, load)
        show(figure.name, "hello", run)
        figure.app.append(run)
    return figure


def measure_import(rows: int) -> Figure:
    """``bench/imports.py``, as it is: its output shown, its main figures kept."""
    print(f"\n== import: {rows:,} CSV rows (bench/imports.py)", flush=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench/imports.py"), "--rows", str(rows)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout, result.stderr[-2000:] if result.returncode else "", flush=True)
    figure = Figure(f"import, {rows:,} CSV rows vs plain COPY")
    found = {}
    for line in result.stdout.splitlines():
        for key, prefix in (
            ("copy", "plain COPY"),
            ("import", "flask import locations"),
            ("ratio", "ratio import / COPY"),
        ):
            if line.startswith(prefix):
                found[key] = line.split(":", 1)[1].split()[0]
    if result.returncode != 0 or len(found) < 3:
        figure.note = f"failed (exit {result.returncode})"
    else:
        figure.note = f"import {found['import']} s, COPY {found['copy']} s: {found['ratio']}× COPY"
    figure.target = "< 60 s"
    if "import" in found:
        figure.holds = float(found["import"]) < 60
    print(f"  (bench/imports.py took {time.perf_counter() - started:.0f} s)", flush=True)
    return figure


# --- one size ----------------------------------------------------------------------------


def measure_size(url: str, load: Load, folder: Path) -> tuple[dict[str, Any], list[Figure]]:
    load = Load(load.threads, load.connections, load.duration, load.rounds, url)
    facts = database_facts(url)
    print(
        f"\n== {facts['locations']:,} locations ({facts['database_size']}); "
        f"{len(facts['towns'])} towns; longest route {facts['route']!r} "
        f"({facts['route_km']:,.0f} km); load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    servers = [
        Server("app", "wsgi:app", free_port()),
        Server("reference", "bench.reference_app:app", free_port()),
        Server("hello", "bench.hello_app:app", free_port()),
    ]
    app, reference, hello = servers
    with serving(servers, url, folder):
        # Warm-up: every worker connects, imports what it imports lazily, fills its caches.
        warm = Load(load.threads, load.connections, 3, 1, url)
        rng = random.Random("warm-up")
        points = nearest_points(rng, facts, "towns")[:200]
        for server, prefix in ((app, "/api/v1/locations/nearest?"), (reference, "/nearest?")):
            paths = [f"{prefix}lat={lat:.5f}&lon={lon:.5f}" for lat, lon in points]
            wrk(server.base, write_paths(folder, f"warm-{server.name}", paths), warm)
        figures = [measure_hello(hello, load, folder)]
        figures += measure_nearest(app, reference, facts, load, folder)
        figures += measure_others(app, facts, load, folder)
    return facts, figures


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def table(facts: dict[str, Any], figures: list[Figure], load: Load) -> str:
    hello = figures[0].value("app", "rps") if figures else None
    lines = [
        f"Data: {facts.get('locations', 0):,} locations ({facts.get('database_size', '?')}). "
        f"Machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at the end. "
        f"wrk -t{load.threads} -c{load.connections} -d{load.duration}s, "
        f"{load.rounds} interleaved rounds, medians; latencies in ms.",
        "",
        "| figure | app req/s | app p50 | app p95 | app p99 | app p95, 1 client | "
        "reference req/s | reference p99 | req/s ratio | p99 ratio | target | holds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for figure in figures:
        rps = figure.value("app", "rps")
        ref_rps = figure.value("reference", "rps")
        p99 = figure.value("app", "p99")
        ref_p99 = figure.value("reference", "p99")
        rps_ratio = f"{rps / ref_rps:.3f}" if rps and ref_rps else "–"
        p99_ratio = f"{p99 / ref_p99:.2f}" if p99 and ref_p99 else "–"
        if figure is figures[0] or not figure.app:
            rps_ratio = "–"
        holds = "–" if figure.holds is None else ("yes" if figure.holds else "**no**")
        name = figure.name + (f" ({figure.note})" if figure.note else "")
        errors = sum(run.errors for run in figure.app + figure.reference)
        if errors:
            name += f" — {errors} errors"
        lines.append(
            f"| {name} | {ms(rps)} | {ms(figure.value('app', 'p50'))} | "
            f"{ms(figure.value('app', 'p95'))} | {ms(p99)} | {ms(figure.value('alone', 'p95'))} | "
            f"{ms(ref_rps)} | {ms(ref_p99)} | "
            f"{rps_ratio} | {p99_ratio} | {figure.target or '–'} | {holds} |"
        )
    if hello:
        lines.append("")
        lines.append(f"Ceiling (Flask hello-world under the same gunicorn): {hello:,.0f} req/s.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="synthetic places")
    parser.add_argument(
        "--sizes", default="", help="comma-separated sizes: measure each, then draw the plot"
    )
    parser.add_argument("--plot", action="store_true", help="= --sizes 10000,100000,1000000")
    parser.add_argument("--plot-to", type=Path, default=PLOT_PATH, help="where the plot goes")
    parser.add_argument("--database", default="", help="measure this database as it is")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--import-rows", type=int, default=100_000, help="0: skip the import")
    parser.add_argument("--json", default="", help="also write every figure to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: scripts/ensure-system-packages.sh --with-bench")
    load = Load(args.threads, args.connections, args.duration, args.rounds)
    sizes = [int(size) for size in (args.sizes or "").split(",") if size.strip()]
    if args.plot and not sizes:
        sizes = [10_000, 100_000, 1_000_000]
    plotting = bool(sizes)
    sizes = sizes or [args.size]
    started = time.perf_counter()
    server_url = os.environ.get("DATABASE_URL", "")
    name = f"{make_url(sqlalchemy_url(server_url)).database}_bench_http" if server_url else ""
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()}", flush=True)
    results: list[tuple[int, dict[str, Any], list[Figure]]] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-http-")))
        if args.database:
            url = libpq_url(args.database)
            facts, figures = measure_size(url, load, folder)
            results.append((facts["locations"], facts, figures))
        else:
            if not server_url:
                raise SystemExit("DATABASE_URL must name the PostgreSQL server to use")
            print(f"\n== building the database {name}", flush=True)
            url = create_database(server_url, name)
            stack.callback(drop_database, server_url, name)
            took = time.perf_counter()
            load_base(url)
            print(f"  base data: {time.perf_counter() - took:.1f} s", flush=True)
            loaded = 0
            for number, size in enumerate(sorted(sizes), start=1):
                took = add_places(url, size - loaded, seed=number)
                print(f"  {size - loaded:,} synthetic places: {took:.1f} s", flush=True)
                loaded = size
                facts, figures = measure_size(url, load, folder)
                facts["load_s"] = took
                results.append((size, facts, figures))
    figures = []
    if args.import_rows:
        figures.append(measure_import(args.import_rows))
    print(f"\n== done in {(time.perf_counter() - started) / 60:.1f} min\n")
    for size, facts, size_figures in results:
        print(f"### {size:,} synthetic places\n")
        print(table(facts, size_figures + figures, load))
        print()
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    {"size": size, "facts": {k: v for k, v in facts.items() if k != "towns"
                                             and k != "route_line"},
                     "figures": [figure_json(f) for f in size_figures]}
                    for size, facts, size_figures in results
                ] + [{"import": [figure_json(f) for f in figures]}],
                indent=1,
            ),
            encoding="utf-8",
        )  # fmt: skip
    if plotting and len(results) > 1:
        from bench.plot import latency_by_size

        latency_by_size(
            [(size, {f.name: (f.value("app", "p50"), f.value("app", "p99"),
                              f.value("reference", "p50"), f.value("reference", "p99"))
                     for f in size_figures})
             for size, _, size_figures in results],
            args.plot_to,
        )  # fmt: skip
        print(f"plot: {args.plot_to}")


def figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "name": figure.name,
        "note": figure.note,
        "target": figure.target,
        "holds": figure.holds,
        "app": [run.__dict__ for run in figure.app],
        "alone": [run.__dict__ for run in figure.alone],
        "reference": [run.__dict__ for run in figure.reference],
    }


if __name__ == "__main__":
    main()
