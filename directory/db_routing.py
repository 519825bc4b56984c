"""Read-only public requests served by a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``).

Why: the public pages and APIs are nearly all reads, and at a million places their queries
are what fills the database's cores; a hot standby can take them while the primary keeps
the writes, the workspace and the imports. Without ``DATABASE_REPLICA_URL`` nothing here is
installed and every statement goes to ``DATABASE_URL`` as before.

What goes where (decided once per request, at its first statement):

* the replica: the SELECT statements of a GET or HEAD request to the public pages, the JSON
  API (/api/v1), the HSDS API (/hsds/v3) or the tiles, when nobody is signed in on that
  browser (no Flask-Login user id in the session cookie);
* the primary: everything else. Writes (a flush, an INSERT/UPDATE/DELETE, a ``SELECT … FOR
  UPDATE``, raw SQL text, whose intent we cannot see), every POST, the whole workspace, any
  request of a signed-in person (they must read what they just wrote), the CLI and other
  work outside a request, the single-use confirmation link (``public.confirm_page``), and
  the ops probes (/readyz asks the primary).

A replica that lags or fails is not used: before the first routed statement of a request
the router's verdict on the replica is consulted. The verdict is cached per process for
``CHECK_INTERVAL`` seconds: reachable, in recovery, and what it shows at most
``REPLICA_MAX_LAG_SECONDS`` old (``judge``: caught up with what a live WAL receiver got, or
a recent last replayed commit, or keeping up with the WAL it receives). A replica whose
connection breaks during a statement is marked down for ``DOWN_FOR`` seconds and the
statement runs again on the primary, so the reader still gets an answer; a statement
cancelled for a conflict with recovery also runs again on the primary. Each change of
verdict is logged once (a warning when reads leave the replica), never with a query's
values.

The routing is a ``do_orm_execute`` listener on Flask-SQLAlchemy's session factory (the
tests' rolled-back sessions are other factories, so they always use their one connection);
the request's route is kept in the WSGI environ under ``ROUTE_KEY``, where tests and a
debugging middleware can read which server answered.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from flask import Flask, current_app, has_request_context, request, session
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, Result
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import ORMExecuteState

from directory.config import sqlalchemy_url
from directory.db import db

EXTENSION = "db_routing"
# Where the request's statements went: "replica" or "primary" (absent: no statement yet).
ROUTE_KEY = "directory.db_route"
Route = Literal["replica", "primary"]

# Blueprints whose GET/HEAD requests only read (the workspace and ops are not among them).
READ_ONLY_BLUEPRINTS = frozenset({"public", "api", "hsds", "tiles"})
# Public GETs that must see the primary: a confirmation link is used once, and reloading it
# right after answering must say so, not offer the form again from a replica.
PRIMARY_ENDPOINTS = frozenset({"public.confirm_page"})
# Flask-Login keeps the signed-in user's id under this key of the session cookie.
SIGNED_IN_KEY = "_user_id"

# Seconds a verdict on the replica is trusted, and a broken replica is left alone.
CHECK_INTERVAL = 2.0
DOWN_FOR = 30.0
# SQLSTATE of "canceling statement due to conflict with recovery" on a hot standby.
RECOVERY_CONFLICT = "40001"

# One round trip: is it a standby, does a WAL receiver run, how far it has received and
# replayed the WAL (LSNs as byte positions; NULL before streaming began), and how old is the
# last commit it replayed (NULL before the first one). Needs no privilege.
STATE_SQL = text(
    """
    SELECT pg_is_in_recovery() AS standby,
           EXISTS (SELECT FROM pg_stat_wal_receiver) AS receiving,
           pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0') AS received,
           pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0') AS replayed,
           extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float
             AS behind
    """
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    usable: bool
    why: str  # for the log: never a query's values
    reachable: bool = True


@dataclass(frozen=True)
class StandbyState:
    """What the replica said at one check (``STATE_SQL``), and when (``time.monotonic()``)."""

    at: float
    standby: bool
    receiving: bool  # a WAL receiver process runs
    received: Decimal | None  # WAL received so far (byte position)
    replayed: Decimal | None  # WAL replayed so far (byte position)
    behind: float | None  # seconds since the last commit it replayed was made


def judge(state: StandbyState, previous: StandbyState | None, max_lag: float) -> Verdict:
    """May reads go to a replica in ``state`` (``previous``: the check before, if any)?

    A replica may serve reads when what it shows is at most ``max_lag`` seconds old:

    1. It replayed everything it received, and a WAL receiver runs: current (the idle case,
       where the age of the last replayed commit only says how long nobody wrote).
    2. Its last replayed commit is at most ``max_lag`` old: nothing older can be missing.
    3. It has now replayed everything it had received at the previous check, and that check
       is at most ``max_lag`` ago: it keeps up. This is the case of a long write on the
       primary (an import in one transaction): WAL flows for minutes without a commit, so
       the last replayed commit gets old although nothing committed is missing.

    Otherwise (replay stalled behind pending commits, no receiver and an old commit, or
    nothing replayed yet) the primary answers.
    """
    if not state.standby:
        return Verdict(False, "not a standby (pg_is_in_recovery() is false)")
    received, replayed = state.received, state.replayed
    if state.receiving and received is not None and replayed is not None and replayed >= received:
        return Verdict(True, "caught up with the primary")
    if state.behind is not None and state.behind <= max_lag:
        return Verdict(True, f"{state.behind:.1f} s behind the primary")
    if (
        previous is not None
        and state.receiving
        and previous.received is not None
        and replayed is not None
        and replayed >= previous.received
        and state.at - previous.at <= max_lag
    ):
        return Verdict(True, f"keeping up (replayed within {state.at - previous.at:.1f} s)")
    if state.behind is None:
        return Verdict(False, "has not replayed a transaction yet")
    return Verdict(False, f"{state.behind:.1f} s behind the primary (limit {max_lag:g} s)")


class ReplicaRouter:
    """The replica's engine and this process's cached verdict on it (thread-safe: one
    thread checks while the others keep the previous verdict)."""

    def __init__(self, engine: Engine, max_lag_seconds: float) -> None:
        self.engine = engine
        self.max_lag_seconds = max_lag_seconds
        self.check_interval = CHECK_INTERVAL
        self.down_for = DOWN_FOR
        self._lock = threading.Lock()
        self._usable: bool | None = None  # None: never checked
        self._checked_at = -math.inf
        self._down_until = -math.inf
        self._previous: StandbyState | None = None  # the last state read, for ``judge``

    def usable(self) -> bool:
        """May this request read from the replica? Checks it when the verdict is stale."""
        now = time.monotonic()
        if now < self._down_until:
            return False
        if self._usable is not None and now - self._checked_at < self.check_interval:
            return self._usable
        if not self._lock.acquire(blocking=False):
            return bool(self._usable)  # another thread is checking right now
        try:
            verdict = self.check()
            self._checked_at = time.monotonic()
            if not verdict.reachable:
                # Not every CHECK_INTERVAL: each try may wait for the connect timeout.
                self._down_until = self._checked_at + self.down_for
            self._record(verdict)
            return verdict.usable
        finally:
            self._lock.release()

    def check(self) -> Verdict:
        """Ask the replica how it is (one short query on its own pooled connection)."""
        try:
            with self.engine.connect() as connection:
                row = connection.execute(STATE_SQL).one()
        except DBAPIError as error:
            return Verdict(False, f"unreachable ({type(error.orig).__name__})", reachable=False)
        state = StandbyState(
            time.monotonic(), row.standby, row.receiving, row.received, row.replayed, row.behind
        )
        previous, self._previous = self._previous, state
        return judge(state, previous, self.max_lag_seconds)

    def mark_down(self, why: str) -> None:
        """The replica broke during a statement: leave it alone for ``down_for`` seconds."""
        self._down_until = time.monotonic() + self.down_for
        self._checked_at = -math.inf  # check again once the pause is over
        self._record(Verdict(False, why))

    def forget(self) -> None:
        """Check the replica again at the next request (tests, and after a failover)."""
        self._checked_at = -math.inf
        self._down_until = -math.inf

    def _record(self, verdict: Verdict) -> None:
        if verdict.usable == self._usable:
            return
        if verdict.usable:
            # Good news is a warning too when it ends a fallback; at start it is routine.
            level = logging.INFO if self._usable is None else logging.WARNING
            logger.log(level, "read replica %s: public reads go to it", verdict.why)
        else:
            logger.warning("read replica %s: public reads go to the primary", verdict.why)
        self._usable = verdict.usable


def install(app: Flask) -> None:
    """Route ``app``'s read-only public requests to ``DATABASE_REPLICA_URL``, if it is set.

    The replica's engine takes the primary's options (statement timeout, connect timeout,
    pre-ping, hidden parameters)."""
    url = sqlalchemy_url(app.config.get("DATABASE_REPLICA_URL") or "")
    if not url:
        return
    engine = create_engine(url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    app.extensions[EXTENSION] = ReplicaRouter(
        engine, float(app.config.get("REPLICA_MAX_LAG_SECONDS", 10))
    )
    # One listener for the process (``db`` is shared by every app the process makes).
    if not event.contains(db.session, "do_orm_execute", _route_statement):
        event.listen(db.session, "do_orm_execute", _route_statement)


def router(app: Flask) -> ReplicaRouter | None:
    """``app``'s router, or None when it has no replica."""
    return app.extensions.get(EXTENSION)


