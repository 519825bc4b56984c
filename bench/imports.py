"""The CSV import's speed: N synthetic rows through ``flask import locations FILE --apply``
against a plain ``COPY`` of the same file into a bare table (issue 13: 100,000 rows in
under 60 s on 2 cores).

The rows are real-looking: each is a demo location moved up to about 2 km (so it stays in
its country, within the boundary check's tolerance), with its organization, categories,
hours, phones and notes. Each consular office of the demo is copied once, and every other
row copies a shelter or an organization: a region has a few hundred consular offices, and a
file of 35,000 consulates (what copying them in proportion gives) would time the districts'
Voronoi, not the import. Those copies are offices added or moved, so the apply recomputes
every consular district group, as it would for a real file that adds offices.

The command runs as a subprocess, exactly as a person runs it (its start-up, the dry run,
the apply's own check and the writes all count); the reference is ``COPY bare FROM STDIN
(FORMAT csv, HEADER)`` into a table of text columns, the least any import of these bytes
must do. Then the same file is imported again (every row unchanged)
and a third time with every row's city changed (every row an update, audited).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from directory import create_app  # noqa: E402
from directory.cli import SEEDS_DIR  # noqa: E402
from directory.config import sqlalchemy_url  # noqa: E402
from directory.db import db  # noqa: E402
from directory.seeding import load_demo  # noqa: E402

COLUMNS = [
    "external_id",
    "organization",
    "name",
    "city",
    "country_code",
    "lat",
    "lon",
    "position_precision",
    "categories",
    "languages",
    "opening_hours",
    "hours_confirmed",
    "phones",
    "status",
    "verified_at",
    "notes_es",
]
JITTER_DEG = 0.02  # about 2 km


def write_rows(
    path: Path, count: int, seeds: list[tuple], rng: random.Random, city: str = ""
) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        offices = [seed for seed in seeds if seed[-1]]
        others = [seed for seed in seeds if not seed[-1]]
        for n in range(count):
            seed = offices[n] if n < len(offices) else others[n % len(others)]
            slug, town, country, lon, lat, categories, _consular = seed
            writer.writerow(
                [
                    f"bench:{n}",
                    slug,
                    f"Sitio {n}",
                    city or town,
                    country,
                    f"{lat + rng.uniform(-JITTER_DEG, JITTER_DEG):.5f}",
                    f"{lon + rng.uniform(-JITTER_DEG, JITTER_DEG):.5f}",
                    "street",
                    categories,
                    "es;en",
                    "Mo-Fr 08:00-16:00; Sa 09:00-13:00",
                    "true" if n % 2 else "false",
                    f"+502 5555 {n % 10000:04d}",
                    "open",
                    "2026-10-01",
                    "Tocar el timbre." if n % 3 == 0 else "",
                ]
            )


def run_import(env: dict[str, str], path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "import", "locations", str(path), "--apply"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        raise SystemExit(f"the import failed (exit code {result.returncode})")
    return took, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    server = make_url(sqlalchemy_url(os.environ["DATABASE_URL"]))
    name = f"{server.database}_bench_imports"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    rng = random.Random(2026)
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
                "DIRECTORY_ENV": "development",
            }
        )
        with app.app_context():
            upgrade()
            load_demo(db.session, SEEDS_DIR)
            db.session.commit()
            seeds = db.session.execute(
                text(
                    """
                    SELECT o.slug, l.city, l.country_code, ST_X(l.point::geometry),
                           ST_Y(l.point::geometry),
                           coalesce((SELECT string_agg(c.code, ';') FROM location_categories lc
                                     JOIN service_categories c ON c.id = lc.category_id
                                     WHERE lc.location_id = l.id), ''),
                           o.kind IN ('consulate', 'embassy')
                    FROM locations l JOIN organizations o ON o.id = l.organization_id
                    ORDER BY l.id
                    """
                )
            ).all()
            print(f"PostgreSQL: {db.session.scalar(text('SELECT version()')).split(',')[0]}")
            db.session.remove()
            db.engine.dispose()
        print(f"{args.rows} rows made from {len(seeds)} demo locations; {os.cpu_count()} CPUs")
        env = {
            **os.environ,
            "DATABASE_URL": url.render_as_string(hide_password=False).replace(
                "postgresql+psycopg2://", "postgresql://"
            ),
            "FLASK_APP": "wsgi:app",
            "DIRECTORY_ENV": "development",
        }
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.csv"
            write_rows(path, args.rows, [tuple(row) for row in seeds], rng)
            size = path.stat().st_size / 1e6
            engine = create_engine(url)
            with engine.begin() as connection:
                columns = ", ".join(f"{column} text" for column in COLUMNS)
                connection.execute(text(f"CREATE TABLE bare ({columns})"))
                cursor = connection.connection.cursor()
                started = time.perf_counter()
                with path.open(encoding="utf-8") as handle:
                    cursor.copy_expert("COPY bare FROM STDIN (FORMAT csv, HEADER)", handle)
                copy_s = time.perf_counter() - started
                connection.execute(text("DROP TABLE bare"))
            engine.dispose()
            print(f"\nfile: {size:.1f} MB")
            print(f"plain COPY into a bare table:       {copy_s:7.2f} s")
            took, line = run_import(env, path)
            print(f"flask import locations --apply:     {took:7.2f} s  ({line})")
            print(f"ratio import / COPY:                {took / copy_s:7.1f}")
            took, line = run_import(env, path)
            print(f"the same file again (unchanged):    {took:7.2f} s  ({line})")
            write_rows(path, args.rows, [tuple(row) for row in seeds], random.Random(2026), "X")
            took, line = run_import(env, path)
            print(f"every row's city changed (updates): {took:7.2f} s  ({line})")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
