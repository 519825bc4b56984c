"""Two loading commands at once take turns: the second waits for the first, then finds its
work done (seeding is idempotent), instead of dying on an integrity error."""

from __future__ import annotations

import threading

from sqlalchemy import text

from directory import cli
from directory.db import db


def test_a_load_waits_while_another_holds_the_load_lock(app):
    with app.app_context():
        engine = db.engine
        first = engine.connect()
        first.begin()
        first.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": cli.LOAD_LOCK_KEY})
        began = threading.Event()

        def second_load() -> None:
            with app.app_context():
                cli._begin_load()  # what `flask seed demo` and the others do first
                began.set()
                db.session.rollback()
                db.session.remove()

        second = threading.Thread(target=second_load)
        second.start()
        try:
            assert not began.wait(timeout=1.0)  # it waits while the first load runs
        finally:
            first.commit()  # the first load ends
            first.close()
        assert began.wait(timeout=10.0)  # then the second goes ahead
        second.join(timeout=10.0)
