"""Rate limits per client (Flask-Limiter): the API and the pages, each with its own budget.

A client is known by a salted hash of its address, never the address itself, so the
counters (in memory, or in Redis when ``REDIS_URL`` is set, shared by every worker) hold
nothing that says who searched. Past a limit the answer is 429 with ``Retry-After`` and the
error shape. The probes (``/healthz``, ``/readyz``) and static files are not limited.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter


def client_key() -> str:
    """Who is asking, as a salted hash of the address (behind a proxy, the client's own
    address when ``TRUSTED_PROXIES`` is set)."""
    salt = current_app.config["SECRET_KEY"]
    address = request.remote_addr or "unknown"
    return hashlib.sha256(f"{salt}\n{address}".encode()).hexdigest()[:32]


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
    limiter.limit(lambda: app.config["RATE_LIMIT_API"], scope="api")(api)
    limiter.limit(lambda: app.config["RATE_LIMIT_PAGES"], scope="pages")(pages)
    limiter.exempt(exempt)
    return limiter
