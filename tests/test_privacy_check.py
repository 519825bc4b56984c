"""PostgreSQL's own log keeps no search: the settings scripts/db.sh writes, and the check
that reports unsafe ones (``flask privacy check-db-logging``).

On a throwaway cluster made by ``scripts/db.sh`` (tests/test_faults.py), so that the
settings tried here never touch the server the rest of the suite uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from directory.config import sqlalchemy_url
from directory.db import db
from directory.privacy_check import (
    SAFE_SETTINGS,
    SERVER_ONLY,
    UnsafeSetting,
    privacy_cli,
    unsafe_logging_settings,
)
from tests.conftest import make_test_app
from tests.test_faults import Cluster, throwaway_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as made:
        yield made


@pytest.fixture
def engine(cluster: Cluster) -> Iterator[Engine]:
    # No pool: each connect() is a new session, which sees the settings in force.
    engine = create_engine(
        sqlalchemy_url(cluster.url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    yield engine
    with engine.connect() as connection:  # whatever a test changed, undone
        connection.execute(text("ALTER DATABASE protection_directory RESET ALL"))
    engine.dispose()


def _unsafe(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        return {found.name: found.value for found in unsafe_logging_settings(connection)}


def test_a_cluster_made_by_db_sh_logs_no_statement_text(engine):
    assert _unsafe(engine) == {}


def test_db_sh_start_fixes_a_running_cluster_without_a_restart(cluster, engine):
    # A cluster made before the rule: PostgreSQL's defaults, and it is running.
    with engine.connect() as connection:
        started = connection.execute(text("SELECT pg_postmaster_start_time()")).scalar_one()
        connection.execute(text("ALTER SYSTEM RESET ALL"))
        connection.execute(text("SELECT pg_reload_conf()"))
    defaults = {
        "log_min_error_statement": "error",
        "log_error_verbosity": "default",
        "log_parameter_max_length": "-1",
    }
    try:
        assert _wait_for_unsafe(engine, defaults) == defaults
    finally:
        cluster.start()  # scripts/db.sh start, on the running cluster
    assert _unsafe(engine) == {}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_postmaster_start_time()")).scalar_one() == started


def _wait_for_unsafe(engine: Engine, expected: dict[str, str]) -> dict[str, str | None]:
    """The reload is asynchronous: what new sessions report once it is done."""
    for _ in range(100):
        if (found := _unsafe(engine)) == expected:
            return found
        time.sleep(0.05)
    return found


def test_settings_of_the_database_and_of_the_session_count(engine):
    with engine.connect() as connection:
        connection.execute(text("ALTER DATABASE protection_directory SET log_statement = 'all'"))
    assert _unsafe(engine) == {"log_statement": "all"}
    with engine.connect() as connection:
        connection.execute(text("SET log_min_duration_statement = 0"))
        connection.execute(text("SET log_parameter_max_length_on_error = -1"))
        found = unsafe_logging_settings(connection)
    assert UnsafeSetting("log_min_duration_statement", "0", "-1") in found
    assert UnsafeSetting("log_parameter_max_length_on_error", "-1", "0") in found
    assert {setting.name for setting in found} == {
        "log_statement",
        "log_min_duration_statement",
        "log_parameter_max_length_on_error",
    }


def test_an_unsafe_setting_says_what_it_must_be_and_how_to_set_it(engine):
    setting = UnsafeSetting("log_min_error_statement", "error", "panic")
    assert setting.describe() == "log_min_error_statement is 'error'; it must be 'panic'"
    unreadable = UnsafeSetting("log_parameter_max_length", None, "0")
    assert unreadable.describe() == "log_parameter_max_length cannot be read; it must be '0'"
    # Each fix is SQL that PostgreSQL takes (then undone by ``engine``'s teardown): every
    # setting per database, but log_(dis)connections only for the whole server.
    with engine.connect() as connection:
        for name, safe in SAFE_SETTINGS.items():
            fix = UnsafeSetting(name, None, safe).fix("protection_directory")
            assert fix.startswith("ALTER SYSTEM" if name in SERVER_ONLY else "ALTER DATABASE")
            for statement in fix.split(";")[:-1]:
                connection.execute(text(statement))
    assert _unsafe(engine) == {}


def test_the_command_says_safe_or_exits_1_with_the_fix(cluster, engine):
    app = make_test_app(make_url(sqlalchemy_url(cluster.url)))
    runner = app.test_cli_runner()
    result = runner.invoke(privacy_cli, ["check-db-logging"])
    assert result.exit_code == 0, result.output
    assert "safe" in result.output

    with engine.connect() as connection:
        connection.execute(
            text("ALTER DATABASE protection_directory SET log_min_error_statement = 'error'")
        )
    with app.app_context():
        db.engine.dispose()  # new sessions, which see the database's setting
    result = runner.invoke(privacy_cli, ["check-db-logging"])
    assert result.exit_code == 1
    assert "log_min_error_statement is 'error'; it must be 'panic'" in result.output
    assert (
        "ALTER DATABASE \"protection_directory\" SET log_min_error_statement = 'panic';"
        in result.output
    )
    with app.app_context():
        db.engine.dispose()
