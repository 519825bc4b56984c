"""``flask export geojson OUT`` and ``flask export csv OUT``: the public directory to a file.

The file is written to a temporary name beside ``OUT`` and renamed once complete, so a
failed or interrupted export never leaves half a file under the final name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from sqlalchemy.orm import Session

from directory.cli_groups import export_group
from directory.db import db
from directory.exports.rows import count_public_locations
from directory.exports.writers import RowSeen, csv_chunks, geojson_chunks

Writer = Callable[..., Iterator[str]]


def write_export(session: Session, writer: Writer, out: Path, on_row: RowSeen | None) -> None:
    """Stream ``writer``'s chunks into ``out`` (atomically: a temporary file, then rename)."""
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            for chunk in writer(session, on_row=on_row):
                handle.write(chunk)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _export(writer: Writer, out: Path, what: str) -> None:
    session = db.session
    total = count_public_locations(session)
    with click.progressbar(length=total, label=f"  {what:<12}", show_pos=True) as bar:
        write_export(session, writer, out, on_row=lambda: bar.update(1))
    click.echo(f"{what}: {total} public locations written to {out}.")


out_argument = click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))


@export_group.command("geojson")
@out_argument
def export_geojson(out: Path) -> None:
    """Write the public directory as a GeoJSON FeatureCollection to OUT."""
    _export(geojson_chunks, out, "GeoJSON")


@export_group.command("csv")
@out_argument
def export_csv(out: Path) -> None:
    """Write the public directory as CSV (UTF-8 with a byte order mark) to OUT."""
    _export(csv_chunks, out, "CSV")
