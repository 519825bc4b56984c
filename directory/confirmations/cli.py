"""``flask confirm send --country XX --older-than 365 [--dry-run] [--base-url URL]``: a
confirmation request to every record of a country not confirmed for that many days.

A command has no request to take the site's address from, so the links are made on
``--base-url`` (default: ``PUBLIC_URL``, as for set-password links). Requests are committed
in batches: a mail server that fails halfway leaves the ones sent before committed (they
went out) and the rest for the next run, which skips records with a request waiting.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from directory.cli_groups import confirm_group
from directory.confirmations.sending import mail_settings, send_request
from directory.confirmations.services import requests_for_stale, stale_without_email
from directory.db import db
from directory.mail import MailError
from directory.places.models import Country


@confirm_group.command("send")
@click.option("--country", "country_code", required=True, help="The country's ISO code (GT).")
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(min=0),
    default=365,
    show_default=True,
    help="Ask records not confirmed for this many days (or never).",
)
@click.option("--dry-run", is_flag=True, help="Count the records; send nothing.")
@click.option("--base-url", default=None, help="The site's public address, for the links.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=50, show_default=True, hidden=True
)
@with_appcontext
def send_command(
    country_code: str, older_than: int, dry_run: bool, base_url: str | None, batch_size: int
) -> None:
    """Send a confirmation request to every record of a country not confirmed lately."""
    code = country_code.strip().upper()
    if db.session.get(Country, code) is None:
        raise click.ClickException(f"unknown country {country_code!r}")
    base_url = base_url or current_app.config.get("PUBLIC_URL")
    if not base_url or not base_url.startswith(("http://", "https://")):
        raise click.ClickException("give the site's address: --base-url https://…")
    records = requests_for_stale(db.session, code, older_than)
    unreachable = stale_without_email(db.session, code, older_than)
    settings = mail_settings()
    if dry_run:
        db.session.rollback()
        click.echo(
            f"Dry run: {len(records)} records of {code} would get a request "
            f"(not confirmed for {older_than} days, with an e-mail, none waiting). "
            "Nothing was sent."
        )
        _say_unreachable(unreachable, code, older_than)
        return
    sent = 0
    try:
        with click.progressbar(records, label="  Requests", show_pos=True) as bar:
            for record in bar:
                send_request(db.session, record, sender=None, base_url=base_url, settings=settings)
                sent += 1
                if sent % batch_size == 0:
                    db.session.commit()
    except MailError as error:
        db.session.rollback()
        committed = sent - sent % batch_size
        raise click.ClickException(
            f"stopped after {committed} requests: {error}. Run it again to send the rest."
        ) from None
    db.session.commit()
    where = (
        f"through {settings.describe()}"
        if settings.uses_smtp
        else f"into the outbox {settings.describe()}"
    )
    click.echo(f"Sent {sent} confirmation requests for {code} {where}.")
    _say_unreachable(unreachable, code, older_than)


def _say_unreachable(count: int, code: str, older_than: int) -> None:
    """The stale records no e-mail can reach: a run that sends nothing must say why."""
    if count == 1:
        click.echo(
            f"1 more record of {code} was not confirmed for {older_than} days but has no "
            "e-mail address: call it, or add an address in the workspace."
        )
    elif count:
        click.echo(
            f"{count} more records of {code} were not confirmed for {older_than} days but "
            "have no e-mail address: call them, or add an address in the workspace."
        )
