"""Cross-origin reads of the public API (Flask-CORS), and nothing else.

Partners build on the API from their own sites (a consulate's case system, a network's
app, the regional process's website), so their pages' scripts may read the public API from
any origin. Only the public reads: ``/api/v1/…`` with GET/HEAD, and ``POST /api/v1/corridor``
(a search with a drawn line as its body, which reads and writes nothing). Without
credentials: a browser never sends cookies with these requests, so a signed-in person's
session cannot be used by another site. The HTML pages, the probes and anything signed-in
get no CORS headers at all: a browser keeps other sites from reading them.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

# A preflight answer may be kept by the browser for a day.
PREFLIGHT_MAX_AGE_S = 24 * 3600
PUBLIC_READS = r"^/(api/v1|hsds/v3)/.*"  # our API and the HSDS 3.0 API


def install(app: Flask) -> None:
    CORS(
        app,
        resources={PUBLIC_READS: {"origins": "*"}},
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "If-None-Match"],
        expose_headers=["ETag", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
        supports_credentials=False,
        send_wildcard=True,
        vary_header=False,  # the answer is the same for every origin
        max_age=PREFLIGHT_MAX_AGE_S,
    )
