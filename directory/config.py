"""Configuration from the environment, with defaults for development.

Every setting can be given as an environment variable of the same name; tests pass a dict
to ``create_app`` instead.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from directory.db import IdlePingPool

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
# How our tile cache names itself to the upstream; set TILE_USER_AGENT to add the site's
# address and a contact, as tile servers' usage policies ask.
DEFAULT_TILE_USER_AGENT = "protection-directory/0.1 (tile cache of a Protection Directory site)"


def sqlalchemy_url(database_url: str) -> str:
    """``postgresql://…`` (the form psql and libpq take) with the psycopg2 driver named.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; we ship psycopg2.
    """
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg2://" + database_url.removeprefix(prefix)
    return database_url


# Development's own key, made once and kept beside the checkout (git-ignored): the server
# and a `flask users create` run in another terminal must sign with the same key, or the
# set-password link it prints would be refused.
DEVELOPMENT_KEY_FILE = Path(__file__).resolve().parent.parent / "instance" / "secret_key"


def development_secret_key(path: Path = DEVELOPMENT_KEY_FILE) -> str:
    """The development key in ``path``, made (readable by its owner only) if missing."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
        return key


def check_secret_key(config: dict[str, Any]) -> None:
    """Fill in a throw-away SECRET_KEY in tests and the kept development one in development;
    refuse to start without one anywhere else."""
    if config.get("SECRET_KEY"):
        return
    if config.get("TESTING"):
        config["SECRET_KEY"] = secrets.token_hex(32)
        return
    if config.get("DIRECTORY_ENV") == "development":
        config["SECRET_KEY"] = development_secret_key()
        return
    raise RuntimeError(
        "SECRET_KEY is not set. In production export a long random SECRET_KEY, the same for "
        "every worker (python3 -c 'import secrets; print(secrets.token_hex(32))'); "
        "for development, DIRECTORY_ENV=development (which `make` sets) makes one up."
    )


def engine_options(statement_timeout_ms: int, idle_in_transaction_ms: int) -> dict[str, Any]:
    """How the app connects: every statement bounded in time, so a slow or locked query
    ends in the database (the request answers 503) instead of tying up a worker."""
    limits = (
        f"-c statement_timeout={statement_timeout_ms} "
        f"-c idle_in_transaction_session_timeout={idle_in_transaction_ms} "
        # No JIT: PostGIS functions declare high costs, so a corridor window's plan passes
        # jit_above_cost and LLVM spent 1.8 s compiling a statement that runs in 30 ms (at
        # 1M places, issue 14). The app's statements are short; JIT never pays off here.
        "-c jit=off"
    )
    return {
        # A connection the database dropped (a restart) is replaced, not handed out: pinged
        # when it was idle for a while, not at every checkout (directory.db.IdlePingPool).
        "poolclass": IdlePingPool,
        # The connection used last first: under light load it stays warm and unpinged.
        "pool_use_lifo": True,
        # SQL errors must not print a searcher's coordinates or terms.
        "hide_parameters": True,
        # Fail fast when the server does not answer at all: the request gets a 503.
        "connect_args": {"options": limits, "connect_timeout": 3},
    }


