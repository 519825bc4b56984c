"""``flask export hsds --format json|tabular OUT``: the public directory in HSDS 3.0.

``json`` writes one JSON document (directory.hsds.export) to the file OUT (``-``: standard
output); ``tabular`` writes the HSDS tabular package (CSV files and datapackage.json) into
the folder OUT, by ``directory.hsds.tabular.write_tabular``. The file appears whole or not
at all: it is written beside OUT and renamed at the end. The progress bar goes to standard
error, so standard output can carry the document.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from directory.cli_groups import export_group
from directory.db import db
from directory.hsds import export


def begin_snapshot(session: Session) -> None:
    """One consistent view of the directory for the whole export (it reads the tables
    several times), and no statement limit (a large directory takes longer than a page)."""
    # Only on a fresh transaction of our own (tests bind the session to a connection whose
    # transaction is already open: they see one snapshot anyway).
    if isinstance(session.get_bind(), Engine) and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    session.execute(text("SET LOCAL statement_timeout = 0"))


def _write_json(session: Session, out: str) -> int:
    total = export.total_records(session)
    bar_options = {"label": "  HSDS JSON", "file": sys.stderr, "show_pos": True}
    with click.progressbar(length=total, **bar_options) as bar:
        if out == "-":
            for chunk in export.export_json(session, progress=bar.update):
                sys.stdout.write(chunk)
            sys.stdout.flush()
            return total
        path = Path(out)
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("w", encoding="utf-8") as file:
                for chunk in export.export_json(session, progress=bar.update):
                    file.write(chunk)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return total


@export_group.command("hsds")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "tabular"]),
    default="json",
    show_default=True,
    help="json: one HSDS 3.0 JSON document; tabular: the HSDS tabular package (CSV files).",
)
@click.argument("out")
def export_hsds(output_format: str, out: str) -> None:
    """Export the public directory as HSDS 3.0 to OUT (a file for json, '-' for standard
    output; a folder for tabular). Contact persons are never exported."""
    session = db.session()
    begin_snapshot(session)
    if output_format == "json":
        if out != "-" and Path(out).is_dir():
            raise click.UsageError(f"{out} is a folder; json writes one file (or - for stdout)")
        records = _write_json(session, out)
        session.rollback()  # read only
        if out != "-":
            click.echo(f"HSDS JSON: {records} records written to {out}.", err=True)
        return
    try:
        from directory.hsds.tabular import write_tabular
    except ImportError as error:
        raise click.ClickException(
            f"the tabular format is not available in this version ({error})"
        ) from None
    if out == "-":
        raise click.UsageError("tabular writes a folder of CSV files: give a folder as OUT")
    result = write_tabular(session, Path(out))
    session.rollback()
    click.echo(f"HSDS tabular package written to {out}{f': {result}' if result else ''}.", err=True)
