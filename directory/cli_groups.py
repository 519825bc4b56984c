"""The command groups several packages add commands to (``flask import …``, ``flask export
…``, ``flask confirm …``). Each package's ``cli.py`` decorates its commands onto these;
``directory.cli.register`` imports those modules and adds the groups."""

from __future__ import annotations

import click


@click.group("import")
def import_group() -> None:
    """Import files (CSV, HSDS 3.0): a dry run first, --apply to apply it."""


@click.group("export")
def export_group() -> None:
    """Export the public directory (HSDS 3.0, GeoJSON, CSV)."""


@click.group("confirm")
def confirm_group() -> None:
    """Ask places and contact persons to confirm their records."""