def from_environment() -> dict[str, Any]:
    """The settings of this process, read once when the app is created."""
    return {
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(os.environ.get("DATABASE_URL", "")),
        # Commands that load or compute (seed, gazetteer, districts) lift the statement
        # limit for their own transaction (``directory.cli``).
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(
            int(os.environ.get("STATEMENT_TIMEOUT_MS", "10000")),
            int(os.environ.get("IDLE_IN_TRANSACTION_TIMEOUT_MS", "30000")),
        ),
        # A streaming replica (postgresql://…) for read-only public requests; writes, the
        # workspace and anyone signed in use DATABASE_URL (directory/db_routing.py). A
        # replica more than REPLICA_MAX_LAG_SECONDS behind, or unreachable, is not used.
        "DATABASE_REPLICA_URL": os.environ.get("DATABASE_REPLICA_URL", ""),
        "REPLICA_MAX_LAG_SECONDS": float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "10")),
        # Signs session cookies. Required outside development (see ``check_secret_key``):
        # a key made up per process would sign out everybody at each restart, and differ
        # between gunicorn's workers.
        "SECRET_KEY": os.environ.get("SECRET_KEY", ""),
        # How many reverse proxies stand in front of the app (0: none). Their X-Forwarded-*
        # headers are trusted that far, so HTTPS and the client address are seen as sent.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Requests per client (a salted hash of its address) and window: the JSON API and
        # the pages (searches, exports) have a budget each. Counters live in memory (per
        # process) unless REDIS_URL names a Redis server shared by every worker.
        "RATELIMIT_ENABLED": os.environ.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATE_LIMIT_API": os.environ.get("RATE_LIMIT_API", "120 per minute"),
        "RATE_LIMIT_PAGES": os.environ.get("RATE_LIMIT_PAGES", "60 per minute"),
        # The workspace (issue 12). The address people reach the site at: set-password
        # links printed by `flask users create` and shown on the users page are made on it.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # A workspace session ends after this many minutes without a request.
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(
            minutes=float(os.environ.get("SESSION_MINUTES", "30"))
        ),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure is also set per request whenever it came over HTTPS
        # (directory/workspace/auth.py); "1" forces it.
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        # How long a set-password link is valid (hours).
        "SET_PASSWORD_LINK_HOURS": float(os.environ.get("SET_PASSWORD_LINK_HOURS", "72")),
        # E-mail (issue 13: confirmation requests). With SMTP_URL (smtp://user:pass@host:port
        # or smtps://…) messages go to that server; without it they are kept as .eml files
        # in OUTBOX_DIR ("": instance/outbox), which the secretariat reads in the workspace.
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Protection Directory <no-reply@localhost>"),
        "OUTBOX_DIR": os.environ.get("OUTBOX_DIR", ""),
        # Sign-in attempts (password or second-factor code) per account, and per client.
        "SIGN_IN_RATE_LIMIT_ACCOUNT": os.environ.get(
            "SIGN_IN_RATE_LIMIT_ACCOUNT", "10 per 15 minutes"
        ),
        "SIGN_IN_RATE_LIMIT_ADDRESS": os.environ.get(
            "SIGN_IN_RATE_LIMIT_ADDRESS", "30 per 15 minutes"
        ),
        # The largest CSV file the workspace's import page takes (bytes; issue 13: 50 MB).
        "IMPORT_MAX_BYTES": int(os.environ.get("IMPORT_MAX_BYTES", str(50 * 1024 * 1024))),
        # Forms' CSRF tokens last as long as the session, not a fixed hour.
        "WTF_CSRF_TIME_LIMIT": None,
        # "development" (what `make` exports) lets the app run without SECRET_KEY.
        "DIRECTORY_ENV": os.environ.get("DIRECTORY_ENV", "production"),
        # The upstream tile server, asked by our server only (directory/tiles): pages get
        # their tiles from /tiles/{z}/{x}/{y}.png on our own origin. Empty: no base map,
        # only our own layers (country outlines, routes, places).
        "TILE_URL": os.environ.get("TILE_URL", OSM_TILES),
        "TILE_ATTRIBUTION": os.environ.get("TILE_ATTRIBUTION", OSM_ATTRIBUTION),
        "TILE_USER_AGENT": os.environ.get("TILE_USER_AGENT") or DEFAULT_TILE_USER_AGENT,
        # Where fetched tiles are kept ("": instance/tiles, git-ignored), and for how long
        # at most (seconds; less when the upstream says so).
        "TILE_CACHE_DIR": os.environ.get("TILE_CACHE_DIR", ""),
        "TILE_CACHE_MAX_AGE": int(os.environ.get("TILE_CACHE_MAX_AGE", str(7 * 24 * 3600))),
        # Fetches from the upstream at once per process, and how long one may take (s).
        "TILE_UPSTREAM_CONCURRENCY": int(os.environ.get("TILE_UPSTREAM_CONCURRENCY", "2")),
        "TILE_UPSTREAM_TIMEOUT": float(os.environ.get("TILE_UPSTREAM_TIMEOUT", "5")),
        # Tiles fetched from the upstream per client and window (cached tiles do not count).
        "TILE_RATE_LIMIT": os.environ.get("TILE_RATE_LIMIT", "300 per minute"),
        # Public "suggest a correction" forms sent per client and window (issue 13).
        "SUGGESTION_RATE_LIMIT": os.environ.get("SUGGESTION_RATE_LIMIT", "5 per hour"),
        # Compress what we generate (pages, GeoJSON). Static files come from WhiteNoise,
        # compressed at build time (directory/web/static.py); Flask's own static view only
        # answers when nothing was built, and Flask-Compress skips its streamed files.
        "COMPRESS_STREAMS": False,
        # Brotli first, at level 5: on the country outlines (the largest answer) 138 KB,
        # against 143 KB for gzip, 150 KB for Brotli's default level 4 and 158 KB for zstd
        # at its default level 3 (which Chromium accepts and Flask-Compress preferred), and
        # faster than gzip's level 6.
        "COMPRESS_ALGORITHM": ["br", "gzip", "deflate"],
        "COMPRESS_BR_LEVEL": 5,
        # Vendor scripts change only with package-lock.json; let phones keep them a day.
        "SEND_FILE_MAX_AGE_DEFAULT": 24 * 3600,
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/geo+json",
            "image/svg+xml",
        ],
    }
