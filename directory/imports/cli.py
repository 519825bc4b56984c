"""``flask import locations FILE.csv`` and ``flask import contacts FILE.csv``.

Always the dry run first, printed in full (every problem as "line N, column: reason", then
the counts); with ``--apply`` and no problem, the file is applied in one transaction with a
progress bar, and the counts are printed again. Exit code 1 when the file has problems or
the apply failed: nothing of it is then in the database. Each run is recorded as an
``ImportBatch`` (``checked``, or ``applied``), committed before the apply starts so a failed
apply still leaves the record of the attempt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import text

from directory.cli_groups import import_group
from directory.db import LOCALES, db
from directory.imports import batches
from directory.imports.models import ImportKind
from directory.imports.report import ImportReport, Problem


def problem_line(problem: Problem) -> str:
    """ "line 4, lat: …" in the current language."""
    where = []
    if problem.line is not None:
        where.append(_("line %(line)s", line=problem.line))
    if problem.column:
        where.append(problem.column)
    prefix = ", ".join(where)
    return f"{prefix}: {problem.message}" if prefix else str(problem.message)


def counts_line(report: ImportReport, *, applied: bool) -> str:
    values = {"added": report.added, "updated": report.updated, "unchanged": report.unchanged}
    if applied:
        return ngettext(
            "%(num)s row: %(added)s added, %(updated)s updated, %(unchanged)s left as they were.",
            "%(num)s rows: %(added)s added, %(updated)s updated, %(unchanged)s left as they were.",
            report.rows,
            **values,
        )
    return ngettext(
        "%(num)s row: %(added)s would be added, %(updated)s updated, %(unchanged)s left as "
        "they are.",
        "%(num)s rows: %(added)s would be added, %(updated)s updated, %(unchanged)s left as "
        "they are.",
        report.rows,
        **values,
    )


def print_report(report: ImportReport) -> None:
    for note in report.notes:
        click.echo(_("Note: %(note)s", note=problem_line(note)))
    for problem in report.problems:
        click.echo(problem_line(problem), err=True)
    if report.problems:
        count = len(report.problems)
        click.echo(
            ngettext(
                "%(num)s problem: nothing was applied.",
                "%(num)s problems: nothing was applied.",
                count,
            ),
            err=True,
        )
    click.echo(counts_line(report, applied=False))


def _no_time_limit() -> None:
    # An import runs long statements (a whole file's points against the boundaries).
    db.session.execute(text("SET LOCAL statement_timeout = 0"))


def _run(
    kind: ImportKind, file: Path, apply: bool, source: str | None, country: str | None
) -> None:
    content = file.read_bytes()
    source = (source or file.stem).strip()[: batches.MAX_SOURCE_LENGTH]
    country = country.upper() if country else None
    options: dict[str, Any] = {
        "source": source,
        "filename": file.name,
        "user_id": None,
        "country_code": country,
        "keep_content": False,
    }
    click.echo(_("Dry run of %(file)s (source “%(source)s”):", file=file.name, source=source))
    _no_time_limit()
    if not apply:
        _batch, report = batches.check(db.session, kind, content, **options)
        db.session.commit()
        print_report(report)
        if report.problems:
            raise SystemExit(1)
        click.echo(_("Nothing was applied: run again with --apply to apply it."))
        return
    # With --apply the apply step's own check (the records it matches locked) is the dry
    # run printed: a 100,000-row file is checked once, not twice. The batch is committed
    # first, so a failed apply leaves the record of the attempt.
    batch = batches.record(db.session, kind, content, **options)
    db.session.commit()
    _no_time_limit()
    bars: list[Any] = []

    def progress(done: int) -> None:
        if not bars:
            label = _("Applying")
            bars.append(click.progressbar(length=checked_rows[0], label=label, show_pos=True))
            bars[0].__enter__()
        bars[0].update(done)

    checked_rows = [0]

    def checked(report: ImportReport) -> None:
        checked_rows[0] = report.rows
        print_report(report)

    try:
        applied = batches.apply(
            db.session, batch, content, user_id=None, progress=progress, checked=checked
        )
    except Exception as error:
        db.session.rollback()
        click.echo(_("The import failed and nothing was applied: %(error)s", error=error), err=True)
        raise SystemExit(1) from None
    finally:
        if bars:
            bars[0].__exit__(None, None, None)
    if applied.problems:
        db.session.commit()  # the batch's counts: checked, with its problems
        raise SystemExit(1)
    db.session.commit()
    click.echo(counts_line(applied, applied=True))
    if districts := applied.districts_text():
        click.echo(districts)


def _options(function):  # type: ignore[no-untyped-def]
    function = click.option(
        "--language",
        type=click.Choice(LOCALES),
        default="en",
        show_default=True,
        help="The language of the messages.",
    )(function)
    function = click.option(
        "--country", default=None, help="Only rows of this country (a focal point's file)."
    )(function)
    function = click.option(
        "--source", default=None, help="Where the rows come from (default: the file's name)."
    )(function)
    function = click.option("--apply", "apply_", is_flag=True, help="Apply the file when clean.")(
        function
    )
    return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(
        function
    )


@import_group.command("locations")
@_options
def import_locations(
    file: Path, apply_: bool, source: str | None, country: str | None, language: str
) -> None:
    """Check FILE (a CSV of locations; docs/imports.md) and, with --apply, apply it."""
    with force_locale(language):
        _run(ImportKind.LOCATIONS, file, apply_, source, country)


@import_group.command("contacts")
@_options
def import_contacts(
    file: Path, apply_: bool, source: str | None, country: str | None, language: str
) -> None:
    """Check FILE (a CSV of contact persons; docs/imports.md) and, with --apply, apply it."""
    with force_locale(language):
        _run(ImportKind.CONTACTS, file, apply_, source, country)
