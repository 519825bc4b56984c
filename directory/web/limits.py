"""Rate limits per client (Flask-Limiter): the API and the pages, each with its own budget.

A client is known by a salted hash of its address, never the address itself, so the
counters (in memory, or in Redis when ``REDIS_URL`` is set, shared by every worker) hold
nothing that says who searched. Past a limit the answer is 429 with ``Retry-After`` and the
error shape, its message in the reader's language. The probes (``/healthz``, ``/readyz``)
and static files are not limited.

Sign-in attempts (a password, a second-factor code) have limits of their own, counted per
account (a salted hash of the e-mail) and per client, so that guessing one person's
password and trying one password on many accounts both stop soon (``sign_in_attempt``).
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from limits import parse

from directory.web.errors import TOO_MANY_REQUESTS

_LIMITER = "directory.limiter"


def _salted(value: str) -> str:
    salt = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{salt}\n{value}".encode()).hexdigest()[:32]


def client_key() -> str:
    """Who is asking, as a salted hash of the address (behind a proxy, the client's own
    address when ``TRUSTED_PROXIES`` is set)."""
    return _salted(request.remote_addr or "unknown")


def sign_in_attempt(account: str) -> int | None:
    """Count a sign-in attempt for ``account`` (a normalised e-mail) from this client.

    None when it may go on; else the seconds until it may be tried again (for
    ``Retry-After``). Every attempt counts, right or wrong: a limit that counted only
    failures would tell an attacker which guess was right.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    strategy = current_app.extensions[_LIMITER].limiter
    checks = (
        (current_app.config["SIGN_IN_RATE_LIMIT_ACCOUNT"], "account", _salted(account)),
        (current_app.config["SIGN_IN_RATE_LIMIT_ADDRESS"], "address", client_key()),
    )
    waits = []
    for limit, scope, key in checks:
        item = parse(limit)
        if not strategy.hit(item, "sign-in", scope, key):
            reset_at = strategy.get_window_stats(item, "sign-in", scope, key).reset_time
            waits.append(max(1, int(reset_at - time.time()) + 1))
    return max(waits) if waits else None


def _refused_message() -> str:
    return str(TOO_MANY_REQUESTS)


def install(app: Flask, *, api: Blueprint, pages: Blueprint, exempt: Blueprint) -> Limiter:
    """A limiter for ``app``: one budget per client for ``api``, one for ``pages``."""
    limiter = Limiter(
        key_func=client_key,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
        strategy="fixed-window",
        key_prefix="directory",
    )
    # The message of the 429, in the reader's language (the limiter's own is "3 per 1 minute").
    message = _refused_message
    limiter.limit(lambda: app.config["RATE_LIMIT_API"], scope="api", error_message=message)(api)
    limiter.limit(lambda: app.config["RATE_LIMIT_PAGES"], scope="pages", error_message=message)(
        pages
    )
    limiter.exempt(exempt)
    app.extensions[_LIMITER] = limiter
    return limiter
