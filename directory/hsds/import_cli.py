"""``flask import hsds PATH [--apply] [--source NAME]``: import an HSDS 3.0 dataset.

PATH is a JSON file (our export, or the specification's organization, service or list
objects), or the tabular package (a folder or a .zip of CSV files). The dry run always
comes first and is printed in full (every schema error with where it is; notes on what is
left out); with ``--apply`` and no problem the dataset is applied in one transaction, with
a progress bar, and recorded as an ``ImportBatch``. Exit code 1 when the file has problems:
nothing of it is then in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import text

from directory.cli_groups import import_group
from directory.db import LOCALES, db
from directory.hsds.importer import (
    DEFAULT_TEXT_LANGUAGE,
    default_source,
    import_dataset,
    read_dataset,
)
from directory.imports.cli import counts_line, print_report


def _progress_bar(items: Sequence[Any], label: str) -> Iterable[Any]:
    with click.progressbar(items, label=f"  {label:<14}", show_pos=True) as bar:
        yield from bar


@import_group.command("hsds")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Apply the dataset when clean.")
@click.option(
    "--source", default=None, help="Where the records come from (default: hsds:<file name>)."
)
@click.option(
    "--texts-in",
    default=DEFAULT_TEXT_LANGUAGE,
    show_default=True,
    help="The language the dataset's descriptions are written in (HSDS does not say).",
)
@click.option(
    "--language",
    type=click.Choice(LOCALES),
    default="en",
    show_default=True,
    help="The language of the messages.",
)
def import_hsds(path: Path, apply_: bool, source: str | None, texts_in: str, language: str) -> None:
    """Check the HSDS 3.0 dataset at PATH (JSON, or a folder or .zip of the tabular CSV
    files) and, with --apply, apply it."""
    with force_locale(language):
        source = (source or default_source(path)).strip()[:200]
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
        dataset = read_dataset(path)
        click.echo(_("Dry run of %(file)s (source “%(source)s”):", file=path.name, source=source))
        report = import_dataset(
            db.session,
            dataset,
            apply=False,
            source=source,
            filename=path.name,
            language=texts_in,
        )
        print_report(report)
        if report.problems:
            db.session.rollback()
            raise SystemExit(1)
        if not apply_:
            db.session.rollback()
            click.echo(_("Nothing was applied: run again with --apply to apply it."))
            return
        try:
            applied = import_dataset(
                db.session,
                dataset,
                apply=True,
                source=source,
                filename=path.name,
                language=texts_in,
                progress=_progress_bar,
            )
            if applied.problems:
                db.session.rollback()
                print_report(applied)
                raise SystemExit(1)
            db.session.commit()
        except SystemExit:
            raise
        except Exception as error:
            db.session.rollback()
            click.echo(
                _("The import failed and nothing was applied: %(error)s", error=error), err=True
            )
            raise SystemExit(1) from None
        click.echo(counts_line(applied, applied=True))
        if districts := applied.districts_text():
            click.echo(districts)
