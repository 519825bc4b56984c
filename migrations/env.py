"""Alembic environment for Flask-Migrate, with GeoAlchemy2's spatial helpers.

The options (what to compare, how spatial columns and indexes are written) come from
``directory.migration_support`` so the drift test uses exactly the same ones.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from directory.migration_support import ALEMBIC_OPTIONS

config = context.config
# Keep the app's loggers alive (the default would disable every logger already created).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    """Write SQL to stdout (``flask db upgrade --sql``) instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=db.metadata,
        literal_binds=True,
        **ALEMBIC_OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **ALEMBIC_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
