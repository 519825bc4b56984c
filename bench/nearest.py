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
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench.harness import REGION, measure, random_point, run


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
    run(
        "bench",
        run_suite,
        requests=options.requests,
        synthetic=options.synthetic,
        intro=f", random points in {REGION}",
    )


if __name__ == "__main__":
    main()
