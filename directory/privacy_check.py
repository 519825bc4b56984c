"""Is PostgreSQL set up to keep searchers out of its own log?

psycopg2 puts the parameters into the SQL text on the client, so the server sees a search
as ``… ST_MakePoint(-92.26, 14.91) …`` or ``… 'Villa O''Higgins' …``. With PostgreSQL's
default settings a statement that fails or is cancelled (a statement timeout, a restart,
a lost client) is written to the server log verbatim on a ``STATEMENT:`` line, and other
settings log every statement, slow ones, or samples of them. ``unsafe_logging_settings``
reads the settings in force for the current session (so ``ALTER DATABASE``/``ALTER ROLE``
settings count) and returns those that could put a search into the log;
``docs/postgresql-logging.md`` says why each matters and how to set it.

``flask privacy check-db-logging`` runs the check on ``DATABASE_URL`` and exits 1 when a
setting is unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import AppGroup
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

# Setting -> the value it must have, as ``pg_settings.setting`` spells it (no unit).
SAFE_SETTINGS: dict[str, str] = {
    # No STATEMENT line after an error, a cancel or a terminated connection.
    "log_min_error_statement": "panic",
    # No DETAIL, HINT, QUERY or CONTEXT lines: they can quote values (a PostGIS parse
    # error's hint quotes the geometry text; a deadlock's detail, other sessions' queries).
    "log_error_verbosity": "terse",
    # No statement logged for what it is, for how long it took, or by sampling.
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_duration_sample": "-1",
    "log_transaction_sample_rate": "0",
    # Bind parameters (other drivers, server-side prepared statements) never logged.
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
    # No line per connection: nothing to line up with a search in time.
    "log_connections": "off",
    "log_disconnections": "off",
    # Parse and plan trees hold the statement's constants.
    "debug_print_parse": "off",
    "debug_print_rewritten": "off",
    "debug_print_plan": "off",
}
# Set for the whole server only (ALTER DATABASE/ROLE refuses them: "cannot be set after
# connection start").
SERVER_ONLY = frozenset({"log_connections", "log_disconnections"})
# Settings that exist only when a module is loaded; checked only then.
SAFE_IF_LOADED: dict[str, str] = {
    # auto_explain logs the text of each statement slower than this.
    "auto_explain.log_min_duration": "-1",
}


@dataclass(frozen=True)
class UnsafeSetting:
    """A setting whose value could put a search into the server log."""

    name: str
    value: str | None  # None: this role cannot read it (or the server does not have it)
    safe: str

    def describe(self) -> str:
        shown = "cannot be read" if self.value is None else f"is {self.value!r}"
        return f"{self.name} {shown}; it must be {self.safe!r}"

    def fix(self, database: str) -> str:
        """The SQL that sets it: for the one database where PostgreSQL allows that."""
        if self.name in SERVER_ONLY:
            return f"ALTER SYSTEM SET {self.name} = '{self.safe}'; SELECT pg_reload_conf();"
        return f"ALTER DATABASE \"{database}\" SET {self.name} = '{self.safe}';"


def unsafe_logging_settings(connection: Connection | Session) -> list[UnsafeSetting]:
    """The settings in force for this session that could log a searcher's statement.

    An empty list means the server's log keeps no statement text, parameter or detail. Reads
    ``pg_settings`` (what ``SHOW`` shows, without units), so a setting this role may not read
    is reported rather than ending the transaction in an error.
    """
    names = [*SAFE_SETTINGS, *SAFE_IF_LOADED]
    query = text("SELECT name, setting FROM pg_settings WHERE name IN :names").bindparams(
        bindparam("names", expanding=True)
    )
    found = dict(connection.execute(query, {"names": names}).all())
    unsafe = [
        UnsafeSetting(name, found.get(name), safe)
        for name, safe in SAFE_SETTINGS.items()
        if found.get(name) != safe
    ]
    unsafe += [
        UnsafeSetting(name, found[name], safe)
        for name, safe in SAFE_IF_LOADED.items()
        if name in found and found[name] != safe
    ]
    return unsafe


privacy_cli = AppGroup("privacy", help="Checks that searches stay out of every log.")


@privacy_cli.command("check-db-logging")
def check_db_logging() -> None:
    """Check that PostgreSQL's settings keep searches out of its log (exit 1 if not)."""
    from directory.db import db

    unsafe = unsafe_logging_settings(db.session)
    database = db.session.execute(text("SELECT current_database()")).scalar_one()
    db.session.rollback()
    if not unsafe:
        click.echo(f"PostgreSQL logging of {database}: safe (no statement text, no parameters).")
        return
    click.echo(f"PostgreSQL logging of {database}: {len(unsafe)} unsafe setting(s):", err=True)
    for setting in unsafe:
        click.echo(f"  {setting.describe()}", err=True)
    click.echo(
        "Fix, as a superuser (or a role granted SET on the parameter, PostgreSQL 15+), or in "
        "a managed server's parameter group (docs/postgresql-logging.md):",
        err=True,
    )
    for setting in unsafe:
        click.echo(f"  {setting.fix(database)}", err=True)
    click.get_current_context().exit(1)
