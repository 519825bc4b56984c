"""Latency of nearest search and of the map-area endpoint, on demo and synthetic data.

Measured in-process with Flask's test client (the app, marshmallow, SQLAlchemy and PostGIS;
no HTTP server or network in between). The reference, measured in the same run on the same
data, is the bare KNN query through psycopg2: ``ORDER BY point <-> :origin LIMIT 10``. Ratios
against it are what to compare between machines; the milliseconds are this machine's.

    python bench/nearest.py [--requests 300] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from directory import create_app
from directory.cli import SEEDS_DIR
from directory.config import sqlalchemy_url
from directory.models import db
from directory.services.seeding import load_demo

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
                opening_hours)
            SELECT 'bench:' || n, (SELECT id FROM organizations WHERE slug = 'bench-org'),
                'Synthetic', 'MX',
                ST_SetSRID(ST_MakePoint(:w + random() * (:e - :w), :s + random() * (:n - :s)),
                           4326)::geography,
                'America/Mexico_City', '{}', '{}', '{es}', 'benchmark', 'open', 1,
                CASE WHEN n % 3 = 0 THEN '{"always": true}'::jsonb
                     ELSE '{"mo": [["08:00", "16:00"]], "fr": [["08:00", "16:00"]]}'::jsonb END
            FROM generate_series(1, :count) AS n
            """
        ),
        {"w": REGION[0], "s": REGION[1], "e": REGION[2], "n": REGION[3], "count": count},
    )
    connection.execute(text("ANALYZE locations"))


def run_suite(app, engine, label: str, repeats: int, rng: random.Random) -> None:
    client = app.test_client()
    points = [random_point(rng) for _ in range(repeats + 5)]
    cursor = itertools.cycle(points)

    def endpoint(extra: str = "") -> Callable[[], object]:
        def call() -> object:
            lon, lat = next(cursor)
            response = client.get(f"/api/v1/locations/nearest?lat={lat}&lon={lon}{extra}")
            assert response.status_code == 200, response.data
            return response

        return call

    def area() -> object:
        lon, lat = next(cursor)
        bbox = f"{lon - 2:.4f},{lat - 1.5:.4f},{lon + 2:.4f},{lat + 1.5:.4f}"
        response = client.get(f"/api/v1/locations?bbox={bbox}")
        assert response.status_code == 200, response.data
        return response

    with engine.connect() as connection:

        def reference() -> object:
            lon, lat = next(cursor)
            return connection.execute(
                text(
                    "SELECT id FROM locations ORDER BY point <-> "
                    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography LIMIT 10"
                ),
                {"lon": lon, "lat": lat},
            ).all()

        ref_median, ref_p99 = measure(reference, repeats)
        rows = [
            ("bare KNN SQL, 10 rows (reference)", ref_median, ref_p99),
            ("GET nearest, limit 10", *measure(endpoint(), repeats)),
            ("GET nearest, limit 100", *measure(endpoint("&limit=100"), repeats)),
            ("GET nearest, open_now + language", *measure(endpoint("&open_now=true&language=es"),
                                                          repeats)),
            ("GET locations?bbox (4° × 3° area)", *measure(area, repeats)),
        ]  # fmt: skip
    print(f"\n{label}")
    print(f"  {'what':<36} {'median ms':>10} {'p99 ms':>8} {'× reference':>12}")
    for name, median, p99 in rows:
        print(f"  {name:<36} {median:>10.2f} {p99:>8.2f} {median / ref_median:>12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--synthetic", type=int, default=100_000)
    options = parser.parse_args()
    server = make_url(sqlalchemy_url(os.environ["DATABASE_URL"]))
    name = f"{server.database}_bench"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)})
    rng = random.Random(2026)
    try:
        with app.app_context():
            upgrade()
            load_demo(db.session, SEEDS_DIR)
            db.session.commit()
            engine = db.engine
            count = db.session.scalar(text("SELECT count(*) FROM locations"))
            print(f"PostgreSQL: {db.session.scalar(text('SELECT version()')).split(',')[0]}")
            print(f"{options.requests} requests per row, random points in {REGION}")
            run_suite(app, engine, f"demo data: {count} locations", options.requests, rng)
            started = time.perf_counter()
            with engine.begin() as connection:
                add_synthetic(connection, options.synthetic)
            took = time.perf_counter() - started
            count = db.session.scalar(text("SELECT count(*) FROM locations"))
            print(f"\n(inserted {options.synthetic} synthetic locations in {took:.1f} s)")
            run_suite(app, engine, f"synthetic: {count} locations", options.requests, rng)
            db.session.remove()
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
