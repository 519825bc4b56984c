"""Rate limits per client (Flask-Limiter): the API and the pages, each with its own budget.

A client is known by a salted hash of its address, never the address itself, so the
counters (in memory, or in Redis when ``REDIS_URL`` is set, shared by every worker) hold
nothing that says who searched. Past a limit the answer is 429 with ``Retry-After`` and the
error shape, its message in the reader's language. The probes (``/healthz``, ``/readyz``)
and static files are not limited.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter

from directory.web.errors import TOO_MANY_REQUESTS


def client_key() -> str:
    """Who is asking, as a salted hash of the address (behind a proxy, the client's own
    address when ``TRUSTED_PROXIES`` is set)."""
    salt = current_app.config["SECRET_KEY"]
    address = request.remote_addr or "unknown"
    return hashlib.sha256(f"{salt}\n{address}".encode()).hexdigest()[:32]


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
    return limiter