def _read_only_public() -> bool:
    """A GET/HEAD of a public blueprint, by nobody signed in, not a must-be-fresh page."""
    return (
        request.method in ("GET", "HEAD")
        and request.blueprint in READ_ONLY_BLUEPRINTS
        and request.endpoint not in PRIMARY_ENDPOINTS
        and SIGNED_IN_KEY not in session
    )


def _request_route(replica: ReplicaRouter) -> Route:
    environ = request.environ
    route: Route | None = environ.get(ROUTE_KEY)
    if route is None:
        route = "replica" if _read_only_public() and replica.usable() else "primary"
        environ[ROUTE_KEY] = route
    return route


def _routable(state: ORMExecuteState) -> bool:
    """A plain read: a SELECT, not locking rows, not already sent to a chosen bind."""
    return (
        state.is_select
        and getattr(state.statement, "_for_update_arg", None) is None
        and "bind" not in state.bind_arguments
    )


def _route_statement(state: ORMExecuteState) -> Result[Any] | None:
    """``do_orm_execute``: run a read of a read-only public request on the replica.

    Returns None to let the statement run as usual (on the primary)."""
    if not has_request_context():
        return None
    replica = router(current_app)
    if replica is None or not _routable(state) or _request_route(replica) != "replica":
        return None
    try:
        return state.invoke_statement(bind_arguments={"bind": replica.engine})
    except DBAPIError as error:
        broken = _replica_broken(error)
        if not (broken or _pgcode(error) == RECOVERY_CONFLICT):
            raise  # the statement's own fault (a timeout…): the primary would fail it too
        if broken:
            replica.mark_down(f"failed during a statement ({type(error.orig).__name__})")
        # The rest of the request reads from the primary: the replica connection is broken
        # or its transaction aborted.
        request.environ[ROUTE_KEY] = "primary"
        return None


def _pgcode(error: DBAPIError) -> str | None:
    return getattr(error.orig, "pgcode", None)


def _replica_broken(error: DBAPIError) -> bool:
    """The replica, not the statement, failed: the connection broke or could not be made
    (no SQLSTATE), or the server is shutting down, starting or crashed (class 57P)."""
    code = _pgcode(error)
    return (
        error.connection_invalidated
        or (isinstance(error, OperationalError) and not code)
        or (code or "").startswith("57P")
    )
