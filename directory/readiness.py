"""Whether this instance can serve: the database answers and its schema is the code's.

Used by ``/readyz``: a load balancer sends traffic only to instances that are ready, and an
instance started before ``flask db upgrade`` ran (or against the wrong database) says so
instead of failing request by request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True, slots=True)
class Readiness:
    database: bool  # the database answered
    migrated: bool  # its schema is at the migrations' head

    @property
    def ready(self) -> bool:
        return self.database and self.migrated


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the code's migrations (read from disk once)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness(session: Session) -> Readiness:
    try:
        applied = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        session.rollback()
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            session.rollback()
            return Readiness(database=False, migrated=False)
        return Readiness(database=True, migrated=False)  # answers, but never migrated
    return Readiness(database=True, migrated=applied == migration_heads())
