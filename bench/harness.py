"""What the benchmarks share: a throw-away database with the demo data, timing, synthetic rows.

Each benchmark creates its own database on the server that ``DATABASE_URL`` names, loads the
demo data, runs its suite, adds synthetic locations, runs the suite again and drops the
database, even when interrupted.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from directory import create_app
from directory.cli import SEEDS_DIR
from directory.config import sqlalchemy_url
from directory.db import db
from directory.seeding import load_demo

Suite = Callable[[Flask, Engine, str, int, random.Random], None]


# Where people on the routes search from: Colombia to the US border.
REGION = (-118.0, 7.0, -74.0, 33.0)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and p99 in milliseconds of ``repeats`` calls (after a few warm-up calls)."""
    for _ in range(5):
        call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 0.99)


def random_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(REGION[0], REGION[2]), rng.uniform(REGION[1], REGION[3])


def add_synthetic(connection, count: int) -> None:
    """``count`` locations at random points of the region, for one synthetic organization."""
    connection.execute(
        text(
            "INSERT INTO organizations (slug, name, kind, descriptions, version) "
            "VALUES ('bench-org', 'Synthetic organization', 'civil_society', '{}', 1)"
        )
    )
    connection.execute(
        text(
            """
            INSERT INTO locations (external_id, organization_id, city, country_code, point,
                timezone, phones, populations, languages, source, status, version,
                opening_hours, hours_confirmed)
            SELECT 'bench:' || n, (SELECT id FROM organizations WHERE slug = 'bench-org'),
                'Synthetic', 'MX',
                ST_SetSRID(ST_MakePoint(:w + random() * (:e - :w), :s + random() * (:n - :s)),
                           4326)::geography,
                'America/Mexico_City', '{}', '{}', '{es}', 'benchmark', 'open', 1,
                CASE WHEN n % 3 = 0 THEN '{"always": true}'::jsonb
                     ELSE '{"mo": [["08:00", "16:00"]], "fr": [["08:00", "16:00"]]}'::jsonb END,
                -- Half the hours confirmed by their organization: only those count as
                -- "open now" (directory/places/opening_hours.py).
                n % 2 = 0
            FROM generate_series(1, :count) AS n
            """
        ),
        {"w": REGION[0], "s": REGION[1], "e": REGION[2], "n": REGION[3], "count": count},
    )
    connection.execute(text("ANALYZE locations"))


def run(database_suffix: str, suite: Suite, *, requests: int, synthetic: int, intro: str) -> None:
    """Run ``suite`` on the demo data, then again with ``synthetic`` more locations."""
    server = make_url(sqlalchemy_url(os.environ["DATABASE_URL"]))
    name = f"{server.database}_{database_suffix}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "DIRECTORY_ENV": "development",
            # A benchmark is one client asking thousands of times: the per-client rate
            # limits (directory.web.limits) would answer 429 after the first 120.
            "RATELIMIT_ENABLED": False,
        }
    )
    rng = random.Random(2026)
    try:
        with app.app_context():
            upgrade()
            load_demo(db.session, SEEDS_DIR)
            db.session.commit()
            # The suites hold a connection for their reference queries while the endpoint
            # is measured: autocommit, so it never sits idle inside a transaction, which the
            # database ends after IDLE_IN_TRANSACTION_TIMEOUT_MS.
            engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
            count: Any = db.session.scalar(text("SELECT count(*) FROM locations"))
            print(f"PostgreSQL: {db.session.scalar(text('SELECT version()')).split(',')[0]}")
            print(f"{requests} requests per row{intro}")
            # End the set-up's transaction: left open through a suite, the database would
            # close the connection as idle in a transaction (IDLE_IN_TRANSACTION_TIMEOUT_MS).
            db.session.remove()
            suite(app, engine, f"demo data: {count} locations", requests, rng)
            started = time.perf_counter()
            with db.engine.begin() as connection:
                add_synthetic(connection, synthetic)
            took = time.perf_counter() - started
            count = db.session.scalar(text("SELECT count(*) FROM locations"))
            db.session.remove()
            print(f"\n(inserted {synthetic} synthetic locations in {took:.1f} s)")
            suite(app, engine, f"synthetic: {count} locations", requests, rng)
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
