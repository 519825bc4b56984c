"""Latency of search along a route (the corridor endpoints), on demo and synthetic data.

Measured in-process with Flask's test client, like ``bench/nearest.py``, for the longest demo
route (by spheroid length). The reference, measured in the same run on the same data, is the
bare membership query through the same connection pool:
``SELECT id FROM locations WHERE ST_DWithin(point, (SELECT path FROM routes WHERE id = :id)
::geography, :m)``. The endpoints add the position along the route, the order, filters,
paging and the GeoJSON; ratios against the reference are what to compare between machines.
With many places the endpoints beat the reference: they ask the spatial index piece by piece
of the route (see ``geo.corridor.near_line``) instead of for the route's whole bounding box;
the "by pieces" row is that step alone in bare SQL.

    python bench/corridor.py [--requests 100] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bench.harness import measure, run


def longest_route(connection) -> tuple[int, str, float, list[list[float]]]:
    row = connection.execute(
        text(
            "SELECT id, code, ST_Length(path::geography) / 1000 AS km, "
            "ST_AsGeoJSON(path) AS line FROM routes WHERE archived_at IS NULL "
            "ORDER BY ST_Length(path::geography) DESC LIMIT 1"
        )
    ).one()
    return row.id, row.code, row.km, json.loads(row.line)["coordinates"]


def run_suite(app, engine, label: str, repeats: int, rng: random.Random) -> None:
    client = app.test_client()
    with engine.connect() as connection:
        route_id, code, km, coordinates = longest_route(connection)
        # Starting points: near random vertices of the route, up to ~5 km off it.
        starts = itertools.cycle(
            [
                (lat + rng.uniform(-0.04, 0.04), lon + rng.uniform(-0.04, 0.04))
                for lon, lat in (rng.choice(coordinates) for _ in range(repeats + 5))
            ]
        )
        line = {"type": "LineString", "coordinates": coordinates}

        def corridor(extra: str = "", with_from: bool = False) -> Callable[[], object]:
            def call() -> object:
                start = "&from={:.5f},{:.5f}".format(*next(starts)) if with_from else ""
                response = client.get(f"/api/v1/routes/{code}/corridor?{extra}{start}")
                assert response.status_code == 200, response.data
                return response

            return call

        def post() -> object:
            response = client.post("/api/v1/corridor?buffer_km=10", json=line)
            assert response.status_code == 200, response.data
            return response

        def reference(metres: float) -> Callable[[], object]:
            def call() -> object:
                return connection.execute(
                    text(
                        "SELECT id FROM locations WHERE ST_DWithin(point, "
                        "(SELECT path FROM routes WHERE id = :id)::geography, :m)"
                    ),
                    {"id": route_id, "m": metres},
                ).all()

            return call

        def pieces(metres: float) -> Callable[[], object]:
            """The same membership asked of the index piece by piece, as the endpoint does."""

            def call() -> object:
                return connection.execute(
                    text(
                        "SELECT DISTINCT l.id FROM unnest((SELECT array_agg(geom::geography) "
                        "FROM ST_DumpSegments(ST_Segmentize((SELECT path FROM routes "
                        "WHERE id = :id)::geography, 20000)::geometry))) AS p(g) "
                        "JOIN locations l ON ST_DWithin(l.point, p.g, :m)"
                    ),
                    {"id": route_id, "m": metres},
                ).all()

            return call

        found = {buffer: len(reference(buffer * 1000)()) for buffer in (10, 50)}
        ref_median, ref_p99 = measure(reference(10_000), repeats)
        rows = [
            ("bare ST_DWithin SQL, 10 km (reference)", ref_median, ref_p99),
            ("bare ST_DWithin SQL, 50 km", *measure(reference(50_000), repeats)),
            ("bare SQL by 20 km pieces, 10 km", *measure(pieces(10_000), repeats)),
            ("GET corridor, 10 km", *measure(corridor("buffer_km=10"), repeats)),
            ("GET corridor, 10 km, from", *measure(corridor("buffer_km=10", True), repeats)),
            ("GET corridor, 50 km", *measure(corridor("buffer_km=50"), repeats)),
            ("GET corridor, 50 km, from, limit 500",
             *measure(corridor("buffer_km=50&limit=500", True), repeats)),
            ("GET corridor, 10 km, open_now + language",
             *measure(corridor("buffer_km=10&open_now=true&language=es"), repeats)),
            ("POST corridor (same line), 10 km", *measure(post, repeats)),
        ]  # fmt: skip
    print(f"\n{label}")
    print(
        f"  route {code!r}: {km:,.0f} km, {len(coordinates)} vertices; "
        f"{found[10]} places within 10 km, {found[50]} within 50 km"
    )
    print(f"  {'what':<42} {'median ms':>10} {'p99 ms':>8} {'× reference':>12}")
    for name, median, p99 in rows:
        print(f"  {name:<42} {median:>10.2f} {p99:>8.2f} {median / ref_median:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--synthetic", type=int, default=100_000)
    options = parser.parse_args()
    run(
        "bench_corridor",
        run_suite,
        requests=options.requests,
        synthetic=options.synthetic,
        intro="",
    )


if __name__ == "__main__":
    main()
